package audit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	analytics "github.com/codestory/analytics"
)

// KeySize is the size of a generated audit key, and the least accepted.
const KeySize = 32

// MAC is the keyed link of e: HMAC-SHA256 under key over the previous
// entry's MAC ("" for the first keyed entry), e's id and e's hash (which
// covers every field of e and the previous entry's hash). Without the key
// nobody can recompute it, so an edited entry cannot be re-chained.
func MAC(key []byte, prevMAC string, e *analytics.AuditEntry) string {
	m := hmac.New(sha256.New, key)
	for _, s := range []string{"v2", prevMAC, strconv.FormatInt(e.ID, 10), e.Hash} {
		m.Write([]byte(strconv.Itoa(len(s))))
		m.Write([]byte{':'})
		m.Write([]byte(s))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// KeyID is a short public fingerprint of a key, to tell keys apart in logs
// and checkpoints without revealing them.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("codestory-analytics audit key id"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// ParseKey decodes key material: hex or base64 of at least KeySize bytes,
// or at least KeySize raw bytes. Surrounding white space is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) >= KeySize {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) >= KeySize {
		return b, nil
	}
	if len(s) >= 2*KeySize {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("an audit key must be at least %d bytes (64 hex digits; generate one with 'openssl rand -hex 32')", KeySize)
}

// LoadKeyFile reads a key file.
func LoadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("audit key file %s: %w", path, err)
	}
	return k, nil
}

// CreateKeyFile writes a new random key as hex to path, mode 0600; it
// fails if the file exists.
func CreateKeyFile(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// KeyFileExists reports whether path exists.
func KeyFileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// last returns the newest entry and the one before it (either may be nil).
func last(ctx context.Context, s analytics.AuditStore) (lastE, before *analytics.AuditEntry, err error) {
	es, err := s.ListAudit(ctx, analytics.AuditFilter{Limit: 2})
	if err != nil {
		return nil, nil, err
	}
	if len(es) > 0 {
		lastE = &es[0]
	}
	if len(es) > 1 {
		before = &es[1]
	}
	return lastE, before, nil
}

// IsKeyed reports whether the log's newest entry carries a MAC.
func IsKeyed(ctx context.Context, s analytics.AuditStore) (bool, error) {
	l, _, err := last(ctx, s)
	return l != nil && l.MAC != "", err
}

// ActionKeyed is the action of the entry that starts the keyed chain on
// top of entries written before the log had a key.
const ActionKeyed = "audit_chain_keyed"

// Anchor prepares the log for keyed appends. With a keyed newest entry it
// checks that l.Key is the key it was written with (a wrong key would
// break the chain from the next entry on). With unkeyed entries (a log
// from before audit keys) it appends the first keyed entry, whose hash
// covers the last unkeyed hash: the old entries keep their SHA-256 links
// and are anchored under the key from then on. An empty log needs nothing.
func (l *Log) Anchor(ctx context.Context) error {
	if l.Key == nil {
		return nil
	}
	lastE, before, err := last(ctx, l.Store)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	switch {
	case lastE == nil:
		return nil
	case lastE.MAC != "":
		prevMAC := ""
		if before != nil && before.ID == lastE.ID-1 {
			prevMAC = before.MAC
		}
		if !hmac.Equal([]byte(MAC(l.Key, prevMAC, lastE)), []byte(lastE.MAC)) {
			return analytics.Errorf(analytics.KindInvalid, "the audit key (id %s) is not the key the audit log was written with: its newest entry %d does not verify under it; pass the key the log was written with (every replica must share one key)", KeyID(l.Key), lastE.ID)
		}
		return nil
	}
	_, err = l.Store.AppendAudit(ctx, analytics.AuditEntry{Time: l.now(), Door: analytics.DoorCLI, Action: ActionKeyed,
		Outcome: analytics.OutcomeAllowed, Reason: "the audit log is keyed from this entry on",
		Details: Details(map[string]any{"unkeyed_entries": lastE.ID, "anchored_on": lastE.Hash, "key_id": KeyID(l.Key)})}, l.link)
	return err
}

// Checkpoint vouches for the log up to entry Seq: its chain hash and MAC.
// Kept outside the database (the server logs one hourly and at shutdown),
// it lets Verify find entries removed from the end of the log.
type Checkpoint struct {
	Seq  int64
	Hash string
	MAC  string // "" for an unkeyed entry
}

const checkpointPrefix = "audit-checkpoint"

// String is the one-line form: audit-checkpoint seq=N hash=H mac=M.
func (c Checkpoint) String() string {
	mac := c.MAC
	if mac == "" {
		mac = "-"
	}
	return fmt.Sprintf("%s seq=%d hash=%s mac=%s", checkpointPrefix, c.Seq, c.Hash, mac)
}

// ParseCheckpoint reads the line printed by `audit head`.
func ParseCheckpoint(line string) (Checkpoint, error) {
	var c Checkpoint
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != checkpointPrefix {
		return c, fmt.Errorf("a checkpoint line starts with %q (see 'codestory-analytics audit head')", checkpointPrefix)
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue // later versions may add bare words
		}
		seen[k] = true
		switch k {
		case "seq":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return c, fmt.Errorf("checkpoint seq must be an entry id (got %q)", v)
			}
			c.Seq = n
		case "hash":
			c.Hash = v
		case "mac":
			if v != "-" {
				c.MAC = v
			}
		}
	}
	if !seen["seq"] || !seen["hash"] || !seen["mac"] {
		return c, errors.New("a checkpoint needs seq=, hash= and mac=")
	}
	return c, nil
}

