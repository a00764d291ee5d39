// Package storetest is the conformance suite every analytics.Store
// implementation must pass, on SQLite always and on PostgreSQL in CI.
package storetest

import (
	stdcmp "cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/google/go-cmp/cmp"
)

// Harness opens stores for the suite.
type Harness struct {
	// Open returns a new, empty store bucketing days in loc; the harness
	// closes it when the test ends.
	Open func(t *testing.T, loc *time.Location) analytics.Store
	// Reopen opens the same database as s again with another zone request
	// (nil keeps the stored zone); it may return an error.
	Reopen func(t *testing.T, s analytics.Store, loc *time.Location) (analytics.Store, error)
	// Exec runs raw SQL against the store's database, to tamper with rollups.
	Exec func(t *testing.T, s analytics.Store, query string)
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("Fixture", func(t *testing.T) { testFixture(t, h) })
	t.Run("Dedup", func(t *testing.T) { testDedup(t, h) })
	t.Run("DedupLargeBatch", func(t *testing.T) { testDedupLargeBatch(t, h) })
	t.Run("DayBoundaries", func(t *testing.T) { testDayBoundaries(t, h) })
	t.Run("ActiveUsersMatchBruteForce", func(t *testing.T) { testActiveBruteForce(t, h) })
	t.Run("TopUsersOrder", func(t *testing.T) { testTopUsers(t, h) })
	t.Run("TopUsersMatchBruteForce", func(t *testing.T) { testTopUsersBruteForce(t, h) })
	t.Run("RebuildAndVerify", func(t *testing.T) { testRebuildVerify(t, h) })
	t.Run("RebuildNewZone", func(t *testing.T) { testRebuildZone(t, h) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("VoidMatchesBruteForce", func(t *testing.T) { testVoidBruteForce(t, h) })
	t.Run("RepriceMatchesBruteForce", func(t *testing.T) { testRepriceBruteForce(t, h) })
	t.Run("RepriceDuringIngest", func(t *testing.T) { testRepriceDuringIngest(t, h) })
	t.Run("OutOfBoundsRepairedByVoid", func(t *testing.T) { testOutOfBoundsRepairedByVoid(t, h) })
	t.Run("EngagementMatchesBruteForce", func(t *testing.T) { testEngagementBruteForce(t, h) })
	t.Run("EconomicsToolsMatchBruteForce", func(t *testing.T) { testEconomicsTools(t, h) })
	t.Run("PriceEntries", func(t *testing.T) { testPriceEntries(t, h) })
	t.Run("IngestKeys", func(t *testing.T) { testIngestKeys(t, h) })
	t.Run("Admins", func(t *testing.T) { testAdmins(t, h) })
	t.Run("AuditChain", func(t *testing.T) { testAuditChain(t, h) })
	t.Run("AuditKeyed", func(t *testing.T) { testAuditKeyed(t, h) })
	t.Run("AuditSuppress", func(t *testing.T) { testAuditSuppress(t, h) })
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, h) })
	t.Run("Budgets", func(t *testing.T) { testBudgets(t, h) })
}

var ctx = context.Background()

// T0 is the fixture's first day, 2026-03-01 (UTC).
var T0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// Day0 is T0 as a Day.
var Day0 = analytics.DayOf(T0, time.UTC)

func at(day int, hour int) time.Time {
	return T0.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
}

// Call makes a priced api_call event.
func Call(id, user string, ts time.Time, svc analytics.Service, model, op string, cost analytics.Micros) analytics.Event {
	return analytics.Event{ID: id, Type: analytics.EventAPICall, Timestamp: ts, UserID: user, Service: svc,
		Model: model, Operation: op, Status: analytics.StatusOK, InputTokens: 10, OutputTokens: 5, Cost: cost, Priced: true, Requests: 0}
}

// Ev makes a non-call event.
func Ev(id string, typ analytics.EventType, user string, ts time.Time) analytics.Event {
	return analytics.Event{ID: id, Type: typ, Timestamp: ts, UserID: user, Priced: true}
}

func ingest(t *testing.T, s analytics.Store, events ...analytics.Event) analytics.IngestCounts {
	t.Helper()
	c, err := s.IngestEvents(ctx, events)
	if err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	return c
}

func verifyClean(t *testing.T, s analytics.Store) {
	t.Helper()
	diffs, err := s.Verify(ctx)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(diffs) > 0 {
		t.Fatalf("Verify found %d differences, first: %s", len(diffs), diffs[0])
	}
}

