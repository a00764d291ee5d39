package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

// The story rollup (issue 13). A story's row sums every live story event
// with its story_id, of whichever users and days; its anchor (the smallest
// (rank, ts, user_id), rank 0 for story_created and 1 otherwise) gives the
// story its user and day.
//
// An ingest or a reprice only adds events (a reprice takes a call out and
// puts it back repriced), so its stories take one additive upsert: the
// counters add up and the anchor becomes the smaller of the stored and the
// delta's, a commutative minimum, so concurrent upserts in any order give
// the same row. A void may take a story's anchor out; its stories are
// recomputed from their live events instead, in three statements:
//
//  1. lock: an insert-or-lock of every recomputed story (a placeholder row
//     for one that has none, which the next statement removes), in story id
//     order, so a concurrent upsert or recompute of the same story waits for
//     this transaction and vice versa;
//  2. delete the rows;
//  3. re-insert them from the live events. Each statement takes a fresh
//     snapshot (READ COMMITTED), taken after the locks were granted, so the
//     recompute sees every committed change to its stories' events, and an
//     ingest still adding events to one of them waits for the lock and adds
//     its delta to the recomputed row afterwards. A story without live
//     events is not re-inserted.

// checkStories refuses a story delta that neither recomputes the story nor
// brings an anchor along (it cannot occur: a delta without added events has
// taken events out, so Finish sets Recompute).
func checkStories(stories map[string]*analytics.StoryDelta) error {
	for id, sd := range stories {
		if !sd.IsZero() && !sd.Recompute && !sd.HasAnchor {
			return fmt.Errorf("story %q: a delta without events to anchor it", id)
		}
	}
	return nil
}

// addStoriesSQL adds deltas to stories (sorted by story id): counters add
// up, and the anchor (user and day) moves to the delta's when that one is
// smaller.
var addStoriesSQL = func() string {
	smaller := `(excluded.anchor_rank, excluded.anchor_ts, excluded.user_id) < (t.anchor_rank, t.anchor_ts, t.user_id)`
	q := `INSERT INTO stories AS t (` + storyColumns + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::timestamptz[], $5::int4[], $6::int8[], $7::int8[],
		$8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[])
	ON CONFLICT (story_id) DO UPDATE SET`
	for _, c := range []string{"user_id", "anchor_rank", "anchor_ts", "day"} {
		q += fmt.Sprintf("\n\t\t%[1]s = CASE WHEN %[2]s THEN excluded.%[1]s ELSE t.%[1]s END,", c, smaller)
	}
	for i, c := range []string{"events", "created", "completed", "failed", "chapters", "audio_ms",
		"anthropic_cost", "elevenlabs_cost", "s3_cost"} {
		if i > 0 {
			q += ","
		}
		q += fmt.Sprintf("\n\t\t%[1]s = t.%[1]s + excluded.%[1]s", c)
	}
	return q
}()

// lockStoriesSQL locks the stories about to be recomputed (sorted), in array
// order: a story without a row gets a placeholder, held until commit and
// removed by deleteStoriesSQL; an existing row is locked by the conflict
// action, whose WHERE false keeps it from writing a row version.
const lockStoriesSQL = `INSERT INTO stories AS t (story_id, user_id, anchor_rank, anchor_ts, day)
	SELECT id, '', 0, 'epoch', 0 FROM unnest($1::text[]) AS x(id)
	ON CONFLICT (story_id) DO UPDATE SET story_id = excluded.story_id WHERE false`

const deleteStoriesSQL = `DELETE FROM stories WHERE story_id = ANY($1::text[])`

// recomputeStoriesSQL re-inserts the given stories from their live events
// (through the partial index events_by_story).
var recomputeStoriesSQL = `INSERT INTO stories (` + storyColumns + `) ` +
	fmt.Sprintf(storiesFreshSQL, ` AND story_id = ANY($1::text[])`, ` AND story_id = ANY($1::text[])`)

// queueStories queues the story upsert and the recompute of the stories a
// void took events out of; it returns the number of statements.
func queueStories(b *pgx.Batch, stories map[string]*analytics.StoryDelta) int {
	var add, redo []string
	for id, sd := range stories {
		switch {
		case sd.IsZero():
		case sd.Recompute:
			redo = append(redo, id)
		default:
			add = append(add, id)
		}
	}
	n := 0
	if len(add) > 0 {
		slices.Sort(add)
		var users []string
		var ranks, events, created, completed, failed, chapters, audio, an, el, s3 []int64
		var ats []time.Time
		var days []int32
		for _, id := range add {
			sd := stories[id]
			a := sd.Anchor
			users, ranks, ats, days = append(users, a.UserID), append(ranks, a.Rank), append(ats, a.At), append(days, int32(a.Day))
			events, created, completed, failed = append(events, sd.Events), append(created, sd.Created),
				append(completed, sd.Completed), append(failed, sd.Failed)
			chapters, audio = append(chapters, sd.Chapters), append(audio, sd.AudioMs)
			an, el, s3 = append(an, int64(sd.Anthropic)), append(el, int64(sd.ElevenLabs)), append(s3, int64(sd.S3))
		}
		b.Queue(addStoriesSQL, add, users, ranks, ats, days, events, created, completed, failed, chapters, audio, an, el, s3)
		n++
	}
	if len(redo) > 0 {
		slices.Sort(redo)
		b.Queue(lockStoriesSQL, redo)
		b.Queue(deleteStoriesSQL, redo)
		b.Queue(recomputeStoriesSQL, redo)
		n += 3
	}
	return n
}

// UserEconomics sums every user's revenue, cost and stories inside r: whole
// months from user_month, the days around them from user_activity (as
// UserTotals), for the users with an api_call, payment or refund in r.
func (s *Store) UserEconomics(ctx context.Context, r analytics.Range) ([]analytics.UserEconomicsRow, error) {
	sp := analytics.SplitByMonth(r)
	var out []analytics.UserEconomicsRow
	err := s.readNoJIT(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT p.user_id, COALESCE(u.email, ''), p.rev, p.cost, p.stories
		FROM (SELECT user_id, sum(rev)::bigint AS rev, sum(cost)::bigint AS cost, sum(stories)::bigint AS stories
		      FROM (SELECT user_id, revenue_cents AS rev, cost, stories_created AS stories, api_calls + pay_events AS n
		            FROM user_month WHERE month BETWEEN $1 AND $2
		            UNION ALL
		            SELECT user_id, revenue_cents, cost, stories_created, api_calls + pay_events
		            FROM user_activity WHERE day BETWEEN $3 AND $4 OR day BETWEEN $5 AND $6) x
		      GROUP BY user_id HAVING sum(n) > 0) p
		LEFT JOIN users u ON u.user_id = p.user_id`,
			sp.FirstMonth, sp.LastMonth, int32(sp.Before.Start), int32(sp.Before.End), int32(sp.After.Start), int32(sp.After.End))
		var err error
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.UserEconomicsRow, error) {
			var u analytics.UserEconomicsRow
			var cost int64
			err := row.Scan(&u.UserID, &u.Email, &u.RevenueCents, &cost, &u.Stories)
			u.Cost = analytics.Micros(cost)
			return u, err
		})
		return err
	})
	return out, err
}

