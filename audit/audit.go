// Package audit makes the audit log tamper-evident: every entry's hash covers
// its fields and the previous entry's hash, so changing, removing or
// reordering a row breaks the chain from that row on.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// Log appends entries to an AuditStore.
type Log struct {
	Store analytics.AuditStore
	Now   func() time.Time
}

// Append stores e with its time, id and chain hash filled in.
func (l *Log) Append(ctx context.Context, e analytics.AuditEntry) (analytics.AuditEntry, error) {
	if e.Time.IsZero() {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		e.Time = now()
	}
	return l.Store.AppendAudit(ctx, e, Hash)
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