func daily(t *testing.T, s analytics.Store, r analytics.Range) map[analytics.Day]analytics.DailyRow {
	t.Helper()
	rows, err := s.Daily(ctx, r)
	if err != nil {
		t.Fatalf("Daily: %v", err)
	}
	m := map[analytics.Day]analytics.DailyRow{}
	for _, row := range rows {
		m[row.Day] = row
	}
	return m
}

func active(t *testing.T, s analytics.Store, from, to int) int64 {
	t.Helper()
	n, err := s.ActiveUsers(ctx, analytics.Range{Start: Day0 + analytics.Day(from), End: Day0 + analytics.Day(to)})
	if err != nil {
		t.Fatalf("ActiveUsers: %v", err)
	}
	return n
}

func testFixture(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	signup := Ev("s1", analytics.EventUserSignup, "u1", at(0, 9))
	signup.Email = "one@example.com"
	signup2 := Ev("s2", analytics.EventUserSignup, "u2", at(1, 9))
	signup2.Email = "two@example.com"
	completed := Ev("sc1", analytics.EventStoryCompleted, "u1", at(0, 11))
	completed.StoryID, completed.Chapters, completed.AudioMillis = "st1", 3, 90_500
	pay := Ev("p1", analytics.EventPayment, "u1", at(0, 12))
	pay.AmountCents = 999
	refund := Ev("r1", analytics.EventRefund, "u1", at(1, 12))
	refund.AmountCents = 499
	errCall := Call("c3", "u2", at(1, 10), analytics.ServiceAnthropic, "claude-haiku-4-5", "chapter", 7)
	errCall.Status = analytics.StatusError
	unpriced := Call("c4", "u2", at(1, 11), analytics.ServiceAnthropic, "claude-mystery", "chapter", 0)
	unpriced.Priced = false
	story := Ev("st1c", analytics.EventStoryCreated, "u1", at(0, 10))
	story.StoryID = "st1"
	failed := Ev("st2f", analytics.EventStoryFailed, "u2", at(1, 10))
	failed.StoryID = "st2"
	churn := Ev("ch1", analytics.EventUserChurned, "u2", at(2, 0))
	system := Call("c5", "", at(2, 1), analytics.ServiceS3, "", "put_object", 5)

	c := ingest(t, s, signup, signup2, story,
		Call("c1", "u1", at(0, 10), analytics.ServiceAnthropic, "claude-sonnet-4-5", "chapter", 1_234_567),
		Call("c2", "u1", at(0, 10), analytics.ServiceElevenLabs, "eleven_multilingual_v2", "narrate", 250_001),
		completed, pay, refund, errCall, unpriced, failed, churn, system)
	if c.Accepted != 13 || c.Duplicates != 0 {
		t.Fatalf("counts = %+v, want 13 accepted", c)
	}
	got := daily(t, s, analytics.Range{Start: Day0 - 5, End: Day0 + 5})
	want := map[analytics.Day]analytics.DailyRow{
		Day0: {Day: Day0, NewUsers: 1, ActiveUsers: 1, StoriesCreated: 1, StoriesCompleted: 1, Chapters: 3, AudioMillis: 90_500,
			APIRequests: 2, AnthropicCost: 1_234_567, ElevenLabsCost: 250_001, PaymentsCents: 999},
		Day0 + 1: {Day: Day0 + 1, NewUsers: 1, ActiveUsers: 2, StoriesFailed: 1, APIRequests: 2, APIErrors: 1, UnpricedCalls: 1,
			AnthropicCost: 7, RefundsCents: 499},
		Day0 + 2: {Day: Day0 + 2, ActiveUsers: 1, ChurnedUsers: 1, APIRequests: 1, S3Cost: 5},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Daily (-want +got):\n%s", d)
	}
	if n := active(t, s, 0, 2); n != 2 {
		t.Errorf("ActiveUsers(0..2) = %d, want 2 distinct users (not the max or sum of daily counts)", n)
	}
	if n := active(t, s, 2, 2); n != 1 {
		t.Errorf("ActiveUsers(2..2) = %d, want 1", n)
	}
	if n := active(t, s, -30, -1); n != 0 {
		t.Errorf("ActiveUsers before any data = %d, want 0", n)
	}
	for _, tc := range []struct {
		day  analytics.Day
		want int64
	}{{Day0, 0}, {Day0 + 1, 1}, {Day0 + 2, 2}, {Day0 + 100, 2}} {
		if n, err := s.SignupsBefore(ctx, tc.day); err != nil || n != tc.want {
			t.Errorf("SignupsBefore(%s) = %d, %v; want %d", tc.day, n, err, tc.want)
		}
	}
	costs, err := s.CostRows(ctx, analytics.Range{Start: Day0, End: Day0 + 2})
	if err != nil {
		t.Fatal(err)
	}
	wantCosts := []analytics.CostRow{
		{Service: "anthropic", Model: "claude-haiku-4-5", Operation: "chapter", Calls: 1, Errors: 1, InputTokens: 10, OutputTokens: 5, Cost: 7},
		{Service: "anthropic", Model: "claude-mystery", Operation: "chapter", Calls: 1, UnpricedCalls: 1, InputTokens: 10, OutputTokens: 5},
		{Service: "anthropic", Model: "claude-sonnet-4-5", Operation: "chapter", Calls: 1, InputTokens: 10, OutputTokens: 5, Cost: 1_234_567},
		{Service: "elevenlabs", Model: "eleven_multilingual_v2", Operation: "narrate", Calls: 1, InputTokens: 10, OutputTokens: 5, Cost: 250_001},
		{Service: "s3", Model: "", Operation: "put_object", Calls: 1, InputTokens: 10, OutputTokens: 5, Cost: 5},
	}
	if d := cmp.Diff(wantCosts, costs); d != "" {
		t.Errorf("CostRows (-want +got):\n%s", d)
	}
	top, err := s.TopUsers(ctx, analytics.Range{Start: Day0, End: Day0 + 2}, analytics.SortByCost, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantTop := []analytics.TopUserRow{
		{UserID: "u1", Email: "one@example.com", Stories: 1, APICalls: 2, AudioMillis: 90_500, Cost: 1_484_568},
		{UserID: "u2", Email: "two@example.com", APICalls: 2, Cost: 7},
	}
	if d := cmp.Diff(wantTop, top); d != "" {
		t.Errorf("TopUsers (-want +got):\n%s", d)
	}
	if n, err := s.EventCount(ctx); err != nil || n != 13 {
		t.Errorf("EventCount = %d, %v; want 13", n, err)
	}
	verifyClean(t, s)
}

func testDedup(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	a := Call("dup-1", "u1", at(0, 1), analytics.ServiceAnthropic, "m", "op", 100)
	b := Call("dup-2", "u1", at(0, 2), analytics.ServiceAnthropic, "m", "op", 200)
	c := ingest(t, s, a, b, a) // a repeated inside the batch
	if c.Accepted != 2 || c.Duplicates != 1 {
		t.Fatalf("first batch counts = %+v, want 2 accepted 1 duplicate", c)
	}
	changed := a
	changed.Cost = 999_999 // a retry with the same id never counts twice, even if its body differs
	c = ingest(t, s, changed, b, Call("dup-3", "u2", at(0, 3), analytics.ServiceAnthropic, "m", "op", 300))
	if c.Accepted != 1 || c.Duplicates != 2 {
		t.Fatalf("second batch counts = %+v, want 1 accepted 2 duplicates", c)
	}
	row := daily(t, s, analytics.Range{Start: Day0, End: Day0})[Day0]
	if row.APIRequests != 3 || row.AnthropicCost != 600 || row.ActiveUsers != 2 {
		t.Errorf("after duplicates: requests=%d cost=%d active=%d; want 3, 600, 2", row.APIRequests, row.AnthropicCost, row.ActiveUsers)
	}
	verifyClean(t, s)
}

// testDedupLargeBatch repeats ids inside one statement's rows, across the
// rows of two statements and against a stored event, in batches larger
// than the stores insert at once: the first of each id counts, once.
func testDedupLargeBatch(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	stored := Call("big-stored", "u1", at(0, 0), analytics.ServiceS3, "", "get", 1_000_000)
	ingest(t, s, stored)
	batch := make([]analytics.Event, 250)
	for i := range batch {
		batch[i] = Call(fmt.Sprintf("big-%d", i), fmt.Sprintf("u%d", i%7), T0.Add(time.Duration(1+i)*time.Second), analytics.ServiceS3, "", "get", analytics.Micros(i+1))
	}
	repeat := func(i, of int) {
		batch[i] = batch[of]
		batch[i].Cost = 7_000_000 // never counted: the first of an id wins
	}
	repeat(40, 10)   // inside the first hundred
	repeat(100, 99)  // the next row, in the next hundred
	repeat(230, 120) // a later hundred
	batch[180] = stored
	batch[180].Cost = 7_000_000
	var want analytics.Micros
	for i, e := range batch {
		if i != 40 && i != 100 && i != 230 && i != 180 {
			want += e.Cost
		}
	}
	c := ingest(t, s, batch...)
	if c.Accepted != 246 || c.Duplicates != 4 {
		t.Fatalf("counts = %+v, want 246 accepted 4 duplicates", c)
	}
	if n, err := s.EventCount(t.Context()); err != nil || n != 247 {
		t.Errorf("EventCount = %d, %v; want 247", n, err)
	}
	row := daily(t, s, analytics.Range{Start: Day0, End: Day0})[Day0]
	if row.APIRequests != 247 || row.S3Cost != want+1_000_000 {
		t.Errorf("requests=%d s3 cost=%d; want 247, %d", row.APIRequests, row.S3Cost, want+1_000_000)
	}
	verifyClean(t, s)
}

func testDayBoundaries(t *testing.T, h Harness) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	plus2 := time.FixedZone("+02:00", 2*3600)
	events := []analytics.Event{
		Call("b1", "u1", time.Date(2026, 3, 1, 23, 59, 59, 999_000_000, time.UTC), analytics.ServiceS3, "", "get", 1),
		Call("b2", "u1", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), analytics.ServiceS3, "", "get", 10),
		// 01:30 on 3 March at +02:00 is 23:30 UTC on 2 March.
		Call("b3", "u2", time.Date(2026, 3, 3, 1, 30, 0, 0, plus2).UTC(), analytics.ServiceS3, "", "get", 100),
	}
	d1, d2, d3 := analytics.DayFromDate(2026, 3, 1), analytics.DayFromDate(2026, 3, 2), analytics.DayFromDate(2026, 3, 3)
	t.Run("UTC", func(t *testing.T) {
		s := h.Open(t, time.UTC)
		ingest(t, s, events...)
		got := daily(t, s, analytics.Range{Start: d1, End: d3})
		if got[d1].S3Cost != 1 || got[d2].S3Cost != 110 || got[d3].S3Cost != 0 {
			t.Errorf("UTC buckets: %d %d %d; want 1 110 0", got[d1].S3Cost, got[d2].S3Cost, got[d3].S3Cost)
		}
	})
	t.Run("Berlin", func(t *testing.T) {
		s := h.Open(t, berlin) // UTC+1 in March before the switch
		ingest(t, s, events...)
		got := daily(t, s, analytics.Range{Start: d1, End: d3})
		// 23:59:59.999Z and 00:00Z are both 2 March in Berlin; 23:30Z on 2 March is 00:30 on 3 March.
		if got[d1].S3Cost != 0 || got[d2].S3Cost != 11 || got[d3].S3Cost != 100 {
			t.Errorf("Berlin buckets: %d %d %d; want 0 11 100", got[d1].S3Cost, got[d2].S3Cost, got[d3].S3Cost)
		}
		if s.Location().String() != "Europe/Berlin" {
			t.Errorf("Location = %s", s.Location())
		}
	})
}

