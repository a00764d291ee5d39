package main

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestAuditLogTool: /admin/audit is get_audit_log, a guarded tool: it
// shares the 30/min budget, is audited, pages with a cursor, bounds each
// page (an oversized row from before the bounds is cut for display), and
// is offered over MCP to owners only, with the same answer as REST.
func TestAuditLogTool(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")

	// A 1 MB row as the old code stored it (it also breaks the chain,
	// which is not what this test is about).
	tamperSQLite(t, ts.DB, fmt.Sprintf(`INSERT INTO audit_log (id, ts, admin_id, admin_email, door, action, outcome, reason, details, prev_hash, hash, mac)
		SELECT max(id) + 1, 0, NULL, '%s', 'rest', 'login_failed', 'denied', 'x', '{"date_range":{"start":"%s"}}', '', '', '' FROM audit_log`,
		strings.Repeat("e", 60_000), strings.Repeat("9", 1_000_000)))
	for i := 0; i < 5; i++ {
		ts.do("GET", "/admin/analytics/dashboard", owner, nil)
	}

	res := ts.do("GET", "/admin/audit?limit=3", owner, nil)
	var page struct {
		Entries []struct {
			ID         int64
			Action     string
			AdminEmail string `json:"admin_email"`
			Details    map[string]any
			MAC        string
		}
		NextBefore *int64 `json:"next_before"`
	}
	res.json(t, &page)
	if res.Status != 200 || len(page.Entries) != 3 || page.NextBefore == nil || *page.NextBefore != page.Entries[2].ID {
		t.Fatalf("first page: %d %s", res.Status, res.Body)
	}
	seen := map[int64]bool{}
	var legacy bool
	for cursor, pages := *page.NextBefore, 0; ; pages++ {
		for _, e := range page.Entries {
			if seen[e.ID] {
				t.Errorf("entry %d on two pages", e.ID)
			}
			seen[e.ID] = true
			if e.Action == "login_failed" {
				legacy = len(e.AdminEmail) <= 1024 && e.Details["cut_for_display"] != nil
			}
		}
		if page.NextBefore == nil || pages > 10 {
			break
		}
		cursor = *page.NextBefore
		res = ts.do("GET", fmt.Sprintf("/admin/audit?limit=3&before=%d", cursor), owner, nil)
		if len(res.Body) > 100_000 {
			t.Errorf("a page of 3 is %d bytes", len(res.Body))
		}
		page.NextBefore = nil
		res.json(t, &page)
	}
	if !legacy {
		t.Error("the oversized old row was not shown cut")
	}

	// Viewing the log is audited and counts against the 30/min budget.
	var viewed auditPage
	ts.do("GET", "/admin/audit?action=audit_log_viewed&limit=100", owner, nil).json(t, &viewed)
	if len(viewed.Entries) < 2 || viewed.Entries[0].Outcome != "allowed" || viewed.Entries[0].Door != "rest" {
		t.Errorf("audit_log_viewed entries: %+v", viewed.Entries)
	}
	for i := 0; i < 40; i++ {
		r := ts.do("GET", "/admin/audit?limit=1", owner, nil)
		if r.Status == 429 {
			if r.Header.Get("Retry-After") == "" || r.errorText(t) != "Rate limit exceeded: 30 analytics requests per minute" {
				t.Errorf("429: %v %s", r.Header, r.Body)
			}
			break
		}
		if i == 39 {
			t.Fatal("/admin/audit is not rate-limited")
		}
	}

	// MCP: owners are offered get_audit_log, others are not.
	ts2 := startServer(t, "")
	owner2 := ts2.adminToken("owner@example.com", "owner")
	analyst2 := ts2.adminToken("analyst@example.com", "analyst")
	cs := ts2.mcpClient(owner2)
	if got := mcpToolNames(t, cs); !slices.Contains(got, "get_audit_log") {
		t.Fatalf("owner's MCP tools: %v", got)
	}
	mres := mcpCall(t, cs, "get_audit_log", map[string]any{"limit": 2, "action": "token_created"})
	rest := ts2.do("GET", "/admin/audit?limit=2&action=token_created", owner2, nil)
	if mres.IsError || !reflect.DeepEqual(asJSON(t, mres.StructuredContent), decodeJSON(t, rest.Body)) {
		t.Errorf("MCP %v %s\nREST %s", mres.IsError, mcpText(mres), rest.Body)
	}
	if res := mcpCall(t, cs, "get_audit_log", map[string]any{"limit": 501}); !res.IsError || !strings.Contains(mcpText(res), "limit must be between 1 and 500") {
		t.Errorf("limit 501 over MCP: %v %s", res.IsError, mcpText(res))
	}
	acs := ts2.mcpClient(analyst2)
	if got := mcpToolNames(t, acs); slices.Contains(got, "get_audit_log") {
		t.Errorf("an analyst is offered get_audit_log: %v", got)
	}
	if res, err := acs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_audit_log", Arguments: map[string]any{}}); err == nil && !res.IsError {
		t.Errorf("an analyst called get_audit_log: %s", mcpText(res))
	}
}
