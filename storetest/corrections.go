package storetest

import (
	stdcmp "cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/google/go-cmp/cmp"
)

// oracle computes every store query by brute force over the live events.
type oracle struct {
	live []analytics.Event
	loc  *time.Location
}

func (o oracle) day(e *analytics.Event) analytics.Day { return analytics.EventDay(e, o.loc) }

func (o oracle) daily(r analytics.Range) map[analytics.Day]analytics.DailyRow {
	d, err := analytics.BuildRollupDelta(o.inRange(r), o.loc)
	if err != nil {
		panic(err)
	}
	out := map[analytics.Day]analytics.DailyRow{}
	for day, row := range d.Daily {
		users := map[string]bool{}
		for i := range o.live {
			if e := &o.live[i]; e.UserID != "" && o.day(e) == day {
				users[e.UserID] = true
			}
		}
		row.ActiveUsers = int64(len(users))
		out[day] = *row
	}
	return out
}

func (o oracle) inRange(r analytics.Range) []analytics.Event {
	var out []analytics.Event
	for _, e := range o.live {
		if d := o.day(&e); d >= r.Start && d <= r.End {
			out = append(out, e)
		}
	}
	return out
}

func (o oracle) active(r analytics.Range) int64 {
	users := map[string]bool{}
	for _, e := range o.inRange(r) {
		if e.UserID != "" {
			users[e.UserID] = true
		}
	}
	return int64(len(users))
}

func (o oracle) costRows(r analytics.Range) []analytics.CostRow {
	type key struct {
		svc           analytics.Service
		model, op, pr string
	}
	m := map[key]*analytics.CostRow{}
	for _, e := range o.inRange(r) {
		if e.Type != analytics.EventAPICall {
			continue
		}
		k := key{e.Service, e.Model, e.Operation, e.PriceRef.String()}
		c := m[k]
		if c == nil {
			c = &analytics.CostRow{Service: e.Service, Model: e.Model, Operation: e.Operation, PriceRef: k.pr}
			m[k] = c
		}
		c.Calls++
		if e.Status == analytics.StatusError {
			c.Errors++
		}
		if !e.Priced {
			c.UnpricedCalls++
		}
		c.InputTokens += e.InputTokens
		c.OutputTokens += e.OutputTokens
		c.CacheWriteTokens += e.CacheCreationInputTokens
		c.CacheReadTokens += e.CacheReadInputTokens
		c.Characters += e.Characters
		c.BytesTransferred += e.BytesTransferred
		c.Requests += e.Requests
		c.Cost += e.Cost
	}
	out := []analytics.CostRow{}
	for _, c := range m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b analytics.CostRow) int {
		return stdcmp.Or(stdcmp.Compare(a.Service, b.Service), stdcmp.Compare(a.Model, b.Model),
			stdcmp.Compare(a.Operation, b.Operation), stdcmp.Compare(a.PriceRef, b.PriceRef))
	})
	return out
}

func (o oracle) top(r analytics.Range, by analytics.SortBy, limit int) []analytics.TopUserRow {
	m := map[string]*analytics.TopUserRow{}
	emails := map[string]analytics.Signup{}
	for _, e := range o.live {
		if e.Type == analytics.EventUserSignup {
			if s, ok := emails[e.UserID]; !ok || e.Timestamp.Before(s.At) || (e.Timestamp.Equal(s.At) && e.Email < s.Email) {
				emails[e.UserID] = analytics.Signup{Email: e.Email, At: e.Timestamp}
			}
		}
	}
	for _, e := range o.inRange(r) {
		if e.UserID == "" {
			continue
		}
		u := m[e.UserID]
		if u == nil {
			u = &analytics.TopUserRow{UserID: e.UserID}
			m[e.UserID] = u
		}
		switch e.Type {
		case analytics.EventStoryCreated:
			u.Stories++
		case analytics.EventStoryCompleted:
			u.AudioMillis += e.AudioMillis
		case analytics.EventAPICall:
			u.APICalls++
			u.Cost += e.Cost
		}
	}
	var out []analytics.TopUserRow
	for id, u := range m {
		u.Email = emails[id].Email
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b analytics.TopUserRow) int {
		return stdcmp.Or(stdcmp.Compare(b.SortValue(by), a.SortValue(by)), stdcmp.Compare(a.UserID, b.UserID))
	})
	return out[:min(limit, len(out))]
}

