package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// rollup describes one derived table: its compared columns and the query
// that aggregates it afresh (the same columns, in order). Rebuild fills the
// table from fresh; Verify compares the two. A fresh query may read other
// rollups, named {user_activity}, {users} or {stories}: Rebuild reads the
// tables it has just refilled (they come earlier in rollups), Verify their
// own fresh aggregates, so every rollup is compared with the events.
type rollup struct {
	table string
	cols  string
	where string // rows that count (active_spans keeps zero rows after relinking)
	fresh string
}

// freshSQL is r.fresh with the rollups it reads replaced: by their tables
// (fromTables, for Rebuild) or by their fresh aggregates (for Verify).
func (r rollup) freshSQL(fromTables bool) string {
	q := r.fresh
	for _, b := range rollups {
		name := "{" + b.table + "}"
		if !strings.Contains(q, name) {
			continue
		}
		with := b.table
		if !fromTables {
			with = fmt.Sprintf("(SELECT * FROM (%s) f(%s))", b.freshSQL(false), b.cols)
		}
		q = strings.ReplaceAll(q, name, with)
	}
	return q
}

// The fresh queries mirror the ingest's deltas (analytics.BuildRollupDelta):
// a user-day exists for every live event with a user, only api_call events
// carry costs, and so on; voided events and the voids themselves count
// nowhere. Sums are cast back to bigint (sum(bigint) is numeric).
var rollups = []rollup{
	{
		table: "user_activity",
		cols:  "user_id, day, prev_day, events, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events",
		fresh: `SELECT user_id, day, LAG(day) OVER (PARTITION BY user_id ORDER BY day), n, s, a, au, c, r, p FROM (
			SELECT user_id, day, count(*) AS n,
				count(*) FILTER (WHERE type = 'story_created') AS s,
				count(*) FILTER (WHERE type = 'api_call') AS a,
				COALESCE(sum(audio_ms) FILTER (WHERE type = 'story_completed'), 0)::bigint AS au,
				COALESCE(sum(cost) FILTER (WHERE type = 'api_call'), 0)::bigint AS c,
				` + revenueSQL + ` AS r,
				` + payEventsSQL + ` AS p
			FROM events WHERE user_id <> '' AND ` + live + ` GROUP BY user_id, day) g`,
	},
	{
		table: "user_month",
		cols:  "user_id, month, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events",
		fresh: `SELECT user_id, ` + monthOfDay("day") + `,
				count(*) FILTER (WHERE type = 'story_created'),
				count(*) FILTER (WHERE type = 'api_call'),
				COALESCE(sum(audio_ms) FILTER (WHERE type = 'story_completed'), 0)::bigint,
				COALESCE(sum(cost) FILTER (WHERE type = 'api_call'), 0)::bigint,
				` + revenueSQL + `,
				` + payEventsSQL + `
			FROM events WHERE user_id <> '' AND ` + live + ` GROUP BY 1, 2`,
	},
	{
		table: "user_totals",
		cols:  "user_id, events, stories_created, api_calls, pay_events, revenue_cents, cost",
		fresh: `SELECT user_id, count(*),
				count(*) FILTER (WHERE type = 'story_created'),
				count(*) FILTER (WHERE type = 'api_call'),
				` + payEventsSQL + `,
				` + revenueSQL + `,
				COALESCE(sum(cost) FILTER (WHERE type = 'api_call'), 0)::bigint
			FROM events WHERE user_id <> '' AND ` + live + ` GROUP BY user_id`,
	},
	{
		table: "stories",
		cols:  storyColumns,
		fresh: fmt.Sprintf(storiesFreshSQL, "", ""),
	},
	{
		table: "daily_metrics",
		cols:  dailyColumns,
		fresh: `SELECT day,
				count(*) FILTER (WHERE type = 'user_signup'),
				count(DISTINCT NULLIF(user_id, '')),
				count(*) FILTER (WHERE type = 'user_churned'),
				count(*) FILTER (WHERE type = 'story_created'),
				count(*) FILTER (WHERE type = 'story_completed'),
				count(*) FILTER (WHERE type = 'story_failed'),
				COALESCE(sum(chapters) FILTER (WHERE type = 'story_completed'), 0)::bigint,
				COALESCE(sum(audio_ms) FILTER (WHERE type = 'story_completed'), 0)::bigint,
				count(*) FILTER (WHERE type = 'api_call'),
				count(*) FILTER (WHERE type = 'api_call' AND status = 'error'),
				count(*) FILTER (WHERE type = 'api_call' AND NOT priced),
				COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 'anthropic'), 0)::bigint,
				COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 'elevenlabs'), 0)::bigint,
				COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 's3'), 0)::bigint,
				COALESCE(sum(amount_cents) FILTER (WHERE type = 'payment'), 0)::bigint,
				COALESCE(sum(amount_cents) FILTER (WHERE type = 'refund'), 0)::bigint
			FROM events WHERE ` + live + ` GROUP BY day`,
	},
	{
		table: "active_spans",
		cols:  "day, prev_day, users",
		where: "users <> 0",
		fresh: `SELECT day, COALESCE(prev_day, -1), count(*) FROM (
				SELECT day, LAG(day) OVER (PARTITION BY user_id ORDER BY day) AS prev_day
				FROM (SELECT DISTINCT user_id, day FROM events WHERE user_id <> '' AND ` + live + `) ud) l
			GROUP BY 1, 2`,
	},
	{
		table: "cost_daily",
		cols: `day, service, model, operation, price_ref, calls, errors, unpriced_calls, input_tokens, output_tokens,
			cache_write_tokens, cache_read_tokens, characters, bytes_transferred, requests, cost`,
		fresh: `SELECT day, service, model, operation, price_ref, count(*),
				count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE NOT priced),
				sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cache_write_tokens)::bigint,
				sum(cache_read_tokens)::bigint, sum(characters)::bigint, sum(bytes_transferred)::bigint,
				sum(requests)::bigint, sum(cost)::bigint
			FROM events WHERE type = 'api_call' AND voided_by IS NULL GROUP BY day, service, model, operation, price_ref`,
	},
	{
		table: "users",
		cols:  "user_id, email, signup_ts, signup_day",
		fresh: `SELECT DISTINCT ON (user_id) user_id, email, ts, day FROM events
			WHERE type = 'user_signup' AND voided_by IS NULL ORDER BY user_id, ts, email`,
	},
	{
		table: "story_daily",
		cols:  "day, status, stories, cost, audio_ms",
		fresh: `SELECT day, ` + storyStatusSQL + `, count(*), sum(` + storyCostSQL + `)::bigint,
				COALESCE(sum(audio_ms) FILTER (WHERE completed > 0), 0)::bigint
			FROM {stories} s GROUP BY 1, 2`,
	},
	{
		table: "story_buckets",
		cols:  "day, bucket, stories",
		fresh: `SELECT day, ` + fmt.Sprintf(storyBucketSQL, storyCostSQL) + `, count(*) FROM {stories} s WHERE completed > 0 GROUP BY 1, 2`,
	},
	{
		table: "cohort_days",
		cols:  "granularity, cohort, day, firsts, revenue_cents, cost",
		fresh: cohortDaysFresh(analytics.GranularityWeek) + "\n\t\tUNION ALL\n" + cohortDaysFresh(analytics.GranularityMonth),
	},
	{
		table: "unsigned_users",
		cols:  "user_id",
		fresh: `SELECT DISTINCT a.user_id FROM {user_activity} a WHERE NOT EXISTS (SELECT 1 FROM {users} u WHERE u.user_id = a.user_id)`,
	},
}