// testActiveBruteForce ingests random activity, including late events that
// fill gaps, and checks every range against a direct count.
func testActiveBruteForce(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(7, 11))
	const days, users = 20, 15
	seen := map[[2]int]bool{}
	var batch []analytics.Event
	for i := 0; i < 300; i++ {
		u, d := rng.IntN(users), rng.IntN(days)
		seen[[2]int{u, d}] = true
		batch = append(batch, Call(fmt.Sprintf("a%d", i), fmt.Sprintf("user%02d", u), at(d, rng.IntN(24)), analytics.ServiceS3, "", "get", 1))
		if len(batch) == 17 { // batches arrive out of day order: late events fill gaps
			ingest(t, s, batch...)
			batch = nil
		}
	}
	ingest(t, s, batch...)
	for from := 0; from < days; from++ {
		for to := from; to < days; to++ {
			want := 0
			for u := 0; u < users; u++ {
				for d := from; d <= to; d++ {
					if seen[[2]int{u, d}] {
						want++
						break
					}
				}
			}
			if got := active(t, s, from, to); got != int64(want) {
				t.Fatalf("ActiveUsers(%d..%d) = %d, want %d", from, to, got, want)
			}
		}
	}
	verifyClean(t, s)
}

func testTopUsers(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	var evs []analytics.Event
	// ua and ub tie on cost (ties break by user id ascending); uc has the most calls.
	evs = append(evs, Call("t1", "ub", at(0, 1), analytics.ServiceAnthropic, "m", "op", 500))
	evs = append(evs, Call("t2", "ua", at(0, 1), analytics.ServiceAnthropic, "m", "op", 500))
	for i := 0; i < 3; i++ {
		evs = append(evs, Call(fmt.Sprintf("t3-%d", i), "uc", at(1, i), analytics.ServiceS3, "", "get", 10))
	}
	st := Ev("t4", analytics.EventStoryCreated, "ud", at(1, 5))
	st.StoryID = "s"
	evs = append(evs, st, Call("t5", "ue", at(9, 1), analytics.ServiceAnthropic, "m", "op", 9_999)) // outside range
	ingest(t, s, evs...)
	r := analytics.Range{Start: Day0, End: Day0 + 1}
	ids := func(by analytics.SortBy, limit int) []string {
		rows, err := s.TopUsers(ctx, r, by, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range rows {
			out = append(out, u.UserID)
		}
		return out
	}
	for _, tc := range []struct {
		by    analytics.SortBy
		limit int
		want  []string
	}{
		{analytics.SortByCost, 10, []string{"ua", "ub", "uc", "ud"}},
		{analytics.SortByCost, 1, []string{"ua"}},
		{analytics.SortByAPICalls, 2, []string{"uc", "ua"}},
		{analytics.SortByStories, 2, []string{"ud", "ua"}},
	} {
		if d := cmp.Diff(tc.want, ids(tc.by, tc.limit)); d != "" {
			t.Errorf("TopUsers(%s, %d) (-want +got):\n%s", tc.by, tc.limit, d)
		}
	}
}

func testRebuildVerify(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	ingest(t, s, randomEvents(rng, "rv", 500)...)
	before := daily(t, s, analytics.Range{Start: Day0 - 1, End: Day0 + 40})
	actBefore := active(t, s, 0, 30)
	verifyClean(t, s)

	for _, tamper := range []string{
		`UPDATE daily_metrics SET api_requests = api_requests + 1 WHERE day = (SELECT MIN(day) FROM daily_metrics)`,
		`DELETE FROM cost_daily WHERE day = (SELECT MIN(day) FROM cost_daily)`,
		`UPDATE user_activity SET cost = cost + 1 WHERE day = (SELECT MAX(day) FROM user_activity)`,
		`UPDATE active_spans SET users = users + 1 WHERE day = (SELECT MAX(day) FROM active_spans)`,
		`UPDATE users SET email = 'x@y.z' WHERE user_id = (SELECT MIN(user_id) FROM users)`,
		`UPDATE user_month SET cost = cost + 1 WHERE user_id = (SELECT MIN(user_id) FROM user_month)`,
		`UPDATE user_activity SET revenue_cents = revenue_cents + 1 WHERE day = (SELECT MAX(day) FROM user_activity WHERE pay_events > 0)`,
		`UPDATE user_month SET pay_events = pay_events + 1 WHERE user_id = (SELECT MIN(user_id) FROM user_month)`,
		`UPDATE users SET signup_day = signup_day + 1 WHERE user_id = (SELECT MAX(user_id) FROM users)`,
		`UPDATE stories SET elevenlabs_cost = elevenlabs_cost + 1 WHERE story_id = (SELECT MIN(story_id) FROM stories)`,
		`UPDATE stories SET day = day - 1 WHERE story_id = (SELECT MAX(story_id) FROM stories)`,
		`DELETE FROM stories WHERE story_id = (SELECT MIN(story_id) FROM stories)`,
	} {
		h.Exec(t, s, tamper)
		diffs, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) == 0 {
			t.Errorf("Verify found nothing after %q", tamper)
		}
		if err := s.Rebuild(ctx, nil); err != nil {
			t.Fatal(err)
		}
		verifyClean(t, s)
	}
	if d := cmp.Diff(before, daily(t, s, analytics.Range{Start: Day0 - 1, End: Day0 + 40})); d != "" {
		t.Errorf("rebuild changed daily rows (-before +after):\n%s", d)
	}
	if a := active(t, s, 0, 30); a != actBefore {
		t.Errorf("active users after rebuild = %d, before %d", a, actBefore)
	}
}

