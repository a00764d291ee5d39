package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestStoryBucketSQL checks the SQL cost bucket against
// analytics.StoryCostBucket around every bucket bound.
func TestStoryBucketSQL(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	costs := []int64{math.MinInt64, -1, 0, math.MaxInt64, math.MaxInt64 - 1}
	for b := int32(0); b < 960; b++ {
		lo, hi := analytics.StoryBucketBounds(b)
		costs = append(costs, int64(lo), int64(lo)+1, int64(hi)-1)
	}
	rows, _ := conn.Query(ctx, fmt.Sprintf(`SELECT c, `+storyBucketSQL+` FROM unnest($1::bigint[]) AS c`, "c"), costs)
	var c int64
	var b int32
	n := 0
	if _, err := pgx.ForEachRow(rows, []any{&c, &b}, func() error {
		n++
		if want := analytics.StoryCostBucket(analytics.Micros(c)); b != want {
			return fmt.Errorf("bucket of %d: SQL %d, Go %d", c, b, want)
		}
		return nil
	}); err != nil || n != len(costs) {
		t.Fatalf("%d of %d costs checked: %v", n, len(costs), err)
	}
}

// TestUserSumsReadCoveringIndexes checks that every span of the per-user
// sums can be read from an index alone (an index-only scan), not from the
// heap: on the scale set that halved get_user_economics over 365 days.
// Sequential and bitmap scans are turned off, as the planner rightly
// prefers them on the test's empty tables.
func TestUserSumsReadCoveringIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := func(v string) analytics.Day {
		d, err := analytics.ParseDay(v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	groups := analytics.PartsOf(analytics.Range{Start: day("2026-01-10"), End: day("2026-03-25")},
		analytics.Range{Start: day("2026-04-25"), End: day("2026-06-05")})
	spans := 0
	for _, g := range groups {
		spans += len(g.Bounds)
	}
	if len(groups) != 3 {
		t.Fatalf("want months, days and minus days, got %+v", groups)
	}
	q, args := userSumsSQL(groups)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"); err != nil {
		t.Fatal(err)
	}
	rows, _ := tx.Query(ctx, "EXPLAIN "+q, args...)
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, line := range plan {
		if strings.Contains(line, " on user_activity") || strings.Contains(line, " on user_month") {
			reads++
			if !strings.Contains(line, "Index Only Scan") {
				t.Errorf("not an index-only scan: %s", line)
			}
		}
	}
	if reads != spans {
		t.Errorf("want %d reads of user_activity and user_month, plan:\n%s", spans, strings.Join(plan, "\n"))
	}
}
