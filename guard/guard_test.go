package guard_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/sqlite"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var ctx = context.Background()

func admin(id int64, role analytics.Role) *analytics.Principal {
	return &analytics.Principal{Admin: &analytics.Admin{ID: id, Email: fmt.Sprintf("a%d@x.test", id), Role: role}, Via: "token"}
}

func newGuard(t *testing.T, c *clock) (*guard.Guard, *sqlite.Store) {
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	g := guard.New(guard.Config{Limiter: guard.NewMemory(guard.AnalyticsRate, c.now), Audit: &audit.Log{Store: s, Now: c.now}, Now: c.now})
	return g, s
}

func call(g *guard.Guard, p *analytics.Principal, tool string, input any) error {
	_, err := guard.Run(ctx, g, guard.Call{Tool: tool, Input: input, Door: analytics.DoorREST, Principal: p},
		func(context.Context) (int, error) { return 1, nil })
	return err
}

func TestRateLimitGCRA(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	g, _ := newGuard(t, c)
	a, b := admin(1, analytics.RoleOwner), admin(2, analytics.RoleViewer)
	tools := []string{analytics.ToolDashboardMetrics, analytics.ToolCostBreakdown, analytics.ToolUserGrowth, analytics.ToolTopUsers, analytics.ToolExportAnalytics}
	inputFor := func(tool string) any {
		switch tool {
		case analytics.ToolTopUsers:
			return &analytics.TopUsersInput{}
		case analytics.ToolExportAnalytics:
			return &analytics.ExportInput{}
		}
		return &analytics.RangeInput{}
	}
	// 30 calls spread over every tool are allowed, the 31st is not.
	for i := 0; i < 30; i++ {
		tool := tools[i%len(tools)]
		if err := call(g, a, tool, inputFor(tool)); err != nil {
			t.Fatalf("call %d (%s): %v", i+1, tool, err)
		}
	}
	err := call(g, a, analytics.ToolDashboardMetrics, &analytics.RangeInput{})
	var de *guard.DeniedError
	if !errors.As(err, &de) || de.Err.Kind != analytics.KindRateLimited || de.Err.Message != "Rate limit exceeded: 30 analytics requests per minute" {
		t.Fatalf("31st call: %v", err)
	}
	if de.RetryAfter != 2*time.Second {
		t.Errorf("RetryAfter = %s, want 2s", de.RetryAfter)
	}
	// Another admin has their own budget.
	if err := call(g, b, analytics.ToolDashboardMetrics, &analytics.RangeInput{}); err != nil {
		t.Errorf("admin 2: %v", err)
	}
	// Capacity returns evenly: one call per 2 s, not 30 at a window boundary.
	c.advance(1999 * time.Millisecond)
	if err := call(g, a, analytics.ToolDashboardMetrics, &analytics.RangeInput{}); err == nil {
		t.Error("allowed after 1.999 s")
	}
	c.advance(time.Millisecond)
	if err := call(g, a, analytics.ToolDashboardMetrics, &analytics.RangeInput{}); err != nil {
		t.Errorf("refused after 2 s: %v", err)
	}
	if err := call(g, a, analytics.ToolDashboardMetrics, &analytics.RangeInput{}); err == nil {
		t.Error("a second call right after the refill was allowed")
	}
	// After a full minute the whole burst is back, and no more.
	c.advance(time.Minute)
	for i := 0; i < 30; i++ {
		if err := call(g, a, analytics.ToolCostBreakdown, &analytics.RangeInput{}); err != nil {
			t.Fatalf("after a minute, call %d: %v", i+1, err)
		}
	}
	if err := call(g, a, analytics.ToolCostBreakdown, &analytics.RangeInput{}); err == nil {
		t.Error("31st call after refill allowed")
	}
}

func TestNoFixedWindowDoubleBurst(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 12, 0, 59, 0, time.UTC)}
	m := guard.NewMemory(guard.AnalyticsRate, c.now)
	allowed := 0
	for i := 0; i < 60; i++ { // 30 at 12:00:59, 30 at 12:01:00
		if i == 30 {
			c.advance(time.Second)
		}
		if r, _ := m.Allow(ctx, "k"); r.Allowed {
			allowed++
		}
	}
	if allowed != 30 {
		t.Errorf("across a minute boundary %d calls were allowed in 1 s, want 30", allowed)
	}
}

