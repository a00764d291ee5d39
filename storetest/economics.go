package storetest

import (
	stdcmp "cmp"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// firstSignups is each user's earliest live signup (the smaller email breaks
// a tie), with its reporting day.
func (o oracle) firstSignups() map[string]analytics.Signup {
	out := map[string]analytics.Signup{}
	for i := range o.live {
		e := &o.live[i]
		if e.Type != analytics.EventUserSignup {
			continue
		}
		if s, ok := out[e.UserID]; !ok || e.Timestamp.Before(s.At) || (e.Timestamp.Equal(s.At) && e.Email < s.Email) {
			out[e.UserID] = analytics.Signup{Email: e.Email, At: e.Timestamp, Day: o.day(e)}
		}
	}
	return out
}

// economics is every user's P&L over r, ordered by user id.
func (o oracle) economics(r analytics.Range) []analytics.UserEconomicsRow {
	signups := o.firstSignups()
	m := map[string]*analytics.UserEconomicsRow{}
	appears := map[string]bool{}
	for _, e := range o.inRange(r) {
		if e.UserID == "" {
			continue
		}
		u := m[e.UserID]
		if u == nil {
			u = &analytics.UserEconomicsRow{UserID: e.UserID, Email: signups[e.UserID].Email}
			m[e.UserID] = u
		}
		switch e.Type {
		case analytics.EventAPICall:
			u.Cost += e.Cost
			u.Calls++
			appears[e.UserID] = true
		case analytics.EventPayment:
			u.RevenueCents += e.AmountCents
			u.Calls++
			appears[e.UserID] = true
		case analytics.EventRefund:
			u.RevenueCents -= e.AmountCents
			u.Calls++
			appears[e.UserID] = true
		case analytics.EventStoryCreated:
			u.Stories++
		}
	}
	out := []analytics.UserEconomicsRow{}
	for id, u := range m {
		if appears[id] {
			out = append(out, *u)
		}
	}
	slices.SortFunc(out, func(a, b analytics.UserEconomicsRow) int { return stdcmp.Compare(a.UserID, b.UserID) })
	return out
}

// stories is every story whose anchor day lies in r, ordered by story id.
func (o oracle) stories(r analytics.Range) []analytics.StoryRow {
	type acc struct {
		row    analytics.StoryRow
		anchor analytics.StoryAnchor
		has    bool
	}
	m := map[string]*acc{}
	for i := range o.live {
		e := &o.live[i]
		switch e.Type {
		case analytics.EventAPICall, analytics.EventStoryCreated, analytics.EventStoryCompleted, analytics.EventStoryFailed:
		default:
			continue
		}
		if e.StoryID == "" {
			continue
		}
		a := m[e.StoryID]
		if a == nil {
			a = &acc{row: analytics.StoryRow{StoryID: e.StoryID}}
			m[e.StoryID] = a
		}
		rank := int64(1)
		if e.Type == analytics.EventStoryCreated {
			rank = 0
		}
		an := analytics.StoryAnchor{Rank: rank, At: e.Timestamp, Day: o.day(e), UserID: e.UserID}
		if !a.has || an.Before(a.anchor) {
			a.anchor, a.has = an, true
		}
		s := &a.row
		s.Events++
		switch e.Type {
		case analytics.EventStoryCreated:
			s.Created++
		case analytics.EventStoryCompleted:
			s.Completed++
			s.Chapters += e.Chapters
			s.AudioMillis += e.AudioMillis
		case analytics.EventStoryFailed:
			s.Failed++
		case analytics.EventAPICall:
			switch e.Service {
			case analytics.ServiceAnthropic:
				s.AnthropicCost += e.Cost
			case analytics.ServiceElevenLabs:
				s.ElevenLabsCost += e.Cost
			case analytics.ServiceS3:
				s.S3Cost += e.Cost
			}
		}
	}
	out := []analytics.StoryRow{}
	for _, a := range m {
		a.row.UserID, a.row.Day = a.anchor.UserID, a.anchor.Day
		if a.row.Day >= r.Start && a.row.Day <= r.End {
			out = append(out, a.row)
		}
	}
	sortStories(out)
	return out
}

func sortStories(rows []analytics.StoryRow) {
	slices.SortFunc(rows, func(a, b analytics.StoryRow) int { return stdcmp.Compare(a.StoryID, b.StoryID) })
}

// cohorts is the cohort sizes and CohortCells by brute force.
func (o oracle) cohorts(from, end analytics.Day, g analytics.Granularity) (map[int32]int64, []analytics.CohortCell) {
	signups := o.firstSignups()
	sizes := map[int32]int64{}
	cohort := map[string]int32{}
	for u, s := range signups {
		if s.Day >= from && s.Day <= end {
			c := analytics.CohortPeriodOf(s.Day, g)
			sizes[c]++
			cohort[u] = c
		}
	}
	type key struct{ c, p int32 }
	cells := map[key]*analytics.CohortCell{}
	users := map[key]map[string]bool{}
	for i := range o.live {
		e := &o.live[i]
		c, ok := cohort[e.UserID]
		d := o.day(e)
		if !ok || d > end || d < analytics.CohortPeriodStart(c, g) {
			continue
		}
		k := key{c, analytics.CohortPeriodOf(d, g)}
		cell := cells[k]
		if cell == nil {
			cell = &analytics.CohortCell{Cohort: k.c, Period: k.p}
			cells[k] = cell
			users[k] = map[string]bool{}
		}
		users[k][e.UserID] = true
		switch e.Type {
		case analytics.EventAPICall:
			cell.Cost += e.Cost
		case analytics.EventPayment:
			cell.RevenueCents += e.AmountCents
		case analytics.EventRefund:
			cell.RevenueCents -= e.AmountCents
		}
	}
	out := []analytics.CohortCell{}
	for k, c := range cells {
		c.Users = int64(len(users[k]))
		out = append(out, *c)
	}
	sortCells(out)
	return sizes, out
}

func sortCells(cells []analytics.CohortCell) {
	slices.SortFunc(cells, func(a, b analytics.CohortCell) int {
		return stdcmp.Or(stdcmp.Compare(a.Cohort, b.Cohort), stdcmp.Compare(a.Period, b.Period))
	})
}

// unattributed counts users active in r with no live signup at all.
func (o oracle) unattributed(r analytics.Range) int64 {
	signups := o.firstSignups()
	users := map[string]bool{}
	for _, e := range o.inRange(r) {
		if _, ok := signups[e.UserID]; e.UserID != "" && !ok {
			users[e.UserID] = true
		}
	}
	return int64(len(users))
}

// checkEconomics compares the unit-economics reads with brute force over
// random ranges, and pages get_user_economics through the whole list.
// CheckEconomics compares every unit-economics read of s (P&L, stories,
// story statistics, cohorts, unattributed users) over ranges around Day0
// with brute force over the live events, in UTC days: for a store's own
// tests, e.g. after a migration backfilled the rollups.
func CheckEconomics(t *testing.T, s analytics.Store, live []analytics.Event) {
	t.Helper()
	checkEconomics(t, s, oracle{live: live, loc: time.UTC}, rand.New(rand.NewPCG(13, 13)))
}

func checkEconomics(t *testing.T, s analytics.Store, o oracle, rng *rand.Rand) {
	t.Helper()
	// Fixed ranges first, so that each plan of analytics.PlanEconomics
	// runs: everything (lifetime totals, nothing outside), most of the data
	// (totals less both edges), and one day (the range's own days).
	fixed := []analytics.Range{{Start: Day0 - 400, End: Day0 + 400}, {Start: Day0 + 1, End: Day0 + 28}, {Start: Day0 + 9, End: Day0 + 9}}
	for trial := 0; trial < 12+len(fixed); trial++ {
		from := rng.IntN(36) - 3
		r := analytics.Range{Start: Day0 + analytics.Day(from), End: Day0 + analytics.Day(from+rng.IntN(40-from))}
		if trial < len(fixed) {
			r = fixed[trial]
		}
		econ, err := s.UserEconomics(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if econ == nil {
			econ = []analytics.UserEconomicsRow{}
		}
		slices.SortFunc(econ, func(a, b analytics.UserEconomicsRow) int { return stdcmp.Compare(a.UserID, b.UserID) })
		want := o.economics(r)
		ids, wantEmails := make([]string, len(want)), map[string]string{}
		for i := range want {
			ids[i] = want[i].UserID
			if want[i].Email != "" {
				wantEmails[want[i].UserID] = want[i].Email
			}
			want[i].Email = "" // UserEmails gives them
		}
		emails, err := s.UserEmails(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wantEmails, emails, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("UserEmails of the users of %s..%s differ from brute force (-want +got):\n%s", r.Start, r.End, d)
		}
		if d := cmp.Diff(want, econ); d != "" {
			t.Fatalf("UserEconomics(%s..%s) differ from brute force (-want +got):\n%s", r.Start, r.End, d)
		}
		// Stories streams them in the export's order: cost descending,
		// ties (stories that cost nothing, among others) by id.
		st := []analytics.StoryRow{}
		if err := s.Stories(ctx, r, func(row analytics.StoryRow) error { st = append(st, row); return nil }); err != nil {
			t.Fatal(err)
		}
		wantStories := o.stories(r)
		analytics.SortStoriesByCost(wantStories)
		if d := cmp.Diff(wantStories, st); d != "" {
			t.Fatalf("Stories(%s..%s) differ from brute force, in cost order (-want +got):\n%s", r.Start, r.End, d)
		}
		if len(st) > 1 {
			stop := errors.New("enough")
			calls := 0
			err := s.Stories(ctx, r, func(analytics.StoryRow) error { calls++; return stop })
			if !errors.Is(err, stop) || calls != 1 {
				t.Fatalf("Stories(%s..%s) with a callback failing at the first story: %d calls, error %v; want 1 call and that error", r.Start, r.End, calls, err)
			}
		}
		for _, g := range []analytics.Granularity{analytics.GranularityWeek, analytics.GranularityMonth} {
			cf := analytics.CohortWindow(analytics.Range{Start: r.Start - 20, End: r.End}, g)
			if cf > r.End {
				continue
			}
			wantSizes, wantCells := o.cohorts(cf, r.End, g)
			cells, err := s.CohortCells(ctx, cf, r.End, g)
			if err != nil {
				t.Fatal(err)
			}
			if cells == nil {
				cells = []analytics.CohortCell{}
			}
			sortCells(cells)
			if d := cmp.Diff(wantCells, cells); d != "" {
				t.Fatalf("CohortCells(%s..%s, %s) differ from brute force (-want +got):\n%s", cf, r.End, g, d)
			}
			for c, n := range wantSizes {
				var own int64
				for _, cell := range cells {
					if cell.Cohort == c && cell.Period == c {
						own = cell.Users
					}
				}
				if own != n {
					t.Fatalf("cohort %d (%s): %d users in its own period, %d signed up", c, g, own, n)
				}
			}
		}
		un, err := s.UnattributedUsers(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := o.unattributed(r); un != want {
			t.Fatalf("UnattributedUsers(%s..%s) = %d, brute force %d", r.Start, r.End, un, want)
		}
	}
}

// edgeEvents are users whose activity lies at the edges of the random
// events' 30 days: one active on the first day only, and one whose story is
// in the middle but whose only call is on the last day. A range without
// the edges must leave both out, also when it is summed from lifetime
// totals less the edges.
func edgeEvents(prefix string) []analytics.Event {
	pay := Ev(prefix+"-edge-pay", analytics.EventPayment, "edge-first", at(0, 5))
	pay.AmountCents = 700
	story := Ev(prefix+"-edge-story", analytics.EventStoryCreated, "edge-last", at(15, 5))
	story.StoryID = "edge-story"
	return []analytics.Event{
		Call(prefix+"-edge-call-0", "edge-first", at(0, 4), analytics.ServiceAnthropic, "model-0", "op-0", 1234),
		pay, story,
		Call(prefix+"-edge-call-29", "edge-last", at(29, 4), analytics.ServiceS3, "model-0", "op-0", 55),
	}
}

// testEconomicsTools runs the unit-economics tools over a store fed out of
// order, with late events, voids and a reprice, and checks their answers
// against figures computed straight from the live events: every page of
// get_user_economics, the top stories of get_story_costs, and each cohort's
// retention and cumulative curves of get_cohorts.
func testEconomicsTools(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rng := rand.New(rand.NewPCG(71, 73))
	all := randomEvents(rng, "ec", 1400)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	all = append(all, edgeEvents("ec")...) // late: never voided
	late := all[1200:]                     // arrive after the voids and the reprice
	for i := 0; i < 1200; i += 150 {
		ingest(t, s, all[i:i+150]...)
	}
	voided := map[string]bool{}
	var voids []analytics.Event
	for range 120 {
		id := all[rng.IntN(1200)].ID
		if !voided[id] {
			voided[id] = true
			voids = append(voids, voidOf("void-"+id, id))
		}
	}
	if _, err := s.VoidEvents(ctx, voids); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 50}, quoteFor); err != nil {
		t.Fatal(err)
	}
	for i := range all[:1200] {
		if e := &all[i]; e.Type == analytics.EventAPICall && e.ExplicitCost == nil && !voided[e.ID] {
			quoteFor(e)
		}
	}
	ingest(t, s, late...)
	var live []analytics.Event
	for _, e := range all {
		if !voided[e.ID] {
			live = append(live, e)
		}
	}
	o := oracle{live: live, loc: time.UTC}
	tools := &analytics.Tools{Store: s}
	rin := analytics.RangeInput{StartDate: (Day0 + 2).String(), EndDate: (Day0 + 26).String()}
	r, _ := rin.Range()

	// Every page, in order, without skips or repeats.
	want := o.economics(r)
	analytics.SortEconomics(want, analytics.EconomicsByMargin, "asc")
	limit := 7
	in := analytics.EconomicsInput{RangeInput: rin, Limit: &limit}
	var got []string
	for pages := 0; ; pages++ {
		res, err := tools.UserEconomics(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && res.Summary.Users != int64(len(want)) {
			t.Fatalf("summary counts %d users, brute force %d", res.Summary.Users, len(want))
		}
		for _, u := range res.Users {
			got = append(got, u.UserID)
		}
		if res.NextCursor == nil || pages > 100 {
			break
		}
		in.Cursor = *res.NextCursor
	}
	var ids []string
	for _, u := range want {
		ids = append(ids, u.UserID)
	}
	if d := cmp.Diff(ids, got); d != "" || len(ids) < 10 {
		t.Fatalf("economics pages (-brute force +pages, %d users):\n%s", len(ids), d)
	}

	// The most expensive stories, split by service.
	stories := o.stories(r)
	slices.SortFunc(stories, func(a, b analytics.StoryRow) int {
		return stdcmp.Or(stdcmp.Compare(b.Cost(), a.Cost()), stdcmp.Compare(a.StoryID, b.StoryID))
	})
	top := 5
	sc, err := tools.StoryCosts(ctx, analytics.StoryCostsInput{RangeInput: rin, Limit: &top})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Stories != int64(len(stories)) || len(sc.Top) != min(top, len(stories)) || len(stories) < 5 {
		t.Fatalf("stories %d (top %d), brute force %d", sc.Stories, len(sc.Top), len(stories))
	}
	for i, st := range sc.Top {
		w := stories[i]
		if st.StoryID != w.StoryID || st.Cost != analytics.Cents(w.Cost()) || st.ByService.ElevenLabs != analytics.Cents(w.ElevenLabsCost) ||
			st.Status != w.Status() || st.UserID != w.UserID {
			t.Fatalf("top story %d = %+v, brute force %+v", i, st, w)
		}
	}

	// Cohorts, computed straight from the events.
	signups := o.firstSignups()
	for _, g := range []analytics.Granularity{analytics.GranularityWeek, analytics.GranularityMonth} {
		cin := analytics.CohortsInput{RangeInput: analytics.RangeInput{StartDate: (Day0 - 10).String(), EndDate: (Day0 + 24).String()}, Period: string(g)}
		cr, _ := cin.Range()
		res, err := tools.Cohorts(ctx, cin)
		if err != nil {
			t.Fatal(err)
		}
		type cohortWant struct {
			size     int64
			retained map[int]map[string]bool
			rev      map[int]int64
			cost     map[int]analytics.Micros
		}
		wantC := map[analytics.Day]*cohortWant{}
		first := func(u string) (analytics.Day, bool) {
			su, ok := signups[u]
			if !ok || su.Day > cr.End {
				return 0, false
			}
			start := analytics.CohortPeriodStart(analytics.CohortPeriodOf(su.Day, g), g)
			return start, start >= cr.Start
		}
		for u := range signups {
			if c, ok := first(u); ok {
				if wantC[c] == nil {
					wantC[c] = &cohortWant{retained: map[int]map[string]bool{}, rev: map[int]int64{}, cost: map[int]analytics.Micros{}}
				}
				wantC[c].size++
			}
		}
		for _, e := range live {
			c, ok := first(e.UserID)
			d := o.day(&e)
			if !ok || d > cr.End || d < c {
				continue
			}
			k := int(analytics.CohortPeriodOf(d, g) - analytics.CohortPeriodOf(c, g))
			w := wantC[c]
			if w.retained[k] == nil {
				w.retained[k] = map[string]bool{}
			}
			w.retained[k][e.UserID] = true
			switch e.Type {
			case analytics.EventPayment:
				w.rev[k] += e.AmountCents
			case analytics.EventRefund:
				w.rev[k] -= e.AmountCents
			case analytics.EventAPICall:
				w.cost[k] += e.Cost
			}
		}
		if len(res.Cohorts) != len(wantC) || len(wantC) == 0 {
			t.Fatalf("%s: %d cohorts, brute force %d", g, len(res.Cohorts), len(wantC))
		}
		for _, co := range res.Cohorts {
			w := wantC[co.Cohort]
			if w == nil || co.Size != w.size {
				t.Fatalf("%s cohort %s: size %d, brute force %+v", g, co.Cohort, co.Size, w)
			}
			if n := int(analytics.CohortPeriodOf(cr.End, g)-analytics.CohortPeriodOf(co.Cohort, g)) + 1; len(co.Retained) != n {
				t.Fatalf("%s cohort %s: %d periods, want %d", g, co.Cohort, len(co.Retained), n)
			}
			var rev int64
			var cost analytics.Micros
			for k := range co.Retained {
				rev += w.rev[k]
				cost += w.cost[k]
				if co.Retained[k] != int64(len(w.retained[k])) || co.Revenue[k] != analytics.Cents(analytics.MicrosFromCents(rev)) ||
					co.Cost[k] != analytics.Cents(cost) {
					t.Fatalf("%s cohort %s period %d: retained %d revenue %v cost %v, brute force %d %d¢ %dµ$",
						g, co.Cohort, k, co.Retained[k], co.Revenue[k], co.Cost[k], len(w.retained[k]), rev, cost)
				}
			}
		}
		if want := o.unattributed(cr); res.UnattributedUsers != want {
			t.Fatalf("unattributed %d, brute force %d", res.UnattributedUsers, want)
		}
	}
	verifyClean(t, s)
}
