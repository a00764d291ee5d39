package postgres

import (
	"context"
	"fmt"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

const dailyColumns = `day, new_users, active_users, churned_users, stories_created, stories_completed,
	stories_failed, chapters, audio_ms, api_requests, api_errors, unpriced_calls, anthropic_cost,
	elevenlabs_cost, s3_cost, payments_cents, refunds_cents`

// Daily returns the daily rollup rows inside r.
func (s *Store) Daily(ctx context.Context, r analytics.Range) ([]analytics.DailyRow, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+dailyColumns+` FROM daily_metrics WHERE day BETWEEN $1 AND $2 ORDER BY day`,
		int32(r.Start), int32(r.End))
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.DailyRow, error) {
		var d analytics.DailyRow
		var day int32
		var an, el, s3 int64
		err := row.Scan(&day, &d.NewUsers, &d.ActiveUsers, &d.ChurnedUsers, &d.StoriesCreated, &d.StoriesCompleted,
			&d.StoriesFailed, &d.Chapters, &d.AudioMillis, &d.APIRequests, &d.APIErrors, &d.UnpricedCalls,
			&an, &el, &s3, &d.PaymentsCents, &d.RefundsCents)
		d.Day, d.AnthropicCost, d.ElevenLabsCost, d.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
		return d, err
	})
}

// ActiveUsers counts distinct users active inside r from the span rollup:
// each user counts on their first active day in r (prev_day < start).
func (s *Store) ActiveUsers(ctx context.Context, r analytics.Range) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(users), 0)::bigint FROM active_spans
		WHERE day BETWEEN $1 AND $2 AND prev_day < $1`, int32(r.Start), int32(r.End)).Scan(&n)
	return n, err
}

// ActiveSpans returns the non-empty active-span rows of r's days.
func (s *Store) ActiveSpans(ctx context.Context, r analytics.Range) ([]analytics.SpanRow, error) {
	rows, _ := s.pool.Query(ctx, `SELECT day, prev_day, users FROM active_spans
		WHERE day BETWEEN $1 AND $2 AND users <> 0 ORDER BY day, prev_day`, int32(r.Start), int32(r.End))
	var out []analytics.SpanRow
	var day, prev int32
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&day, &prev, &n}, func() error {
		out = append(out, analytics.SpanRow{SpanKey: analytics.SpanKey{Day: analytics.Day(day), Prev: analytics.Day(prev)}, Users: n})
		return nil
	})
	return out, err
}

// SignupsBefore counts signups on days before d.
func (s *Store) SignupsBefore(ctx context.Context, d analytics.Day) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(new_users), 0)::bigint FROM daily_metrics WHERE day < $1`, int32(d)).Scan(&n)
	return n, err
}

// CostRows aggregates the cost rollup inside r. The text columns are in the
// "C" collation, so the order is byte-wise, as in SQLite.
func (s *Store) CostRows(ctx context.Context, r analytics.Range) ([]analytics.CostRow, error) {
	rows, _ := s.pool.Query(ctx, `SELECT service, model, operation, price_ref, sum(calls)::bigint, sum(errors)::bigint,
		sum(unpriced_calls)::bigint, sum(input_tokens)::bigint, sum(output_tokens)::bigint,
		sum(cache_write_tokens)::bigint, sum(cache_read_tokens)::bigint, sum(characters)::bigint,
		sum(bytes_transferred)::bigint, sum(requests)::bigint, sum(cost)::bigint
		FROM cost_daily WHERE day BETWEEN $1 AND $2
		GROUP BY service, model, operation, price_ref ORDER BY service, model, operation, price_ref`,
		int32(r.Start), int32(r.End))
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.CostRow, error) {
		var c analytics.CostRow
		var svc string
		var cost int64
		err := row.Scan(&svc, &c.Model, &c.Operation, &c.PriceRef, &c.Calls, &c.Errors, &c.UnpricedCalls, &c.InputTokens,
			&c.OutputTokens, &c.CacheWriteTokens, &c.CacheReadTokens, &c.Characters, &c.BytesTransferred,
			&c.Requests, &cost)
		c.Service, c.Cost = analytics.Service(svc), analytics.Micros(cost)
		return c, err
	})
}

var topOrder = map[analytics.SortBy]string{
	analytics.SortByCost:     "cost DESC",
	analytics.SortByStories:  "stories DESC",
	analytics.SortByAPICalls: "api_calls DESC",
}

// TopUsers returns the users with the most activity inside r, ties broken by
// user id (byte-wise: the column is in the "C" collation).
func (s *Store) TopUsers(ctx context.Context, r analytics.Range, by analytics.SortBy, limit int) ([]analytics.TopUserRow, error) {
	if _, ok := rankColumn[by]; !ok {
		return nil, analytics.Errorf(analytics.KindInvalid, "unknown sort_by %q", by)
	}
	if limit > 0 {
		rows, ok, err := analytics.TopUsersByThreshold(ctx, s, r, by, limit)
		if err != nil || ok {
			return rows, err
		}
	}
	return s.topUsersScan(ctx, r, by, limit)
}

