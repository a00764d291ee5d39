package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

// rollup describes one derived table: how to fill it from events and how to
// compare it. {T} in fill is replaced by the target table's name.
type rollup struct {
	table string
	key   string // columns identifying a row, for reports
	cols  string // columns compared by Verify
	where string // rows that count (active_spans keeps zero rows after relinking)
	fill  []string
}

var rollups = []rollup{
	{
		table: "user_activity", key: "user_id, day",
		cols: "user_id, day, prev_day, events, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events",
		fill: []string{`INSERT INTO {T} (user_id, day, prev_day, events, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events)
			SELECT user_id, day, LAG(day) OVER (PARTITION BY user_id ORDER BY day), n, s, a, au, c, r, p FROM (
				SELECT user_id, day, count(*) AS n, SUM(type = 'story_created') AS s, SUM(type = 'api_call') AS a,
					SUM(CASE WHEN type = 'story_completed' THEN audio_ms ELSE 0 END) AS au,
					SUM(CASE WHEN type = 'api_call' THEN cost ELSE 0 END) AS c,
					SUM(CASE WHEN type = 'payment' THEN amount_cents WHEN type = 'refund' THEN -amount_cents ELSE 0 END) AS r,
					SUM(type IN ('payment', 'refund')) AS p
				FROM events WHERE user_id != '' AND ` + live + ` GROUP BY user_id, day)`},
	},
	{
		table: "user_month", key: "user_id, month", cols: "user_id, month, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events",
		fill: []string{`INSERT INTO {T} (user_id, month, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events)
			SELECT user_id, ` + monthOfDay + `, SUM(stories_created), SUM(api_calls), SUM(audio_ms), SUM(cost),
				SUM(revenue_cents), SUM(pay_events)
			FROM {user_activity} GROUP BY 1, 2`},
	},
	{
		table: "user_totals", key: "user_id", cols: "user_id, events, stories_created, api_calls, pay_events, revenue_cents, cost",
		fill: []string{`INSERT INTO {T} (user_id, events, stories_created, api_calls, pay_events, revenue_cents, cost)
			SELECT user_id, SUM(events), SUM(stories_created), SUM(api_calls), SUM(pay_events), SUM(revenue_cents), SUM(cost)
			FROM {user_activity} GROUP BY user_id`},
	},
	{
		table: "stories", key: "story_id",
		cols: `story_id, user_id, anchor_rank, anchor_ts, day, events, created, completed, failed, chapters, audio_ms,
			anthropic_cost, elevenlabs_cost, s3_cost, cost`,
		fill: []string{fmt.Sprintf(storiesFillSQL, "", "")},
	},
	{
		table: "daily_metrics", key: "day", cols: dailyColumns,
		fill: []string{`INSERT INTO {T} (` + dailyColumns + `)
			SELECT day, SUM(type = 'user_signup'), 0, SUM(type = 'user_churned'), SUM(type = 'story_created'),
				SUM(type = 'story_completed'), SUM(type = 'story_failed'), SUM(chapters), SUM(audio_ms),
				SUM(type = 'api_call'), SUM(type = 'api_call' AND status = 'error'), SUM(type = 'api_call' AND priced = 0),
				SUM(CASE WHEN service = 'anthropic' THEN cost ELSE 0 END),
				SUM(CASE WHEN service = 'elevenlabs' THEN cost ELSE 0 END),
				SUM(CASE WHEN service = 's3' THEN cost ELSE 0 END),
				SUM(CASE WHEN type = 'payment' THEN amount_cents ELSE 0 END),
				SUM(CASE WHEN type = 'refund' THEN amount_cents ELSE 0 END)
			FROM events WHERE ` + live + ` GROUP BY day`,
			`UPDATE {T} SET active_users = (SELECT count(*) FROM {user_activity} ua WHERE ua.day = {T}.day)`},
	},
	{
		table: "active_spans", key: "day, prev_day", cols: "day, prev_day, users", where: "users != 0",
		fill: []string{`INSERT INTO {T} (day, prev_day, users)
			SELECT day, COALESCE(prev_day, -1), count(*) FROM {user_activity} GROUP BY 1, 2`},
	},
	{
		table: "cost_daily", key: "day, service, model, operation, price_ref",
		cols: `day, service, model, operation, price_ref, calls, errors, unpriced_calls, input_tokens, output_tokens,
			cache_write_tokens, cache_read_tokens, characters, bytes_transferred, requests, cost`,
		fill: []string{`INSERT INTO {T} (day, service, model, operation, price_ref, calls, errors, unpriced_calls, input_tokens,
				output_tokens, cache_write_tokens, cache_read_tokens, characters, bytes_transferred, requests, cost)
			SELECT day, service, model, operation, price_ref, count(*), SUM(status = 'error'), SUM(priced = 0), SUM(input_tokens),
				SUM(output_tokens), SUM(cache_write_tokens), SUM(cache_read_tokens), SUM(characters),
				SUM(bytes_transferred), SUM(requests), SUM(cost)
			FROM events WHERE type = 'api_call' AND voided_by IS NULL GROUP BY day, service, model, operation, price_ref`},
	},
	{
		table: "users", key: "user_id", cols: "user_id, email, signup_ts, signup_day",
		fill: []string{`INSERT INTO {T} (user_id, email, signup_ts, signup_day)
			SELECT user_id, email, ts, day FROM (
				SELECT user_id, email, ts, day, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts, email) AS rn
				FROM events WHERE type = 'user_signup' AND voided_by IS NULL) WHERE rn = 1`},
	},
	{
		table: "story_daily", key: "day, status", cols: "day, status, stories, cost, audio_ms",
		fill: []string{`INSERT INTO {T} (day, status, stories, cost, audio_ms)
			SELECT day, ` + storyStatusSQL + `, count(*), SUM(cost), SUM(CASE WHEN completed > 0 THEN audio_ms ELSE 0 END)
			FROM {stories} GROUP BY 1, 2`},
	},
	{
		table: "story_buckets", key: "day, bucket", cols: "day, bucket, stories",
		fill: []string{`INSERT INTO {T} (day, bucket, stories)
			SELECT day, story_bucket(cost), count(*) FROM {stories} WHERE completed > 0 GROUP BY 1, 2`},
	},
	{
		table: "cohort_days", key: "granularity, cohort, day", cols: "granularity, cohort, day, firsts, revenue_cents, cost",
		fill: []string{`INSERT INTO {T} (granularity, cohort, day, firsts, revenue_cents, cost)
			SELECT 'week', (u.signup_day + 3) / 7, a.day, SUM(a.prev_day IS NULL OR (a.prev_day + 3) / 7 != (a.day + 3) / 7),
				SUM(a.revenue_cents), SUM(a.cost)
			FROM {user_activity} a JOIN {users} u ON u.user_id = a.user_id
			WHERE (a.day + 3) / 7 >= (u.signup_day + 3) / 7 GROUP BY 2, 3
			HAVING SUM(a.prev_day IS NULL OR (a.prev_day + 3) / 7 != (a.day + 3) / 7) != 0 OR SUM(a.revenue_cents) != 0 OR SUM(a.cost) != 0`,
			`INSERT INTO {T} (granularity, cohort, day, firsts, revenue_cents, cost)
			SELECT 'month', m.c, m.day, SUM(m.first), SUM(m.revenue_cents), SUM(m.cost) FROM (
				SELECT a.day, a.revenue_cents, a.cost, ` + strings.ReplaceAll(monthOfDay, "day", "u.signup_day") + ` AS c,
					` + strings.ReplaceAll(monthOfDay, "day", "a.day") + ` AS p,
					a.prev_day IS NULL OR strftime('%Y-%m', a.prev_day * 86400, 'unixepoch') != strftime('%Y-%m', a.day * 86400, 'unixepoch') AS first
				FROM {user_activity} a JOIN {users} u ON u.user_id = a.user_id) m
			WHERE m.p >= m.c GROUP BY 2, 3
			HAVING SUM(m.first) != 0 OR SUM(m.revenue_cents) != 0 OR SUM(m.cost) != 0`},
	},
	{
		table: "unsigned_users", key: "user_id", cols: "user_id",
		fill: []string{`INSERT INTO {T} (user_id)
			SELECT DISTINCT user_id FROM {user_activity} WHERE user_id NOT IN (SELECT user_id FROM {users})`},
	},
}