func TestPreToolUseOrderAndReasons(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	g, s := newGuard(t, c)
	ingest := &analytics.Principal{IngestKey: &analytics.IngestKey{ID: 1, Name: "backend"}, Via: "ingest_key"}
	for _, tc := range []struct {
		name  string
		p     *analytics.Principal
		tool  string
		input any
		kind  analytics.Kind
		text  string
	}{
		{"no principal", nil, analytics.ToolDashboardMetrics, &analytics.RangeInput{}, analytics.KindUnauthenticated, "Analytics access requires admin authentication"},
		{"viewer export", admin(1, analytics.RoleViewer), analytics.ToolExportAnalytics, &analytics.ExportInput{}, analytics.KindForbidden, "requires EXPORT_DATA"},
		{"admin log_api_call", admin(1, analytics.RoleOwner), analytics.ToolLogAPICall, nil, analytics.KindForbidden, "needs an ingest key"},
		{"ingest reads", ingest, analytics.ToolDashboardMetrics, &analytics.RangeInput{}, analytics.KindForbidden, "ingest key cannot read"},
		{"366 days", admin(2, analytics.RoleOwner), analytics.ToolDashboardMetrics, &analytics.RangeInput{StartDate: "2023-01-01", EndDate: "2024-12-31"}, analytics.KindInvalid, "Date range cannot exceed 365 days"},
		{"reversed", admin(2, analytics.RoleOwner), analytics.ToolUserGrowth, &analytics.RangeInput{StartDate: "2024-01-02", EndDate: "2024-01-01"}, analytics.KindInvalid, "End date must be after start date"},
		{"bad date", admin(2, analytics.RoleOwner), analytics.ToolCostBreakdown, &analytics.RangeInput{StartDate: "01/02/2024", EndDate: "2024-01-03"}, analytics.KindInvalid, "Invalid date format (expected YYYY-MM-DD)"},
		{"limit", admin(2, analytics.RoleOwner), analytics.ToolTopUsers, &analytics.TopUsersInput{Limit: new(500)}, analytics.KindInvalid, "limit must be between 1 and 100"},
		{"format", admin(2, analytics.RoleOwner), analytics.ToolExportAnalytics, &analytics.ExportInput{Format: "xlsx"}, analytics.KindInvalid, "format must be csv or json"},
	} {
		err := call(g, tc.p, tc.tool, tc.input)
		var de *guard.DeniedError
		if !errors.As(err, &de) || de.Err.Kind != tc.kind || !contains(de.Err.Message, tc.text) {
			t.Errorf("%s: err = %v, want kind %d with %q", tc.name, err, tc.kind, tc.text)
		}
	}
	if err := call(g, ingest, analytics.ToolLogAPICall, nil); err != nil {
		t.Errorf("ingest key calling log_api_call: %v", err)
	}
	// Every denial above and the one allowed call are audited, and chained.
	n, err := audit.Verify(ctx, s)
	if err != nil || n != 10 {
		t.Errorf("audit entries = %d, %v; want 10 and a sound chain", n, err)
	}
	entries, _ := s.ListAudit(ctx, analytics.AuditFilter{Limit: 100})
	if entries[0].Action != "api_call_logged" || entries[0].Outcome != "allowed" || entries[len(entries)-1].Outcome != "denied" {
		t.Errorf("audit: newest %+v oldest %+v", entries[0], entries[len(entries)-1])
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}
func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestMatchers(t *testing.T) {
	for _, tc := range []struct {
		matcher, tool string
		want          bool
	}{
		{"", "anything", true},
		{"*", "mcp__analytics__get_top_users", true},
		{"mcp__analytics__get_top_users", "mcp__analytics__get_top_users", true},
		{"mcp__analytics__get_top_users", "mcp__analytics__get_top_users_x", false},
		{"Edit|Write", "Write", true},
		{"Edit|Write", "Writer", false},
		{"mcp__analytics__.*", "mcp__analytics__export_analytics", true},
		{"mcp__analytics__.*", "mcp__other__export_analytics", false},
		{"mcp__analytics__get_.*", "mcp__analytics__export_analytics", false},
		{"([", "([", false}, // a bad regular expression matches nothing
	} {
		m := &guard.HookMatcher{Matcher: tc.matcher}
		if got := m.Matches(tc.tool); got != tc.want {
			t.Errorf("Matcher %q on %q = %v, want %v", tc.matcher, tc.tool, got, tc.want)
		}
	}
}

func TestStopDropsSessionState(t *testing.T) {
	c := &clock{time.Now()}
	stopped := ""
	g := guard.New(guard.Config{Now: c.now, StopHooks: []guard.HookFunc{func(_ context.Context, in *guard.HookInput) (*guard.Decision, error) {
		stopped = in.SessionID
		return nil, nil
	}}})
	_, err := guard.Run(ctx, g, guard.Call{Tool: analytics.ToolDashboardMetrics, Input: &analytics.RangeInput{}, Principal: admin(1, analytics.RoleViewer), SessionID: "s1"},
		func(context.Context) (int, error) { return 0, nil })
	if err != nil {
		t.Fatal(err)
	}
	if !g.HasSession("s1") || g.Session("s1").Calls != 1 {
		t.Fatal("session state not kept during the session")
	}
	if err := g.End(ctx, "s1", analytics.DoorMCP, nil); err != nil {
		t.Fatal(err)
	}
	if g.HasSession("s1") || stopped != "s1" {
		t.Errorf("after Stop: state kept=%v, hook saw %q", g.HasSession("s1"), stopped)
	}
}
