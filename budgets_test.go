package analytics_test

import (
	"fmt"
	"testing"

	analytics "github.com/codestory/analytics"
)

func TestFormatAndParseDollars(t *testing.T) {
	for in, want := range map[string]string{"500": "500.00", "500.5": "500.50", "0.000125": "0.000125", "401.25": "401.25", "1.10": "1.10"} {
		m, err := analytics.ParseDollars(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := analytics.FormatDollars(m); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"-1", "1e3", "1.0000001", "", "$5", "1,000"} {
		if _, err := analytics.ParseDollars(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestPeriodOf(t *testing.T) {
	d, _ := analytics.ParseDay("2028-02-17")
	if r := analytics.PeriodOf(analytics.BudgetPeriodMonth, d); r.Start.String() != "2028-02-01" || r.End.String() != "2028-02-29" {
		t.Errorf("month of 2028-02-17: %s – %s", r.Start, r.End)
	}
	d, _ = analytics.ParseDay("2026-12-31")
	if r := analytics.PeriodOf(analytics.BudgetPeriodMonth, d); r.Start.String() != "2026-12-01" || r.End.String() != "2026-12-31" {
		t.Errorf("month of 2026-12-31: %s – %s", r.Start, r.End)
	}
	if r := analytics.PeriodOf(analytics.BudgetPeriodDay, d); r.Start != d || r.End != d {
		t.Errorf("day period %v", r)
	}
	if analytics.MonthIndex(d) != 2026*12+11 {
		t.Errorf("month index %d", analytics.MonthIndex(d))
	}
}

func TestCrossed(t *testing.T) {
	b := analytics.Budget{Amount: 10_000_000, Thresholds: []int{50, 80, 100}}
	for spend, want := range map[analytics.Micros]string{4_999_999: "[]", 5_000_000: "[50]", 7_999_999: "[50]", 8_000_000: "[50 80]", 10_000_000: "[50 80 100]"} {
		if got := fmt.Sprint(b.Crossed(spend)); got != want {
			t.Errorf("spend %d: crossed %s, want %s", spend, got, want)
		}
	}
}

func TestAnomalyThreshold(t *testing.T) {
	const d = analytics.Micros(1_000_000)
	steady := make([]analytics.Micros, 28)
	for i := range steady {
		steady[i] = 100 * d
	}
	// MAD 0: the 20% floor applies.
	if base, thr := analytics.AnomalyThreshold(steady); base != 100*d || thr != 120*d {
		t.Errorf("steady $100: baseline %s threshold %s, want $100 and $120", base, thr)
	}
	// Small spend: the $1 floor applies.
	small := make([]analytics.Micros, 28)
	if base, thr := analytics.AnomalyThreshold(small); base != 0 || thr != d {
		t.Errorf("no spend: baseline %s threshold %s, want $0 and $1", base, thr)
	}
	// Noisy: 4 × 1.4826 × MAD wins.
	noisy := make([]analytics.Micros, 28)
	for i := range noisy {
		noisy[i] = 100*d + analytics.Micros(i%2)*20*d // half at 100, half at 120: median 110, MAD 10
	}
	if base, thr := analytics.AnomalyThreshold(noisy); base != 110*d || thr != 110*d+59_304_000 {
		t.Errorf("noisy: baseline %s threshold %s, want $110 and $169.304", base, thr)
	}
}
