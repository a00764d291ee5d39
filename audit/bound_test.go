package audit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/google/go-cmp/cmp"
)

// TestBound: every text field and every string in details is cut to
// MaxField bytes (never inside a UTF-8 sequence), the original lengths are
// recorded, and details stay under MaxDetails whatever the caller sent.
func TestBound(t *testing.T) {
	huge := strings.Repeat("é", 30_000) // 60,000 bytes
	e := analytics.AuditEntry{AdminEmail: huge, Door: analytics.DoorREST, Action: "login_failed", Outcome: analytics.OutcomeDenied,
		Reason: strings.Repeat("r", 1<<20),
		Details: audit.Details(map[string]any{"ip_address": "198.51.100.4", "date_range": map[string]any{"start": strings.Repeat("2", 1<<20), "end": "2026-01-02"},
			"list": make([]int, 1000)})}
	ip := audit.Bound(&e)
	if ip != "198.51.100.4" {
		t.Errorf("ip = %q", ip)
	}
	if len(e.AdminEmail) > audit.MaxField || !utf8.ValidString(e.AdminEmail) || len(e.Reason) != audit.MaxField {
		t.Errorf("fields not bounded: email %d bytes (valid UTF-8: %v), reason %d", len(e.AdminEmail), utf8.ValidString(e.AdminEmail), len(e.Reason))
	}
	if len(e.Details) > audit.MaxDetails {
		t.Fatalf("details are %d bytes", len(e.Details))
	}
	var d struct {
		DateRange map[string]string `json:"date_range"`
		Truncated map[string]int
		List      []int
	}
	if err := json.Unmarshal(e.Details, &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"admin_email": 60_000, "reason": 1 << 20, "details.date_range.start": 1 << 20, "details.list": 1000}
	if diff := cmp.Diff(want, d.Truncated); diff != "" {
		t.Errorf("truncated (-want +got):\n%s", diff)
	}
	if len(d.DateRange["start"]) != audit.MaxField || d.DateRange["end"] != "2026-01-02" || len(d.List) != 32 {
		t.Errorf("details = %s", e.Details)
	}
	small := analytics.AuditEntry{Action: "x", Details: audit.Details(map[string]any{"tool": "get_top_users"})}
	audit.Bound(&small)
	if string(small.Details) != `{"tool":"get_top_users"}` {
		t.Errorf("a small entry changed: %s", small.Details)
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{"203.0.113.9": "203.0.113.9", "::ffff:203.0.113.9": "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "": "unknown", "not-an-ip": "not-an-ip"} {
		if got := audit.SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}
