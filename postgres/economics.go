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
// recomputed from their live events instead. Every touched story is locked
// first, in the first round trip (lockStoriesSQL: a placeholder row for one
// that has none), in story id order, so a concurrent upsert or recompute of
// the same story waits for this transaction and vice versa; a recompute
// then
//
//  1. deletes the rows;
//  2. re-inserts them from the live events. Each statement takes a fresh
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
		b.Queue(deleteStoriesSQL, redo)
		b.Queue(recomputeStoriesSQL, redo)
		n += 2
	}
	return n
}

// UserEconomics sums every user's revenue, cost and stories inside r, as
// analytics.PlanEconomics chooses: from the whole months and edge days
// inside r, or from user_totals less the months and days outside r, in one
// snapshot.
func (s *Store) UserEconomics(ctx context.Context, r analytics.Range) ([]analytics.UserEconomicsRow, error) {
	var out []analytics.UserEconomicsRow
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		// The sums group up to every user of the data (140,000 on the
		// scale set): with the default 4 MB the hash spilled to disk in
		// five batches. The planner cannot see how many users a UNION
		// groups to (it guesses 200), and its parallel plan (partial
		// hashes, a sort, a merge) took twice as long as one hash.
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'; SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		var inside, outside int64
		var first, last *int32
		if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(active_users) FILTER (WHERE day BETWEEN $1 AND $2), 0)::bigint,
			COALESCE(sum(active_users) FILTER (WHERE day NOT BETWEEN $1 AND $2), 0)::bigint, min(day), max(day)
			FROM daily_metrics`, int32(r.Start), int32(r.End)).Scan(&inside, &outside, &first, &last); err != nil {
			return fmt.Errorf("user-days of the range: %w", err)
		}
		if inside == 0 {
			return nil
		}
		plan := analytics.PlanEconomics(r, analytics.Day(*first), analytics.Day(*last), inside, outside)
		if !plan.FromTotals {
			sums, err := sumUsers(ctx, tx, analytics.PartsOf(r))
			out = analytics.SubtractEconomics(sums, nil)
			return err
		}
		// Sized first: growing the slice row by row cost more than the scan.
		var users int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM user_totals`).Scan(&users); err != nil {
			return fmt.Errorf("user totals: %w", err)
		}
		rows, _ := tx.Query(ctx, `SELECT user_id, revenue_cents, cost, stories_created, api_calls + pay_events FROM user_totals`)
		totals, err := pgx.AppendRows(make([]analytics.UserEconomicsRow, 0, users), rows, scanUserSums)
		if err != nil {
			return fmt.Errorf("user totals: %w", err)
		}
		outs := map[string]analytics.UserEconomicsRow{}
		if len(plan.Outside) > 0 {
			sums, err := sumUsers(ctx, tx, analytics.PartsOf(plan.Outside...))
			if err != nil {
				return err
			}
			for _, u := range sums {
				outs[u.UserID] = u
			}
		}
		out = analytics.SubtractEconomics(totals, outs)
		return nil
	})
	return out, err
}

// sumUsers sums each user's rows of the groups (a Minus group subtracted).
func sumUsers(ctx context.Context, tx pgx.Tx, groups []analytics.PartGroup) ([]analytics.UserEconomicsRow, error) {
	q, args := userSumsSQL(groups)
	if q == "" {
		return nil, nil
	}
	rows, _ := tx.Query(ctx, q, args...)
	sums, err := pgx.CollectRows(rows, scanUserSums)
	if err != nil {
		return nil, fmt.Errorf("user sums: %w", err)
	}
	return sums, nil
}