var rankColumn = map[analytics.SortBy]string{
	analytics.SortByCost:     "cost",
	analytics.SortByStories:  "stories_created",
	analytics.SortByAPICalls: "api_calls",
}

// MonthLeaders reads a month's ranking by keyset pagination: a row
// comparison the index on (month, key, user_id) answers scanning backwards.
func (s *Store) MonthLeaders(ctx context.Context, month int32, by analytics.SortBy, after *analytics.Leader, n int) ([]analytics.Leader, error) {
	col := rankColumn[by]
	q := `SELECT user_id, ` + col + ` FROM user_month WHERE month = $1`
	args := []any{month, n}
	if after != nil {
		q += ` AND (` + col + `, user_id) < ($3, $4)`
		args = append(args, after.Value, after.UserID)
	}
	q += ` ORDER BY ` + col + ` DESC, user_id DESC LIMIT $2`
	rows, _ := s.pool.Query(ctx, q, args...)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.Leader, error) {
		var l analytics.Leader
		err := row.Scan(&l.UserID, &l.Value)
		return l, err
	})
}

// UserTotals sums the given users' activity inside r: whole months from the
// monthly rollup, the days around them from user_activity, each user by
// index probes (LATERAL: a join would let the planner hash whole tables).
func (s *Store) UserTotals(ctx context.Context, users []string, r analytics.Range) ([]analytics.TopUserRow, error) {
	sp := analytics.SplitByMonth(r)
	rows, _ := s.pool.Query(ctx, `SELECT x.user_id, COALESCE(u.email, ''),
			COALESCE(m.s, 0) + COALESCE(d.s, 0), COALESCE(m.c, 0) + COALESCE(d.c, 0),
			COALESCE(m.a, 0) + COALESCE(d.a, 0), COALESCE(m.k, 0) + COALESCE(d.k, 0)
		FROM unnest($1::text[]) AS x(user_id)
		CROSS JOIN LATERAL (
			SELECT count(*) AS n, sum(stories_created)::bigint AS s, sum(api_calls)::bigint AS c, sum(audio_ms)::bigint AS a, sum(cost)::bigint AS k
			FROM user_month WHERE user_id = x.user_id AND month BETWEEN $2 AND $3) m
		CROSS JOIN LATERAL (
			SELECT count(*) AS n, sum(stories_created)::bigint AS s, sum(api_calls)::bigint AS c, sum(audio_ms)::bigint AS a, sum(cost)::bigint AS k
			FROM user_activity WHERE user_id = x.user_id AND (day BETWEEN $4 AND $5 OR day BETWEEN $6 AND $7)) d
		LEFT JOIN users u ON u.user_id = x.user_id
		WHERE m.n + d.n > 0`, users, sp.FirstMonth, sp.LastMonth,
		int32(sp.Before.Start), int32(sp.Before.End), int32(sp.After.Start), int32(sp.After.End))
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.TopUserRow, error) {
		var u analytics.TopUserRow
		var cost int64
		err := row.Scan(&u.UserID, &u.Email, &u.Stories, &u.APICalls, &u.AudioMillis, &cost)
		u.Cost = analytics.Micros(cost)
		return u, err
	})
}

// topUsersScan aggregates every user-day of r.
func (s *Store) topUsersScan(ctx context.Context, r analytics.Range, by analytics.SortBy, limit int) ([]analytics.TopUserRow, error) {
	order, ok := topOrder[by]
	if !ok {
		return nil, analytics.Errorf(analytics.KindInvalid, "unknown sort_by %q", by)
	}
	var lim any = limit
	if limit < 0 { // no limit, as SQLite reads LIMIT -1
		lim = nil
	}
	rows, _ := s.pool.Query(ctx, fmt.Sprintf(`SELECT t.user_id, COALESCE(u.email, ''), t.stories, t.api_calls, t.audio_ms, t.cost
		FROM (SELECT user_id, sum(stories_created)::bigint AS stories, sum(api_calls)::bigint AS api_calls,
		             sum(audio_ms)::bigint AS audio_ms, sum(cost)::bigint AS cost
		      FROM user_activity WHERE day BETWEEN $1 AND $2 GROUP BY user_id
		      ORDER BY %s, user_id ASC LIMIT $3) t
		LEFT JOIN users u ON u.user_id = t.user_id
		ORDER BY %s, t.user_id ASC`, order, order), int32(r.Start), int32(r.End), lim)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.TopUserRow, error) {
		var u analytics.TopUserRow
		var cost int64
		err := row.Scan(&u.UserID, &u.Email, &u.Stories, &u.APICalls, &u.AudioMillis, &cost)
		u.Cost = analytics.Micros(cost)
		return u, err
	})
}