// Stories returns the stories whose day lies inside r.
func (s *Store) Stories(ctx context.Context, r analytics.Range) ([]analytics.StoryRow, error) {
	rows, _ := s.pool.Query(ctx, `SELECT story_id, user_id, day, events, created, completed, failed, chapters,
		audio_ms, anthropic_cost, elevenlabs_cost, s3_cost FROM stories WHERE day BETWEEN $1 AND $2`, int32(r.Start), int32(r.End))
	return pgx.CollectRows(rows, scanStory)
}

// periodSQL is analytics.CohortPeriodOf of an integer day expression: for
// weeks floor((day + 3) / 7) in integer arithmetic (PostgreSQL's / truncates
// toward zero, so the remainder is made non-negative first), for months
// MonthOf.
func periodSQL(col string, g analytics.Granularity) string {
	if g == analytics.GranularityMonth {
		// date_part (double precision, exact for these small integers) is
		// several times faster than extract (numeric) over a million rows.
		return fmt.Sprintf(`(date_part('year', DATE '1970-01-01' + %[1]s) * 12 + date_part('month', DATE '1970-01-01' + %[1]s) - 1)::integer`, col)
	}
	return fmt.Sprintf(`((%[1]s + 3 - (((%[1]s + 3) %% 7) + 7) %% 7) / 7)`, col)
}

