package analytics_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/pricing"
	"github.com/codestory/analytics/sqlite"
	"github.com/google/go-cmp/cmp"
)

var ctx = context.Background()

type fixture struct {
	t     *testing.T
	tools *analytics.Tools
	in    *analytics.Ingester
}

func newFixture(t *testing.T, loc *time.Location) *fixture {
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &fixture{t: t, tools: &analytics.Tools{Store: s, Now: now},
		in: &analytics.Ingester{Store: s, Pricer: pricing.Default(), Decoder: analytics.EventDecoder{Now: now}}}
}

func (f *fixture) ingest(events ...string) analytics.IngestResult {
	f.t.Helper()
	var raws []json.RawMessage
	for _, e := range events {
		raws = append(raws, json.RawMessage(e))
	}
	res, err := f.in.Ingest(ctx, raws)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		f.t.Fatalf("rejected: %+v", res.Rejected)
	}
	return res
}

func signup(id, user, ts string) string {
	return `{"id":"` + id + `","type":"user_signup","user_id":"` + user + `","timestamp":"` + ts + `","email":"` + user + `@x.test"}`
}

func TestUserGrowthDefinitions(t *testing.T) {
	f := newFixture(t, time.UTC)
	f.ingest(signup("s1", "a", "2026-01-01T10:00:00Z"), signup("s2", "b", "2026-01-02T10:00:00Z"),
		signup("s3", "c", "2026-01-05T10:00:00Z"), signup("s4", "d", "2026-01-05T11:00:00Z"),
		`{"id":"c1","type":"user_churned","user_id":"a","timestamp":"2026-01-05T12:00:00Z"}`)
	g, err := f.tools.UserGrowth(ctx, analytics.RangeInput{StartDate: "2026-01-03", EndDate: "2026-01-05"})
	if err != nil {
		t.Fatal(err)
	}
	// Before 3 Jan: 2 users; at the end: 4. Growth = (4 − 2) / 2 × 100 = 100%.
	if g.UsersBefore != 2 || g.UsersAtEnd != 4 || g.GrowthRate != 100 || g.TotalNew != 2 || g.TotalChurned != 1 {
		t.Errorf("growth = %+v", g)
	}
	wantDaily := []analytics.GrowthDay{
		{Date: analytics.DayFromDate(2026, 1, 3), TotalUsers: 2},
		{Date: analytics.DayFromDate(2026, 1, 4), TotalUsers: 2},
		{Date: analytics.DayFromDate(2026, 1, 5), NewUsers: 2, TotalUsers: 4, ActiveUsers: 3, Churned: 1},
	}
	if d := cmp.Diff(wantDaily, g.Daily); d != "" {
		t.Errorf("daily (-want +got):\n%s", d)
	}
	// A base of zero users gives 0%, not a division by zero.
	g, _ = f.tools.UserGrowth(ctx, analytics.RangeInput{StartDate: "2025-12-01", EndDate: "2026-01-02"})
	if g.UsersBefore != 0 || g.GrowthRate != 0 || g.UsersAtEnd != 2 {
		t.Errorf("zero base: %+v", g)
	}
	// A range before any data is all zeros, every day listed.
	d, _ := f.tools.DashboardMetrics(ctx, analytics.RangeInput{StartDate: "2025-01-01", EndDate: "2025-01-10"})
	if len(d.Daily) != 10 || d.Totals != (analytics.DashboardTotals{}) {
		t.Errorf("empty range: %d days, totals %+v", len(d.Daily), d.Totals)
	}
}