// cohortDaysFresh aggregates cohort_days of one granularity from the
// user-days of the users with a signup: on each day of a period from the
// user's cohort on, its revenue and cost and, when it is the user's first
// active day of the period (the previous one lies in an earlier period),
// one first. Rows that sum to nothing are left out.
func cohortDaysFresh(g analytics.Granularity) string {
	return fmt.Sprintf(`SELECT '%s'::text, c, day, f, r, k FROM (
			SELECT %s AS c, a.day, count(*) FILTER (WHERE a.prev_day IS NULL OR %s <> %s) AS f,
				sum(a.revenue_cents)::bigint AS r, sum(a.cost)::bigint AS k
			FROM {user_activity} a JOIN {users} u ON u.user_id = a.user_id
			WHERE %s >= %s GROUP BY 1, 2) w
		WHERE (f, r, k) <> (0, 0, 0)`, g, periodSQL("u.signup_day", g), periodSQL("a.prev_day", g), periodSQL("a.day", g),
		periodSQL("a.day", g), periodSQL("u.signup_day", g))
}

// storyCostSQL is a story's cost from its parts (as the generated column
// cost, which a fresh aggregate of stories does not have).
const storyCostSQL = `(anthropic_cost + elevenlabs_cost + s3_cost)`

// live selects the events that count: not voided, and not voids themselves.
const live = `voided_by IS NULL AND type <> 'event_voided'`