// CohortSizes counts the users whose first signup day lies in [from, end]
// by the period of that day (index users_by_signup_day).
func (s *Store) CohortSizes(ctx context.Context, from, end analytics.Day, g analytics.Granularity) (map[int32]int64, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+periodSQL("signup_day", g)+`, count(*) FROM users
		WHERE signup_day BETWEEN $1 AND $2 GROUP BY 1`, int32(from), int32(end))
	out := map[int32]int64{}
	var c int32
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&c, &n}, func() error {
		out[c] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CohortCells sums the cohorts' user-days by cohort and period, through
// end. A user counts in a period once, on their first active day of it:
// the day whose prev_day (the user's previous active day) lies in an earlier
// period, or that has none. So the cells are one aggregate over the
// cohorts' user-days, without a count(DISTINCT) or a per-user grouping.
// Months before the one containing end come from user_month (one row per
// active user-month, already summed); weeks, and the last month, from
// user_activity. Every cohort starts on or after from (a period start),
// which bounds the days and months read.
func (s *Store) CohortCells(ctx context.Context, from, end analytics.Day, g analytics.Granularity) ([]analytics.CohortCell, error) {
	cohort := periodSQL("u.signup_day", g)
	var q string
	var args []any
	if g == analytics.GranularityMonth {
		last := analytics.MonthOf(end)
		lastStart, _ := analytics.MonthDays(last)
		q = `SELECT ` + cohort + `, m.month, count(*), sum(m.revenue_cents)::bigint, sum(m.cost)::bigint
		FROM users u JOIN user_month m ON m.user_id = u.user_id
		WHERE u.signup_day BETWEEN $1 AND $2 AND m.month BETWEEN $3::int4 AND $4::int4 - 1 AND m.month >= ` + cohort + `
		GROUP BY 1, 2
		UNION ALL
		SELECT ` + cohort + `, $4::int4, count(*) FILTER (WHERE a.prev_day IS NULL OR a.prev_day < $5::int4),
			sum(a.revenue_cents)::bigint, sum(a.cost)::bigint
		FROM users u JOIN user_activity a ON a.user_id = u.user_id
		WHERE u.signup_day BETWEEN $1 AND $2 AND a.day BETWEEN $5::int4 AND $2
		GROUP BY 1`
		args = []any{int32(from), int32(end), analytics.MonthOf(from), last, int32(max(lastStart, from))}
	} else {
		week, prevWeek := periodSQL("a.day", g), periodSQL("a.prev_day", g)
		q = `SELECT ` + cohort + `, ` + week + `, count(*) FILTER (WHERE a.prev_day IS NULL OR ` + prevWeek + ` <> ` + week + `),
			sum(a.revenue_cents)::bigint, sum(a.cost)::bigint
		FROM users u JOIN user_activity a ON a.user_id = u.user_id
		WHERE u.signup_day BETWEEN $1 AND $2 AND a.day BETWEEN $1 AND $2 AND a.day >= ` + cohort + ` * 7 - 3
		GROUP BY 1, 2`
		args = []any{int32(from), int32(end)}
	}
	var out []analytics.CohortCell
	err := s.readNoJIT(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, q, args...)
		var err error
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.CohortCell, error) {
			var c analytics.CohortCell
			var cost int64
			err := row.Scan(&c.Cohort, &c.Period, &c.Users, &c.RevenueCents, &cost)
			c.Cost = analytics.Micros(cost)
			return c, err
		})
		return err
	})
	return out, err
}

// readNoJIT runs f in a read-only transaction with JIT compilation off: the
// economics reads aggregate a few million rollup rows, which PostgreSQL's
// cost model deems worth compiling, and the compilation takes longer than
// it saves (hundreds of milliseconds per query).
func (s *Store) readNoJIT(ctx context.Context, f func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		return f(tx)
	})
}

