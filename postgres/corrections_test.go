package postgres_test

import (
	stdcmp "cmp"
	"errors"
	"fmt"
	"github.com/codestory/analytics/internal/poll"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/postgres"
	"github.com/codestory/analytics/storetest"
	"github.com/google/go-cmp/cmp"
)

// The corrections tests run a void or a reprice while two other replicas
// (stores with their own connection pools) ingest events for the same users
// and days, then compare every rollup query with a brute-force computation
// over the events that should be live, and check Verify is clean.

const corrDays = 14

// quoteOld prices m-old only; quoteNew also prices m-new (the price entry
// added later). Both are functions of the event alone, as a catalog is.
func quoteOld(e *analytics.Event) {
	switch e.Model {
	case "m-old":
		e.Cost, e.Priced = analytics.Micros(3*e.InputTokens+e.OutputTokens), true
		e.PriceRef = analytics.PriceRef{Model: "m-old", EffectiveFrom: storetest.Day0 - 100, Source: analytics.PriceSourceBuiltIn}
	default:
		e.Cost, e.Priced, e.PriceRef = 0, false, analytics.PriceRef{}
	}
}

func quoteNew(e *analytics.Event) {
	switch e.Model {
	case "m-new":
		e.Cost, e.Priced = analytics.Micros(7*e.InputTokens+2*e.OutputTokens), true
		e.PriceRef = analytics.PriceRef{Model: "m-new", EffectiveFrom: storetest.Day0, Source: analytics.PriceSourceDatabase}
	default:
		quoteOld(e)
	}
}

// genEvents makes n events over corrDays days for users u0..u11, calls
// priced with quote (a few with the caller's own cost, which no reprice
// touches).
func genEvents(rng *rand.Rand, prefix string, n int, quote func(*analytics.Event)) []analytics.Event {
	out := make([]analytics.Event, 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		user := fmt.Sprintf("u%d", rng.IntN(12))
		ts := storetest.T0.AddDate(0, 0, rng.IntN(corrDays)).Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))).Truncate(time.Microsecond)
		var e analytics.Event
		switch k := rng.IntN(20); {
		case k < 12:
			model := []string{"m-old", "m-new", "m-new", "m-none"}[rng.IntN(4)]
			svc := analytics.ServiceAnthropic
			if model == "m-none" {
				svc = analytics.ServiceS3
			}
			e = storetest.Call(id, user, ts, svc, model, []string{"chapter", "title"}[rng.IntN(2)], 0)
			e.InputTokens, e.OutputTokens = rng.Int64N(5000), rng.Int64N(2000)
			if rng.IntN(8) == 0 {
				e.Status = analytics.StatusError
			}
			if rng.IntN(12) == 0 {
				e.UserID = ""
			}
			// Calls of two stories (one shared with the story events), without
			// drawing from rng, so the rest of the stream is unchanged.
			e.StoryID = []string{"", "s", "t"}[i%3]
			if rng.IntN(15) == 0 {
				c := analytics.Micros(rng.Int64N(90_000))
				e.ExplicitCost, e.Cost, e.Priced, e.PriceRef = &c, c, true, analytics.PriceRef{Source: analytics.PriceSourceCaller}
			} else {
				quote(&e)
			}
		case k < 14:
			e = storetest.Ev(id, analytics.EventUserSignup, user, ts)
			e.Email = fmt.Sprintf("%s-%d@example.com", user, rng.IntN(3))
		case k < 16:
			e = storetest.Ev(id, analytics.EventStoryCreated, user, ts)
			e.StoryID = "s"
		case k < 17:
			e = storetest.Ev(id, analytics.EventStoryCompleted, user, ts)
			e.StoryID, e.Chapters, e.AudioMillis = "s", 1+rng.Int64N(9), rng.Int64N(600_000)
		case k < 18:
			e = storetest.Ev(id, analytics.EventPayment, user, ts)
			e.AmountCents = 1 + rng.Int64N(5000)
		case k < 19:
			e = storetest.Ev(id, analytics.EventRefund, user, ts)
			e.AmountCents = 1 + rng.Int64N(500)
		default:
			e = storetest.Ev(id, analytics.EventUserChurned, user, ts)
		}
		out = append(out, e)
	}
	return out
}

// ingester keeps ingesting generated events through its own store until
// stopped, and remembers what it stored.
type ingester struct {
	store   *postgres.Store
	batches atomic.Int64
	mu      sync.Mutex
	stored  []analytics.Event
	err     error
}

