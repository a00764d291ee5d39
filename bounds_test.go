package analytics_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
)

// TestBounds accepts every numeric field at its bound and rejects it one
// above, with a reason that names the field and the bound.
func TestBounds(t *testing.T) {
	call := func(field, v string) string {
		return `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"anthropic","operation":"x","model":"m","` + field + `":` + v + `}`
	}
	cases := []struct {
		name, at, over, want string
	}{
		{"amount_cents", `{"id":"a","type":"payment","timestamp":"2026-01-01T00:00:00Z","user_id":"u","amount_cents":1000000000}`,
			`{"id":"a","type":"payment","timestamp":"2026-01-01T00:00:00Z","user_id":"u","amount_cents":1000000001}`, "amount_cents must be at most 1000000000"},
		{"cost_cents", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"s3","operation":"get","cost_cents":100000000}`,
			`{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"s3","operation":"get","cost_cents":100000000.0001}`, "cost_cents must be at most 100000000"},
		{"audio_seconds", `{"id":"a","type":"story_completed","timestamp":"2026-01-01T00:00:00Z","user_id":"u","story_id":"s","audio_seconds":10000000}`,
			`{"id":"a","type":"story_completed","timestamp":"2026-01-01T00:00:00Z","user_id":"u","story_id":"s","audio_seconds":10000000.001}`, "audio_seconds must be at most 10000000"},
		{"chapters", `{"id":"a","type":"story_completed","timestamp":"2026-01-01T00:00:00Z","user_id":"u","story_id":"s","chapters":100000}`,
			`{"id":"a","type":"story_completed","timestamp":"2026-01-01T00:00:00Z","user_id":"u","story_id":"s","chapters":100001}`, "chapters must be at most 100000"},
		{"bytes_transferred", call("bytes_transferred", "1000000000000000"), call("bytes_transferred", "1000000000000001"), "bytes_transferred must be at most 1000000000000000"},
		{"huge cost_cents", call("requests", "1"), call("cost_cents", "92233720368547758070"), "cost_cents"},
		{"near 2^63 tokens", call("output_tokens", "1"), call("output_tokens", "9223372036854775807"), "output_tokens must be at most 1000000000"},
	}
	for _, f := range []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "characters", "requests"} {
		cases = append(cases, struct{ name, at, over, want string }{f, call(f, "1000000000"), call(f, "1000000001"), f + " must be at most 1000000000"})
	}
	cases = append(cases, struct{ name, at, over, want string }{"cache split",
		call("cache_creation", `{"ephemeral_5m_input_tokens":600000000,"ephemeral_1h_input_tokens":400000000}`),
		call("cache_creation", `{"ephemeral_5m_input_tokens":600000000,"ephemeral_1h_input_tokens":400000001}`), "must add up to at most 1000000000"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := decode(tc.at); err != nil {
				t.Errorf("at the bound: %v", err)
			}
			_, _, err := decode(tc.over)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("over the bound: error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestMaximalEventsCannotOverflow ingests many events at every bound and
// checks the figures are exactly N times the maximum; a sum that would not
// fit an int64 refuses its batch and stores nothing.
func TestMaximalEventsCannotOverflow(t *testing.T) {
	f := newFixture(t, time.UTC)
	const n = 2000
	var raws []json.RawMessage
	for i := 0; i < n; i++ {
		raws = append(raws,
			json.RawMessage(fmt.Sprintf(`{"id":"p%d","type":"payment","timestamp":"2026-05-01T10:00:00Z","user_id":"u%d","amount_cents":1000000000}`, i, i%7)),
			json.RawMessage(fmt.Sprintf(`{"id":"c%d","type":"api_call","timestamp":"2026-05-01T10:00:00Z","user_id":"u%d","service":"s3","operation":"get","cost_cents":100000000,"bytes_transferred":1000000000000000,"requests":1000000000}`, i, i%7)),
			json.RawMessage(fmt.Sprintf(`{"id":"a%d","type":"api_call","timestamp":"2026-05-01T10:00:00Z","user_id":"u%d","service":"anthropic","operation":"messages","model":"claude-opus-4-1","input_tokens":1000000000,"output_tokens":1000000000,"cache_creation_input_tokens":1000000000,"cache_read_input_tokens":1000000000}`, i, i%7)),
			json.RawMessage(fmt.Sprintf(`{"id":"s%d","type":"story_completed","timestamp":"2026-05-01T10:00:00Z","user_id":"u%d","story_id":"s","chapters":100000,"audio_seconds":10000000}`, i, i%7)))
	}
	for i := 0; i < len(raws); i += 1000 {
		res, err := f.in.Ingest(ctx, raws[i:i+1000])
		if err != nil || len(res.Rejected) > 0 {
			t.Fatalf("batch %d: %+v, %v", i, res.Rejected, err)
		}
	}
	m, err := f.tools.DashboardMetrics(ctx, analytics.RangeInput{StartDate: "2026-05-01", EndDate: "2026-05-01"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(m.Totals.Revenue), int64(n)*1_000_000_000*analytics.MicrosPerCent; got != want {
		t.Errorf("revenue = %d micro-dollars, want %d", got, want)
	}
	if m.Totals.TotalChapters != n*100_000 || m.Totals.TotalAudioMinutes != float64(n)*10_000_000/60 {
		t.Errorf("chapters %d, audio minutes %v", m.Totals.TotalChapters, m.Totals.TotalAudioMinutes)
	}
	c, err := f.tools.CostBreakdown(ctx, analytics.RangeInput{StartDate: "2026-05-01", EndDate: "2026-05-01"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Breakdown.Total.Cost <= 0 || c.Breakdown.S3.Cost != analytics.Cents(int64(n)*100_000_000*analytics.MicrosPerCent) {
		t.Errorf("costs: total %v, s3 %v", c.Breakdown.Total.Cost, c.Breakdown.S3.Cost)
	}
	if diffs, err := f.tools.Store.Verify(ctx); err != nil || len(diffs) > 0 {
		t.Fatalf("verify: %v %v", diffs, err)
	}

	// Beyond the bounds (events the decoder would refuse, stored directly):
	// a sum past 2^63 is an error, never a wrapped figure, and the batch
	// leaves nothing behind.
	big := func(id string) analytics.Event {
		return analytics.Event{ID: id, Type: analytics.EventPayment, Timestamp: time.Date(2026, 5, 2, 1, 0, 0, 0, time.UTC), UserID: "u", AmountCents: math.MaxInt64 / 3, Priced: true}
	}
	before, _ := f.tools.Store.EventCount(ctx)
	if _, err := f.tools.Store.IngestEvents(ctx, []analytics.Event{big("b1"), big("b2"), big("b3"), big("b4")}); err == nil {
		t.Fatal("a batch whose sum overflows was accepted")
	}
	if _, err := f.tools.Store.IngestEvents(ctx, []analytics.Event{big("b1"), big("b2")}); err != nil {
		t.Fatalf("two large payments: %v", err)
	}
	if _, err := f.tools.Store.IngestEvents(ctx, []analytics.Event{big("b3"), big("b4")}); err == nil {
		t.Fatal("a batch that overflows a stored rollup was accepted")
	}
	after, _ := f.tools.Store.EventCount(ctx)
	if after != before+2 {
		t.Errorf("events after the refused batches: %d, want %d", after, before+2)
	}
	d, err := f.tools.Store.Daily(ctx, analytics.Range{Start: analytics.DayFromDate(2026, 5, 2), End: analytics.DayFromDate(2026, 5, 2)})
	if err != nil || len(d) != 1 || d[0].PaymentsCents != 2*(math.MaxInt64/3) {
		t.Fatalf("daily after refusals: %+v, %v", d, err)
	}
}

// TestVoidThroughIngest voids by event, including an event of the same
// batch, and refuses bad voids alone.
func TestVoidThroughIngest(t *testing.T) {
	f := newFixture(t, time.UTC)
	pay := func(id string, cents int) string {
		return fmt.Sprintf(`{"id":%q,"type":"payment","timestamp":"2026-05-01T10:00:00Z","user_id":"u1","amount_cents":%d}`, id, cents)
	}
	void := func(id, target string) string {
		return fmt.Sprintf(`{"id":%q,"type":"event_voided","timestamp":"2026-05-02T10:00:00Z","voids":%q,"reason":"double charge"}`, id, target)
	}
	f.ingest(pay("p1", 999), pay("p2", 999))
	var raws []json.RawMessage
	for _, s := range []string{pay("p3", 500), void("v1", "p2"), void("v2", "p3"), void("v3", "nope"), void("v4", "v1"),
		`{"id":"v5","type":"event_voided","timestamp":"2026-05-02T10:00:00Z","voids":"p1","reason":"x","user_id":"u1"}`} {
		raws = append(raws, json.RawMessage(s))
	}
	res, err := f.in.Ingest(ctx, raws)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 3 || len(res.Rejected) != 3 {
		t.Fatalf("result %+v", res)
	}
	for i, want := range []string{"no event with id", "is itself a void", "user_id"} {
		if !strings.Contains(res.Rejected[i].Error, want) || res.Rejected[i].Index != i+3 {
			t.Errorf("rejection %d = %+v, want index %d and %q", i, res.Rejected[i], i+3, want)
		}
	}
	m, err := f.tools.DashboardMetrics(ctx, analytics.RangeInput{StartDate: "2026-05-01", EndDate: "2026-05-02"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Totals.Revenue != analytics.Cents(999*analytics.MicrosPerCent) {
		t.Errorf("revenue after voids = %v cents, want 999", m.Totals.Revenue)
	}
	// A retried batch is all duplicates.
	res, err = f.in.Ingest(ctx, raws[:3])
	if err != nil || res.Duplicates != 3 || res.Accepted != 0 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
}

func TestDateThatDoesNotExist(t *testing.T) {
	_, err := analytics.ParseRange("2026-02-01", "2026-02-30")
	if err == nil || !strings.Contains(analytics.ErrorMessage(err), "2026-02-30 does not exist") {
		t.Fatalf("error = %v", err)
	}
	_, err = analytics.ParseRange("2026-02-01", "2026/02/28")
	if analytics.ErrorMessage(err) != analytics.ErrDateFormat.Message {
		t.Fatalf("bad format: %v", err)
	}
}