// UnattributedUsers counts the users active inside r (whole months from
// user_month, the edge days from user_activity) with no row in users. The
// anti-join comes first, so only the unattributed users' rows are made
// distinct.
func (s *Store) UnattributedUsers(ctx context.Context, r analytics.Range) (int64, error) {
	sp := analytics.SplitByMonth(r)
	var n int64
	err := s.readNoJIT(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM (
				SELECT m.user_id FROM user_month m WHERE m.month BETWEEN $1 AND $2
					AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = m.user_id)
				UNION ALL
				SELECT a.user_id FROM user_activity a WHERE (a.day BETWEEN $3 AND $4 OR a.day BETWEEN $5 AND $6)
					AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = a.user_id)) x`,
			sp.FirstMonth, sp.LastMonth, int32(sp.Before.Start), int32(sp.Before.End), int32(sp.After.Start), int32(sp.After.End)).Scan(&n)
	})
	return n, err
}

// storyCostSQL is a story row's total cost.
const storyCostSQL = `(anthropic_cost + elevenlabs_cost + s3_cost)`

// storyBucketSQL is analytics.StoryCostBucket of a cost expression: the
// number of bucket lower bounds at or below it, less one (a binary search
// of the bounds; costs below zero share bucket 0).
var storyBucketSQL = func() string {
	var bounds []string
	for b := int32(0); ; b++ {
		lo, hi := analytics.StoryBucketBounds(b)
		bounds = append(bounds, fmt.Sprint(int64(lo)))
		if hi <= lo || analytics.StoryCostBucket(analytics.Micros(math.MaxInt64)) == b {
			break
		}
	}
	return `GREATEST(width_bucket(%s, '{` + strings.Join(bounds, ",") + `}'::bigint[]) - 1, 0)`
}()

// storyStatusSQL is analytics.StoryRow.Status.
const storyStatusSQL = `CASE WHEN completed > 0 THEN 'completed' WHEN failed > 0 THEN 'failed' ELSE 'in_progress' END`

// StorySummary sums the stories of r by status, and counts the completed
// ones by cost bucket, in one snapshot.
func (s *Store) StorySummary(ctx context.Context, r analytics.Range) (analytics.StorySummary, error) {
	sum := analytics.StorySummary{ByStatus: map[analytics.StoryStatus]analytics.StoryStat{}, Buckets: map[int32]int64{}}
	err := s.readNoJIT(ctx, func(tx pgx.Tx) error {
		return storySummary(ctx, tx, r, &sum)
	})
	return sum, err
}

func storySummary(ctx context.Context, tx pgx.Tx, r analytics.Range, sum *analytics.StorySummary) error {
	rows, _ := tx.Query(ctx, `SELECT `+storyStatusSQL+`, NULL::integer, count(*), sum(`+storyCostSQL+`)::bigint,
			COALESCE(sum(audio_ms) FILTER (WHERE completed > 0), 0)::bigint
		FROM stories WHERE day BETWEEN $1 AND $2 GROUP BY 1
		UNION ALL
		SELECT NULL, `+fmt.Sprintf(storyBucketSQL, storyCostSQL)+`, count(*), 0, 0
		FROM stories WHERE day BETWEEN $1 AND $2 AND completed > 0 GROUP BY 2`, int32(r.Start), int32(r.End))
	var status *string
	var bucket *int32
	var n, cost, audio int64
	_, err := pgx.ForEachRow(rows, []any{&status, &bucket, &n, &cost, &audio}, func() error {
		if status != nil {
			sum.ByStatus[analytics.StoryStatus(*status)] = analytics.StoryStat{Stories: n, Cost: analytics.Micros(cost), AudioMillis: audio}
		} else if bucket != nil {
			sum.Buckets[*bucket] = n
		}
		return nil
	})
	return err
}

// CompletedStoryCost reads the cost at offset (ascending) among the
// completed stories of r in a cost bucket.
func (s *Store) CompletedStoryCost(ctx context.Context, r analytics.Range, bucket int32, offset int64) (analytics.Micros, error) {
	lo, hi := analytics.StoryBucketBounds(bucket)
	if bucket == 0 {
		lo = math.MinInt64 // bucket 0 also holds negative costs
	}
	var c int64
	err := s.pool.QueryRow(ctx, `SELECT `+storyCostSQL+` AS c FROM stories
		WHERE day BETWEEN $1 AND $2 AND completed > 0 AND `+storyCostSQL+` >= $3 AND `+storyCostSQL+` < $4
		ORDER BY c LIMIT 1 OFFSET $5`, int32(r.Start), int32(r.End), int64(lo), int64(hi), offset).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("completed story %d of bucket %d: %w", offset, bucket, err)
	}
	return analytics.Micros(c), nil
}

// TopStories returns the n most expensive stories of r, ties by story id.
func (s *Store) TopStories(ctx context.Context, r analytics.Range, n int) ([]analytics.StoryRow, error) {
	rows, _ := s.pool.Query(ctx, `SELECT story_id, user_id, day, events, created, completed, failed, chapters,
		audio_ms, anthropic_cost, elevenlabs_cost, s3_cost FROM stories WHERE day BETWEEN $1 AND $2
		ORDER BY `+storyCostSQL+` DESC, story_id LIMIT $3`, int32(r.Start), int32(r.End), n)
	return pgx.CollectRows(rows, scanStory)
}

func scanStory(row pgx.CollectableRow) (analytics.StoryRow, error) {
	var st analytics.StoryRow
	var day int32
	var an, el, s3 int64
	err := row.Scan(&st.StoryID, &st.UserID, &day, &st.Events, &st.Created, &st.Completed, &st.Failed,
		&st.Chapters, &st.AudioMillis, &an, &el, &s3)
	st.Day, st.AnthropicCost, st.ElevenLabsCost, st.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
	return st, err
}
