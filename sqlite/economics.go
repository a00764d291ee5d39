package sqlite

import (
	"context"
	"fmt"

	analytics "github.com/codestory/analytics"
)

// UserEconomics sums every user's revenue, cost and stories inside r: whole
// months from user_month, the days around them from user_activity.
func (s *Store) UserEconomics(ctx context.Context, r analytics.Range) ([]analytics.UserEconomicsRow, error) {
	sp := analytics.SplitByMonth(r)
	rows, err := s.read.QueryContext(ctx, `SELECT p.user_id, COALESCE(u.email, ''), p.rev, p.cost, p.stories
		FROM (SELECT user_id, SUM(rev) AS rev, SUM(cost) AS cost, SUM(stories) AS stories, SUM(n) AS n
		      FROM (SELECT user_id, revenue_cents AS rev, cost, stories_created AS stories, api_calls + pay_events AS n
		            FROM user_month WHERE month BETWEEN ? AND ?
		            UNION ALL
		            SELECT user_id, revenue_cents, cost, stories_created, api_calls + pay_events
		            FROM user_activity WHERE day BETWEEN ? AND ? OR day BETWEEN ? AND ?)
		      GROUP BY user_id) p
		LEFT JOIN users u ON u.user_id = p.user_id
		WHERE p.n > 0`,
		sp.FirstMonth, sp.LastMonth, int64(sp.Before.Start), int64(sp.Before.End), int64(sp.After.Start), int64(sp.After.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.UserEconomicsRow
	for rows.Next() {
		var u analytics.UserEconomicsRow
		var cost int64
		if err := rows.Scan(&u.UserID, &u.Email, &u.RevenueCents, &cost, &u.Stories); err != nil {
			return nil, err
		}
		u.Cost = analytics.Micros(cost)
		out = append(out, u)
	}
	return out, rows.Err()
}

// Stories returns the stories whose day lies inside r.
func (s *Store) Stories(ctx context.Context, r analytics.Range) ([]analytics.StoryRow, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT story_id, user_id, day, events, created, completed, failed, chapters,
		audio_ms, anthropic_cost, elevenlabs_cost, s3_cost FROM stories WHERE day BETWEEN ? AND ?`, int64(r.Start), int64(r.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.StoryRow
	for rows.Next() {
		var st analytics.StoryRow
		var day, an, el, s3 int64
		if err := rows.Scan(&st.StoryID, &st.UserID, &day, &st.Events, &st.Created, &st.Completed, &st.Failed,
			&st.Chapters, &st.AudioMillis, &an, &el, &s3); err != nil {
			return nil, err
		}
		st.Day, st.AnthropicCost, st.ElevenLabsCost, st.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
		out = append(out, st)
	}
	return out, rows.Err()
}

// periodSQL is analytics.CohortPeriodOf of a day column in SQL.
func periodSQL(col string, g analytics.Granularity) string {
	if g == analytics.GranularityMonth {
		return fmt.Sprintf(`(CAST(strftime('%%Y', %[1]s * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%%m', %[1]s * 86400, 'unixepoch') AS INTEGER) - 1)`, col)
	}
	return fmt.Sprintf(`((%s + 3) / 7)`, col) // days are after 1970: truncation is the floor
}

// CohortSizes counts users by the period of their signup day.
func (s *Store) CohortSizes(ctx context.Context, from, end analytics.Day, g analytics.Granularity) (map[int32]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+periodSQL("signup_day", g)+`, count(*) FROM users
		WHERE signup_day BETWEEN ? AND ? GROUP BY 1`, int64(from), int64(end))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int32]int64{}
	for rows.Next() {
		var c int32
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

// CohortCells sums the cohorts' user-days by cohort and period. Months
// before the one containing end come from user_month (one row per active
// user-month); weeks, and the last month, from user_activity.
func (s *Store) CohortCells(ctx context.Context, from, end analytics.Day, g analytics.Granularity) ([]analytics.CohortCell, error) {
	cohort := `SELECT user_id, ` + periodSQL("signup_day", g) + ` AS c FROM users WHERE signup_day BETWEEN ? AND ?`
	var q string
	var args []any
	if g == analytics.GranularityMonth {
		last := analytics.MonthOf(end)
		lastStart, _ := analytics.MonthDays(last)
		q = `SELECT u.c, m.month, count(*), SUM(m.revenue_cents), SUM(m.cost)
			FROM (` + cohort + `) u JOIN user_month m ON m.user_id = u.user_id
			WHERE m.month >= u.c AND m.month < ? GROUP BY 1, 2
			UNION ALL
			SELECT u.c, ?, count(DISTINCT a.user_id), SUM(a.revenue_cents), SUM(a.cost)
			FROM (` + cohort + `) u JOIN user_activity a ON a.user_id = u.user_id
			WHERE a.day BETWEEN ? AND ? GROUP BY 1`
		args = []any{int64(from), int64(end), last, last, int64(from), int64(end), int64(lastStart), int64(end)}
	} else {
		q = `SELECT u.c, ` + periodSQL("a.day", g) + `, count(DISTINCT a.user_id), SUM(a.revenue_cents), SUM(a.cost)
			FROM (` + cohort + `) u JOIN user_activity a ON a.user_id = u.user_id
			WHERE a.day <= ? AND a.day >= u.c * 7 - 3 GROUP BY 1, 2`
		args = []any{int64(from), int64(end), int64(end)}
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.CohortCell
	for rows.Next() {
		var c analytics.CohortCell
		var cost int64
		if err := rows.Scan(&c.Cohort, &c.Period, &c.Users, &c.RevenueCents, &cost); err != nil {
			return nil, err
		}
		c.Cost = analytics.Micros(cost)
		out = append(out, c)
	}
	return out, rows.Err()
}

// UnattributedUsers counts users active inside r who have no signup.
func (s *Store) UnattributedUsers(ctx context.Context, r analytics.Range) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(DISTINCT a.user_id) FROM user_activity a
		WHERE a.day BETWEEN ? AND ? AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = a.user_id)`,
		int64(r.Start), int64(r.End)).Scan(&n)
	return n, err
}
