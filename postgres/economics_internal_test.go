package postgres

import (
	"context"
	"fmt"
	"math"
	"testing"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/storetest"
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
	groups, spans := storetest.SumsGroups(t)
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
	storetest.CheckReads(t, plan, " on ", []string{"user_activity", "user_month"}, "Index Only Scan", spans)
}
