package bench

import (
	"context"
	"fmt"
	"slices"

	analytics "github.com/codestory/analytics"
)

// The unit-economics reads as plain aggregates of the events table.

// rawSignupsSQL is each user's earliest live signup (the smaller email
// breaks a tie), with its day.
const rawSignupsSQL = `SELECT user_id, email, day FROM (
	SELECT user_id, email, day, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts, email) AS rn
	FROM events WHERE type = 'user_signup' AND voided_by IS NULL) f WHERE rn = 1`

// UserEconomics groups the range's events by user.
func (s *rawStore) UserEconomics(ctx context.Context, r analytics.Range) ([]analytics.UserEconomicsRow, error) {
	from, to := s.bounds(r)
	q := `WITH t AS (
		SELECT user_id, ` + when("type = 'payment'", "amount_cents") + ` - ` + when("type = 'refund'", "amount_cents") + ` AS rev,
			` + when("type = 'api_call'", "cost") + ` AS cost, ` + when("type = 'story_created'", "1") + ` AS stories,
			` + when("type IN ('api_call', 'payment', 'refund')", "1") + ` AS n
		FROM events WHERE ts >= ? AND ts < ? AND user_id <> '' AND ` + rawLive + ` GROUP BY user_id
	), s AS (` + rawSignupsSQL + `)
	SELECT t.user_id, COALESCE(s.email, ''), t.rev, t.cost, t.stories, t.n FROM t LEFT JOIN s ON s.user_id = t.user_id WHERE t.n > 0`
	rows, err := s.db.QueryContext(ctx, s.d.q(q), from, to)
	if err != nil {
		return nil, fmt.Errorf("raw user economics: %w", err)
	}
	defer rows.Close()
	var out []analytics.UserEconomicsRow
	s.emails = map[string]string{}
	for rows.Next() {
		var u analytics.UserEconomicsRow
		var cost int64
		if err := rows.Scan(&u.UserID, &u.Email, &u.RevenueCents, &cost, &u.Stories, &u.Calls); err != nil {
			return nil, err
		}
		u.Cost = analytics.Micros(cost)
		if u.Email != "" {
			s.emails[u.UserID] = u.Email
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserEmails answers from the emails the last UserEconomics joined from
// the signup events.
func (s *rawStore) UserEmails(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		if e, ok := s.emails[id]; ok {
			out[id] = e
		}
	}
	return out, nil
}

// Stories calls each for the range's stories (allStories), sorted by cost.
func (s *rawStore) Stories(ctx context.Context, r analytics.Range, each func(analytics.StoryRow) error) error {
	rows, err := s.storyRows(ctx, r)
	if err != nil {
		return err
	}
	rows = slices.Clone(rows)
	analytics.SortStoriesByCost(rows)
	for _, st := range rows {
		if err := each(st); err != nil {
			return err
		}
	}
	return nil
}

// allStories groups every story event by story and keeps those whose
// anchor day lies in r.
func (s *rawStore) allStories(ctx context.Context, r analytics.Range) ([]analytics.StoryRow, error) {
	const types = `e.story_id <> '' AND e.voided_by IS NULL AND e.type IN ('api_call', 'story_created', 'story_completed', 'story_failed')`
	q := `WITH a AS (
		SELECT story_id, user_id, day FROM (
			SELECT story_id, user_id, day, ROW_NUMBER() OVER (PARTITION BY story_id
				ORDER BY CASE WHEN type = 'story_created' THEN 0 ELSE 1 END, ts, user_id) AS rn
			FROM events e WHERE ` + types + `) x WHERE rn = 1 AND day BETWEEN ? AND ?
	)
	SELECT a.story_id, a.user_id, a.day, COUNT(*), ` + when("type = 'story_created'", "1") + `, ` +
		when("type = 'story_completed'", "1") + `, ` + when("type = 'story_failed'", "1") + `, ` +
		when("type = 'story_completed'", "chapters") + `, ` + when("type = 'story_completed'", "audio_ms") + `, ` +
		when("type = 'api_call' AND service = 'anthropic'", "cost") + `, ` +
		when("type = 'api_call' AND service = 'elevenlabs'", "cost") + `, ` +
		when("type = 'api_call' AND service = 's3'", "cost") + `
	FROM a JOIN events e ON e.story_id = a.story_id WHERE ` + types + `
	GROUP BY a.story_id, a.user_id, a.day`
	rows, err := s.db.QueryContext(ctx, s.d.q(q), int64(r.Start), int64(r.End))
	if err != nil {
		return nil, fmt.Errorf("raw stories: %w", err)
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

// period is analytics.CohortPeriodOf of a day column.
func (s *rawStore) period(col string, g analytics.Granularity) string {
	switch {
	case g == analytics.GranularityWeek:
		return "((" + col + " + 3) / 7)"
	case s.d.pg:
		return "(extract(year FROM DATE '1970-01-01' + " + col + ") * 12 + extract(month FROM DATE '1970-01-01' + " + col + ") - 1)::integer"
	}
	return "(CAST(strftime('%Y', " + col + " * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', " + col + " * 86400, 'unixepoch') AS INTEGER) - 1)"
}

// CohortCells joins the cohorts' users with their events.
func (s *rawStore) CohortCells(ctx context.Context, from, end analytics.Day, g analytics.Granularity) ([]analytics.CohortCell, error) {
	q := `WITH f AS (SELECT user_id, ` + s.period("day", g) + ` AS c FROM (` + rawSignupsSQL + `) x WHERE day BETWEEN ? AND ?)
	SELECT f.c, ` + s.period("e.day", g) + ` AS p, COUNT(DISTINCT e.user_id), ` +
		when("type = 'payment'", "amount_cents") + ` - ` + when("type = 'refund'", "amount_cents") + `, ` + when("type = 'api_call'", "cost") + `
	FROM f JOIN events e ON e.user_id = f.user_id
	WHERE e.ts < ? AND e.voided_by IS NULL AND e.type <> 'event_voided' AND ` + s.period("e.day", g) + ` >= f.c
	GROUP BY 1, 2`
	rows, err := s.db.QueryContext(ctx, s.d.q(q), int64(from), int64(end), s.d.ts((end + 1).Start(s.Location())))
	if err != nil {
		return nil, fmt.Errorf("raw cohort cells: %w", err)
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

// UnattributedUsers counts the range's users who never signed up.
func (s *rawStore) UnattributedUsers(ctx context.Context, r analytics.Range) (int64, error) {
	from, to := s.bounds(r)
	var n int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(DISTINCT user_id) FROM events e WHERE ts >= ? AND ts < ? AND user_id <> ''
		AND `+rawLive+` AND NOT EXISTS (SELECT 1 FROM events s WHERE s.user_id = e.user_id AND s.type = 'user_signup' AND s.voided_by IS NULL)`),
		from, to).Scan(&n)
	return n, err
}

// The story reads of get_story_costs, from one raw aggregate per range
// (kept for the calls of one tool run).
func (s *rawStore) storyRows(ctx context.Context, r analytics.Range) (analytics.StoryRows, error) {
	if s.stories != nil && s.storiesOf == r {
		return s.stories, nil
	}
	rows, err := s.allStories(ctx, r)
	s.stories, s.storiesOf = rows, r
	return rows, err
}

// StorySummary sums the range's stories.
func (s *rawStore) StorySummary(ctx context.Context, r analytics.Range) (analytics.StorySummary, error) {
	rows, err := s.storyRows(ctx, r)
	if err != nil {
		return analytics.StorySummary{}, err
	}
	return rows.StorySummary(ctx, r)
}

// CompletedStoryCost sorts the bucket's completed stories.
func (s *rawStore) CompletedStoryCost(ctx context.Context, r analytics.Range, bucket int32, offset int64) (analytics.Micros, error) {
	rows, err := s.storyRows(ctx, r)
	if err != nil {
		return 0, err
	}
	return rows.CompletedStoryCost(ctx, r, bucket, offset)
}

// TopStories sorts the range's stories.
func (s *rawStore) TopStories(ctx context.Context, r analytics.Range, n int) ([]analytics.StoryRow, error) {
	rows, err := s.storyRows(ctx, r)
	if err != nil {
		return nil, err
	}
	return rows.TopStories(ctx, r, n)
}
