package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

// The seed's design, as its log_api_call tool does it: every event is one
// transaction that inserts the log row, then reads the day's metrics row
// and the user's activity row and writes each back with new values computed
// in the application (read-modify-write), and commits. Its schema is the
// seed's: an api_call_logs table indexed on user, story and time, a
// daily_metrics row per date (UNIQUE), a user_activity row per user and date
// (UNIQUE), each with a surrogate id key. On SQLite it runs with the store's
// pragmas (WAL, synchronous=FULL); on PostgreSQL with synchronous_commit on,
// so each event pays one durable commit, as the seed's does.

var seedSchema = []string{
	`CREATE TABLE api_call_logs (
		id TEXT PRIMARY KEY, type TEXT NOT NULL, user_id TEXT NOT NULL, story_id TEXT,
		service TEXT NOT NULL, operation TEXT NOT NULL, model TEXT NOT NULL,
		input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, characters BIGINT NOT NULL,
		bytes_transferred BIGINT NOT NULL, cost BIGINT NOT NULL, amount_cents BIGINT NOT NULL,
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX api_call_logs_user ON api_call_logs (user_id)`,
	`CREATE INDEX api_call_logs_story ON api_call_logs (story_id)`,
	`CREATE INDEX api_call_logs_created ON api_call_logs (created_at)`,
	`CREATE TABLE daily_metrics (
		id TEXT PRIMARY KEY, day INTEGER NOT NULL UNIQUE,
		` + seedDailyDDL() + `)`,
	`CREATE TABLE user_activity (
		id TEXT PRIMARY KEY, user_id TEXT NOT NULL, day INTEGER NOT NULL,
		stories_created BIGINT NOT NULL, api_calls BIGINT NOT NULL, audio_ms BIGINT NOT NULL, cost BIGINT NOT NULL,
		UNIQUE (user_id, day))`,
	`CREATE INDEX user_activity_user ON user_activity (user_id)`,
	`CREATE INDEX user_activity_day ON user_activity (day)`,
}

// seedDailyColumns are daily_metrics' counters, in dailyValues' order.
var seedDailyColumns = []string{"new_users", "churned_users", "stories_created", "stories_completed", "stories_failed",
	"chapters", "audio_ms", "api_requests", "api_errors", "anthropic_cost", "elevenlabs_cost", "s3_cost",
	"total_cost", "revenue_cents"}

func seedDailyDDL() string {
	var cols []string
	for _, c := range seedDailyColumns {
		cols = append(cols, c+" BIGINT NOT NULL")
	}
	return strings.Join(cols, ", ")
}

func dailyValues(r *analytics.DailyRow) []int64 {
	return []int64{r.NewUsers, r.ChurnedUsers, r.StoriesCreated, r.StoriesCompleted, r.StoriesFailed,
		r.Chapters, r.AudioMillis, r.APIRequests, r.APIErrors, int64(r.AnthropicCost), int64(r.ElevenLabsCost),
		int64(r.S3Cost), int64(r.TotalCost()), r.PaymentsCents - r.RefundsCents}
}

type seedStmts struct {
	insertLog, selectDaily, insertDaily, updateDaily, selectUser, insertUser, updateUser *sql.Stmt
}

