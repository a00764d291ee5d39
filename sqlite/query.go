package sqlite

import (
	"context"
	"fmt"
	"strings"

	analytics "github.com/codestory/analytics"
)

const dailyColumns = `day, new_users, active_users, churned_users, stories_created, stories_completed,
	stories_failed, chapters, audio_ms, api_requests, api_errors, unpriced_calls, anthropic_cost,
	elevenlabs_cost, s3_cost, payments_cents, refunds_cents`

type scanner interface{ Scan(dest ...any) error }

func scanDaily(sc scanner) (analytics.DailyRow, error) {
	var r analytics.DailyRow
	var day, an, el, s3 int64
	err := sc.Scan(&day, &r.NewUsers, &r.ActiveUsers, &r.ChurnedUsers, &r.StoriesCreated, &r.StoriesCompleted,
		&r.StoriesFailed, &r.Chapters, &r.AudioMillis, &r.APIRequests, &r.APIErrors, &r.UnpricedCalls,
		&an, &el, &s3, &r.PaymentsCents, &r.RefundsCents)
	r.Day, r.AnthropicCost, r.ElevenLabsCost, r.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
	return r, err
}

// Daily returns the daily rollup rows inside r.
func (s *Store) Daily(ctx context.Context, r analytics.Range) ([]analytics.DailyRow, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+dailyColumns+` FROM daily_metrics WHERE day BETWEEN ? AND ? ORDER BY day`,
		int64(r.Start), int64(r.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.DailyRow
	for rows.Next() {
		row, err := scanDaily(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// ActiveUsers counts distinct users active inside r from the span rollup:
// each user counts on their first active day in r (prev_day < start).
func (s *Store) ActiveUsers(ctx context.Context, r analytics.Range) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(users), 0) FROM active_spans
		WHERE day BETWEEN ? AND ? AND prev_day < ?`, int64(r.Start), int64(r.End), int64(r.Start)).Scan(&n)
	return n, err
}

// ActiveSpans returns the non-empty active-span rows of r's days.
func (s *Store) ActiveSpans(ctx context.Context, r analytics.Range) ([]analytics.SpanRow, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, prev_day, users FROM active_spans
		WHERE day BETWEEN ? AND ? AND users != 0 ORDER BY day, prev_day`, int64(r.Start), int64(r.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.SpanRow
	for rows.Next() {
		var day, prev, n int64
		if err := rows.Scan(&day, &prev, &n); err != nil {
			return nil, err
		}
		out = append(out, analytics.SpanRow{SpanKey: analytics.SpanKey{Day: analytics.Day(day), Prev: analytics.Day(prev)}, Users: n})
	}
	return out, rows.Err()
}

// SignupsBefore counts signups on days before d.
func (s *Store) SignupsBefore(ctx context.Context, d analytics.Day) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(new_users), 0) FROM daily_metrics WHERE day < ?`, int64(d)).Scan(&n)
	return n, err
}

// CostRows aggregates the cost rollup inside r.
func (s *Store) CostRows(ctx context.Context, r analytics.Range) ([]analytics.CostRow, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT service, model, operation, price_ref, SUM(calls), SUM(errors), SUM(unpriced_calls),
		SUM(input_tokens), SUM(output_tokens), SUM(cache_write_tokens), SUM(cache_read_tokens), SUM(characters),
		SUM(bytes_transferred), SUM(requests), SUM(cost)
		FROM cost_daily WHERE day BETWEEN ? AND ? GROUP BY service, model, operation, price_ref
		ORDER BY service, model, operation, price_ref`,
		int64(r.Start), int64(r.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.CostRow
	for rows.Next() {
		var c analytics.CostRow
		var svc string
		var cost int64
		if err := rows.Scan(&svc, &c.Model, &c.Operation, &c.PriceRef, &c.Calls, &c.Errors, &c.UnpricedCalls, &c.InputTokens,
			&c.OutputTokens, &c.CacheWriteTokens, &c.CacheReadTokens, &c.Characters, &c.BytesTransferred,
			&c.Requests, &cost); err != nil {
			return nil, err
		}
		c.Service, c.Cost = analytics.Service(svc), analytics.Micros(cost)
		out = append(out, c)
	}
	return out, rows.Err()
}

var topOrder = map[analytics.SortBy]string{
	analytics.SortByCost:     "cost DESC",
	analytics.SortByStories:  "stories DESC",
	analytics.SortByAPICalls: "api_calls DESC",
}

// TopUsers returns the users with the most activity inside r: by the
// threshold algorithm over monthly rankings, or, when ties at zero defeat
// it, by aggregating every user-day of the range.
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

// MonthLeaders reads a month's ranking by keyset pagination on the
// ranking's index.
func (s *Store) MonthLeaders(ctx context.Context, month int32, by analytics.SortBy, after *analytics.Leader, n int) ([]analytics.Leader, error) {
	col := rankColumn[by]
	q := `SELECT user_id, ` + col + ` FROM user_month WHERE month = ?`
	args := []any{month}
	if after != nil {
		q += ` AND (` + col + `, user_id) < (?, ?)`
		args = append(args, after.Value, after.UserID)
	}
	q += ` ORDER BY ` + col + ` DESC, user_id DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, q, append(args, n)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Leader
	for rows.Next() {
		var l analytics.Leader
		if err := rows.Scan(&l.UserID, &l.Value); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// UserTotals sums the given users' activity inside r: whole months from the
// monthly rollup, the days around them from user_activity.
func (s *Store) UserTotals(ctx context.Context, users []string, r analytics.Range) ([]analytics.TopUserRow, error) {
	sp := analytics.SplitByMonth(r)
	var out []analytics.TopUserRow
	for len(users) > 0 {
		chunk := users[:min(len(users), 400)]
		users = users[len(chunk):]
		in := "?" + strings.Repeat(",?", len(chunk)-1)
		args := []any{sp.FirstMonth, sp.LastMonth}
		for _, u := range chunk {
			args = append(args, u)
		}
		args = append(args, int64(sp.Before.Start), int64(sp.Before.End), int64(sp.After.Start), int64(sp.After.End))
		for _, u := range chunk {
			args = append(args, u)
		}
		rows, err := s.read.QueryContext(ctx, `SELECT p.user_id, COALESCE(u.email, ''), SUM(p.s), SUM(p.c), SUM(p.a), SUM(p.k)
			FROM (SELECT user_id, stories_created AS s, api_calls AS c, audio_ms AS a, cost AS k
			      FROM user_month WHERE month BETWEEN ? AND ? AND user_id IN (`+in+`)
			      UNION ALL
			      SELECT user_id, stories_created, api_calls, audio_ms, cost
			      FROM user_activity WHERE (day BETWEEN ? AND ? OR day BETWEEN ? AND ?) AND user_id IN (`+in+`)) p
			LEFT JOIN users u ON u.user_id = p.user_id
			GROUP BY p.user_id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var u analytics.TopUserRow
			var cost int64
			if err := rows.Scan(&u.UserID, &u.Email, &u.Stories, &u.APICalls, &u.AudioMillis, &cost); err != nil {
				rows.Close()
				return nil, err
			}
			u.Cost = analytics.Micros(cost)
			out = append(out, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// topUsersScan aggregates every user-day of r.
func (s *Store) topUsersScan(ctx context.Context, r analytics.Range, by analytics.SortBy, limit int) ([]analytics.TopUserRow, error) {
	order, ok := topOrder[by]
	if !ok {
		return nil, analytics.Errorf(analytics.KindInvalid, "unknown sort_by %q", by)
	}
	rows, err := s.read.QueryContext(ctx, fmt.Sprintf(`SELECT t.user_id, COALESCE(u.email, ''), t.stories, t.api_calls, t.audio_ms, t.cost
		FROM (SELECT user_id, SUM(stories_created) AS stories, SUM(api_calls) AS api_calls, SUM(audio_ms) AS audio_ms, SUM(cost) AS cost
		      FROM user_activity WHERE day BETWEEN ? AND ? GROUP BY user_id
		      ORDER BY %s, user_id ASC LIMIT ?) t
		LEFT JOIN users u ON u.user_id = t.user_id
		ORDER BY %s, t.user_id ASC`, order, order), int64(r.Start), int64(r.End), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.TopUserRow
	for rows.Next() {
		var u analytics.TopUserRow
		var cost int64
		if err := rows.Scan(&u.UserID, &u.Email, &u.Stories, &u.APICalls, &u.AudioMillis, &cost); err != nil {
			return nil, err
		}
		u.Cost = analytics.Micros(cost)
		out = append(out, u)
	}
	return out, rows.Err()
}
