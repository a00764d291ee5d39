package analytics

import (
	"context"
	"fmt"
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
	in.Normalize(t.now(), t.Store.Location())
	r, err := in.Range()
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	g := Granularity(in.Period)
	from := CohortWindow(r, g)
	var sizes map[int32]int64
	var cells []CohortCell
	if from <= r.End {
		if sizes, err = t.Store.CohortSizes(ctx, from, r.End, g); err != nil {
			return nil, fmt.Errorf("cohort sizes: %w", err)
		}
		if cells, err = t.Store.CohortCells(ctx, from, r.End, g); err != nil {
			return nil, fmt.Errorf("cohort cells: %w", err)
		}
	}
	un, err := t.Store.UnattributedUsers(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("unattributed users: %w", err)
	}
	return BuildCohorts(g, from, r.End, sizes, cells, un, t.period(r))
}

// BuildCohorts lays store cells out as get_cohorts' cumulative curves.
func BuildCohorts(g Granularity, from, end Day, sizes map[int32]int64, cells []CohortCell, unattributed int64, p Period) (*Cohorts, error) {
	res := &Cohorts{Granularity: g, Cohorts: []Cohort{}, UnattributedUsers: unattributed, Period: p}
	last := CohortPeriodOf(end, g)
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