// revenueSQL and payEventsSQL aggregate a group of live events into the
// user rollups' revenue_cents (payments − refunds) and pay_events.
const (
	revenueSQL   = `COALESCE(sum(CASE WHEN type = 'payment' THEN amount_cents WHEN type = 'refund' THEN -amount_cents END), 0)::bigint`
	payEventsSQL = `count(*) FILTER (WHERE type IN ('payment', 'refund'))`
)

// monthOfDay is analytics.MonthOf of a day column.
func monthOfDay(col string) string {
	return fmt.Sprintf(`(extract(year FROM DATE '1970-01-01' + %[1]s) * 12 + extract(month FROM DATE '1970-01-01' + %[1]s) - 1)::integer`, col)
}

// storyColumns are the stories table's columns, in storiesFreshSQL's order.
const storyColumns = `story_id, user_id, anchor_rank, anchor_ts, day, events, created, completed, failed, chapters, audio_ms,
	anthropic_cost, elevenlabs_cost, s3_cost`

// storiesFreshSQL aggregates the stories of the live events (as migration
// 060 does): each story's anchor, the smallest (rank, ts, user_id) with rank
// 0 for story_created and 1 for the other story events, gives its user and
// day; the sums cover every live story event whatever its day (cost, their
// sum, is a generated column). Both %s take the same extra filter (see
// recomputeStoriesSQL).
const storiesFreshSQL = `SELECT a.story_id, a.user_id, a.anchor_rank, a.ts, a.day, g.n, g.cr, g.co, g.fa, g.ch, g.au, g.an, g.el, g.s3
	FROM (SELECT DISTINCT ON (story_id) story_id, user_id, (type <> 'story_created')::integer::bigint AS anchor_rank, ts, day
	      FROM events WHERE story_id <> '' AND voided_by IS NULL
	          AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')%s
	      ORDER BY story_id, type <> 'story_created', ts, user_id) a
	JOIN (SELECT story_id, count(*) AS n,
	             count(*) FILTER (WHERE type = 'story_created') AS cr,
	             count(*) FILTER (WHERE type = 'story_completed') AS co,
	             count(*) FILTER (WHERE type = 'story_failed') AS fa,
	             COALESCE(sum(chapters) FILTER (WHERE type = 'story_completed'), 0)::bigint AS ch,
	             COALESCE(sum(audio_ms) FILTER (WHERE type = 'story_completed'), 0)::bigint AS au,
	             COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 'anthropic'), 0)::bigint AS an,
	             COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 'elevenlabs'), 0)::bigint AS el,
	             COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 's3'), 0)::bigint AS s3
	      FROM events WHERE story_id <> '' AND voided_by IS NULL
	          AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')%s
	      GROUP BY story_id) g ON g.story_id = a.story_id`