func (in *ingester) run(prefix string, seed uint64, stop <-chan struct{}, done *sync.WaitGroup) {
	defer done.Done()
	rng := rand.New(rand.NewPCG(seed, 5))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		batch := genEvents(rng, fmt.Sprintf("%s%d", prefix, i), 15, quoteNew)
		c, err := in.store.IngestEvents(ctx, batch)
		if err == nil && c.Accepted != len(batch) {
			err = fmt.Errorf("accepted %d of %d", c.Accepted, len(batch))
		}
		if err != nil {
			in.mu.Lock()
			in.err = err
			in.mu.Unlock()
			return
		}
		in.mu.Lock()
		in.stored = append(in.stored, batch...)
		in.mu.Unlock()
		in.batches.Add(1)
	}
}

// startIngesters opens two more replicas on url and starts one ingesting
// goroutine on each; it returns once each has stored a batch.
func startIngesters(t *testing.T, url string) ([]*ingester, func()) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	ins := []*ingester{{store: open(t, url, postgres.Options{})}, {store: open(t, url, postgres.Options{})}}
	for i, in := range ins {
		wg.Add(1)
		go in.run(fmt.Sprintf("ing%d-", i), uint64(100+i), stop, &wg)
	}
	for _, in := range ins {
		var err error
		if !poll.Within(30*time.Second, 5*time.Millisecond, func() bool {
			in.mu.Lock()
			err = in.err
			in.mu.Unlock()
			return err != nil || in.batches.Load() > 0
		}) || err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("ingester did not store a first batch: %v", err)
		}
	}
	var once sync.Once
	return ins, func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			for _, in := range ins {
				if in.err != nil {
					t.Fatalf("concurrent ingest: %v", in.err)
				}
			}
		})
	}
}

// TestRepriceWhileIngesting reprices (small batches, so many transactions)
// while two replicas ingest calls for the same users and days, priced with
// the new catalog as a refreshed ingester would. Afterwards every call must
// be priced with the new catalog, exactly once, in every rollup.
func TestRepriceWhileIngesting(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, postgres.Options{})
	initial := genEvents(rand.New(rand.NewPCG(1, 2)), "init", 600, quoteOld)
	for i := 0; i < len(initial); i += 100 {
		if _, err := s.IngestEvents(ctx, initial[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	var wantRepriced int64
	for _, e := range initial {
		if e.Type == analytics.EventAPICall && e.ExplicitCost == nil && e.Model == "m-new" {
			wantRepriced++
		}
	}
	if wantRepriced < 100 {
		t.Fatalf("fixture has only %d calls to reprice", wantRepriced)
	}

	// A dry run reports the same diff and writes nothing.
	before := snapshot(t, s)
	dry, err := s.RepriceEvents(ctx, analytics.RepriceOptions{DryRun: true, BatchSize: 50}, quoteNew)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if dry.CallsRepriced != wantRepriced || !dry.DryRun {
		t.Errorf("dry run repriced %d calls (dry_run %v), want %d", dry.CallsRepriced, dry.DryRun, wantRepriced)
	}
	if d := cmp.Diff(before, snapshot(t, s)); d != "" {
		t.Fatalf("dry run changed the rollups (-before +after):\n%s", d)
	}

	// Two reprices of the same calls, on two replicas, at once: each call
	// is repriced by exactly one of them.
	ins, stop := startIngesters(t, url)
	s2 := open(t, url, postgres.Options{})
	atStart := ins[0].batches.Load() + ins[1].batches.Load()
	var reps [2]analytics.RepriceReport
	var errs [2]error
	var wg sync.WaitGroup
	for i, st := range []*postgres.Store{s, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = st.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 7 + 4*i}, quoteNew)
		}()
	}
	wg.Wait()
	during := ins[0].batches.Load() + ins[1].batches.Load() - atStart
	stop()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("RepriceEvents: %v", err)
		}
	}
	if during == 0 {
		t.Fatalf("no ingest committed while the reprices ran: the test proved nothing")
	}
	t.Logf("%d ingest batches committed during the reprices; they repriced %d and %d calls", during,
		reps[0].CallsRepriced, reps[1].CallsRepriced)
	if n := reps[0].CallsRepriced + reps[1].CallsRepriced; n != wantRepriced {
		t.Errorf("CallsRepriced = %d + %d, want %d in all", reps[0].CallsRepriced, reps[1].CallsRepriced, wantRepriced)
	}
	var mNew analytics.RepriceRow
	for _, rep := range reps {
		for _, row := range rep.ByModel {
			if row.Model == "m-new" {
				mNew.CallsRepriced += row.CallsRepriced
				mNew.UnpricedAfter += row.UnpricedAfter
			}
		}
	}
	if mNew.CallsRepriced != wantRepriced || mNew.UnpricedAfter != 0 {
		t.Errorf("m-new rows: %d repriced, %d unpriced after; want %d, 0", mNew.CallsRepriced, mNew.UnpricedAfter, wantRepriced)
	}

	all := slices.Clone(initial)
	for _, in := range ins {
		all = append(all, in.stored...)
	}
	for i := range all {
		if all[i].Type == analytics.EventAPICall && all[i].ExplicitCost == nil {
			quoteNew(&all[i])
		}
	}
	checkBruteForce(t, s, all)

	// Idempotent: a second run changes nothing.
	again, err := s.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 100}, quoteNew)
	if err != nil || again.CallsRepriced != 0 {
		t.Errorf("second reprice: %d repriced, %v; want 0", again.CallsRepriced, err)
	}
	checkBruteForce(t, s, all)
}