// storyStatusSQL is StoryRow.Status of a stories row.
const storyStatusSQL = `CASE WHEN completed > 0 THEN 'completed' WHEN failed > 0 THEN 'failed' ELSE 'in_progress' END`

// storiesFillSQL fills {T} with the stories of the live events: each
// story's anchor (the earliest story_created, else the earliest event; ties
// to the smaller user id) and its sums. Both %s take the same extra filter
// (" AND story_id = ?" recomputes one story).
const storiesFillSQL = `INSERT INTO {T} (story_id, user_id, anchor_rank, anchor_ts, day, events, created, completed, failed,
		chapters, audio_ms, anthropic_cost, elevenlabs_cost, s3_cost, cost)
	SELECT a.story_id, a.user_id, a.rank, a.ts, a.day, g.n, g.cr, g.co, g.fa, g.ch, g.au, g.an, g.el, g.s3, g.an + g.el + g.s3
	FROM (SELECT story_id, user_id, rank, ts, day FROM (
			SELECT story_id, user_id, (type != 'story_created') AS rank, ts, day,
				ROW_NUMBER() OVER (PARTITION BY story_id ORDER BY type != 'story_created', ts, user_id) AS rn
			FROM events WHERE story_id != '' AND voided_by IS NULL
				AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')%s) WHERE rn = 1) a
	JOIN (SELECT story_id, count(*) AS n, SUM(type = 'story_created') AS cr, SUM(type = 'story_completed') AS co,
			SUM(type = 'story_failed') AS fa,
			SUM(CASE WHEN type = 'story_completed' THEN chapters ELSE 0 END) AS ch,
			SUM(CASE WHEN type = 'story_completed' THEN audio_ms ELSE 0 END) AS au,
			SUM(CASE WHEN type = 'api_call' AND service = 'anthropic' THEN cost ELSE 0 END) AS an,
			SUM(CASE WHEN type = 'api_call' AND service = 'elevenlabs' THEN cost ELSE 0 END) AS el,
			SUM(CASE WHEN type = 'api_call' AND service = 's3' THEN cost ELSE 0 END) AS s3
		FROM events WHERE story_id != '' AND voided_by IS NULL
			AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')%s GROUP BY story_id) g
	  ON g.story_id = a.story_id`

