package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	analytics "github.com/codestory/analytics"
)

const insertEventSQL = `INSERT INTO events (id, type, ts, day, user_id, service, operation, model,
	input_tokens, output_tokens, cache_write_tokens, cache_write_1h_tokens, cache_read_tokens,
	characters, bytes_transferred, requests, status, explicit_cost, cost, priced,
	story_id, chapters, audio_ms, amount_cents, email, received_at)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (id) DO NOTHING`

// IngestEvents stores a batch in one transaction: insert new events (skipping
// known ids), aggregate the new ones in memory, then one upsert per touched
// rollup row.
func (s *Store) IngestEvents(ctx context.Context, events []analytics.Event) (analytics.IngestCounts, error) {
	var counts analytics.IngestCounts
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return counts, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	st := s.stmts
	ins := tx.StmtContext(ctx, st.insertEvent)
	received := micros(s.now())
	fresh := make([]analytics.Event, 0, len(events))
	for i := range events {
		e := &events[i]
		var explicit any
		if e.ExplicitCost != nil {
			explicit = int64(*e.ExplicitCost)
		}
		res, err := ins.ExecContext(ctx, e.ID, string(e.Type), micros(e.Timestamp), int64(analytics.EventDay(e, s.loc)),
			e.UserID, string(e.Service), e.Operation, e.Model,
			e.InputTokens, e.OutputTokens, e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens,
			e.Characters, e.BytesTransferred, e.Requests, e.Status, explicit, int64(e.Cost), e.Priced,
			e.StoryID, e.Chapters, e.AudioMillis, e.AmountCents, e.Email, received)
		if err != nil {
			return counts, fmt.Errorf("insert event %q: %w", e.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			fresh = append(fresh, *e)
		} else {
			counts.Duplicates++
		}
	}
	counts.Accepted = len(fresh)
	if len(fresh) > 0 {
		if err := applyDelta(ctx, txStmts{tx, st}, analytics.BuildRollupDelta(fresh, s.loc)); err != nil {
			return analytics.IngestCounts{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return analytics.IngestCounts{}, fmt.Errorf("commit: %w", err)
	}
	return counts, nil
}

// applyDelta adds a batch's deltas to every rollup. It runs inside the
// ingest transaction; SQLite's single writer makes the prev/next look-ups of
// the active-span rollup safe.
func applyDelta(ctx context.Context, t txStmts, d *analytics.RollupDelta) error {
	spans := map[analytics.SpanKey]int64{}
	for _, ud := range d.SortedUserDays() {
		isNew, err := linkUserDay(ctx, t, ud, spans)
		if err != nil {
			return err
		}
		if isNew {
			d.Daily[ud.Day].ActiveUsers++
		}
		delta := d.UserDays[ud]
		if delta.Stories == 0 && delta.APICalls == 0 && delta.AudioMillis == 0 && delta.Cost == 0 {
			continue
		}
		if _, err := t.exec(ctx, t.st.addUserDay, delta.Stories, delta.APICalls, delta.AudioMillis, int64(delta.Cost), ud.UserID, int64(ud.Day)); err != nil {
			return fmt.Errorf("update user activity: %w", err)
		}
	}
	for _, um := range d.SortedUserMonths() {
		v := d.UserMonths[um]
		if _, err := t.exec(ctx, t.st.addUserMonth, um.UserID, um.Month, v.Stories, v.APICalls, v.AudioMillis, int64(v.Cost)); err != nil {
			return fmt.Errorf("upsert user month: %w", err)
		}
	}
	for k, n := range spans {
		if n == 0 {
			continue
		}
		if _, err := t.exec(ctx, t.st.addSpan, int64(k.Day), int64(k.Prev), n); err != nil {
			return fmt.Errorf("upsert active spans: %w", err)
		}
	}
	for _, r := range d.Daily {
		if _, err := t.exec(ctx, t.st.addDaily, int64(r.Day), r.NewUsers, r.ActiveUsers, r.ChurnedUsers, r.StoriesCreated, r.StoriesCompleted,
			r.StoriesFailed, r.Chapters, r.AudioMillis, r.APIRequests, r.APIErrors, r.UnpricedCalls,
			int64(r.AnthropicCost), int64(r.ElevenLabsCost), int64(r.S3Cost), r.PaymentsCents, r.RefundsCents); err != nil {
			return fmt.Errorf("upsert daily metrics: %w", err)
		}
	}
	for k, c := range d.Costs {
		if _, err := t.exec(ctx, t.st.addCost, int64(k.Day), string(k.Service), k.Model, k.Operation, c.Calls, c.Errors, c.UnpricedCalls,
			c.InputTokens, c.OutputTokens, c.CacheWriteTokens, c.CacheReadTokens, c.Characters,
			c.BytesTransferred, c.Requests, int64(c.Cost)); err != nil {
			return fmt.Errorf("upsert cost rollup: %w", err)
		}
	}
	for user, su := range d.Signups {
		if _, err := t.exec(ctx, t.st.upsertUser, user, su.Email, micros(su.At)); err != nil {
			return fmt.Errorf("upsert user: %w", err)
		}
	}
	return nil
}

const addDailySQL = `INSERT INTO daily_metrics (day, new_users, active_users, churned_users,
	stories_created, stories_completed, stories_failed, chapters, audio_ms, api_requests, api_errors,
	unpriced_calls, anthropic_cost, elevenlabs_cost, s3_cost, payments_cents, refunds_cents)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (day) DO UPDATE SET
		new_users = new_users + excluded.new_users,
		active_users = active_users + excluded.active_users,
		churned_users = churned_users + excluded.churned_users,
		stories_created = stories_created + excluded.stories_created,
		stories_completed = stories_completed + excluded.stories_completed,
		stories_failed = stories_failed + excluded.stories_failed,
		chapters = chapters + excluded.chapters,
		audio_ms = audio_ms + excluded.audio_ms,
		api_requests = api_requests + excluded.api_requests,
		api_errors = api_errors + excluded.api_errors,
		unpriced_calls = unpriced_calls + excluded.unpriced_calls,
		anthropic_cost = anthropic_cost + excluded.anthropic_cost,
		elevenlabs_cost = elevenlabs_cost + excluded.elevenlabs_cost,
		s3_cost = s3_cost + excluded.s3_cost,
		payments_cents = payments_cents + excluded.payments_cents,
		refunds_cents = refunds_cents + excluded.refunds_cents`

const addCostSQL = `INSERT INTO cost_daily (day, service, model, operation, calls, errors,
	unpriced_calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, characters,
	bytes_transferred, requests, cost) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (day, service, model, operation) DO UPDATE SET
		calls = calls + excluded.calls,
		errors = errors + excluded.errors,
		unpriced_calls = unpriced_calls + excluded.unpriced_calls,
		input_tokens = input_tokens + excluded.input_tokens,
		output_tokens = output_tokens + excluded.output_tokens,
		cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
		cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
		characters = characters + excluded.characters,
		bytes_transferred = bytes_transferred + excluded.bytes_transferred,
		requests = requests + excluded.requests,
		cost = cost + excluded.cost`

// linkUserDay inserts the user-day if it is new and keeps the prev_day chain
// and active_spans deltas right: the new day's predecessor is the user's
// latest earlier day, and a later day (a late event filled a gap) is re-linked
// to the new day.
func linkUserDay(ctx context.Context, t txStmts, ud analytics.UserDay, spans map[analytics.SpanKey]int64) (bool, error) {
	res, err := t.exec(ctx, t.st.insertUserDay, ud.UserID, int64(ud.Day))
	if err != nil {
		return false, fmt.Errorf("insert user day: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	prev := analytics.NoPrevDay
	var p int64
	err = t.queryRow(ctx, t.st.prevDay, ud.UserID, int64(ud.Day)).Scan(&p)
	switch {
	case err == nil:
		prev = analytics.Day(p)
		if _, err := t.exec(ctx, t.st.setPrev, p, ud.UserID, int64(ud.Day)); err != nil {
			return false, fmt.Errorf("link user day: %w", err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("find previous user day: %w", err)
	}
	spans[analytics.SpanKey{Day: ud.Day, Prev: prev}]++

	var next int64
	err = t.queryRow(ctx, t.st.nextDay, ud.UserID, int64(ud.Day)).Scan(&next)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("find next user day: %w", err)
	}
	spans[analytics.SpanKey{Day: analytics.Day(next), Prev: prev}]--
	spans[analytics.SpanKey{Day: analytics.Day(next), Prev: ud.Day}]++
	if _, err := t.exec(ctx, t.st.setPrev, int64(ud.Day), ud.UserID, next); err != nil {
		return false, fmt.Errorf("relink next user day: %w", err)
	}
	return true, nil
}
