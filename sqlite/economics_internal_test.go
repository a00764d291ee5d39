package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	analytics "github.com/codestory/analytics"
)

// sumsGroups are groups of every kind: whole months, edge days and days
// subtracted from an edge's month.
func sumsGroups(t *testing.T) []analytics.PartGroup {
	t.Helper()
	day := func(s string) analytics.Day {
		d, err := analytics.ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	groups := analytics.PartsOf(analytics.Range{Start: day("2026-01-10"), End: day("2026-03-25")},
		analytics.Range{Start: day("2026-04-25"), End: day("2026-06-05")})
	if len(groups) != 3 {
		t.Fatalf("want months, days and minus days, got %+v", groups)
	}
	return groups
}

// TestUserSumsReadCoveringIndexes checks that every part of the per-user
// sums is read from an index alone: a table lookup per user-day cost about
// 6 µs each, most of get_user_economics over 365 days on the scale set.
func TestUserSumsReadCoveringIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	groups := sumsGroups(t)
	spans := 0
	for _, g := range groups {
		spans += len(g.Bounds)
	}
	q, args := userSumsSQL(groups)
	rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, d := range plan {
		if strings.Contains(d, "user_activity") || strings.Contains(d, "user_month") {
			reads++
			if !strings.Contains(d, "USING COVERING INDEX") {
				t.Errorf("not from a covering index: %s", d)
			}
		}
	}
	if reads != spans {
		t.Errorf("want %d reads of user_activity and user_month, plan:\n%s", spans, strings.Join(plan, "\n"))
	}
}