// checkAgainstOracle compares every query of the store with the oracle over
// many ranges, then verifies the rollups.
func checkAgainstOracle(t *testing.T, s analytics.Store, o oracle, rng *rand.Rand) {
	t.Helper()
	whole := analytics.Range{Start: Day0 - 2, End: Day0 + 40}
	if d := cmp.Diff(o.daily(whole), daily(t, s, whole)); d != "" {
		t.Fatalf("daily rows differ from brute force (-want +got):\n%s", d)
	}
	for trial := 0; trial < 30; trial++ {
		from := rng.IntN(32)
		r := analytics.Range{Start: Day0 + analytics.Day(from), End: Day0 + analytics.Day(from+rng.IntN(32-from))}
		got, err := s.ActiveUsers(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := o.active(r); got != want {
			t.Fatalf("ActiveUsers(%s..%s) = %d, brute force %d", r.Start, r.End, got, want)
		}
		rows, err := s.CostRows(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if rows == nil {
			rows = []analytics.CostRow{}
		}
		if d := cmp.Diff(o.costRows(r), rows); d != "" {
			t.Fatalf("CostRows(%s..%s) differ from brute force (-want +got):\n%s", r.Start, r.End, d)
		}
		by := []analytics.SortBy{analytics.SortByCost, analytics.SortByStories, analytics.SortByAPICalls}[trial%3]
		limit := []int{1, 5, 100}[trial%3]
		top, err := s.TopUsers(ctx, r, by, limit)
		if err != nil {
			t.Fatal(err)
		}
		want := o.top(r, by, limit)
		// Ties beyond the sort key may order other fields differently only
		// through user id, which both sides break the same way.
		if d := cmp.Diff(want, top); d != "" {
			t.Fatalf("TopUsers(%s..%s, %s, %d) differ from brute force (-want +got):\n%s", r.Start, r.End, by, limit, d)
		}
	}
	for d := -1; d < 32; d += 7 {
		got, err := s.SignupsBefore(ctx, Day0+analytics.Day(d))
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, e := range o.live {
			if e.Type == analytics.EventUserSignup && o.day(&e) < Day0+analytics.Day(d) {
				want++
			}
		}
		if got != want {
			t.Fatalf("SignupsBefore(%d) = %d, brute force %d", d, got, want)
		}
	}
	checkEconomics(t, s, o, rng)
	verifyClean(t, s)
}

func voidOf(id, target string) analytics.Event {
	return analytics.Event{ID: id, Type: analytics.EventVoided, Timestamp: at(31, 0), Voids: target, Reason: "test"}
}

// testVoidBruteForce voids a random fifth of a random event stream, in
// batches mixed with late events, and compares every query with a brute
// force computation over the events left; then rebuilds and compares again.
func testVoidBruteForce(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(31, 37))
	all := randomEvents(rng, "vb", 1500)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	all = append(all, edgeEvents("vb")...)
	voided := map[string]bool{}
	var voids []analytics.Event
	for i := 0; i < len(all); i += 100 {
		ingest(t, s, all[i:min(i+100, len(all))]...)
		// Void some of what is stored so far, including events of this batch.
		for j := 0; j < 25; j++ {
			target := all[rng.IntN(min(i+100, len(all)))].ID
			if voided[target] {
				continue
			}
			voided[target] = true
			voids = append(voids, voidOf("void-"+target, target))
		}
		c, err := s.VoidEvents(ctx, voids)
		if err != nil {
			t.Fatalf("VoidEvents: %v", err)
		}
		if c.Accepted != len(voids) || len(c.Rejected) != 0 {
			t.Fatalf("VoidEvents: %+v, want %d accepted", c, len(voids))
		}
		voids = nil
	}
	var live []analytics.Event
	for _, e := range all {
		if !voided[e.ID] {
			live = append(live, e)
		}
	}
	if len(live) == len(all) || len(live) < len(all)/2 {
		t.Fatalf("bad test: %d of %d events live", len(live), len(all))
	}
	o := oracle{live: live, loc: time.UTC}
	checkAgainstOracle(t, s, o, rng)

	// Retries are duplicates; bad voids are rejected alone and change nothing.
	var some string
	for id := range voided {
		some = id
		break
	}
	batch := []analytics.Event{
		voidOf("void-"+some, some),           // retry of a stored void: duplicate
		voidOf("v-unknown", "no-such-event"), // unknown target
		voidOf("v-of-void", "void-"+some),    // a void cannot be voided
		voidOf("v-again", some),              // already voided
	}
	c, err := s.VoidEvents(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if c.Accepted != 0 || c.Duplicates != 1 || len(c.Rejected) != 3 {
		t.Fatalf("bad voids: %+v", c)
	}
	for i, want := range map[int]string{1: "no event with id", 2: "is itself a void", 3: "already voided"} {
		if got := c.Rejected[i]; !strings.Contains(got, want) {
			t.Errorf("rejection %d = %q, want it to say %q", i, got, want)
		}
	}
	checkAgainstOracle(t, s, o, rng)

	if err := s.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkAgainstOracle(t, s, o, rng)

	// Voiding every event of a user-day in the middle of a user's history
	// relinks the days around it (distinct active users stay exact).
	s2 := h.Open(t, time.UTC)
	ingest(t, s2, Call("a1", "u", at(1, 1), analytics.ServiceS3, "", "get", 1),
		Call("a2", "u", at(3, 1), analytics.ServiceS3, "", "get", 2),
		Call("a3", "u", at(3, 2), analytics.ServiceS3, "", "get", 3),
		Call("a4", "u", at(5, 1), analytics.ServiceS3, "", "get", 4))
	if c, err := s2.VoidEvents(ctx, []analytics.Event{voidOf("x2", "a2"), voidOf("x3", "a3")}); err != nil || c.Accepted != 2 {
		t.Fatalf("VoidEvents: %+v, %v", c, err)
	}
	for _, tc := range []struct{ from, to, want int }{{2, 4, 0}, {3, 3, 0}, {1, 5, 1}, {4, 5, 1}} {
		if got := active(t, s2, tc.from, tc.to); got != int64(tc.want) {
			t.Errorf("active(%d..%d) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
	verifyClean(t, s2)
}

// quoteFor is a deterministic test catalog: model-0 is priced per token
// from a new entry, model-1 keeps its price, model-2 becomes unpriced.
func quoteFor(e *analytics.Event) {
	switch e.Model {
	case "model-0", "":
		e.Cost, e.Priced = analytics.Micros(e.InputTokens*13+e.OutputTokens*7+int64(len(e.ID))), true
		e.PriceRef = analytics.PriceRef{Model: "model-0", EffectiveFrom: Day0, Source: analytics.PriceSourceDatabase}
	case "model-1":
		e.Priced = true
		e.PriceRef = analytics.PriceRef{Model: "model-1", EffectiveFrom: Day0 - 30, Source: analytics.PriceSourceBuiltIn}
	default:
		e.Cost, e.Priced, e.PriceRef = 0, false, analytics.PriceRef{}
	}
}

// testRepriceBruteForce reprices a random stream (with voids, caller-given
// costs and a range and model filter), and compares every query with brute
// force; a second reprice changes nothing.
func testRepriceBruteForce(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(41, 43))
	all := randomEvents(rng, "rp", 1200)
	for i := range all {
		if all[i].Type == analytics.EventAPICall && rng.IntN(8) == 0 {
			m := all[i].Cost
			all[i].ExplicitCost = &m
			all[i].PriceRef = analytics.PriceRef{Source: analytics.PriceSourceCaller}
		}
	}
	for i := 0; i < len(all); i += 150 {
		ingest(t, s, all[i:min(i+150, len(all))]...)
	}
	voided := map[string]bool{}
	var voids []analytics.Event
	for j := 0; j < 100; j++ {
		id := all[rng.IntN(len(all))].ID
		if !voided[id] {
			voided[id] = true
			voids = append(voids, voidOf("void-"+id, id))
		}
	}
	if _, err := s.VoidEvents(ctx, voids); err != nil {
		t.Fatal(err)
	}

	since, until := Day0+5, Day0+24
	opts := analytics.RepriceOptions{Since: &since, Until: &until, BatchSize: 37}
	expect := func(model string) (live []analytics.Event, examined, changed int64) {
		for _, e := range all {
			if voided[e.ID] {
				continue
			}
			d := analytics.EventDay(&e, time.UTC)
			if e.Type == analytics.EventAPICall && e.ExplicitCost == nil && d >= since && d <= until && (model == "" || e.Model == model) {
				examined++
				old := e
				quoteFor(&e)
				if old.Cost != e.Cost || old.Priced != e.Priced || old.PriceRef != e.PriceRef {
					changed++
				}
			}
			live = append(live, e)
		}
		return
	}

	// A dry run reports the diff and writes nothing.
	_, examined, changed := expect("")
	opts.DryRun = true
	rep, err := s.RepriceEvents(ctx, opts, quoteFor)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CallsExamined != examined || rep.CallsRepriced != changed || changed == 0 {
		t.Fatalf("dry run: examined %d repriced %d, want %d and %d", rep.CallsExamined, rep.CallsRepriced, examined, changed)
	}
	var before []analytics.Event
	for _, e := range all {
		if !voided[e.ID] {
			before = append(before, e)
		}
	}
	checkAgainstOracle(t, s, oracle{live: before, loc: time.UTC}, rng)

	// Only model-2 first, then everything: the store equals brute force.
	opts.DryRun, opts.Model = false, "model-2"
	live, examined, _ := expect("model-2")
	rep, err = s.RepriceEvents(ctx, opts, quoteFor)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CallsExamined != examined || rep.UnpricedAfter != examined {
		t.Fatalf("model-2 reprice: examined %d unpriced after %d, want %d and %d", rep.CallsExamined, rep.UnpricedAfter, examined, examined)
	}
	checkAgainstOracle(t, s, oracle{live: live, loc: time.UTC}, rng)
	for i := range all {
		e := &all[i]
		if d := analytics.EventDay(e, time.UTC); e.Type == analytics.EventAPICall && e.ExplicitCost == nil && d >= since && d <= until && e.Model == "model-2" {
			quoteFor(e)
		}
	}
	opts.Model = ""
	live, _, changed = expect("")
	rep, err = s.RepriceEvents(ctx, opts, quoteFor)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CallsRepriced != changed {
		t.Fatalf("reprice changed %d calls, brute force %d", rep.CallsRepriced, changed)
	}
	var wantOld, wantNew analytics.Cents
	for _, row := range rep.ByModel {
		wantOld += row.OldCost
		wantNew += row.NewCost
	}
	if wantOld != rep.OldCost || wantNew != rep.NewCost {
		t.Fatalf("report totals %v→%v do not add up to its rows %v→%v", rep.OldCost, rep.NewCost, wantOld, wantNew)
	}
	checkAgainstOracle(t, s, oracle{live: live, loc: time.UTC}, rng)

	// Idempotent: nothing left to change.
	rep, err = s.RepriceEvents(ctx, opts, quoteFor)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CallsRepriced != 0 {
		t.Fatalf("second reprice changed %d calls", rep.CallsRepriced)
	}
	if err := s.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkAgainstOracle(t, s, oracle{live: live, loc: time.UTC}, rng)
}

// testRepriceDuringIngest reprices while two writers keep ingesting calls
// for the same users and days, priced by the new catalog as a server would
// after the price change. No update may be lost or doubled: at the end every
// call carries the new price and every figure equals brute force.
func testRepriceDuringIngest(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(51, 53))
	old := randomEvents(rng, "old", 1500)
	for i := 0; i < len(old); i += 250 {
		ingest(t, s, old[i:min(i+250, len(old))]...)
	}
	late := randomEvents(rng, "new", 1200)
	for i := range late {
		if late[i].Type == analytics.EventAPICall {
			quoteFor(&late[i])
		}
	}
	errs := make(chan error, 3)
	for w := 0; w < 2; w++ {
		go func(w int) {
			for i := w * 100; i < len(late); i += 200 {
				if _, err := s.IngestEvents(ctx, late[i:min(i+100, len(late))]); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	go func() {
		_, err := s.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 50}, quoteFor)
		errs <- err
	}()
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// A second pass catches calls the first one had not reached yet and
	// finds nothing else to change.
	if _, err := s.RepriceEvents(ctx, analytics.RepriceOptions{}, quoteFor); err != nil {
		t.Fatal(err)
	}
	var want []analytics.Event
	for _, e := range append(old, late...) {
		if e.Type == analytics.EventAPICall {
			quoteFor(&e)
		}
		want = append(want, e)
	}
	checkAgainstOracle(t, s, oracle{live: want, loc: time.UTC}, rng)
	rep, err := s.RepriceEvents(ctx, analytics.RepriceOptions{}, quoteFor)
	if err != nil || rep.CallsRepriced != 0 {
		t.Fatalf("a third reprice changed %d calls (%v)", rep.CallsRepriced, err)
	}
}

// testOutOfBoundsRepairedByVoid: an event stored before the bounds existed
// is named by Verify, and voiding it leaves the figures as if it had never
// come.
func testOutOfBoundsRepairedByVoid(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	ok := Ev("ok-pay", analytics.EventPayment, "u1", at(2, 1))
	ok.AmountCents = 999
	bad := Ev("bad-pay", analytics.EventPayment, "u1", at(2, 2))
	bad.AmountCents = 922337203685478 // stored by an older version without bounds
	ingest(t, s, ok, bad)
	diffs, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || !strings.Contains(diffs[0], `"bad-pay"`) || !strings.Contains(diffs[0], "void") {
		t.Fatalf("Verify = %q, want it to name bad-pay and how to void it", diffs)
	}
	if c, err := s.VoidEvents(ctx, []analytics.Event{voidOf("v-bad", "bad-pay")}); err != nil || c.Accepted != 1 {
		t.Fatalf("void: %+v %v", c, err)
	}
	verifyClean(t, s)
	rows := daily(t, s, analytics.Range{Start: Day0, End: Day0 + 5})
	if r := rows[Day0+2]; r.PaymentsCents != 999 {
		t.Fatalf("payments after the void = %d, want 999", r.PaymentsCents)
	}
}

// testEngagementBruteForce: get_engagement over the store (with voids)
// equals DAU, WAU, MAU and stickiness counted directly from the live events,
// including windows that reach before the range.
func testEngagementBruteForce(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(61, 67))
	all := randomEvents(rng, "en", 1200)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for i := 0; i < len(all); i += 200 {
		ingest(t, s, all[i:min(i+200, len(all))]...)
	}
	voided := map[string]bool{}
	var voids []analytics.Event
	for j := 0; j < 150; j++ {
		id := all[rng.IntN(len(all))].ID
		if !voided[id] {
			voided[id] = true
			voids = append(voids, voidOf("void-"+id, id))
		}
	}
	if _, err := s.VoidEvents(ctx, voids); err != nil {
		t.Fatal(err)
	}
	active := map[analytics.Day]map[string]bool{}
	for _, e := range all {
		if voided[e.ID] || e.UserID == "" {
			continue
		}
		d := analytics.EventDay(&e, time.UTC)
		if active[d] == nil {
			active[d] = map[string]bool{}
		}
		active[d][e.UserID] = true
	}
	distinct := func(from, to analytics.Day) int64 {
		u := map[string]bool{}
		for d := from; d <= to; d++ {
			for id := range active[d] {
				u[id] = true
			}
		}
		return int64(len(u))
	}
	tools := &analytics.Tools{Store: s}
	for _, r := range []analytics.Range{{Start: Day0 + 3, End: Day0 + 25}, {Start: Day0 - 5, End: Day0 + 2}, {Start: Day0 + 29, End: Day0 + 40}} {
		got, err := tools.Engagement(ctx, analytics.RangeInput{StartDate: r.Start.String(), EndDate: r.End.String()})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Daily) != r.Days() {
			t.Fatalf("%d days, want %d", len(got.Daily), r.Days())
		}
		var sum float64
		for _, d := range got.Daily {
			want := analytics.EngagementDay{Date: d.Date, DAU: distinct(d.Date, d.Date), WAU: distinct(d.Date-6, d.Date), MAU: distinct(d.Date-29, d.Date)}
			if want.MAU > 0 {
				want.Stickiness = float64(want.DAU) / float64(want.MAU)
			}
			sum += want.Stickiness
			if d != want {
				t.Fatalf("engagement on %s = %+v, brute force %+v", d.Date, d, want)
			}
		}
		if want := sum / float64(r.Days()); got.AverageStickiness != want {
			t.Fatalf("average stickiness %v, brute force %v", got.AverageStickiness, want)
		}
	}
}
