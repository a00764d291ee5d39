package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	analytics "github.com/codestory/analytics"
)

// UserEconomics sums every user's revenue, cost and stories inside r, as
// analytics.PlanEconomics chooses: from the whole months and edge days
// inside r, or from user_totals less the months and days outside r.
func (s *Store) UserEconomics(ctx context.Context, r analytics.Range) ([]analytics.UserEconomicsRow, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var inside, outside int64
	var first, last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN day BETWEEN ? AND ? THEN active_users END), 0),
		COALESCE(SUM(CASE WHEN day BETWEEN ? AND ? THEN 0 ELSE active_users END), 0), MIN(day), MAX(day)
		FROM daily_metrics`, int64(r.Start), int64(r.End), int64(r.Start), int64(r.End)).Scan(&inside, &outside, &first, &last); err != nil {
		return nil, fmt.Errorf("user-days of the range: %w", err)
	}
	if inside == 0 {
		return nil, nil
	}
	plan := analytics.PlanEconomics(r, analytics.Day(first.Int64), analytics.Day(last.Int64), inside, outside)
	if !plan.FromTotals {
		sums, err := sumUsers(ctx, tx, analytics.PartsOf(r))
		return analytics.SubtractEconomics(sums, nil), err
	}
	var users int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM user_totals`).Scan(&users); err != nil {
		return nil, fmt.Errorf("user totals: %w", err)
	}
	totals, err := scanUserSums(users, func() (*sql.Rows, error) {
		return tx.QueryContext(ctx, `SELECT user_id, revenue_cents, cost, stories_created, api_calls + pay_events FROM user_totals`)
	})
	if err != nil {
		return nil, fmt.Errorf("user totals: %w", err)
	}
	out := map[string]analytics.UserEconomicsRow{}
	if len(plan.Outside) > 0 {
		sums, err := sumUsers(ctx, tx, analytics.PartsOf(plan.Outside...))
		if err != nil {
			return nil, err
		}
		for _, u := range sums {
			out[u.UserID] = u
		}
	}
	return analytics.SubtractEconomics(totals, out), nil
}

