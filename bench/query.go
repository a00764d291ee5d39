package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

// Latency goals at p99 over 365 days on the scale data set (the issue's).
const (
	DashboardGoal = 50 * time.Millisecond
	TopUsersGoal  = 200 * time.Millisecond
	// EconomicsGoal is issue 13's goal for each endpoint it adds.
	EconomicsGoal = 200 * time.Millisecond
)

// tool is one of the five analytics tools, called as its REST handler
// calls it (the CSV export is written out, to io.Discard).
type tool struct {
	name string
	goal time.Duration
	// call calls the tool and returns its answer.
	call func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error)
}

var tools = []tool{
	{"get_dashboard_metrics", DashboardGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.DashboardMetrics(ctx, in)
	}},
	{"get_cost_breakdown", DashboardGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.CostBreakdown(ctx, in)
	}},
	{"get_user_growth", DashboardGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.UserGrowth(ctx, in)
	}},
	{"get_top_users", TopUsersGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.TopUsers(ctx, analytics.TopUsersInput{RangeInput: in})
	}},
	{"export_analytics (CSV)", DashboardGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		_, rows, err := t.ExportRows(ctx, analytics.ExportInput{RangeInput: in, Format: "csv"})
		if err != nil {
			return nil, err
		}
		return rows, analytics.WriteExportCSV(io.Discard, rows)
	}},
	{"get_engagement", EconomicsGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.Engagement(ctx, in)
	}},
	{"get_user_economics (first page)", EconomicsGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.UserEconomics(ctx, analytics.EconomicsInput{RangeInput: in})
	}},
	{"get_story_costs", EconomicsGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.StoryCosts(ctx, analytics.StoryCostsInput{RangeInput: in})
	}},
	{"get_cohorts (weekly)", EconomicsGoal, func(ctx context.Context, t *analytics.Tools, in analytics.RangeInput) (any, error) {
		return t.Cohorts(ctx, analytics.CohortsInput{RangeInput: in, Period: string(analytics.GranularityWeek)})
	}},
}

// SelectTools returns the timed tools named (a name is a tool's up to its
// first space: get_user_economics for "get_user_economics (first page)"),
// in the report's order; none named means all.
func SelectTools(names []string) ([]tool, error) {
	if len(names) == 0 {
		return tools, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []tool
	for _, tl := range tools {
		short, _, _ := strings.Cut(tl.name, " ")
		if want[short] {
			out = append(out, tl)
			delete(want, short)
		}
	}
	if len(want) > 0 {
		var known []string
		for _, tl := range tools {
			short, _, _ := strings.Cut(tl.name, " ")
			known = append(known, short)
		}
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		slices.Sort(unknown)
		return nil, fmt.Errorf("no timed tool named %s (known: %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// rangeInput is the i-th range of days days: the end date steps back one
// day per call from last, so repeated calls do not hit one cached answer.
func rangeInput(last analytics.Day, days, i int) analytics.RangeInput {
	end := last - analytics.Day(i%50)
	return analytics.RangeInput{StartDate: (end - analytics.Day(days-1)).String(), EndDate: end.String()}
}

// latencies times runs calls of tl (after a warm-up call if warm), or fewer
// when budget is spent and at least minRuns were made; it returns the
// first timed call's answer too, as JSON.
func latencies(ctx context.Context, t *analytics.Tools, tl tool, last analytics.Day, days, runs, minRuns int, budget time.Duration, warm bool) ([]time.Duration, []byte, error) {
	if warm {
		if _, err := tl.call(ctx, t, rangeInput(last, days, runs)); err != nil {
			return nil, nil, err
		}
	}
	var out []time.Duration
	var first []byte
	start := time.Now()
	for i := 0; i < runs; i++ {
		if i >= minRuns && budget > 0 && time.Since(start) > budget {
			break
		}
		t0 := time.Now()
		ans, err := tl.call(ctx, t, rangeInput(last, days, i))
		if err != nil {
			return nil, nil, err
		}
		out = append(out, time.Since(t0))
		if i == 0 {
			if first, err = json.Marshal(ans); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, first, nil
}

// percentile is the nearest-rank p-th percentile (p in (0, 100]).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}
