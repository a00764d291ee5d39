package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// stmts are the ingest path's statements, prepared once on the write
// connection: preparing them per call cost more than running them.
type stmts struct {
	insertEvents, insertUserDay, addUserDay, upsertUserDay, prevDay, nextDay, setPrev, deleteUserDay, addUserMonth, addUserTotals, dropUserTotals, addSpan, addDaily, addCost, upsertUser, addStory, addStoryDaily, dropStoryDaily, addStoryBucket, dropStoryBucket, addCohortDay, dropCohortDay *sql.Stmt
	all                                                                                                                                                                                                                                                                                          []*sql.Stmt
}

func (s *Store) prepare(ctx context.Context) (*stmts, error) {
	st := &stmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.insertEvents, insertEventsSQL(eventsPerInsert)},
		{&st.upsertUserDay, upsertUserDaySQL},
		{&st.insertUserDay, `INSERT INTO user_activity (user_id, day, events, stories_created, api_calls, audio_ms, cost,
			revenue_cents, pay_events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, day) DO NOTHING`},
		{&st.addUserDay, `UPDATE user_activity SET events = events + ?, stories_created = stories_created + ?,
			api_calls = api_calls + ?, audio_ms = audio_ms + ?, cost = cost + ?, revenue_cents = revenue_cents + ?,
			pay_events = pay_events + ? WHERE user_id = ? AND day = ?`},
		{&st.prevDay, `SELECT day FROM user_activity WHERE user_id = ? AND day < ? ORDER BY day DESC LIMIT 1`},
		{&st.nextDay, `SELECT day FROM user_activity WHERE user_id = ? AND day > ? ORDER BY day ASC LIMIT 1`},
		{&st.setPrev, `UPDATE user_activity SET prev_day = ? WHERE user_id = ? AND day = ?`},
		{&st.deleteUserDay, `DELETE FROM user_activity WHERE user_id = ? AND day = ?`},
		{&st.addUserMonth, `INSERT INTO user_month (user_id, month, stories_created, api_calls, audio_ms, cost, revenue_cents, pay_events)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, month) DO UPDATE SET stories_created = stories_created + excluded.stories_created,
			api_calls = api_calls + excluded.api_calls, audio_ms = audio_ms + excluded.audio_ms, cost = cost + excluded.cost,
			revenue_cents = revenue_cents + excluded.revenue_cents, pay_events = pay_events + excluded.pay_events`},
		{&st.addUserTotals, `INSERT INTO user_totals (user_id, events, stories_created, api_calls, pay_events, revenue_cents, cost)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET events = events + excluded.events,
			stories_created = stories_created + excluded.stories_created, api_calls = api_calls + excluded.api_calls,
			pay_events = pay_events + excluded.pay_events, revenue_cents = revenue_cents + excluded.revenue_cents,
			cost = cost + excluded.cost`},
		{&st.dropUserTotals, `DELETE FROM user_totals WHERE user_id = ? AND events = 0`},
		{&st.addSpan, `INSERT INTO active_spans (day, prev_day, users) VALUES (?, ?, ?)
			ON CONFLICT (day, prev_day) DO UPDATE SET users = users + excluded.users`},
		{&st.addDaily, addDailySQL},
		{&st.addCost, addCostSQL},
		{&st.addStory, addStorySQL},
		{&st.addStoryDaily, `INSERT INTO story_daily (day, status, stories, cost, audio_ms) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, status) DO UPDATE SET stories = stories + excluded.stories, cost = cost + excluded.cost,
				audio_ms = audio_ms + excluded.audio_ms`},
		{&st.dropStoryDaily, `DELETE FROM story_daily WHERE day = ? AND status = ? AND stories = 0`},
		{&st.addStoryBucket, `INSERT INTO story_buckets (day, bucket, stories) VALUES (?, ?, ?)
			ON CONFLICT (day, bucket) DO UPDATE SET stories = stories + excluded.stories`},
		{&st.dropStoryBucket, `DELETE FROM story_buckets WHERE day = ? AND bucket = ? AND stories = 0`},
		{&st.addCohortDay, `INSERT INTO cohort_days (granularity, cohort, day, firsts, revenue_cents, cost)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (granularity, cohort, day) DO UPDATE SET firsts = firsts + excluded.firsts,
				revenue_cents = revenue_cents + excluded.revenue_cents, cost = cost + excluded.cost
			RETURNING firsts, revenue_cents, cost`},
		{&st.dropCohortDay, `DELETE FROM cohort_days WHERE granularity = ? AND cohort = ? AND day = ?`},
		{&st.upsertUser, `INSERT INTO users (user_id, email, signup_ts, signup_day) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, signup_ts = excluded.signup_ts, signup_day = excluded.signup_day
			WHERE excluded.signup_ts < users.signup_ts
				OR (excluded.signup_ts = users.signup_ts AND excluded.email < users.email)`},
	} {
		stmt, err := s.write.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = stmt
		st.all = append(st.all, stmt)
	}
	return st, nil
}

// txStmts binds the prepared statements to a transaction.
type txStmts struct {
	tx *sql.Tx
	st *stmts
}

func (t txStmts) exec(ctx context.Context, stmt *sql.Stmt, args ...any) (sql.Result, error) {
	return t.tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
}

func (t txStmts) queryRow(ctx context.Context, stmt *sql.Stmt, args ...any) *sql.Row {
	return t.tx.StmtContext(ctx, stmt).QueryRowContext(ctx, args...)
}