// live selects the events that count: not voided, and not voids themselves.
const live = `voided_by IS NULL AND type != 'event_voided'`

// monthOfDay is analytics.MonthOf in SQL.
const monthOfDay = `CAST(strftime('%Y', day * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', day * 86400, 'unixepoch') AS INTEGER) - 1`

func (r rollup) fillSQL(prefix string) []string {
	out := make([]string, len(r.fill))
	for i, f := range r.fill {
		f = strings.ReplaceAll(f, "{T}", prefix+r.table)
		for _, t := range []string{"user_activity", "user_month", "users", "stories"} {
			f = strings.ReplaceAll(f, "{"+t+"}", prefix+t)
		}
		out[i] = f
	}
	return out
}

// Rebuild recomputes every rollup from events in one transaction. With a
// zone other than the stored one, every event's day is recomputed first.
func (s *Store) Rebuild(ctx context.Context, loc *time.Location) error {
	if loc == nil {
		loc = s.Location()
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if loc.String() != s.Location().String() {
		if err := rebucket(ctx, tx, loc); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'timezone'`, loc.String()); err != nil {
			return err
		}
	}
	for _, r := range rollups {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+r.table); err != nil {
			return fmt.Errorf("clear %s: %w", r.table, err)
		}
		for _, q := range r.fillSQL("") {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("rebuild %s: %w", r.table, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.loc.Store(loc)
	return nil
}

// rebucket recomputes events.day in loc, a chunk of rows at a time.
func rebucket(ctx context.Context, tx *sql.Tx, loc *time.Location) error {
	var last int64 = -1 << 62
	type row struct{ rowid, ts int64 }
	for {
		rows, err := tx.QueryContext(ctx, `SELECT rowid, ts FROM events WHERE rowid > ? ORDER BY rowid LIMIT 10000`, last)
		if err != nil {
			return err
		}
		var chunk []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.rowid, &r.ts); err != nil {
				rows.Close()
				return err
			}
			chunk = append(chunk, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(chunk) == 0 {
			return nil
		}
		for _, r := range chunk {
			day := analytics.DayOf(fromMicros(r.ts), loc)
			if _, err := tx.ExecContext(ctx, `UPDATE events SET day = ? WHERE rowid = ?`, int64(day), r.rowid); err != nil {
				return err
			}
		}
		last = chunk[len(chunk)-1].rowid
	}
}

// Verify recomputes every rollup into temporary tables and reports each row
// that differs from the stored one.
func (s *Store) Verify(ctx context.Context) ([]string, error) {
	// The write connection keeps the temporary tables and sees a consistent
	// snapshot inside its transaction.
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var diffs []string
	for _, r := range rollups {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE fresh_`+r.table+` AS SELECT * FROM `+r.table+` WHERE 0`); err != nil {
			return nil, fmt.Errorf("verify %s: %w", r.table, err)
		}
		for _, q := range r.fillSQL("fresh_") {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("verify %s: %w", r.table, err)
			}
		}
	}
	for _, r := range rollups {
		where := ""
		if r.where != "" {
			where = " WHERE " + r.where
		}
		for _, side := range []struct{ a, b, label string }{
			{r.table, "fresh_" + r.table, "stored but not in a fresh aggregate"},
			{"fresh_" + r.table, r.table, "in a fresh aggregate but not stored"},
		} {
			q := fmt.Sprintf(`SELECT %s FROM %s%s EXCEPT SELECT %s FROM %s%s LIMIT 20`, r.cols, side.a, where, r.cols, side.b, where)
			rows, err := tx.QueryContext(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("compare %s: %w", r.table, err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return nil, err
				}
				parts := make([]string, len(cols))
				for i, c := range cols {
					parts[i] = fmt.Sprintf("%s=%v", c, vals[i])
				}
				diffs = append(diffs, fmt.Sprintf("%s row %s: %s", r.table, side.label, strings.Join(parts, " ")))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	bad, err := outOfBounds(ctx, tx)
	if err != nil {
		return nil, err
	}
	return append(diffs, bad...), nil
}

// outOfBounds names live events stored before the bounds existed with a
// field above its bound; voiding them repairs every figure.
func outOfBounds(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, type FROM events WHERE `+analytics.BoundsViolationSQL()+` ORDER BY id LIMIT 20`)
	if err != nil {
		return nil, fmt.Errorf("check event bounds: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("event %q (%s) has a field above its bound (see the README's event bounds); take it out with: codestory-analytics void --id %q --reason \"out of bounds\"", id, typ, id))
	}
	return out, rows.Err()
}
