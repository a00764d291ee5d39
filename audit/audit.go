// Package audit makes the audit log tamper-evident: every entry's hash covers
// its fields and the previous entry's hash, so changing, removing or
// reordering a row breaks the chain from that row on; every entry's MAC,
// under a key kept outside the database, makes the chain impossible to
// recompute without the key; checkpoints kept elsewhere reveal a cut tail.
// Entries are bounded in size, and floods of unauthenticated denials are
// aggregated per source address.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

// Hash is the chain hash of e given the previous entry's hash: SHA-256 over
// a canonical, length-prefixed encoding of every field.
func Hash(prev string, e *analytics.AuditEntry) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("v1")
	field(prev)
	field(strconv.FormatInt(e.ID, 10))
	field(e.Time.UTC().Format(time.RFC3339Nano))
	if e.AdminID != nil {
		field(strconv.FormatInt(*e.AdminID, 10))
	} else {
		field("-")
	}
	field(e.AdminEmail)
	field(string(e.Door))
	field(e.Action)
	field(e.Outcome)
	field(e.Reason)
	field(string(e.Details))
	return hex.EncodeToString(h.Sum(nil))
}

// Log appends entries to an AuditStore: each entry is bounded (Bound),
// chained by SHA-256 and, under Key, by HMAC-SHA256; unauthenticated
// denials are aggregated per source address when Suppress is set.
type Log struct {
	Store analytics.AuditStore
	Now   func() time.Time
	// Key is the audit key (ParseKey, LoadKeyFile); nil writes unkeyed entries.
	Key []byte
	// Suppress, when set, aggregates unauthenticated denials: at most
	// PerWindow entries per source address and Window, the rest counted and
	// reported by Flush as one "N similar suppressed" entry.
	Suppress  analytics.AuditSuppressStore
	PerWindow int64         // default DefaultPerWindow
	Window    time.Duration // default DefaultWindow
}

// Aggregation defaults: a few entries per source address per minute.
const (
	DefaultPerWindow = 10
	DefaultWindow    = time.Minute
)

// ActionSuppressed is the action of an entry summing up suppressed denials.
const ActionSuppressed = "denials_suppressed"

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Log) perWindow() int64 {
	if l.PerWindow > 0 {
		return l.PerWindow
	}
	return DefaultPerWindow
}

func (l *Log) window() time.Duration {
	if l.Window > 0 {
		return l.Window
	}
	return DefaultWindow
}

// Append stores e with its time, id and chain links filled in, after
// bounding its fields. An unauthenticated denial beyond the few allowed per
// source address and window is only counted: it returns the entry with ID 0.
func (l *Log) Append(ctx context.Context, e analytics.AuditEntry) (analytics.AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	ip := Bound(&e)
	if l.Suppress != nil && Unauthenticated(e) {
		n, err := l.Suppress.CountDenial(ctx, SourceKey(ip), e.Time.UTC().Truncate(l.window()))
		if err != nil {
			return e, fmt.Errorf("count denial: %w", err)
		}
		if n > l.perWindow() {
			return e, nil
		}
	}
	return l.Store.AppendAudit(ctx, e, l.link)
}

// link fills e's chain fields from the entry before it.
func (l *Log) link(prev, e *analytics.AuditEntry) {
	prevMAC := ""
	e.PrevHash = ""
	if prev != nil {
		e.PrevHash, prevMAC = prev.Hash, prev.MAC
	}
	e.Hash = Hash(e.PrevHash, e)
	e.MAC = ""
	if l.Key != nil {
		e.MAC = MAC(l.Key, prevMAC, e)
	}
}

// Unauthenticated reports whether e is a denial of a caller who is no
// admin and no ingest key: the entries an anonymous flood would write.
func Unauthenticated(e analytics.AuditEntry) bool {
	return e.Outcome == analytics.OutcomeDenied && e.AdminID == nil && !strings.HasPrefix(e.AdminEmail, "ingest-key:")
}

// SourceKey is the aggregation key of a client address: the address
// itself for IPv4, its /64 network for IPv6 (one host holds a whole /64).
func SourceKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	switch {
	case ip == "":
		return "unknown"
	case err != nil:
		return analytics.CutUTF8(ip, 64)
	case a.Is4() || a.Is4In6():
		return a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Flush writes one "N similar suppressed" entry for every window starting
// before before whose suppressed denials were not reported yet; each window
// is reported once even when several replicas flush at once. A zero before
// flushes every window, the current one included (at shutdown).
func (l *Log) Flush(ctx context.Context, before time.Time) (int, error) {
	if l.Suppress == nil {
		return 0, nil
	}
	if before.IsZero() {
		before = l.now().Add(l.window())
	}
	ws, err := l.Suppress.TakeSuppressed(ctx, l.perWindow(), before)
	if err != nil {
		return 0, fmt.Errorf("take suppressed denials: %w", err)
	}
	for i, w := range ws {
		e := analytics.AuditEntry{Time: l.now(), Door: analytics.DoorREST, Action: ActionSuppressed, Outcome: analytics.OutcomeDenied,
			Reason: fmt.Sprintf("%d similar suppressed", w.Suppressed),
			Details: Details(map[string]any{"source": w.Source, "suppressed": w.Suppressed, "per_window": l.perWindow(),
				"window_start": w.Start.UTC().Format(time.RFC3339), "window_end": w.Start.Add(l.window()).UTC().Format(time.RFC3339)})}
		Bound(&e)
		if _, err := l.Store.AppendAudit(ctx, e, l.link); err != nil {
			return i, fmt.Errorf("append suppressed-denials entry: %w", err)
		}
	}
	return len(ws), nil
}

// Details marshals a details object for an entry.
func Details(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// BrokenError names the first entry where the chain breaks.
type BrokenError struct {
	ID     int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", e.ID, e.Reason)
}

// Verify walks the whole log and returns the number of entries checked and,
// when the chain is broken, a *BrokenError naming the first bad entry.
func Verify(ctx context.Context, s analytics.AuditStore) (int64, error) {
	var n, lastID int64
	prev := ""
	err := s.ScanAudit(ctx, func(e analytics.AuditEntry) error {
		switch {
		case e.ID != lastID+1:
			return &BrokenError{e.ID, fmt.Sprintf("expected entry %d next: an entry was removed or reordered", lastID+1)}
		case e.PrevHash != prev:
			return &BrokenError{e.ID, "its prev_hash does not match the entry before it: an entry was removed, inserted or reordered"}
		case Hash(prev, &e) != e.Hash:
			return &BrokenError{e.ID, "its contents do not match its hash: the entry was changed"}
		}
		n++
		lastID, prev = e.ID, e.Hash
		return nil
	})
	var be *BrokenError
	if err != nil && !errors.As(err, &be) {
		return n, fmt.Errorf("read audit log: %w", err)
	}
	return n, err
}