func testRebuildZone(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	ingest(t, s, Call("z1", "u1", time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), analytics.ServiceS3, "", "get", 1))
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if _, err := h.Reopen(t, s, tokyo); analytics.ErrorKind(err) != analytics.KindConflict {
		t.Fatalf("reopening with another zone: err = %v, want a conflict naming rebuild", err)
	}
	if err := s.Rebuild(ctx, tokyo); err != nil {
		t.Fatal(err)
	}
	d2 := analytics.DayFromDate(2026, 3, 2)
	if got := daily(t, s, analytics.Range{Start: d2 - 1, End: d2}); got[d2].S3Cost != 1 {
		t.Errorf("after rebuild in Tokyo the call should be on 2 March: %+v", got)
	}
	verifyClean(t, s)
	s2, err := h.Reopen(t, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Location().String() != "Asia/Tokyo" {
		t.Errorf("stored zone after rebuild = %s", s2.Location())
	}
}

// testTopUsersBruteForce checks top users over many ranges, keys and
// limits against a direct computation: skewed usage over three months makes
// the threshold algorithm stop early, sparse keys make it fall back.
func testTopUsersBruteForce(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(21, 22))
	type tot struct{ cost, stories, calls int64 }
	perDay := map[int]map[string]*tot{}
	var evs []analytics.Event
	for i := 0; i < 4000; i++ {
		// Zipf-like: user k is picked with weight 1/(k+1).
		u := int(float64(300) * rng.Float64() * rng.Float64() * rng.Float64())
		user := fmt.Sprintf("tu%03d", u)
		day := rng.IntN(95)
		if perDay[day] == nil {
			perDay[day] = map[string]*tot{}
		}
		tt := perDay[day][user]
		if tt == nil {
			tt = &tot{}
			perDay[day][user] = tt
		}
		if rng.IntN(6) == 0 {
			e := Ev(fmt.Sprintf("tb-%d", i), analytics.EventStoryCreated, user, at(day, 3))
			e.StoryID = "s"
			evs = append(evs, e)
			tt.stories++
			continue
		}
		cost := analytics.Micros(rng.IntN(1000) * (300 - u))
		evs = append(evs, Call(fmt.Sprintf("tb-%d", i), user, at(day, 2), analytics.ServiceS3, "", "get", cost))
		tt.cost += int64(cost)
		tt.calls++
	}
	for i := 0; i < len(evs); i += 500 {
		ingest(t, s, evs[i:min(i+500, len(evs))]...)
	}
	for trial := 0; trial < 40; trial++ {
		from := rng.IntN(95)
		to := from + rng.IntN(95-from)
		by := []analytics.SortBy{analytics.SortByCost, analytics.SortByStories, analytics.SortByAPICalls}[trial%3]
		limit := []int{1, 3, 10, 100}[rng.IntN(4)]
		sum := map[string]*tot{}
		for d := from; d <= to; d++ {
			for u, tt := range perDay[d] {
				if sum[u] == nil {
					sum[u] = &tot{}
				}
				sum[u].cost += tt.cost
				sum[u].stories += tt.stories
				sum[u].calls += tt.calls
			}
		}
		type kv struct {
			user string
			v    int64
		}
		var want []kv
		for u, tt := range sum {
			v := map[analytics.SortBy]int64{analytics.SortByCost: tt.cost, analytics.SortByStories: tt.stories, analytics.SortByAPICalls: tt.calls}[by]
			want = append(want, kv{u, v})
		}
		slices.SortFunc(want, func(a, b kv) int { return stdcmp.Or(stdcmp.Compare(b.v, a.v), stdcmp.Compare(a.user, b.user)) })
		want = want[:min(limit, len(want))]
		rows, err := s.TopUsers(ctx, analytics.Range{Start: Day0 + analytics.Day(from), End: Day0 + analytics.Day(to)}, by, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []kv
		for _, r := range rows {
			got = append(got, kv{r.UserID, r.SortValue(by)})
		}
		if len(got) != len(want) {
			t.Fatalf("days %d..%d by %s limit %d: %d rows, want %d", from, to, by, limit, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("days %d..%d by %s limit %d: row %d = %v, want %v", from, to, by, limit, i, got[i], want[i])
			}
		}
	}
	verifyClean(t, s)
}