// userSumsSQL is sumUsers's query ("" for no groups): each group's rows read
// from the covering index of its table (migration 063), grouped by user.
func userSumsSQL(groups []analytics.PartGroup) (string, []any) {
	var parts []string
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, g := range groups {
		table, col, typ, sign := "user_activity", "day", "int4", ""
		if g.Monthly {
			table, col = "user_month", "month"
		}
		if g.Minus {
			sign = "-"
		}
		// One branch per span, not an OR of them (which PostgreSQL reads
		// as a bitmap of heap pages); the spans are disjoint.
		for _, b := range g.Bounds {
			parts = append(parts, fmt.Sprintf(`SELECT user_id, %[1]srevenue_cents AS rev, %[1]scost AS cost,
			%[1]sstories_created AS stories, %[1]s(api_calls + pay_events) AS n FROM %[2]s WHERE %[3]s BETWEEN %[4]s::%[6]s AND %[5]s::%[6]s`,
				sign, table, col, param(b[0]), param(b[1]), typ))
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return `SELECT user_id, sum(rev)::bigint, sum(cost)::bigint, sum(stories)::bigint, sum(n)::bigint
		FROM (` + strings.Join(parts, " UNION ALL ") + `) x GROUP BY user_id`, args
}

// scanUserSums reads a (user_id, revenue, cost, stories, calls) row.
func scanUserSums(row pgx.CollectableRow) (analytics.UserEconomicsRow, error) {
	var u analytics.UserEconomicsRow
	var cost int64
	err := row.Scan(&u.UserID, &u.RevenueCents, &cost, &u.Stories, &u.Calls)
	u.Cost = analytics.Micros(cost)
	return u, err
}

// UserEmails returns the email of each given user that has signed up.
func (s *Store) UserEmails(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	rows, _ := s.pool.Query(ctx, `SELECT user_id, email FROM users WHERE user_id = ANY($1::text[])`, ids)
	var id, email string
	_, err := pgx.ForEachRow(rows, []any{&id, &email}, func() error {
		out[id] = email
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("user emails: %w", err)
	}
	return out, nil
}

// Stories calls each for the stories whose day lies inside r, the most
// expensive first (the plan of TopStories, unlimited), as pgx reads them.
func (s *Store) Stories(ctx context.Context, r analytics.Range, each func(analytics.StoryRow) error) error {
	rows, err := s.storiesByCost(ctx, r, nil)
	if err != nil || rows == nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanStory(rows)
		if err != nil {
			return err
		}
		if err := each(st); err != nil {
			return err
		}
	}
	return rows.Err()
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

// CohortCells sums cohort_days by cohort and period, through end. The
// users of the last cohort who signed up after end (but in its period) are
// taken out again: for them nothing counts. Both reads share one snapshot.
func (s *Store) CohortCells(ctx context.Context, from, end analytics.Day, g analytics.Granularity) ([]analytics.CohortCell, error) {
	first, last := analytics.CohortPeriodOf(from, g), analytics.CohortPeriodOf(end, g)
	lastStart, lastEnd := analytics.CohortPeriodStart(last, g), analytics.CohortPeriodStart(last+1, g)-1
	var out []analytics.CohortCell
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT cohort, `+periodSQL("day", g)+`, sum(firsts)::bigint, sum(revenue_cents)::bigint,
				sum(cost)::bigint
			FROM cohort_days WHERE granularity = $1 AND cohort BETWEEN $2 AND $3 AND day <= $4 GROUP BY 1, 2`,
			string(g), first, last, int32(end))
		var err error
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.CohortCell, error) {
			var c analytics.CohortCell
			var cost int64
			err := row.Scan(&c.Cohort, &c.Period, &c.Users, &c.RevenueCents, &cost)
			c.Cost = analytics.Micros(cost)
			return c, err
		})
		if err != nil {
			return fmt.Errorf("cohort days: %w", err)
		}
		if end == lastEnd || last < first {
			return nil
		}
		at := -1
		for i, c := range out {
			if c.Cohort == last && c.Period == last {
				at = i
			}
		}
		// Few users signed up after end: find them by signup day, then
		// their days through the primary key.
		rows, _ = tx.Query(ctx, `SELECT sum(a.revenue_cents)::bigint, sum(a.cost)::bigint
			FROM users u JOIN user_activity a ON a.user_id = u.user_id AND a.day BETWEEN $1 AND $2
			WHERE u.signup_day > $2 AND u.signup_day <= $3 GROUP BY u.user_id`, int32(lastStart), int32(end), int32(lastEnd))
		var rev, cost int64
		_, err = pgx.ForEachRow(rows, []any{&rev, &cost}, func() error {
			if at < 0 {
				return fmt.Errorf("cohort %d has a late signup's activity but no row", last)
			}
			out[at].Users--
			out[at].RevenueCents -= rev
			out[at].Cost -= analytics.Micros(cost)
			return nil
		})
		if err != nil {
			return fmt.Errorf("late signups of the last cohort: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return analytics.NonEmptyCells(out), nil
}

// readNoJIT runs f in a read-only transaction with JIT compilation off: the
// economics reads aggregate a few million rollup rows, which PostgreSQL's
// cost model deems worth compiling, and the compilation takes longer than
// it saves (hundreds of milliseconds per query).
func (s *Store) readNoJIT(ctx context.Context, f func(tx pgx.Tx) error) error {
	return s.readTx(ctx, pgx.ReadCommitted, f)
}

// readSnapshot is readNoJIT in one snapshot (REPEATABLE READ, which a
// read-only transaction gets without the risk of serialization failures),
// for reads made of several queries.
func (s *Store) readSnapshot(ctx context.Context, f func(tx pgx.Tx) error) error {
	return s.readTx(ctx, pgx.RepeatableRead, f)
}

func (s *Store) readTx(ctx context.Context, iso pgx.TxIsoLevel, f func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: iso, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		return f(tx)
	})
}

// UnattributedUsers counts the unsigned users active inside r: one probe
// of user_activity's primary key per unsigned user.
func (s *Store) UnattributedUsers(ctx context.Context, r analytics.Range) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE (SELECT 1 FROM user_activity a
			WHERE a.user_id = u.user_id AND a.day BETWEEN $1 AND $2 LIMIT 1) IS NOT NULL)
		FROM unsigned_users u`, int32(r.Start), int32(r.End)).Scan(&n)
	return n, err
}

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

// StorySummary sums story_daily and story_buckets over r, in one snapshot.
func (s *Store) StorySummary(ctx context.Context, r analytics.Range) (analytics.StorySummary, error) {
	sum := analytics.StorySummary{ByStatus: map[analytics.StoryStatus]analytics.StoryStat{}, Buckets: map[int32]int64{}}
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT status, NULL::integer, sum(stories)::bigint, sum(cost)::bigint, sum(audio_ms)::bigint
			FROM story_daily WHERE day BETWEEN $1 AND $2 GROUP BY 1
			UNION ALL
			SELECT NULL, bucket, sum(stories)::bigint, 0, 0 FROM story_buckets WHERE day BETWEEN $1 AND $2 GROUP BY 2`,
			int32(r.Start), int32(r.End))
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
	})
	return sum, err
}

// CompletedStoryCost reads the cost at offset (ascending) among the
// completed stories of r in a cost bucket: one bucket's range of the cost
// index, whose day and completed columns filter it without a heap visit.
func (s *Store) CompletedStoryCost(ctx context.Context, r analytics.Range, bucket int32, offset int64) (analytics.Micros, error) {
	lo, hi := analytics.StoryBucketBounds(bucket)
	if bucket == 0 {
		lo = math.MinInt64 // bucket 0 also holds negative costs
	}
	var c int64
	err := s.pool.QueryRow(ctx, `SELECT cost FROM stories
		WHERE cost >= $3 AND cost < $4 AND day BETWEEN $1 AND $2 AND completed > 0
		ORDER BY cost LIMIT 1 OFFSET $5`, int32(r.Start), int32(r.End), int64(lo), int64(hi), offset).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("completed story %d of bucket %d: %w", offset, bucket, err)
	}
	return analytics.Micros(c), nil
}

// topStoriesByDay is the largest range (in stories) whose top stories are
// sorted from the day index rather than read from the top of the cost
// index.
const topStoriesByDay = 20_000

// TopStories returns the n most expensive stories of r, ties by story id.
// When r holds many stories, the cost index is read from the top (day + 0
// keeps the day index out of the plan); when it holds few, they are read by
// day and sorted (cost + 0 keeps the cost index out).
func (s *Store) TopStories(ctx context.Context, r analytics.Range, n int) ([]analytics.StoryRow, error) {
	rows, err := s.storiesByCost(ctx, r, n)
	if err != nil || rows == nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanStory)
}

// storiesByCost queries the first limit (nil: every) stories of r by cost,
// descending, ties by id; no rows and no error when r holds none.
func (s *Store) storiesByCost(ctx context.Context, r analytics.Range, limit any) (pgx.Rows, error) {
	var inRange int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(stories), 0)::bigint FROM story_daily WHERE day BETWEEN $1 AND $2`,
		int32(r.Start), int32(r.End)).Scan(&inRange); err != nil {
		return nil, err
	}
	if inRange == 0 {
		return nil, nil
	}
	q := `SELECT ` + storyRowColumns + ` FROM stories WHERE day + 0 BETWEEN $1 AND $2 ORDER BY cost DESC, story_id LIMIT $3::bigint`
	if inRange < topStoriesByDay {
		q = `SELECT ` + storyRowColumns + ` FROM stories WHERE day BETWEEN $1 AND $2 ORDER BY cost + 0 DESC, story_id LIMIT $3::bigint`
	}
	return s.pool.Query(ctx, q, int32(r.Start), int32(r.End), limit)
}

// storyRowColumns are read into an analytics.StoryRow by scanStory.
const storyRowColumns = `story_id, user_id, day, events, created, completed, failed, chapters, audio_ms,
	anthropic_cost, elevenlabs_cost, s3_cost`

func scanStory(row pgx.CollectableRow) (analytics.StoryRow, error) {
	var st analytics.StoryRow
	var day int32
	var an, el, s3 int64
	err := row.Scan(&st.StoryID, &st.UserID, &day, &st.Events, &st.Created, &st.Completed, &st.Failed,
		&st.Chapters, &st.AudioMillis, &an, &el, &s3)
	st.Day, st.AnthropicCost, st.ElevenLabsCost, st.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
	return st, err
}