func prepareSeed(ctx context.Context, h *sql.DB, d dialect) (*seedStmts, error) {
	n := len(seedDailyColumns)
	var sets []string
	for _, c := range seedDailyColumns {
		sets = append(sets, c+" = ?")
	}
	st := &seedStmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.insertLog, `INSERT INTO api_call_logs (id, type, user_id, story_id, service, operation, model, input_tokens,
			output_tokens, characters, bytes_transferred, cost, amount_cents, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&st.selectDaily, `SELECT ` + strings.Join(seedDailyColumns, ", ") + ` FROM daily_metrics WHERE day = ?`},
		{&st.insertDaily, `INSERT INTO daily_metrics (id, day, ` + strings.Join(seedDailyColumns, ", ") + `) VALUES (?, ?` +
			strings.Repeat(", ?", n) + `)`},
		{&st.updateDaily, `UPDATE daily_metrics SET ` + strings.Join(sets, ", ") + ` WHERE day = ?`},
		{&st.selectUser, `SELECT stories_created, api_calls, audio_ms, cost FROM user_activity WHERE user_id = ? AND day = ?`},
		{&st.insertUser, `INSERT INTO user_activity (id, user_id, day, stories_created, api_calls, audio_ms, cost) VALUES (?,?,?,?,?,?,?)`},
		{&st.updateUser, `UPDATE user_activity SET stories_created = ?, api_calls = ?, audio_ms = ?, cost = ? WHERE user_id = ? AND day = ?`},
	} {
		s, err := h.PrepareContext(ctx, d.q(p.sql))
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = s
	}
	return st, nil
}

// runSeed stores events the seed's way, one transaction each, into db
// (an empty database); it calls start when the schema is ready.
func runSeed(ctx context.Context, eng engine, db string, events []analytics.Event, start func()) error {
	h, d, err := eng.sqlDB(db)
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetMaxOpenConns(1)
	for _, stmt := range seedSchema {
		if _, err := h.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("seed schema: %w", err)
		}
	}
	if d.pg {
		if _, err := h.ExecContext(ctx, `SET synchronous_commit = on`); err != nil {
			return err
		}
	}
	st, err := prepareSeed(ctx, h, d)
	if err != nil {
		return err
	}
	start()
	for i := range events {
		if err := seedOne(ctx, h, st, &events[i]); err != nil {
			return fmt.Errorf("event %s: %w", events[i].ID, err)
		}
	}
	return nil
}

func seedOne(ctx context.Context, h *sql.DB, st *seedStmts, e *analytics.Event) error {
	tx, err := h.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt := func(s *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, s) }
	if _, err := stmt(st.insertLog).ExecContext(ctx, e.ID, string(e.Type), e.UserID, e.StoryID, string(e.Service), e.Operation, e.Model,
		e.InputTokens, e.OutputTokens, e.Characters, e.BytesTransferred, int64(e.Cost), e.AmountCents, e.Timestamp.UnixMicro()); err != nil {
		return err
	}
	// What this one event adds, as the store computes it for a batch.
	delta, err := analytics.BuildRollupDelta([]analytics.Event{*e}, time.UTC)
	if err != nil {
		return err
	}
	day := analytics.EventDay(e, time.UTC)
	add := dailyValues(delta.Daily[day])

	cur := make([]int64, len(add))
	ptrs := make([]any, len(cur))
	for i := range cur {
		ptrs[i] = &cur[i]
	}
	err = stmt(st.selectDaily).QueryRowContext(ctx, int64(day)).Scan(ptrs...)
	args := make([]any, 0, len(add)+2)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		args = append(args, "day-"+strconv.Itoa(int(day)), int64(day))
		for _, v := range add {
			args = append(args, v)
		}
		_, err = stmt(st.insertDaily).ExecContext(ctx, args...)
	case err == nil:
		for i, v := range add {
			args = append(args, cur[i]+v)
		}
		_, err = stmt(st.updateDaily).ExecContext(ctx, append(args, int64(day))...)
	}
	if err != nil {
		return fmt.Errorf("daily metrics: %w", err)
	}

	if e.UserID != "" {
		u := delta.UserDays[analytics.UserDay{UserID: e.UserID, Day: day}]
		var s, c, a, cost int64
		err := stmt(st.selectUser).QueryRowContext(ctx, e.UserID, int64(day)).Scan(&s, &c, &a, &cost)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = stmt(st.insertUser).ExecContext(ctx, e.UserID+"/"+strconv.Itoa(int(day)), e.UserID, int64(day),
				u.Stories, u.APICalls, u.AudioMillis, int64(u.Cost))
		case err == nil:
			_, err = stmt(st.updateUser).ExecContext(ctx, s+u.Stories, c+u.APICalls, a+u.AudioMillis, cost+int64(u.Cost), e.UserID, int64(day))
		}
		if err != nil {
			return fmt.Errorf("user activity: %w", err)
		}
	}
	return tx.Commit()
}