// TestRepriceRange reprices one model on some days only.
func TestRepriceRange(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t), postgres.Options{})
	evs := genEvents(rand.New(rand.NewPCG(8, 9)), "r", 400, quoteOld)
	if _, err := s.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	since, until := storetest.Day0+3, storetest.Day0+6
	var want int64
	for i := range evs {
		e := &evs[i]
		d := analytics.DayOf(e.Timestamp, time.UTC)
		if e.Type == analytics.EventAPICall && e.ExplicitCost == nil && e.Model == "m-new" && d >= since && d <= until {
			quoteNew(e)
			want++
		}
	}
	rep, err := s.RepriceEvents(ctx, analytics.RepriceOptions{Since: &since, Until: &until, Model: "m-new", BatchSize: 9}, quoteNew)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CallsRepriced != want || rep.CallsExamined != want {
		t.Errorf("repriced %d of %d examined, want %d of %d", rep.CallsRepriced, rep.CallsExamined, want, want)
	}
	checkBruteForce(t, s, evs)
}

// TestVoidWhileIngesting voids a third of the events, signups and days'
// only events included, in batches while two replicas ingest events for the
// same users and days and a fourth reprices the same calls; then checks
// every figure and the rejections.
func TestVoidWhileIngesting(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, postgres.Options{})
	rng := rand.New(rand.NewPCG(3, 4))
	initial := genEvents(rng, "init", 600, quoteOld)
	// Lone events: a user with a single day of activity, and a day with a
	// single event of a user between two others, so voids unlink user-days.
	initial = append(initial,
		storetest.Ev("lone-signup", analytics.EventUserSignup, "lone", storetest.T0.AddDate(0, 0, 4)),
		storetest.Ev("gap-1", analytics.EventStoryFailed, "gappy", storetest.T0.AddDate(0, 0, 2)),
		storetest.Ev("gap-2", analytics.EventStoryFailed, "gappy", storetest.T0.AddDate(0, 0, 5)),
		storetest.Ev("gap-3", analytics.EventStoryFailed, "gappy", storetest.T0.AddDate(0, 0, 9)),
		storetest.Ev("gap-4", analytics.EventStoryFailed, "gappy", storetest.T0.AddDate(0, 0, 11)))
	initial[len(initial)-5].Email = "lone@example.com"
	if _, err := s.IngestEvents(ctx, initial); err != nil {
		t.Fatal(err)
	}
	voided := map[string]string{} // target → void id
	var voids []analytics.Event
	for _, i := range rng.Perm(600)[:200] { // the generated events, not the lone ones
		voids = append(voids, analytics.Event{ID: "void-" + initial[i].ID, Type: analytics.EventVoided, Priced: true,
			Timestamp: storetest.T0.AddDate(0, 0, 20), Voids: initial[i].ID, Reason: "test"})
		voided[initial[i].ID] = "void-" + initial[i].ID
	}
	for _, id := range []string{"lone-signup", "gap-2", "gap-3"} {
		if _, ok := voided[id]; !ok {
			voids = append(voids, analytics.Event{ID: "void-" + id, Type: analytics.EventVoided, Priced: true,
				Timestamp: storetest.T0.AddDate(0, 0, 20), Voids: id, Reason: "test"})
			voided[id] = "void-" + id
		}
	}

	// A reprice on another replica runs meanwhile, over the same calls: a
	// call voided and repriced at once is taken out at the cost it has.
	ins, stop := startIngesters(t, url)
	atStart := ins[0].batches.Load() + ins[1].batches.Load()
	repriced := make(chan error, 1)
	go func() {
		_, err := open(t, url, postgres.Options{}).RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 5}, quoteNew)
		repriced <- err
	}()
	for i := 0; i < len(voids); i += 9 {
		c, err := s.VoidEvents(ctx, voids[i:min(i+9, len(voids))])
		if err != nil {
			stop()
			t.Fatalf("VoidEvents: %v", err)
		}
		if c.Accepted != min(9, len(voids)-i) || c.Duplicates != 0 || len(c.Rejected) != 0 {
			stop()
			t.Fatalf("VoidEvents = %+v, want all accepted", c)
		}
	}
	during := ins[0].batches.Load() + ins[1].batches.Load() - atStart
	err := <-repriced
	stop()
	if err != nil {
		t.Fatalf("RepriceEvents: %v", err)
	}
	if during == 0 {
		t.Fatalf("no ingest committed while the voids ran: the test proved nothing")
	}
	t.Logf("%d ingest batches committed during %d voids", during, len(voids))

	var live []analytics.Event
	for _, e := range initial {
		if voided[e.ID] == "" {
			live = append(live, e)
		}
	}
	for _, in := range ins {
		live = append(live, in.stored...)
	}
	for i := range live {
		if live[i].Type == analytics.EventAPICall && live[i].ExplicitCost == nil {
			quoteNew(&live[i])
		}
	}
	checkBruteForce(t, s, live)

	// Rejections and duplicates, in one batch, in order.
	ts := storetest.T0.AddDate(0, 0, 21)
	v := func(id, target string) analytics.Event {
		return analytics.Event{ID: id, Type: analytics.EventVoided, Priced: true, Timestamp: ts, Voids: target, Reason: "r"}
	}
	var liveCall string
	for _, e := range live {
		if e.Type == analytics.EventAPICall && e.UserID != "" {
			liveCall = e.ID
			break
		}
	}
	batch := []analytics.Event{
		v("void-gap-2", "gap-1"), // 0: a stored void id: duplicate, whatever it names
		v("x1", "gap-2"),         // 1: already voided
		v("x2", "no-such-event"), // 2: unknown
		v("x3", "void-gap-3"),    // 3: a void
		v("x4", liveCall),        // 4: accepted
		v("x5", liveCall),        // 5: already voided, by x4 in this batch
		v("x6", "x4"),            // 6: a void of this batch
		v("x4", "gap-4"),         // 7: a repeated id in the batch: duplicate
		v("x7", "x8"),            // 8: names a later void of the batch: not stored yet
		v("x8", "gap-1"),         // 9: accepted
	}
	c, err := s.VoidEvents(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	wantRejected := map[int]string{
		1: analytics.VoidRejection("gap-2", analytics.EventStoryFailed, "void-gap-2", true),
		2: analytics.VoidRejection("no-such-event", "", "", false),
		3: analytics.VoidRejection("void-gap-3", analytics.EventVoided, "", true),
		5: analytics.VoidRejection(liveCall, analytics.EventAPICall, "x4", true),
		6: analytics.VoidRejection("x4", analytics.EventVoided, "", true),
		8: analytics.VoidRejection("x8", "", "", false),
	}
	if c.Accepted != 2 || c.Duplicates != 2 {
		t.Errorf("accepted %d, duplicates %d; want 2, 2", c.Accepted, c.Duplicates)
	}
	if d := cmp.Diff(wantRejected, c.Rejected); d != "" {
		t.Errorf("rejections (-want +got):\n%s", d)
	}
	live = slices.DeleteFunc(live, func(e analytics.Event) bool { return e.ID == liveCall || e.ID == "gap-1" })
	checkBruteForce(t, s, live)

	// A rejected void stored nothing: the same id is taken once it is right.
	c, err = s.VoidEvents(ctx, []analytics.Event{v("x2", "gap-4")})
	if err != nil || c.Accepted != 1 {
		t.Fatalf("retried void = %+v, %v; want accepted", c, err)
	}
	live = slices.DeleteFunc(live, func(e analytics.Event) bool { return e.ID == "gap-4" })
	checkBruteForce(t, s, live)

	// Rebuild agrees with the voids.
	if err := s.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkBruteForce(t, s, live)
}

