package bench

import (
	"context"
	"database/sql"
	"fmt"

	analytics "github.com/codestory/analytics"
)

// rawStore is the query baseline: it answers the five tools' reads with a
// straightforward SQL aggregate over the raw events table — what a store
// without rollups would run — so analytics.Tools over a rawStore computes
// the same results as over the real store (a test holds it to that), only
// from events. Ranges are filtered on ts (the partition key on PostgreSQL),
// the table's own indexes and partitions are all it has.
type rawStore struct {
	analytics.Store // the real store: Location; nothing else is called
	db              *sql.DB
	d               dialect

	stories   analytics.StoryRows // the last Stories answer, for storiesOf
	emails    map[string]string   // the emails of the last UserEconomics answer
	storiesOf analytics.Range
}

// bounds are the instants [start of r.Start, start of r.End+1) in the
// store's zone: exactly the events whose day falls in r.
func (s *rawStore) bounds(r analytics.Range) (any, any) {
	loc := s.Location()
	return s.d.ts(r.Start.Start(loc)), s.d.ts((r.End + 1).Start(loc))
}

// sum is SUM(expr) as a 64-bit integer (PostgreSQL's SUM of bigint is numeric).
func sum(expr string) string { return "CAST(COALESCE(SUM(" + expr + "), 0) AS BIGINT)" }

// when counts the rows where cond holds, or sums val over them.
func when(cond, val string) string { return sum("CASE WHEN " + cond + " THEN " + val + " ELSE 0 END") }

var rawDailySQL = `SELECT day, ` +
	when("type = 'user_signup'", "1") + `, ` +
	`COUNT(DISTINCT CASE WHEN user_id <> '' THEN user_id END), ` +
	when("type = 'user_churned'", "1") + `, ` +
	when("type = 'story_created'", "1") + `, ` +
	when("type = 'story_completed'", "1") + `, ` +
	when("type = 'story_failed'", "1") + `, ` +
	when("type = 'story_completed'", "chapters") + `, ` +
	when("type = 'story_completed'", "audio_ms") + `, ` +
	when("type = 'api_call'", "1") + `, ` +
	when("type = 'api_call' AND status = 'error'", "1") + `, ` +
	when("type = 'api_call' AND NOT priced", "1") + `, ` +
	when("type = 'api_call' AND service = 'anthropic'", "cost") + `, ` +
	when("type = 'api_call' AND service = 'elevenlabs'", "cost") + `, ` +
	when("type = 'api_call' AND service = 's3'", "cost") + `, ` +
	when("type = 'payment'", "amount_cents") + `, ` +
	when("type = 'refund'", "amount_cents") + `
	FROM events WHERE ts >= ? AND ts < ? AND ` + rawLive + ` GROUP BY day ORDER BY day`

// Daily aggregates the range's events by day.
func (s *rawStore) Daily(ctx context.Context, r analytics.Range) ([]analytics.DailyRow, error) {
	from, to := s.bounds(r)
	rows, err := s.db.QueryContext(ctx, s.d.q(rawDailySQL), from, to)
	if err != nil {
		return nil, fmt.Errorf("raw daily: %w", err)
	}
	defer rows.Close()
	var out []analytics.DailyRow
	for rows.Next() {
		var d analytics.DailyRow
		var day, an, el, s3 int64
		if err := rows.Scan(&day, &d.NewUsers, &d.ActiveUsers, &d.ChurnedUsers, &d.StoriesCreated, &d.StoriesCompleted,
			&d.StoriesFailed, &d.Chapters, &d.AudioMillis, &d.APIRequests, &d.APIErrors, &d.UnpricedCalls,
			&an, &el, &s3, &d.PaymentsCents, &d.RefundsCents); err != nil {
			return nil, err
		}
		d.Day, d.AnthropicCost, d.ElevenLabsCost, d.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ActiveUsers counts the distinct users with an event in the range.
func (s *rawStore) ActiveUsers(ctx context.Context, r analytics.Range) (int64, error) {
	from, to := s.bounds(r)
	var n int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(DISTINCT user_id) FROM events WHERE ts >= ? AND ts < ? AND user_id <> '' AND `+rawLive),
		from, to).Scan(&n)
	return n, err
}

// SignupsBefore counts the signups before day d.
func (s *rawStore) SignupsBefore(ctx context.Context, d analytics.Day) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM events WHERE type = 'user_signup' AND ts < ? AND voided_by IS NULL`),
		s.d.ts(d.Start(s.Location()))).Scan(&n)
	return n, err
}

