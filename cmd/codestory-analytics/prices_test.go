package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
)

// TestLatePriceFlow is the flow the unpriced warning promises: a call to a
// model the catalog does not know is stored unpriced; an owner adds its
// price on one replica; the other replica prices its next batch with it; a
// reprice takes the stored call from $0 to its price; everything is audited
// and verify stays clean.
func TestLatePriceFlow(t *testing.T) { latePriceFlow(t, "") }

func latePriceFlow(t *testing.T, db string) {
	a := startServer(t, db)
	b := startServer(t, a.DB) // a second replica on the same database
	owner := a.adminToken("owner@example.com", "owner")
	viewer := a.adminToken("viewer@example.com", "viewer")
	key := a.ingestKey()
	day := time.Now().UTC().Format(time.DateOnly)
	call := func(id string) map[string]any {
		return map[string]any{"id": id, "type": "api_call", "timestamp": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339),
			"user_id": "u1", "service": "anthropic", "operation": "messages", "model": "claude-future-9",
			"input_tokens": 1000, "output_tokens": 500}
	}
	if r := a.ingest(key, call("c1")); r.Status != 200 {
		t.Fatalf("ingest: %d %s", r.Status, r.Body)
	}
	var list analytics.PriceList
	a.do("GET", "/admin/prices", viewer, nil).json(t, &list)
	if len(list.Unpriced) != 1 || list.Unpriced[0].Model != "claude-future-9" || list.Unpriced[0].Calls != 1 {
		t.Fatalf("unpriced = %+v", list.Unpriced)
	}
	for _, e := range list.Entries {
		if e.Source != analytics.PriceSourceBuiltIn {
			t.Fatalf("entry %s %s has source %q before any change", e.Service, e.Model, e.Source)
		}
	}

	entry := `{"entries":[{"service":"anthropic","model":"claude-future-9","effective_from":"2026-01-01",
		"rates":{"input":"3","output":"15","cache_write_5m":"3.75","cache_write_1h":"6","cache_read":"0.3"}}]}`
	if r := a.do("POST", "/admin/prices", viewer, strings.NewReader(entry)); r.Status != 403 {
		t.Fatalf("viewer adding a price: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/admin/prices", owner, strings.NewReader(`{"entries":[{"service":"anthropic","model":"x","effective_from":"2026-01-01","rates":{"input":"-3"}}]}`)); r.Status != 400 {
		t.Fatalf("bad entry: %d %s", r.Status, r.Body)
	}
	r := a.do("POST", "/admin/prices", owner, strings.NewReader(entry))
	if r.Status != 200 {
		t.Fatalf("add price: %d %s", r.Status, r.Body)
	}
	// The other replica prices its next batch with the new entry.
	if r := b.ingest(key, call("c2")); r.Status != 200 {
		t.Fatalf("ingest on b: %d %s", r.Status, r.Body)
	}
	dashboard := func() analytics.DashboardTotals {
		var m analytics.DashboardMetrics
		b.do("GET", "/admin/analytics/dashboard?start_date="+day+"&end_date="+day, owner, nil).json(t, &m)
		return m.Totals
	}
	// $3/MTok × 1000 + $15/MTok × 500 = $0.0105 = 1.05 cents per call.
	if tot := dashboard(); tot.UnpricedCalls != 1 || tot.TotalCost != analytics.Cents(10_500) {
		t.Fatalf("before reprice: unpriced %d, cost %v cents", tot.UnpricedCalls, tot.TotalCost)
	}

	var rep analytics.RepriceReport
	rr := a.do("POST", "/admin/prices/reprice", owner, strings.NewReader(`{"dry_run":true}`))
	rr.json(t, &rep)
	if rr.Status != 200 || !rep.DryRun || rep.CallsRepriced != 1 || rep.UnpricedBefore != 1 || rep.UnpricedAfter != 0 {
		t.Fatalf("dry run: %d %s", rr.Status, rr.Body)
	}
	if tot := dashboard(); tot.UnpricedCalls != 1 {
		t.Fatalf("a dry run changed the figures: %+v", tot)
	}
	rr = a.do("POST", "/admin/prices/reprice", owner, strings.NewReader(`{"since":"`+day+`","until":"`+day+`"}`))
	rr.json(t, &rep)
	if rr.Status != 200 || rep.CallsRepriced != 1 || rep.CallsExamined != 2 || rep.NewCost != analytics.Cents(21_000) {
		t.Fatalf("reprice: %d %s", rr.Status, rr.Body)
	}
	if tot := dashboard(); tot.UnpricedCalls != 0 || tot.TotalCost != analytics.Cents(21_000) {
		t.Fatalf("after reprice: unpriced %d, cost %v cents", tot.UnpricedCalls, tot.TotalCost)
	}
	var costs analytics.CostBreakdown
	b.do("GET", "/admin/analytics/costs?start_date="+day+"&end_date="+day, owner, nil).json(t, &costs)
	if len(costs.ByModel) != 1 || len(costs.ByModel[0].PricedBy) != 1 || costs.ByModel[0].PricedBy[0].Source != analytics.PriceSourceDatabase {
		t.Fatalf("by_model provenance: %+v", costs.ByModel)
	}
	// Idempotent.
	a.do("POST", "/admin/prices/reprice", owner, nil).json(t, &rep)
	if rep.CallsRepriced != 0 {
		t.Fatalf("second reprice changed %d calls", rep.CallsRepriced)
	}
	audit := a.do("GET", "/admin/audit?action=prices_repriced", owner, nil)
	if !bytes.Contains(audit.Body, []byte(`"calls_repriced":1`)) {
		t.Fatalf("audit has no reprice summary: %s", audit.Body)
	}
	audit = a.do("GET", "/admin/audit?action=prices_updated", owner, nil)
	if !bytes.Contains(audit.Body, []byte(`claude-future-9`)) {
		t.Fatalf("audit has no price change: %s", audit.Body)
	}
	// Removing the entry leaves the stored costs alone until the next reprice.
	if r := a.do("DELETE", "/admin/prices?service=anthropic&model=claude-future-9&effective_from=2026-01-01", owner, nil); r.Status != 200 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if r := a.do("DELETE", "/admin/prices?service=anthropic&model=claude-opus-4-1&effective_from=2025-08-05", owner, nil); r.Status != 404 {
		t.Fatalf("removing a built-in entry: %d %s", r.Status, r.Body)
	}
	if out := a.mustCLI("", "verify", "--db", a.DB); !strings.HasPrefix(out, "ok") {
		t.Fatalf("verify: %s", out)
	}
	// The session tells the dashboard the server's day and zone.
	var si struct{ Today, Timezone string }
	a.do("GET", "/api/session", viewer, nil).json(t, &si)
	if si.Today != day || si.Timezone != "UTC" {
		t.Fatalf("session clock = %+v, want %s UTC", si, day)
	}
}