// sumUsers sums each user's rows of the groups (a Minus group subtracted).
func sumUsers(ctx context.Context, tx *sql.Tx, groups []analytics.PartGroup) ([]analytics.UserEconomicsRow, error) {
	q, args := userSumsSQL(groups)
	if q == "" {
		return nil, nil
	}
	sums, err := scanUserSums(0, func() (*sql.Rows, error) { return tx.QueryContext(ctx, q, args...) })
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
	for _, g := range groups {
		table, col, sign := "user_activity", "day", ""
		if g.Monthly {
			table, col = "user_month", "month"
		}
		if g.Minus {
			sign = "-"
		}
		// One branch per span, not an OR of them: SQLite reads an OR
		// of ranges as a multi-index OR, which looks every row up in the
		// table (the spans are disjoint, so nothing repeats).
		for _, b := range g.Bounds {
			args = append(args, b[0], b[1])
			parts = append(parts, fmt.Sprintf(`SELECT user_id, %[1]srevenue_cents AS rev, %[1]scost AS cost,
			%[1]sstories_created AS stories, %[1]s(api_calls + pay_events) AS n FROM %[2]s WHERE %[3]s BETWEEN ? AND ?`, sign, table, col))
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return `SELECT user_id, SUM(rev), SUM(cost), SUM(stories), SUM(n)
			FROM (` + strings.Join(parts, " UNION ALL ") + `) GROUP BY user_id`, args
}

// scanUserSums reads (user_id, revenue, cost, stories, calls) rows, about
// size of them.
func scanUserSums(size int, query func() (*sql.Rows, error)) ([]analytics.UserEconomicsRow, error) {
	rows, err := query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]analytics.UserEconomicsRow, 0, size)
	for rows.Next() {
		var u analytics.UserEconomicsRow
		var cost int64
		if err := rows.Scan(&u.UserID, &u.RevenueCents, &cost, &u.Stories, &u.Calls); err != nil {
			return nil, err
		}
		u.Cost = analytics.Micros(cost)
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserEmails returns the email of each given user that has signed up.
func (s *Store) UserEmails(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.read.QueryContext(ctx, `SELECT user_id, email FROM users WHERE user_id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("user emails: %w", err)
		}
		for rows.Next() {
			var id, email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = email
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Stories calls each for the stories whose day lies inside r, the most
// expensive first (the plan of TopStories, unlimited).
func (s *Store) Stories(ctx context.Context, r analytics.Range, each func(analytics.StoryRow) error) error {
	return s.storiesByCost(ctx, r, -1, each)
}

func (s *Store) queryStories(ctx context.Context, each func(analytics.StoryRow) error, q string, args ...any) error {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
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

// StorySummary sums story_daily and story_buckets over r.
func (s *Store) StorySummary(ctx context.Context, r analytics.Range) (analytics.StorySummary, error) {
	sum := analytics.StorySummary{ByStatus: map[analytics.StoryStatus]analytics.StoryStat{}, Buckets: map[int32]int64{}}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return sum, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT status, SUM(stories), SUM(cost), SUM(audio_ms) FROM story_daily
		WHERE day BETWEEN ? AND ? GROUP BY status`, int64(r.Start), int64(r.End))
	if err != nil {
		return sum, err
	}
	for rows.Next() {
		var st string
		var v analytics.StoryStat
		var cost int64
		if err := rows.Scan(&st, &v.Stories, &cost, &v.AudioMillis); err != nil {
			rows.Close()
			return sum, err
		}
		v.Cost = analytics.Micros(cost)
		sum.ByStatus[analytics.StoryStatus(st)] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sum, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT bucket, SUM(stories) FROM story_buckets WHERE day BETWEEN ? AND ? GROUP BY bucket`,
		int64(r.Start), int64(r.End))
	if err != nil {
		return sum, err
	}
	defer rows.Close()
	for rows.Next() {
		var b int32
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			return sum, err
		}
		sum.Buckets[b] = n
	}
	return sum, rows.Err()
}

// CompletedStoryCost reads one bucket's range of the cost index.
func (s *Store) CompletedStoryCost(ctx context.Context, r analytics.Range, bucket int32, offset int64) (analytics.Micros, error) {
	lo, hi := analytics.StoryBucketBounds(bucket)
	var c int64
	err := s.read.QueryRowContext(ctx, `SELECT cost FROM stories INDEXED BY stories_by_cost
		WHERE cost >= ? AND cost < ? AND day BETWEEN ? AND ? AND completed > 0 ORDER BY cost LIMIT 1 OFFSET ?`,
		int64(lo), int64(hi), int64(r.Start), int64(r.End), offset).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("completed story %d of bucket %d: %w", offset, bucket, err)
	}
	return analytics.Micros(c), nil
}

// TopStories walks the cost index from the top when the range holds many
// stories, and sorts the range's stories when it holds few.
func (s *Store) TopStories(ctx context.Context, r analytics.Range, n int) ([]analytics.StoryRow, error) {
	var out []analytics.StoryRow
	err := s.storiesByCost(ctx, r, n, func(st analytics.StoryRow) error {
		out = append(out, st)
		return nil
	})
	return out, err
}

// storiesByCost calls each for the first limit (-1: every) stories of r by
// cost, descending, ties by id.
func (s *Store) storiesByCost(ctx context.Context, r analytics.Range, limit int, each func(analytics.StoryRow) error) error {
	var inRange int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(stories), 0) FROM story_daily WHERE day BETWEEN ? AND ?`,
		int64(r.Start), int64(r.End)).Scan(&inRange); err != nil {
		return err
	}
	if inRange == 0 {
		return nil
	}
	index := "stories_by_cost"
	if inRange < 20_000 {
		index = "stories_by_day"
	}
	return s.queryStories(ctx, each, `SELECT `+storyColumns+` FROM stories INDEXED BY `+index+`
		WHERE day BETWEEN ? AND ? ORDER BY cost DESC, story_id LIMIT ?`, int64(r.Start), int64(r.End), limit)
}

// periodSQL is analytics.CohortPeriodOf of a day column in SQL.
func periodSQL(col string, g analytics.Granularity) string {
	if g == analytics.GranularityMonth {
		return fmt.Sprintf(`(CAST(strftime('%%Y', %[1]s * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%%m', %[1]s * 86400, 'unixepoch') AS INTEGER) - 1)`, col)
	}
	return fmt.Sprintf(`((%s + 3) / 7)`, col) // days are after 1970: truncation is the floor
}

// CohortCells sums cohort_days by period up to end. The users of the
// last cohort who signed up after end (but in its period) are taken out
// again: for them nothing counts.
func (s *Store) CohortCells(ctx context.Context, from, end analytics.Day, g analytics.Granularity) ([]analytics.CohortCell, error) {
	first, last := analytics.CohortPeriodOf(from, g), analytics.CohortPeriodOf(end, g)
	lastStart, lastEnd := analytics.CohortPeriodStart(last, g), analytics.CohortPeriodStart(last+1, g)-1
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT cohort, `+periodSQL("day", g)+`, SUM(firsts), SUM(revenue_cents), SUM(cost)
		FROM cohort_days WHERE granularity = ? AND cohort BETWEEN ? AND ? AND day <= ? GROUP BY 1, 2`,
		string(g), first, last, int64(end))
	if err != nil {
		return nil, fmt.Errorf("cohort days: %w", err)
	}
	var out []analytics.CohortCell
	at := map[[2]int32]int{}
	for rows.Next() {
		var c analytics.CohortCell
		var cost int64
		if err := rows.Scan(&c.Cohort, &c.Period, &c.Users, &c.RevenueCents, &cost); err != nil {
			rows.Close()
			return nil, err
		}
		c.Cost = analytics.Micros(cost)
		at[[2]int32{c.Cohort, c.Period}] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if end == lastEnd || last < first {
		return analytics.NonEmptyCells(out), nil
	}
	// Few users signed up after end: read them first (CROSS JOIN keeps that
	// order), then their days.
	rows, err = tx.QueryContext(ctx, `SELECT SUM(a.revenue_cents), SUM(a.cost) FROM users u INDEXED BY users_by_signup_day
		CROSS JOIN user_activity a ON a.user_id = u.user_id AND a.day BETWEEN ? AND ?
		WHERE u.signup_day > ? AND u.signup_day <= ? GROUP BY u.user_id`, int64(lastStart), int64(end), int64(end), int64(lastEnd))
	if err != nil {
		return nil, fmt.Errorf("late signups of the last cohort: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rev, cost int64
		if err := rows.Scan(&rev, &cost); err != nil {
			return nil, err
		}
		i, ok := at[[2]int32{last, last}]
		if !ok {
			return nil, fmt.Errorf("cohort %d has a late signup's activity but no row", last)
		}
		out[i].Users--
		out[i].RevenueCents -= rev
		out[i].Cost -= analytics.Micros(cost)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return analytics.NonEmptyCells(out), nil
}

// UnattributedUsers counts the unsigned users active inside r.
func (s *Store) UnattributedUsers(ctx context.Context, r analytics.Range) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM unsigned_users u WHERE EXISTS (
		SELECT 1 FROM user_activity a WHERE a.user_id = u.user_id AND a.day BETWEEN ? AND ?)`,
		int64(r.Start), int64(r.End)).Scan(&n)
	return n, err
}