// randomEvents makes a realistic mix over 30 days.
func randomEvents(rng *rand.Rand, prefix string, n int) []analytics.Event {
	var out []analytics.Event
	types := []analytics.EventType{analytics.EventAPICall, analytics.EventAPICall, analytics.EventAPICall,
		analytics.EventUserSignup, analytics.EventStoryCreated, analytics.EventStoryCompleted,
		analytics.EventStoryFailed, analytics.EventPayment, analytics.EventRefund, analytics.EventUserChurned}
	for i := 0; i < n; i++ {
		typ := types[rng.IntN(len(types))]
		user := fmt.Sprintf("u%d", rng.IntN(40))
		ts := at(rng.IntN(30), rng.IntN(24)).Add(time.Duration(rng.IntN(3600)) * time.Second)
		var e analytics.Event
		if typ == analytics.EventAPICall {
			svc := analytics.Services[rng.IntN(3)]
			e = Call(fmt.Sprintf("%s-%d", prefix, i), user, ts, svc, fmt.Sprintf("model-%d", rng.IntN(3)), fmt.Sprintf("op-%d", rng.IntN(2)), analytics.Micros(rng.IntN(100_000)))
			if rng.IntN(10) == 0 {
				e.Status = analytics.StatusError
			}
			if rng.IntN(20) == 0 {
				e.Priced, e.Cost = false, 0
			}
			if rng.IntN(10) == 0 {
				e.UserID = ""
			}
			if rng.IntN(4) != 0 {
				e.StoryID = fmt.Sprintf("s%d", rng.IntN(60))
			}
		} else {
			e = Ev(fmt.Sprintf("%s-%d", prefix, i), typ, user, ts)
			switch typ {
			case analytics.EventUserSignup:
				e.Email = user + "@example.com"
			case analytics.EventStoryCompleted:
				e.StoryID, e.Chapters, e.AudioMillis = fmt.Sprintf("s%d", rng.IntN(60)), int64(rng.IntN(10)), int64(rng.IntN(600_000))
			case analytics.EventStoryCreated, analytics.EventStoryFailed:
				e.StoryID = fmt.Sprintf("s%d", rng.IntN(60))
			case analytics.EventPayment, analytics.EventRefund:
				e.AmountCents = int64(1 + rng.IntN(5000))
			}
		}
		out = append(out, e)
	}
	return out
}

