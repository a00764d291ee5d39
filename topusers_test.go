package analytics_test

import (
	"testing"

	analytics "github.com/codestory/analytics"
)

func TestSplitByMonth(t *testing.T) {
	d := analytics.DayFromDate
	empty := analytics.Range{Start: 1, End: 0}
	for _, tc := range []struct {
		name   string
		r      analytics.Range
		fm, lm int32
		before analytics.Range
		after  analytics.Range
	}{
		{"inside one month", analytics.Range{Start: d(2026, 3, 5), End: d(2026, 3, 20)}, 2026*12 + 3, 2026*12 + 1, analytics.Range{Start: d(2026, 3, 5), End: d(2026, 3, 20)}, empty},
		{"exact month", analytics.Range{Start: d(2026, 2, 1), End: d(2026, 2, 28)}, 2026*12 + 1, 2026*12 + 1, empty, empty},
		{"edges", analytics.Range{Start: d(2025, 11, 15), End: d(2026, 2, 10)}, 2025*12 + 11, 2026*12 + 0, analytics.Range{Start: d(2025, 11, 15), End: d(2025, 11, 30)}, analytics.Range{Start: d(2026, 2, 1), End: d(2026, 2, 10)}},
		{"year end", analytics.Range{Start: d(2025, 12, 1), End: d(2026, 1, 31)}, 2025*12 + 11, 2026*12 + 0, empty, empty},
	} {
		sp := analytics.SplitByMonth(tc.r)
		if sp.FirstMonth != tc.fm || sp.LastMonth != tc.lm || sp.Before != tc.before || sp.After != tc.after {
			t.Errorf("%s: %+v", tc.name, sp)
		}
	}
}
