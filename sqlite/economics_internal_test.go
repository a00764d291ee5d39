package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/codestory/analytics/storetest"
)

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
	groups, spans := storetest.SumsGroups(t)
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
	storetest.CheckReads(t, plan, "SEARCH ", []string{"user_activity", "user_month"}, "USING COVERING INDEX", spans)
}