// testConcurrent has 8 writers ingest overlapping batches with duplicates;
// totals must equal those of the distinct events.
func testConcurrent(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	all := randomEvents(rand.New(rand.NewPCG(3, 4)), "cc", 2000)
	var wantCost analytics.Micros
	var wantCalls int64
	for _, e := range all {
		if e.Type == analytics.EventAPICall {
			wantCost += e.Cost
			wantCalls++
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			// Each writer sends every event once, in its own order, in batches
			// of 100: every event arrives 8 times.
			order := rng.Perm(len(all))
			for i := 0; i < len(order); i += 100 {
				var batch []analytics.Event
				for _, j := range order[i:min(i+100, len(order))] {
					batch = append(batch, all[j])
				}
				if _, err := s.IngestEvents(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent ingest: %v", err)
	}
	if n, _ := s.EventCount(ctx); n != int64(len(all)) {
		t.Fatalf("EventCount = %d, want %d", n, len(all))
	}
	var gotCost analytics.Micros
	var gotCalls int64
	for _, r := range daily(t, s, analytics.Range{Start: Day0 - 1, End: Day0 + 40}) {
		gotCost += r.TotalCost()
		gotCalls += r.APIRequests
	}
	if gotCost != wantCost || gotCalls != wantCalls {
		t.Errorf("totals: cost %d calls %d; want %d %d", gotCost, gotCalls, wantCost, wantCalls)
	}
	verifyClean(t, s)
}

func testIngestKeys(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	k, err := s.CreateIngestKey(ctx, "backend", []byte("hash-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.IngestKeyByHash(ctx, []byte("hash-1"))
	if err != nil || got.ID != k.ID || got.Name != "backend" {
		t.Errorf("IngestKeyByHash = %+v, %v; want key %d", got, err, k.ID)
	}
	if _, err := s.IngestKeyByHash(ctx, []byte("nope")); analytics.ErrorKind(err) != analytics.KindUnauthenticated {
		t.Errorf("unknown key: err = %v, want unauthenticated", err)
	}
}