func TestDashboardActiveUsersAndMargin(t *testing.T) {
	f := newFixture(t, time.UTC)
	f.ingest(
		`{"id":"p1","type":"payment","user_id":"a","timestamp":"2026-01-01T10:00:00Z","amount_cents":1000}`,
		`{"id":"p2","type":"payment","user_id":"a","timestamp":"2026-01-02T10:00:00Z","amount_cents":1000}`,
		`{"id":"r1","type":"refund","user_id":"b","timestamp":"2026-01-02T10:00:00Z","amount_cents":500}`,
		// $0.30 per 1,000 characters? No: eleven_flash_v2_5 is $0.05 per 1,000; 30,000 characters = $1.50.
		`{"id":"e1","type":"api_call","user_id":"b","timestamp":"2026-01-02T11:00:00Z","service":"elevenlabs","operation":"tts","model":"eleven_flash_v2_5","characters":30000}`,
	)
	d, err := f.tools.DashboardMetrics(ctx, analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-02"})
	if err != nil {
		t.Fatal(err)
	}
	// Distinct users over the range: a and b = 2, though daily counts are 1 and 2 (max 2, sum 3).
	if d.Totals.ActiveUsers != 2 || d.Daily[0].ActiveUsers != 1 || d.Daily[1].ActiveUsers != 2 {
		t.Errorf("active users: total %d, daily %d %d", d.Totals.ActiveUsers, d.Daily[0].ActiveUsers, d.Daily[1].ActiveUsers)
	}
	// Revenue 2000 − 500 = 1500 cents; cost 150 cents; margin (1500 − 150) / 1500 = 90%.
	if d.Totals.Revenue != 15_000_000 || d.Totals.TotalCost != 1_500_000 || d.Totals.ProfitMargin != 90 {
		t.Errorf("money: revenue %d µ$ cost %d µ$ margin %v", d.Totals.Revenue, d.Totals.TotalCost, d.Totals.ProfitMargin)
	}
	b, _ := json.Marshal(d.Totals)
	if !strings.Contains(string(b), `"total_cost_cents":150,`) || !strings.Contains(string(b), `"revenue_cents":1500,`) {
		t.Errorf("JSON totals: %s", b)
	}
}

func TestLateEventLandsOnItsOwnDay(t *testing.T) {
	f := newFixture(t, time.UTC)
	f.ingest(`{"id":"x2","type":"api_call","user_id":"a","timestamp":"2026-01-03T10:00:00Z","service":"s3","operation":"put_object","cost_cents":2}`)
	// Arrives later, stamped two days earlier.
	f.ingest(`{"id":"x1","type":"api_call","user_id":"a","timestamp":"2026-01-01T10:00:00Z","service":"s3","operation":"put_object","cost_cents":1}`)
	c, err := f.tools.CostBreakdown(ctx, analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-03"})
	if err != nil {
		t.Fatal(err)
	}
	got := []analytics.Dollars{c.Daily[0].S3, c.Daily[1].S3, c.Daily[2].S3}
	if d := cmp.Diff([]analytics.Dollars{10_000, 0, 20_000}, got); d != "" {
		t.Errorf("daily S3 cost (-want +got):\n%s", d)
	}
	if n, _ := f.tools.Store.ActiveUsers(ctx, analytics.Range{Start: analytics.DayFromDate(2026, 1, 2), End: analytics.DayFromDate(2026, 1, 3)}); n != 1 {
		t.Errorf("active users 2–3 Jan after a late event = %d, want 1", n)
	}
}

func TestCostBreakdownByModelAndOperation(t *testing.T) {
	f := newFixture(t, time.UTC)
	f.ingest(
		// Sonnet 4.5: 100k input ($0.30) + 100k output ($1.50) = $1.80 (under the 200k long-context tier).
		`{"id":"a1","type":"api_call","user_id":"u","timestamp":"2026-01-01T10:00:00Z","service":"anthropic","operation":"chapter","model":"claude-sonnet-4-5","input_tokens":100000,"output_tokens":100000}`,
		// Haiku 4.5: 1M cache reads at $0.10 = $0.10.
		`{"id":"a2","type":"api_call","user_id":"u","timestamp":"2026-01-01T10:00:00Z","service":"anthropic","operation":"outline","model":"claude-haiku-4-5","cache_read_input_tokens":1000000}`,
		`{"id":"a3","type":"api_call","user_id":"u","timestamp":"2026-01-01T10:00:00Z","service":"anthropic","operation":"outline","model":"claude-next-9","input_tokens":5}`,
	)
	c, err := f.tools.CostBreakdown(ctx, analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Breakdown.Total.CostDollars != 1_900_000 || c.Breakdown.Anthropic.Percentage != 100 || c.UnpricedCalls != 1 {
		t.Errorf("breakdown = %+v unpriced %d", c.Breakdown, c.UnpricedCalls)
	}
	var models []string
	for _, m := range c.ByModel {
		models = append(models, m.Model)
	}
	if d := cmp.Diff([]string{"claude-sonnet-4-5", "claude-haiku-4-5", "claude-next-9"}, models); d != "" {
		t.Errorf("by_model order (-want +got):\n%s", d)
	}
	if len(c.ByOperation) != 2 || c.ByOperation[0].Operation != "chapter" || c.ByOperation[1].Calls != 2 || c.ByOperation[1].UnpricedCalls != 1 {
		t.Errorf("by_operation = %+v", c.ByOperation)
	}
}

func TestTimeZoneReporting(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f := newFixture(t, berlin)
	// 23:30 UTC on 31 Dec is 00:30 on 1 Jan in Berlin.
	f.ingest(signup("s1", "a", "2025-12-31T23:30:00Z"))
	d, err := f.tools.DashboardMetrics(ctx, analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Totals.NewUsers != 1 || d.Period.TimeZone != "Europe/Berlin" {
		t.Errorf("Berlin day: %+v period %+v", d.Totals, d.Period)
	}
}

func TestExportCSV(t *testing.T) {
	f := newFixture(t, time.UTC)
	f.ingest(`{"id":"p1","type":"payment","user_id":"a","timestamp":"2026-01-02T10:00:00Z","amount_cents":1234}`)
	_, rows, err := f.tools.ExportRows(ctx, analytics.ExportInput{RangeInput: analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-02"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := analytics.WriteExportCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := "Date,New Users,Active Users,Stories,Cost,Revenue\n2026-01-01,0,0,0,0,0\n2026-01-02,0,1,0,0,12.34\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
}
