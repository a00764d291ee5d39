package storetest

import (
	"strings"
	"testing"

	analytics "github.com/codestory/analytics"
)

// SumsGroups are per-user sum groups of every kind, as PartsOf makes them:
// whole months, edge days and days subtracted from an edge's month, over
// two disjoint ranges; spans counts their bounds.
func SumsGroups(t testing.TB) (groups []analytics.PartGroup, spans int) {
	t.Helper()
	day := func(s string) analytics.Day {
		d, err := analytics.ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	groups = analytics.PartsOf(analytics.Range{Start: day("2026-01-10"), End: day("2026-03-25")},
		analytics.Range{Start: day("2026-04-25"), End: day("2026-06-05")})
	if len(groups) != 3 {
		t.Fatalf("want months, days and minus days, got %+v", groups)
	}
	for _, g := range groups {
		spans += len(g.Bounds)
	}
	return groups, spans
}

// CheckReads fails t unless the plan's lines that read one of the tables
// (marked by its name after prefix) number want, each containing covered.
func CheckReads(t testing.TB, plan []string, prefix string, tables []string, covered string, want int) {
	t.Helper()
	reads := 0
	for _, line := range plan {
		for _, table := range tables {
			if strings.Contains(line, prefix+table) {
				reads++
				if !strings.Contains(line, covered) {
					t.Errorf("not %q: %s", covered, line)
				}
				break
			}
		}
	}
	if reads != want {
		t.Errorf("want %d reads of %s, plan:\n%s", want, strings.Join(tables, " and "), strings.Join(plan, "\n"))
	}
}
