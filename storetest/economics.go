package storetest

import (
	stdcmp "cmp"
	"math/rand/v2"
	"slices"
	"testing"

	analytics "github.com/codestory/analytics"
	"github.com/google/go-cmp/cmp"
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
			appears[e.UserID] = true
		case analytics.EventPayment:
			u.RevenueCents += e.AmountCents
			appears[e.UserID] = true
		case analytics.EventRefund:
			u.RevenueCents -= e.AmountCents
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

// cohorts is CohortSizes and CohortCells by brute force.
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
func checkEconomics(t *testing.T, s analytics.Store, o oracle, rng *rand.Rand) {
	t.Helper()
	for trial := 0; trial < 12; trial++ {
		from := rng.IntN(36) - 3
		r := analytics.Range{Start: Day0 + analytics.Day(from), End: Day0 + analytics.Day(from+rng.IntN(40-from))}
		econ, err := s.UserEconomics(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if econ == nil {
			econ = []analytics.UserEconomicsRow{}
		}
		slices.SortFunc(econ, func(a, b analytics.UserEconomicsRow) int { return stdcmp.Compare(a.UserID, b.UserID) })
		if d := cmp.Diff(o.economics(r), econ); d != "" {
			t.Fatalf("UserEconomics(%s..%s) differ from brute force (-want +got):\n%s", r.Start, r.End, d)
		}
		st, err := s.Stories(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if st == nil {
			st = []analytics.StoryRow{}
		}
		sortStories(st)
		if d := cmp.Diff(o.stories(r), st); d != "" {
			t.Fatalf("Stories(%s..%s) differ from brute force (-want +got):\n%s", r.Start, r.End, d)
		}
		for _, g := range []analytics.Granularity{analytics.GranularityWeek, analytics.GranularityMonth} {
			cf := analytics.CohortWindow(analytics.Range{Start: r.Start - 20, End: r.End}, g)
			if cf > r.End {
				continue
			}
			wantSizes, wantCells := o.cohorts(cf, r.End, g)
			sizes, err := s.CohortSizes(ctx, cf, r.End, g)
			if err != nil {
				t.Fatal(err)
			}
			if sizes == nil {
				sizes = map[int32]int64{}
			}
			if d := cmp.Diff(wantSizes, sizes); d != "" {
				t.Fatalf("CohortSizes(%s..%s, %s) differ from brute force (-want +got):\n%s", cf, r.End, g, d)
			}
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
