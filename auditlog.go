package analytics

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// ToolAuditLog reads the audit log: a guarded tool like the analytics tools
// (REST GET /admin/audit, MCP get_audit_log for owners), needing VIEW_AUDIT.
const ToolAuditLog = "get_audit_log"

// Audit log paging limits.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
	// MaxAuditPageBytes bounds the JSON of one page's entries: a page ends
	// early (with a cursor) rather than grow past it.
	MaxAuditPageBytes = 256 << 10
	// maxAuditFilter bounds the text filters.
	maxAuditFilter = 256
	// Entries stored before fields were bounded can be huge; a page shows
	// their oversized fields cut to these sizes (marked in details).
	maxShownField   = 1024
	maxShownDetails = 4096
)

// AuditLogInput selects a page of the audit log, newest first.
type AuditLogInput struct {
	Admin  string `json:"admin,omitempty" jsonschema:"only this admin's entries (email, case-insensitive)"`
	Action string `json:"action,omitempty" jsonschema:"only this action, e.g. analytics_data_exported, login_failed or denials_suppressed"`
	Since  string `json:"since,omitempty" jsonschema:"RFC 3339 time, inclusive, e.g. 2026-01-02T00:00:00Z"`
	Until  string `json:"until,omitempty" jsonschema:"RFC 3339 time, exclusive"`
	Limit  int    `json:"limit,omitempty" jsonschema:"entries per page, 1 to 500 (default 50)"`
	Before int64  `json:"before,omitempty" jsonschema:"the cursor: next_before of the previous page (entries with a smaller id)"`
}

// Normalize fills the default page size.
func (in *AuditLogInput) Normalize(time.Time, *time.Location) {
	if in.Limit == 0 {
		in.Limit = DefaultAuditPage
	}
}

// Filter validates the input and returns the store filter it selects.
func (in *AuditLogInput) Filter() (AuditFilter, error) {
	f := AuditFilter{AdminEmail: in.Admin, Action: in.Action, BeforeID: in.Before, Limit: in.Limit}
	if f.Limit == 0 {
		f.Limit = DefaultAuditPage
	}
	switch {
	case f.Limit < 1 || f.Limit > MaxAuditPage:
		return f, Errorf(KindInvalid, "limit must be between 1 and %d", MaxAuditPage)
	case in.Before < 0:
		return f, Errorf(KindInvalid, "before must be an entry id")
	case len(in.Admin) > maxAuditFilter || len(in.Action) > maxAuditFilter:
		return f, Errorf(KindInvalid, "admin and action filters must be at most %d bytes", maxAuditFilter)
	}
	for _, tp := range []struct {
		name, v string
		dst     *time.Time
	}{{"since", in.Since, &f.Since}, {"until", in.Until, &f.Until}} {
		if tp.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, tp.v)
		if err != nil {
			return f, Errorf(KindInvalid, "%s must be an RFC 3339 time, e.g. 2026-01-02T00:00:00Z", tp.name)
		}
		*tp.dst = t
	}
	return f, nil
}

// AuditLogPage is one page of the audit log. NextBefore is the cursor of
// the next (older) page, null on the last one.
type AuditLogPage struct {
	Entries    []AuditEntry `json:"entries"`
	NextBefore *int64       `json:"next_before"`
}

// AuditLog is the get_audit_log tool over an AuditStore.
type AuditLog struct {
	Store AuditStore
}

// GetAuditLog returns a page of entries, newest first. The page holds at
// most in.Limit entries and at most MaxAuditPageBytes of JSON.
func (a *AuditLog) GetAuditLog(ctx context.Context, in AuditLogInput) (*AuditLogPage, error) {
	f, err := in.Filter()
	if err != nil {
		return nil, err
	}
	entries, err := a.Store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &AuditLogPage{Entries: make([]AuditEntry, 0, len(entries))}
	size := 0
	for _, e := range entries {
		shown := ForDisplay(e)
		b, _ := json.Marshal(shown)
		if len(page.Entries) > 0 && size+len(b) > MaxAuditPageBytes {
			break
		}
		size += len(b)
		page.Entries = append(page.Entries, shown)
	}
	if n := len(page.Entries); n > 0 && (n < len(entries) || len(entries) == f.Limit) {
		id := page.Entries[n-1].ID
		page.NextBefore = &id
	}
	return page, nil
}

// ForDisplay cuts the oversized fields of an entry stored before audit
// fields were bounded, so that one old row cannot blow up a page. The
// stored row is unchanged (and still verifies).
func ForDisplay(e AuditEntry) AuditEntry {
	cut := map[string]int{}
	for name, p := range map[string]*string{"admin_email": &e.AdminEmail, "action": &e.Action, "reason": &e.Reason} {
		if len(*p) > maxShownField {
			cut[name] = len(*p)
			*p = CutUTF8(*p, maxShownField)
		}
	}
	if len(e.Details) > maxShownDetails || (len(cut) > 0 && len(e.Details) > 0) {
		d := map[string]any{}
		if len(e.Details) <= maxShownDetails {
			_ = json.Unmarshal(e.Details, &d)
		} else {
			d = map[string]any{"details_bytes": len(e.Details)}
			cut["details"] = len(e.Details)
		}
		d["cut_for_display"] = cut
		e.Details, _ = json.Marshal(d)
	}
	return e
}

// CutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func CutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// DeniedWindow is one source address's unauthenticated denials in one
// window, beyond the few that were written out in full.
type DeniedWindow struct {
	Source     string
	Start      time.Time
	Suppressed int64 // newly suppressed since the last report of this window
}

// AuditSuppressStore counts unauthenticated denials per source address and
// window, shared by every replica on the same database, so that a flood
// becomes a few entries and one "N similar suppressed" entry.
type AuditSuppressStore interface {
	// CountDenial adds one denial of source in the window starting at start
	// and returns the window's count so far (1 for the first).
	CountDenial(ctx context.Context, source string, start time.Time) (int64, error)
	// TakeSuppressed reports, once across all replicas, the denials beyond
	// the first keep of every window starting before before that have not
	// been reported yet, and forgets fully reported windows a day old.
	TakeSuppressed(ctx context.Context, keep int64, before time.Time) ([]DeniedWindow, error)
}
