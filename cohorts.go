package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// ToolCohorts is get_cohorts (issue 13): retention, lifetime revenue and
// cost to serve by signup cohort.
const ToolCohorts = "get_cohorts"

// Granularity is the length of a cohort and of its periods.
type Granularity string

// Cohort granularities: ISO weeks (Monday first) or calendar months.
const (
	GranularityWeek  Granularity = "week"
	GranularityMonth Granularity = "month"
)

// CohortPeriodOf numbers the period containing d: for weeks the Monday-first
// weeks since 1970 (day 0 was a Thursday), for months MonthOf.
func CohortPeriodOf(d Day, g Granularity) int32 {
	if g == GranularityMonth {
		return MonthOf(d)
	}
	return int32(floorDiv(int64(d)+3, 7))
}

// CohortPeriodStart is the first day of period p.
func CohortPeriodStart(p int32, g Granularity) Day {
	if g == GranularityMonth {
		first, _ := MonthDays(p)
		return first
	}
	return Day(int64(p)*7 - 3)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// CohortCell is what a store sums for one cohort and one period: the
// cohort's users active in it and their revenue and cost in it (events up
// to the query's end day only). Cohort and Period are CohortPeriodOf numbers.
type CohortCell struct {
	Cohort, Period int32
	Users          int64
	RevenueCents   int64
	Cost           Micros
}

// NonEmptyCells drops, in place, the cells without users, revenue or cost
// (days whose first-of-period moves cancel out, or a last cohort that
// signed up after the end): both stores return only cells that count.
func NonEmptyCells(cells []CohortCell) []CohortCell {
	kept := cells[:0]
	for _, c := range cells {
		if c.Users != 0 || c.RevenueCents != 0 || c.Cost != 0 {
			kept = append(kept, c)
		}
	}
	return kept
}

// CohortsInput is the input of get_cohorts.
type CohortsInput struct {
	RangeInput
	Period string `json:"period,omitempty" jsonschema:"week (Monday first) or month (default week)"`
}

// Normalize fills the default period.
func (in *CohortsInput) Normalize(now time.Time, loc *time.Location) {
	in.RangeInput.Normalize(now, loc)
	if in.Period == "" {
		in.Period = string(GranularityWeek)
	}
}

// Validate checks period.
func (in CohortsInput) Validate() error {
	if in.Period != string(GranularityWeek) && in.Period != string(GranularityMonth) {
		return Errorf(KindInvalid, "period must be week or month (got %q)", in.Period)
	}
	return nil
}

// Cohort is one cohort of get_cohorts; slice index k is the k-th period
// from the cohort's own (0) to the one containing end_date.
type Cohort struct {
	Cohort   Day     `json:"cohort"`
	Size     int64   `json:"size"`
	Retained []int64 `json:"retained"`
	// Revenue and Cost are cumulative from the cohort's start through
	// period k: the lifetime-value and cost-to-serve curves.
	Revenue []Cents `json:"revenue_cents"`
	Cost    []Cents `json:"cost_cents"`
}

// Cohorts is the result of get_cohorts.
type Cohorts struct {
	Granularity       Granularity `json:"granularity"`
	Cohorts           []Cohort    `json:"cohorts"`
	UnattributedUsers int64       `json:"unattributed_users"`
	Period            Period      `json:"period"`
}

// CohortWindow is the part of a range whose users form cohorts: users whose
// first signup lies in [From, r.End], From being the first period start on
// or after r.Start.
func CohortWindow(r Range, g Granularity) (from Day) {
	p := CohortPeriodOf(r.Start, g)
	if CohortPeriodStart(p, g) < r.Start {
		p++
	}
	return CohortPeriodStart(p, g)
}

// Cohorts implements get_cohorts: a user's cohort is the week or month of
// their first user_signup; the cohorts are those whose first day lies in
// the range, and nothing after end_date counts.
func (t *Tools) Cohorts(ctx context.Context, in CohortsInput) (*Cohorts, error) {
	r, err := t.checkInput(&in)
	if err != nil {
		return nil, err
	}
	g := Granularity(in.Period)
	from := CohortWindow(r, g)
	var cells []CohortCell
	if from <= r.End {
		if cells, err = t.Store.CohortCells(ctx, from, r.End, g); err != nil {
			return nil, fmt.Errorf("cohort cells: %w", err)
		}
	}
	un, err := t.Store.UnattributedUsers(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("unattributed users: %w", err)
	}
	return BuildCohorts(g, from, r.End, cells, un, t.period(r))
}

// BuildCohorts lays store cells out as get_cohorts' cumulative curves; a
// cohort's size is its users active in its own period (its signups).
func BuildCohorts(g Granularity, from, end Day, cells []CohortCell, unattributed int64, p Period) (*Cohorts, error) {
	res := &Cohorts{Granularity: g, Cohorts: []Cohort{}, UnattributedUsers: unattributed, Period: p}
	last := CohortPeriodOf(end, g)
	sizes := map[int32]int64{}
	for _, c := range cells {
		if c.Period == c.Cohort {
			sizes[c.Cohort] += c.Users
		}
	}
	index := map[int32]int{}
	if from <= end {
		for c := CohortPeriodOf(from, g); c <= last; c++ {
			if sizes[c] == 0 {
				continue
			}
			n := int(last-c) + 1
			index[c] = len(res.Cohorts)
			res.Cohorts = append(res.Cohorts, Cohort{Cohort: CohortPeriodStart(c, g), Size: sizes[c],
				Retained: make([]int64, n), Revenue: make([]Cents, n), Cost: make([]Cents, n)})
		}
	}
	for _, cell := range cells {
		i, ok := index[cell.Cohort]
		k := int(cell.Period - cell.Cohort)
		if !ok || k < 0 || k >= len(res.Cohorts[i].Retained) {
			return nil, fmt.Errorf("cohort cell %d/%d outside the cohorts", cell.Cohort, cell.Period)
		}
		co := &res.Cohorts[i]
		co.Retained[k] += cell.Users
		co.Revenue[k] += Cents(MicrosFromCents(cell.RevenueCents))
		co.Cost[k] += Cents(cell.Cost)
	}
	for i := range res.Cohorts {
		co := &res.Cohorts[i]
		var rev, cost Sum
		for k := range co.Revenue {
			rev.Add(int64(co.Revenue[k]))
			cost.Add(int64(co.Cost[k]))
			co.Revenue[k], co.Cost[k] = Cents(rev.V), Cents(cost.V)
		}
		if rev.Overflow || cost.Overflow {
			return nil, ErrSumOverflow
		}
	}
	return res, nil
}

// CohortDayKey is a row of the cohort rollup (cohort_days): one cohort (a
// CohortPeriodOf number of its granularity) and one day.
type CohortDayKey struct {
	G      Granularity
	Cohort int32
	Day    Day
}

// CohortDay is what the cohort rollup holds for a cohort and a day: the
// cohort's users for whom the day is their first active day of its period
// (so that a period's retained users are a sum over its days, up to any
// end day), and their revenue and cost that day.
type CohortDay struct {
	Firsts       int64
	RevenueCents int64
	Cost         Micros
}

// IsZero reports whether the row holds nothing.
func (c *CohortDay) IsZero() bool { return *c == CohortDay{} }

// Granularities are the cohort rollup's granularities.
var Granularities = []Granularity{GranularityWeek, GranularityMonth}

// CohortDelta accumulates changes of the cohort rollup. Events before a
// user's cohort period do not count.
type CohortDelta map[CohortDayKey]*CohortDay

func (d CohortDelta) row(k CohortDayKey) *CohortDay {
	c := d[k]
	if c == nil {
		c = &CohortDay{}
		d[k] = c
	}
	return c
}

// AddDay adds a user-day's change for a user whose first signup is on
// signup: its revenue and cost and, when the day became active (sign 1)
// or was removed (−1), the move of the user's first day in its period.
// prev and next are the user's neighbouring active days (prev NoPrevDay,
// hasNext false: none).
func (d CohortDelta) AddDay(signup, day Day, revenueCents int64, cost Micros, prev, next Day, hasNext bool, sign int64) {
	for _, g := range Granularities {
		c, p := CohortPeriodOf(signup, g), CohortPeriodOf(day, g)
		if p < c {
			continue
		}
		if revenueCents != 0 || cost != 0 {
			r := d.row(CohortDayKey{g, c, day})
			r.RevenueCents += revenueCents
			r.Cost += cost
		}
		if sign == 0 || (prev != NoPrevDay && CohortPeriodOf(prev, g) == p) {
			continue // the day is not (and was not) the first of its period
		}
		d.row(CohortDayKey{g, c, day}).Firsts += sign
		if hasNext && CohortPeriodOf(next, g) == p {
			// The next day was the first of the period, or becomes it again.
			d.row(CohortDayKey{g, c, next}).Firsts -= sign
		}
	}
}

// UserDayFigures is what the cohort rollup needs of a stored user-day.
type UserDayFigures struct {
	Day          Day
	RevenueCents int64
	Cost         Micros
}

// AddUser adds (sign 1) or takes out (−1) everything a user with first
// signup on signup contributes, from all their user-days: used when a
// user's first signup, and so their cohort, changes.
func (d CohortDelta) AddUser(signup Day, days []UserDayFigures, sign int64) {
	days = slices.Clone(days)
	slices.SortFunc(days, func(a, b UserDayFigures) int { return cmp.Compare(a.Day, b.Day) })
	for _, g := range Granularities {
		c := CohortPeriodOf(signup, g)
		last := int32(-1 << 30)
		for _, ud := range days {
			p := CohortPeriodOf(ud.Day, g)
			if p < c {
				continue
			}
			r := d.row(CohortDayKey{g, c, ud.Day})
			if p != last {
				r.Firsts += sign
				last = p
			}
			r.RevenueCents += sign * ud.RevenueCents
			r.Cost += Micros(sign) * ud.Cost
		}
	}
}