// rawLive keeps the events that count: not voided, and not voids.
const rawLive = `voided_by IS NULL AND type <> 'event_voided'`

var rawCostSQL = `SELECT service, model, operation, price_ref, COUNT(*), ` +
	when("status = 'error'", "1") + `, ` + when("NOT priced", "1") + `, ` +
	sum("input_tokens") + `, ` + sum("output_tokens") + `, ` + sum("cache_write_tokens") + `, ` +
	sum("cache_read_tokens") + `, ` + sum("characters") + `, ` + sum("bytes_transferred") + `, ` +
	sum("requests") + `, ` + sum("cost") + `
	FROM events WHERE type = 'api_call' AND ts >= ? AND ts < ? AND voided_by IS NULL
	GROUP BY service, model, operation, price_ref ORDER BY service, model, operation, price_ref`

// CostRows aggregates the range's api calls by service, model and operation.
func (s *rawStore) CostRows(ctx context.Context, r analytics.Range) ([]analytics.CostRow, error) {
	from, to := s.bounds(r)
	rows, err := s.db.QueryContext(ctx, s.d.q(rawCostSQL), from, to)
	if err != nil {
		return nil, fmt.Errorf("raw costs: %w", err)
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

var rawTopOrder = map[analytics.SortBy]string{
	analytics.SortByCost:     "total_cost DESC",
	analytics.SortByStories:  "stories DESC",
	analytics.SortByAPICalls: "api_calls DESC",
}

// rawTopSQL groups the range's events by user, keeps the top ones, and
// finds each one's email: that of their earliest signup (the smaller email
// breaks a tie), at any time.
const rawTopSQL = `WITH t AS MATERIALIZED (
	SELECT user_id, %[1]s AS stories, %[2]s AS api_calls, %[3]s AS audio_ms, %[4]s AS total_cost
	FROM events WHERE ts >= ? AND ts < ? AND user_id <> '' AND voided_by IS NULL AND type <> 'event_voided'
	GROUP BY user_id ORDER BY %[5]s, user_id LIMIT ?
), s AS (
	SELECT user_id, email, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts, email) AS rn
	FROM events WHERE type = 'user_signup' AND voided_by IS NULL AND user_id IN (SELECT user_id FROM t)
)
SELECT t.user_id, COALESCE(s.email, ''), t.stories, t.api_calls, t.audio_ms, t.total_cost
FROM t LEFT JOIN s ON s.user_id = t.user_id AND s.rn = 1
ORDER BY %[5]s, t.user_id`

// TopUsers groups the range's events by user.
func (s *rawStore) TopUsers(ctx context.Context, r analytics.Range, by analytics.SortBy, limit int) ([]analytics.TopUserRow, error) {
	order, ok := rawTopOrder[by]
	if !ok {
		return nil, analytics.Errorf(analytics.KindInvalid, "unknown sort_by %q", by)
	}
	q := fmt.Sprintf(rawTopSQL, when("type = 'story_created'", "1"), when("type = 'api_call'", "1"),
		when("type = 'story_completed'", "audio_ms"), when("type = 'api_call'", "cost"), order)
	from, to := s.bounds(r)
	rows, err := s.db.QueryContext(ctx, s.d.q(q), from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("raw top users: %w", err)
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