// Rebuild recomputes every rollup from events in one transaction. With a
// zone other than the stored one, every event's day is recomputed first, in
// SQL. Ingests on every replica wait meanwhile (the transaction holds
// event_ids exclusively, which every ingest writes first); reads go on and
// see the old rollups until the commit.
func (s *Store) Rebuild(ctx context.Context, loc *time.Location) error {
	if loc == nil {
		loc = s.Location()
	}
	if err := s.checkZone(ctx, loc); err != nil {
		return err
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE event_ids IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		stored, err := s.storedZone(ctx, tx)
		if err != nil {
			return err
		}
		if loc.String() != stored {
			if _, err := tx.Exec(ctx, `UPDATE events SET day = (ts AT TIME ZONE $1)::date - DATE '1970-01-01'`, loc.String()); err != nil {
				return fmt.Errorf("re-bucket events: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'timezone'`, loc.String()); err != nil {
				return err
			}
		}
		for _, r := range rollups {
			if _, err := tx.Exec(ctx, `DELETE FROM `+r.table); err != nil {
				return fmt.Errorf("clear %s: %w", r.table, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+r.table+` (`+r.cols+`) `+r.freshSQL(true)); err != nil {
				return fmt.Errorf("rebuild %s: %w", r.table, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.loc.Store(loc)
	return nil
}

// checkZone makes sure PostgreSQL buckets days in loc as Go does (ingest
// computes events.day in Go, Rebuild in SQL): the zone must be known to
// both, mean the same (PostgreSQL reads "+02:00" as a POSIX zone, west of
// Greenwich) and have the same rules, probed around every midnight UTC of the
// first of the month over the last years.
func (s *Store) checkZone(ctx context.Context, loc *time.Location) error {
	var probes []time.Time
	start := monthStart(monthIndex(s.now()) - 36)
	for m := 0; m <= 38; m++ {
		t := start.AddDate(0, m, 0)
		probes = append(probes, t.Add(-90*time.Minute), t.Add(90*time.Minute), t.Add(11*time.Hour))
	}
	rows, _ := s.pool.Query(ctx, `SELECT (t AT TIME ZONE $2)::date - DATE '1970-01-01' FROM unnest($1::timestamptz[]) AS t`,
		probes, loc.String())
	days, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22023" {
		return analytics.Errorf(analytics.KindInvalid, "time zone %q is unknown to PostgreSQL", loc.String())
	}
	if err != nil {
		return err
	}
	for i, t := range probes {
		if want := analytics.DayOf(t, loc); analytics.Day(days[i]) != want {
			return analytics.Errorf(analytics.KindInvalid,
				"PostgreSQL puts %s on %s in time zone %q, Go on %s: use an IANA zone name known to both",
				t.Format(time.RFC3339), analytics.Day(days[i]), loc.String(), want)
		}
	}
	return nil
}

// Verify aggregates every rollup afresh and reports each row that differs
// from the stored one (at most 20 per table and side). It reads one snapshot
// (REPEATABLE READ), so ingests running meanwhile cannot make it see half a
// batch.
func (s *Store) Verify(ctx context.Context) ([]string, error) {
	var diffs []string
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, r := range rollups {
			where := ""
			if r.where != "" {
				where = " WHERE " + r.where
			}
			q := fmt.Sprintf(`WITH stored AS MATERIALIZED (SELECT %s FROM %s%s), fresh AS MATERIALIZED (%s)
				(SELECT 'stored but not in a fresh aggregate'::text, * FROM (TABLE stored EXCEPT TABLE fresh) a LIMIT 20)
				UNION ALL
				(SELECT 'in a fresh aggregate but not stored'::text, * FROM (TABLE fresh EXCEPT TABLE stored) b LIMIT 20)`,
				r.cols, r.table, where, r.freshSQL(false))
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return fmt.Errorf("compare %s: %w", r.table, err)
			}
			cols := strings.Split(r.cols, ",")
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					rows.Close()
					return err
				}
				parts := make([]string, len(cols))
				for i, c := range cols {
					parts[i] = fmt.Sprintf("%s=%v", strings.TrimSpace(c), vals[i+1])
				}
				diffs = append(diffs, fmt.Sprintf("%s row %s: %s", r.table, vals[0], strings.Join(parts, " ")))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("compare %s: %w", r.table, err)
			}
		}
		bad, err := outOfBounds(ctx, tx)
		diffs = append(diffs, bad...)
		return err
	})
	return diffs, err
}

// outOfBounds names live events stored before the bounds existed with a
// field above its bound; voiding them repairs every figure.
func outOfBounds(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, _ := tx.Query(ctx, `SELECT id, type FROM events WHERE `+analytics.BoundsViolationSQL()+` ORDER BY id LIMIT 20`)
	var out []string
	var id, typ string
	_, err := pgx.ForEachRow(rows, []any{&id, &typ}, func() error {
		out = append(out, fmt.Sprintf("event %q (%s) has a field above its bound (see the README's event bounds); take it out with: codestory-analytics void --id %q --reason \"out of bounds\"", id, typ, id))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check event bounds: %w", err)
	}
	return out, nil
}