// Head returns the checkpoint of the log's newest entry; ok is false for
// an empty log.
func Head(ctx context.Context, s analytics.AuditStore) (Checkpoint, bool, error) {
	l, _, err := last(ctx, s)
	if err != nil || l == nil {
		return Checkpoint{}, false, err
	}
	return Checkpoint{Seq: l.ID, Hash: l.Hash, MAC: l.MAC}, true, nil
}

// Report is what VerifyKeyed checked.
type Report struct {
	Entries int64 // every entry
	Unkeyed int64 // entries before the keyed chain starts (SHA-256 links only)
	Keyed   int64 // entries with a MAC
	LastID  int64
}

// VerifyKeyed walks the whole log: every SHA-256 link, and with a key every
// MAC. Unkeyed entries may only precede the keyed ones. With a key, a
// non-empty log must have keyed entries (stripping the MACs and
// recomputing the SHA-256 chain is not a way around the key). With a
// checkpoint, the entry it names must be present and unchanged. The first
// failure is a *BrokenError naming the entry (or the missing range).
func VerifyKeyed(ctx context.Context, s analytics.AuditStore, key []byte, cp *Checkpoint) (Report, error) {
	var r Report
	prev, prevMAC := "", ""
	cpSeen := false
	err := s.ScanAudit(ctx, func(e analytics.AuditEntry) error {
		switch {
		case e.ID != r.LastID+1:
			if cp != nil && r.LastID < cp.Seq && e.ID > r.LastID+1 {
				return &BrokenError{r.LastID + 1, fmt.Sprintf("entries %d to %d are missing (removed or reordered)", r.LastID+1, e.ID-1)}
			}
			return &BrokenError{e.ID, fmt.Sprintf("expected entry %d next: an entry was removed or reordered", r.LastID+1)}
		case e.PrevHash != prev:
			return &BrokenError{e.ID, "its prev_hash does not match the entry before it: an entry was removed, inserted or reordered"}
		case Hash(prev, &e) != e.Hash:
			return &BrokenError{e.ID, "its contents do not match its hash: the entry was changed"}
		}
		if e.MAC == "" {
			if r.Keyed > 0 {
				return &BrokenError{e.ID, "it has no MAC although the entries before it are keyed: the log was rewritten without the audit key"}
			}
			r.Unkeyed++
		} else {
			if key != nil && !hmac.Equal([]byte(MAC(key, prevMAC, &e)), []byte(e.MAC)) {
				return &BrokenError{e.ID, "its MAC does not match: this entry or one before it was rewritten without the audit key (or the key is not the log's)"}
			}
			r.Keyed++
		}
		if cp != nil && e.ID == cp.Seq {
			cpSeen = true
			if e.Hash != cp.Hash || e.MAC != cp.MAC {
				return &BrokenError{e.ID, fmt.Sprintf("it does not match the checkpoint (hash %s…, checkpoint %s…): entries up to %d were changed, or removed and replaced", short(e.Hash), short(cp.Hash), cp.Seq)}
			}
		}
		r.Entries++
		r.LastID, prev, prevMAC = e.ID, e.Hash, e.MAC
		return nil
	})
	var be *BrokenError
	if err != nil {
		if !errors.As(err, &be) {
			return r, fmt.Errorf("read audit log: %w", err)
		}
		return r, err
	}
	if cp != nil && !cpSeen {
		return r, &BrokenError{r.LastID + 1, fmt.Sprintf("entries %d to %d are missing: the log ends at entry %d but the checkpoint vouches for entry %d (the log was truncated)", r.LastID+1, cp.Seq, r.LastID, cp.Seq)}
	}
	if key != nil && r.Entries > 0 && r.Keyed == 0 {
		return r, &BrokenError{r.LastID, fmt.Sprintf("none of the %d entries is keyed: the log was never opened with its audit key (run 'codestory-analytics migrate' to anchor it) or its MACs were stripped", r.Entries)}
	}
	return r, nil
}

func short(h string) string { return analytics.CutUTF8(h, 12) }