// rollupSnapshot is every query's answer over the test's days.
type rollupSnapshot struct {
	Daily    []analytics.DailyRow
	Costs    []analytics.CostRow
	Active   []int64
	Unpriced []analytics.UnpricedModel
}

func snapshot(t *testing.T, s analytics.Store) rollupSnapshot {
	t.Helper()
	full := analytics.Range{Start: storetest.Day0 - 2, End: storetest.Day0 + corrDays + 2}
	var snap rollupSnapshot
	var err error
	if snap.Daily, err = s.Daily(ctx, full); err != nil {
		t.Fatal(err)
	}
	if snap.Costs, err = s.CostRows(ctx, full); err != nil {
		t.Fatal(err)
	}
	if snap.Unpriced, err = s.UnpricedModels(ctx); err != nil {
		t.Fatal(err)
	}
	for a := 0; a < corrDays; a++ {
		for b := a; b < corrDays; b++ {
			n, err := s.ActiveUsers(ctx, analytics.Range{Start: storetest.Day0 + analytics.Day(a), End: storetest.Day0 + analytics.Day(b)})
			if err != nil {
				t.Fatal(err)
			}
			snap.Active = append(snap.Active, n)
		}
	}
	return snap
}

// checkBruteForce compares every query of s with a computation over live,
// the events that should count, and checks Verify is clean.
func checkBruteForce(t *testing.T, s analytics.Store, live []analytics.Event) {
	t.Helper()
	day := func(e *analytics.Event) analytics.Day { return analytics.DayOf(e.Timestamp, time.UTC) }
	var want rollupSnapshot

	daily := map[analytics.Day]*analytics.DailyRow{}
	activeOn := map[analytics.Day]map[string]bool{}
	costs := map[[4]string]*analytics.CostRow{}
	unpriced := map[[2]string]int64{}
	for i := range live {
		e := &live[i]
		d := day(e)
		r := daily[d]
		if r == nil {
			r = &analytics.DailyRow{Day: d}
			daily[d] = r
		}
		if e.UserID != "" {
			if activeOn[d] == nil {
				activeOn[d] = map[string]bool{}
			}
			activeOn[d][e.UserID] = true
		}
		switch e.Type {
		case analytics.EventUserSignup:
			r.NewUsers++
		case analytics.EventUserChurned:
			r.ChurnedUsers++
		case analytics.EventStoryCreated:
			r.StoriesCreated++
		case analytics.EventStoryCompleted:
			r.StoriesCompleted++
			r.Chapters += e.Chapters
			r.AudioMillis += e.AudioMillis
		case analytics.EventStoryFailed:
			r.StoriesFailed++
		case analytics.EventPayment:
			r.PaymentsCents += e.AmountCents
		case analytics.EventRefund:
			r.RefundsCents += e.AmountCents
		case analytics.EventAPICall:
			r.APIRequests++
			k := [4]string{string(e.Service), e.Model, e.Operation, e.PriceRef.String()}
			c := costs[k]
			if c == nil {
				c = &analytics.CostRow{Service: e.Service, Model: e.Model, Operation: e.Operation, PriceRef: k[3]}
				costs[k] = c
			}
			c.Calls++
			if e.Status == analytics.StatusError {
				r.APIErrors++
				c.Errors++
			}
			if !e.Priced {
				r.UnpricedCalls++
				c.UnpricedCalls++
				unpriced[[2]string{string(e.Service), e.Model}]++
			}
			switch e.Service {
			case analytics.ServiceAnthropic:
				r.AnthropicCost += e.Cost
			case analytics.ServiceS3:
				r.S3Cost += e.Cost
			case analytics.ServiceElevenLabs:
				r.ElevenLabsCost += e.Cost
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
	}
	for d, r := range daily {
		r.ActiveUsers = int64(len(activeOn[d]))
		want.Daily = append(want.Daily, *r)
	}
	slices.SortFunc(want.Daily, func(a, b analytics.DailyRow) int { return stdcmp.Compare(a.Day, b.Day) })
	for _, c := range costs {
		want.Costs = append(want.Costs, *c)
	}
	slices.SortFunc(want.Costs, func(a, b analytics.CostRow) int {
		return stdcmp.Or(stdcmp.Compare(a.Service, b.Service), stdcmp.Compare(a.Model, b.Model),
			stdcmp.Compare(a.Operation, b.Operation), stdcmp.Compare(a.PriceRef, b.PriceRef))
	})
	want.Unpriced = []analytics.UnpricedModel{}
	for k, n := range unpriced {
		want.Unpriced = append(want.Unpriced, analytics.UnpricedModel{Service: analytics.Service(k[0]), Model: k[1], Calls: n})
	}
	slices.SortFunc(want.Unpriced, func(a, b analytics.UnpricedModel) int {
		return stdcmp.Or(stdcmp.Compare(a.Service, b.Service), stdcmp.Compare(a.Model, b.Model))
	})
	for a := 0; a < corrDays; a++ {
		for b := a; b < corrDays; b++ {
			users := map[string]bool{}
			for d := a; d <= b; d++ {
				for u := range activeOn[storetest.Day0+analytics.Day(d)] {
					users[u] = true
				}
			}
			want.Active = append(want.Active, int64(len(users)))
		}
	}
	if d := cmp.Diff(want, snapshot(t, s)); d != "" {
		t.Fatalf("rollups differ from a brute-force computation over the live events (-want +got):\n%s", d)
	}

	// Signups before each day, and top users (with emails) over a few ranges.
	for d := 0; d <= corrDays; d++ {
		var n int64
		for i := range live {
			if live[i].Type == analytics.EventUserSignup && day(&live[i]) < storetest.Day0+analytics.Day(d) {
				n++
			}
		}
		if got, err := s.SignupsBefore(ctx, storetest.Day0+analytics.Day(d)); err != nil || got != n {
			t.Fatalf("SignupsBefore(day %d) = %d, %v; want %d", d, got, err, n)
		}
	}
	email := map[string]analytics.Event{}
	for _, e := range live {
		if e.Type != analytics.EventUserSignup {
			continue
		}
		if w, ok := email[e.UserID]; !ok || e.Timestamp.Before(w.Timestamp) || (e.Timestamp.Equal(w.Timestamp) && e.Email < w.Email) {
			email[e.UserID] = e
		}
	}
	for _, rg := range [][2]int{{0, corrDays - 1}, {2, 5}, {4, 4}, {6, 12}} {
		r := analytics.Range{Start: storetest.Day0 + analytics.Day(rg[0]), End: storetest.Day0 + analytics.Day(rg[1])}
		tot := map[string]*analytics.TopUserRow{}
		for i := range live {
			e := &live[i]
			if e.UserID == "" || day(e) < r.Start || day(e) > r.End {
				continue
			}
			u := tot[e.UserID]
			if u == nil {
				u = &analytics.TopUserRow{UserID: e.UserID, Email: email[e.UserID].Email}
				tot[e.UserID] = u
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
		for _, by := range []analytics.SortBy{analytics.SortByCost, analytics.SortByStories, analytics.SortByAPICalls} {
			var all []analytics.TopUserRow
			for _, u := range tot {
				all = append(all, *u)
			}
			slices.SortFunc(all, func(a, b analytics.TopUserRow) int {
				return stdcmp.Or(stdcmp.Compare(b.SortValue(by), a.SortValue(by)), stdcmp.Compare(a.UserID, b.UserID))
			})
			for _, limit := range []int{1, 3, 100} {
				got, err := s.TopUsers(ctx, r, by, limit)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(all[:min(limit, len(all))], got); d != "" {
					t.Fatalf("TopUsers(%v, %s, %d) (-brute force +got):\n%s", rg, by, limit, d)
				}
			}
		}
	}

	storetest.CheckEconomics(t, s, live)

	diffs, err := s.Verify(ctx)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(diffs) > 0 {
		t.Fatalf("Verify found %d differences, first: %s", len(diffs), diffs[0])
	}
}

// TestMigration012OnExistingData takes a database back to the schema of
// migration 011 (as a deployment before issue 10 left it), then reopens it:
// migration 012 must count every user-day's events and re-key the cost
// rollup so that Verify is clean, and voids and reprices work on the
// upgraded data, events from before (no timestamp in event_ids) included.
func TestMigration012OnExistingData(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, postgres.Options{})
	evs := genEvents(rand.New(rand.NewPCG(12, 13)), "old", 500, quoteOld)
	for i := range evs {
		evs[i].PriceRef = analytics.PriceRef{} // not recorded before 012
	}
	if _, err := s.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE version = 12`,
		`DROP INDEX events_by_ts`,
		`DROP INDEX events_signups`,
		`ALTER TABLE events DROP COLUMN voided_by, DROP COLUMN voids, DROP COLUMN reason, DROP COLUMN price_ref`,
		`ALTER TABLE event_ids DROP COLUMN ts`,
		`DROP TABLE price_entries`,
		`DELETE FROM meta WHERE key = 'prices_version'`,
		`ALTER TABLE user_activity DROP COLUMN events`,
		`ALTER TABLE cost_daily DROP CONSTRAINT cost_daily_pkey`,
		`ALTER TABLE cost_daily DROP COLUMN price_ref`,
		`ALTER TABLE cost_daily ADD PRIMARY KEY (day, service, model, operation)`,
	} {
		if err := s.ExecRaw(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s = open(t, url, postgres.Options{})
	checkBruteForce(t, s, evs)

	// Void a third of the old events, then reprice: both find events that
	// event_ids knows no timestamp for.
	rng := rand.New(rand.NewPCG(14, 15))
	evs = voidSome(t, s, rng, evs, 150, "v-", 20)
	checkBruteForce(t, s, evs)
	rep, err := s.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 50}, quoteNew)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := range evs {
		if evs[i].Type == analytics.EventAPICall && evs[i].ExplicitCost == nil {
			before := evs[i]
			quoteNew(&evs[i])
			if before.Cost != evs[i].Cost || before.Priced != evs[i].Priced || before.PriceRef != evs[i].PriceRef {
				want++
			}
		}
	}
	if rep.CallsRepriced != want {
		t.Errorf("CallsRepriced = %d, want %d", rep.CallsRepriced, want)
	}
	checkBruteForce(t, s, evs)
}

// TestOverflowRefusesBatch: a rollup sum that no longer fits a bigint
// (events stored before the bounds, or across batches) refuses the batch with
// analytics.ErrOverflow and stores nothing of it.
func TestOverflowRefusesBatch(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t), postgres.Options{})
	pay := func(id string, cents int64) analytics.Event {
		e := storetest.Ev(id, analytics.EventPayment, "u1", storetest.T0)
		e.AmountCents = cents
		return e
	}
	if _, err := s.IngestEvents(ctx, []analytics.Event{pay("p1", 1<<62)}); err != nil {
		t.Fatal(err)
	}
	_, err := s.IngestEvents(ctx, []analytics.Event{pay("p2", 1<<62), pay("p3", 5)})
	if !errors.Is(err, analytics.ErrOverflow) || analytics.ErrorKind(err) != analytics.KindInvalid {
		t.Fatalf("IngestEvents = %v, want ErrOverflow (invalid)", err)
	}
	if n, err := s.EventCount(ctx); err != nil || n != 1 {
		t.Errorf("EventCount = %d, %v; want 1 (nothing of the refused batch)", n, err)
	}
	rows, err := s.Daily(ctx, analytics.Range{Start: storetest.Day0, End: storetest.Day0})
	if err != nil || len(rows) != 1 || rows[0].PaymentsCents != 1<<62 {
		t.Errorf("daily = %+v, %v; want payments of p1 only", rows, err)
	}
}

// voidSome voids n of evs, chosen by rng, in one call (void ids: prefix and
// the target's id, stamped on the fixture's given day), and returns the
// events left.
func voidSome(t *testing.T, s *postgres.Store, rng *rand.Rand, evs []analytics.Event, n int, prefix string, day int) []analytics.Event {
	t.Helper()
	var voids []analytics.Event
	gone := map[string]bool{}
	for _, i := range rng.Perm(len(evs))[:n] {
		voids = append(voids, analytics.Event{ID: prefix + evs[i].ID, Type: analytics.EventVoided, Priced: true,
			Timestamp: storetest.T0.AddDate(0, 0, day), Voids: evs[i].ID, Reason: "test"})
		gone[evs[i].ID] = true
	}
	if c, err := s.VoidEvents(ctx, voids); err != nil || c.Accepted != len(voids) {
		t.Fatalf("VoidEvents = %+v, %v; want %d accepted", c, err, len(voids))
	}
	return slices.DeleteFunc(evs, func(e analytics.Event) bool { return gone[e.ID] })
}