// TestLimitZeroRefusedEverywhere: REST, CLI and MCP agree on limit=0.
func TestLimitZeroRefusedEverywhere(t *testing.T) {
	ts := startServer(t, "")
	tok := ts.adminToken("o@example.com", "owner")
	if r := ts.do("GET", "/admin/analytics/users/top?limit=0", tok, nil); r.Status != 400 || !strings.Contains(r.errorText(t), "limit must be between 1 and 100") {
		t.Fatalf("REST: %d %s", r.Status, r.Body)
	}
	if out, err := ts.cli("", "query", "top", "--db", ts.DB, "--limit", "0"); err == nil || !strings.Contains(err.Error(), "limit must be between 1 and 100") {
		t.Fatalf("CLI: %v %s", err, out)
	}
	rest := ts.do("GET", "/admin/analytics/users/top", tok, nil)
	cli := ts.mustCLI("", "query", "top", "--db", ts.DB)
	if strings.TrimSpace(string(rest.Body)) != "[]" || strings.TrimSpace(cli) != "[]" {
		t.Fatalf("shapes differ: REST %s, CLI %s", rest.Body, cli)
	}
}

// TestEngagementDoorsAgree: REST, MCP's tool and the CLI answer
// get_engagement with the same figures.
func TestEngagementDoorsAgree(t *testing.T) {
	ts := startServer(t, "")
	tok := ts.adminToken("o@example.com", "owner")
	key := ts.ingestKey()
	for i, day := range []string{"2026-03-01", "2026-03-03", "2026-03-09"} {
		for _, u := range []string{"u1", "u2"}[:i%2+1] {
			if r := ts.ingest(key, map[string]any{"id": day + u, "type": "user_churned", "timestamp": day + "T10:00:00Z", "user_id": u}); r.Status != 200 {
				t.Fatalf("ingest: %d %s", r.Status, r.Body)
			}
		}
	}
	q := "start_date=2026-03-01&end_date=2026-03-10"
	rest := ts.do("GET", "/admin/analytics/engagement?"+q, tok, nil)
	var e analytics.Engagement
	rest.json(t, &e)
	if len(e.Daily) != 10 || e.Daily[8].DAU != 1 || e.Daily[8].WAU != 2 || e.Daily[8].MAU != 2 || e.Daily[8].Stickiness != 0.5 {
		t.Fatalf("engagement on 2026-03-09: %+v", e.Daily[8])
	}
	cli := ts.mustCLI("", "query", "engagement", "--db", ts.DB, "--start", "2026-03-01", "--end", "2026-03-10")
	var c analytics.Engagement
	if err := json.Unmarshal([]byte(cli), &c); err != nil || !reflect.DeepEqual(c, e) {
		t.Fatalf("CLI %s\nREST %s (%v)", cli, rest.Body, err)
	}
}
