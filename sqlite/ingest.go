package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

// eventColumnsSQL are the columns an ordinary event is stored with, in the
// order eventArgs gives them.
const eventColumnsSQL = `id, type, ts, day, user_id, service, operation, model,
	input_tokens, output_tokens, cache_write_tokens, cache_write_1h_tokens, cache_read_tokens,
	characters, bytes_transferred, requests, status, explicit_cost, cost, priced,
	story_id, chapters, audio_ms, amount_cents, email, received_at, price_ref`

const eventColumnCount = 27

// eventsPerInsert is how many events one INSERT statement carries (as the
// bench's bulk-insert floor does); with the statement journal in memory it
// is a few percent faster than one statement per event.
const eventsPerInsert = 100

// insertEventsSQL inserts rows events unless their ids are stored, and
// returns the ids it inserted (a conflicting row returns nothing).
func insertEventsSQL(rows int) string {
	one := "(?" + strings.Repeat(",?", eventColumnCount-1) + ")"
	return `INSERT INTO events (` + eventColumnsSQL + `) VALUES ` + one + strings.Repeat(","+one, rows-1) +
		` ON CONFLICT (id) DO NOTHING RETURNING id`
}

// insertVoidSQL stores an event_voided: its target and reason, nothing else
// (binding two fewer columns on every ordinary event is measurable).
const insertVoidSQL = `INSERT INTO events (id, type, ts, day, user_id, received_at, voids, reason)
	VALUES (?, 'event_voided', ?, ?, '', ?, ?, ?) ON CONFLICT (id) DO NOTHING`

// IngestEvents stores a batch in one transaction: insert new events (skipping
// known ids), aggregate the new ones in memory, then one upsert per touched
// rollup row. Voids (event_voided) are not taken here but by VoidEvents.
func (s *Store) IngestEvents(ctx context.Context, events []analytics.Event) (analytics.IngestCounts, error) {
	var counts analytics.IngestCounts
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return counts, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	loc, err := s.refreshLocation(ctx, tx)
	if err != nil {
		return counts, err
	}

	st := s.stmts
	for i := range events {
		if events[i].Type == analytics.EventVoided {
			return counts, fmt.Errorf("insert event %q: voids go through VoidEvents", events[i].ID)
		}
	}
	fresh, err := insertEvents(ctx, tx, st, events, loc, micros(s.now()))
	if err != nil {
		return counts, err
	}
	counts.Duplicates = len(events) - len(fresh)
	counts.Accepted = len(fresh)
	if len(fresh) > 0 {
		d, err := analytics.BuildRollupDelta(fresh, loc)
		if err != nil {
			return analytics.IngestCounts{}, err
		}
		if err := applyDelta(ctx, txStmts{tx, st}, d); err != nil {
			return analytics.IngestCounts{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return analytics.IngestCounts{}, fmt.Errorf("commit: %w", err)
	}
	return counts, nil
}

// insertEvents inserts the events whose ids are not stored yet, eventsPerInsert
// to a statement, and returns those it inserted, in order (of two with one
// id, the first).
func insertEvents(ctx context.Context, tx *sql.Tx, st *stmts, events []analytics.Event, loc *time.Location, received int64) ([]analytics.Event, error) {
	fresh := make([]analytics.Event, 0, len(events))
	args := make([]any, 0, eventsPerInsert*eventColumnCount)
	inserted := make(map[string]bool, eventsPerInsert)
	for chunk := range slices.Chunk(events, eventsPerInsert) {
		args = args[:0]
		for i := range chunk {
			args = eventArgs(args, &chunk[i], loc, received)
		}
		var rows *sql.Rows
		var err error
		if len(chunk) == eventsPerInsert {
			rows, err = tx.StmtContext(ctx, st.insertEvents).QueryContext(ctx, args...)
		} else {
			rows, err = tx.QueryContext(ctx, insertEventsSQL(len(chunk)), args...)
		}
		if err != nil {
			return nil, chunkError(chunk, err)
		}
		clear(inserted)
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("insert events: %w", err)
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, chunkError(chunk, err)
		}
		for i := range chunk {
			if inserted[chunk[i].ID] {
				fresh = append(fresh, chunk[i])
				delete(inserted, chunk[i].ID)
			}
		}
	}
	return fresh, nil
}

// chunkError names the events of a failed statement (it changed nothing,
// and the caller gives the transaction up).
func chunkError(chunk []analytics.Event, err error) error {
	return fmt.Errorf("insert events %q to %q: %w", chunk[0].ID, chunk[len(chunk)-1].ID, err)
}

// eventArgs appends e's column values in eventColumnsSQL's order.
func eventArgs(dst []any, e *analytics.Event, loc *time.Location, received int64) []any {
	var explicit any
	if e.ExplicitCost != nil {
		explicit = int64(*e.ExplicitCost)
	}
	return append(dst, e.ID, string(e.Type), micros(e.Timestamp), int64(analytics.EventDay(e, loc)),
		e.UserID, string(e.Service), e.Operation, e.Model,
		e.InputTokens, e.OutputTokens, e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens,
		e.Characters, e.BytesTransferred, e.Requests, e.Status, explicit, int64(e.Cost), e.Priced,
		e.StoryID, e.Chapters, e.AudioMillis, e.AmountCents, e.Email, received, e.PriceRef.String())
}

// upsertUserDaySQL adds a user-day's delta and returns its prev_day and
// its live event count afterwards. A stored user-day always has at least one
// live event, so a count equal to the delta's own means the row is new.
const upsertUserDaySQL = `INSERT INTO user_activity (user_id, day, events, stories_created, api_calls, audio_ms, cost,
		revenue_cents, pay_events)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (user_id, day) DO UPDATE SET events = events + excluded.events,
		stories_created = stories_created + excluded.stories_created, api_calls = api_calls + excluded.api_calls,
		audio_ms = audio_ms + excluded.audio_ms, cost = cost + excluded.cost,
		revenue_cents = revenue_cents + excluded.revenue_cents, pay_events = pay_events + excluded.pay_events
	RETURNING prev_day, events`

// addStorySQL adds a batch's delta to a story: counters add up, and the
// anchor (day and user) moves to the delta's when that one is smaller.
const addStorySQL = `INSERT INTO stories (story_id, user_id, anchor_rank, anchor_ts, day, events, created, completed, failed,
		chapters, audio_ms, anthropic_cost, elevenlabs_cost, s3_cost, cost)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (story_id) DO UPDATE SET
		user_id = CASE WHEN (excluded.anchor_rank, excluded.anchor_ts, excluded.user_id) < (anchor_rank, anchor_ts, user_id)
			THEN excluded.user_id ELSE user_id END,
		day = CASE WHEN (excluded.anchor_rank, excluded.anchor_ts, excluded.user_id) < (anchor_rank, anchor_ts, user_id)
			THEN excluded.day ELSE day END,
		anchor_ts = CASE WHEN (excluded.anchor_rank, excluded.anchor_ts, excluded.user_id) < (anchor_rank, anchor_ts, user_id)
			THEN excluded.anchor_ts ELSE anchor_ts END,
		anchor_rank = CASE WHEN (excluded.anchor_rank, excluded.anchor_ts, excluded.user_id) < (anchor_rank, anchor_ts, user_id)
			THEN excluded.anchor_rank ELSE anchor_rank END,
		events = events + excluded.events, created = created + excluded.created, completed = completed + excluded.completed,
		failed = failed + excluded.failed, chapters = chapters + excluded.chapters, audio_ms = audio_ms + excluded.audio_ms,
		anthropic_cost = anthropic_cost + excluded.anthropic_cost, elevenlabs_cost = elevenlabs_cost + excluded.elevenlabs_cost,
		s3_cost = s3_cost + excluded.s3_cost, cost = cost + excluded.cost`

// applyDelta adds a batch's (possibly negative) deltas to every rollup. It
// runs inside a write transaction; SQLite's single writer makes the
// prev/next look-ups of the active-span rollup safe. A user-day whose live
// events fall to zero is removed and unlinked; a daily or cost row left with
// no calls or figures is deleted, so the rollups hold exactly what a fresh
// aggregate of the live events would.
func applyDelta(ctx context.Context, t txStmts, d *analytics.RollupDelta) error {
	spans := map[analytics.SpanKey]int64{}
	emptied := map[analytics.UserMonth]bool{}
	co, err := beginCohorts(ctx, t, d)
	if err != nil {
		return err
	}
	for _, ud := range d.SortedUserDays() {
		delta := d.UserDays[ud]
		if delta.IsZero() {
			continue
		}
		var prev sql.NullInt64
		var left int64
		var isNew bool
		if delta.Events > 0 {
			// The ingest path: only additions. Two plain statements are
			// cheaper here than one upsert that returns a row.
			res, err := t.exec(ctx, t.st.insertUserDay, ud.UserID, int64(ud.Day), delta.Events, delta.Stories, delta.APICalls,
				delta.AudioMillis, int64(delta.Cost), delta.RevenueCents, delta.PayEvents)
			if err != nil {
				return fmt.Errorf("insert user activity: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				isNew, left = true, delta.Events
			} else if _, err := t.exec(ctx, t.st.addUserDay, delta.Events, delta.Stories, delta.APICalls,
				delta.AudioMillis, int64(delta.Cost), delta.RevenueCents, delta.PayEvents, ud.UserID, int64(ud.Day)); err != nil {
				return fmt.Errorf("update user activity: %w", err)
			} else {
				left = 1 // at least the events just added: nothing to unlink
			}
		} else {
			if err := t.queryRow(ctx, t.st.upsertUserDay, ud.UserID, int64(ud.Day), delta.Events, delta.Stories, delta.APICalls,
				delta.AudioMillis, int64(delta.Cost), delta.RevenueCents, delta.PayEvents).Scan(&prev, &left); err != nil {
				return fmt.Errorf("update user activity: %w", err)
			}
		}
		switch {
		case left < 0 || (isNew && left == 0):
			return fmt.Errorf("user activity of %q on %s would hold %d events: the correction does not match the stored events", ud.UserID, ud.Day, left)
		case isNew:
			nb, err := linkUserDay(ctx, t, ud, spans)
			if err != nil {
				return err
			}
			d.Daily[ud.Day].ActiveUsers++
			co.day(ud, delta, nb, 1)
		case left == 0:
			p := analytics.NoPrevDay
			if prev.Valid {
				p = analytics.Day(prev.Int64)
			}
			nb, err := unlinkUserDay(ctx, t, ud, p, spans)
			if err != nil {
				return err
			}
			d.Daily[ud.Day].ActiveUsers--
			emptied[analytics.UserMonth{UserID: ud.UserID, Month: analytics.MonthOf(ud.Day)}] = true
			co.day(ud, delta, nb, -1)
		default:
			co.day(ud, delta, neighbours{}, 0)
		}
	}
	for _, um := range d.SortedUserMonths() {
		v := d.UserMonths[um]
		if v.IsZero() {
			continue
		}
		if _, err := t.exec(ctx, t.st.addUserMonth, um.UserID, um.Month, v.Stories, v.APICalls, v.AudioMillis, int64(v.Cost),
			v.RevenueCents, v.PayEvents); err != nil {
			return fmt.Errorf("upsert user month: %w", err)
		}
	}
	for _, user := range d.SortedUsers() {
		v := d.Users[user]
		if v.IsZero() {
			continue
		}
		if _, err := t.exec(ctx, t.st.addUserTotals, user, v.Events, v.Stories, v.APICalls, v.PayEvents, v.RevenueCents, int64(v.Cost)); err != nil {
			return fmt.Errorf("upsert user totals: %w", err)
		}
		if v.Events < 0 {
			if _, err := t.exec(ctx, t.st.dropUserTotals, user); err != nil {
				return fmt.Errorf("drop empty user totals: %w", err)
			}
		}
	}
	for um := range emptied {
		first, last := analytics.MonthDays(um.Month)
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM user_month WHERE user_id = ? AND month = ? AND NOT EXISTS (
			SELECT 1 FROM user_activity WHERE user_id = ? AND day BETWEEN ? AND ?)`,
			um.UserID, um.Month, um.UserID, int64(first), int64(last)); err != nil {
			return fmt.Errorf("drop empty user month: %w", err)
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
		if r.IsZero() {
			continue
		}
		if _, err := t.exec(ctx, t.st.addDaily, int64(r.Day), r.NewUsers, r.ActiveUsers, r.ChurnedUsers, r.StoriesCreated, r.StoriesCompleted,
			r.StoriesFailed, r.Chapters, r.AudioMillis, r.APIRequests, r.APIErrors, r.UnpricedCalls,
			int64(r.AnthropicCost), int64(r.ElevenLabsCost), int64(r.S3Cost), r.PaymentsCents, r.RefundsCents); err != nil {
			return fmt.Errorf("upsert daily metrics: %w", err)
		}
		if r.NewUsers < 0 || r.ActiveUsers < 0 || r.APIRequests < 0 || r.StoriesCreated < 0 || r.StoriesCompleted < 0 ||
			r.StoriesFailed < 0 || r.ChurnedUsers < 0 || r.PaymentsCents < 0 || r.RefundsCents < 0 {
			if _, err := t.tx.ExecContext(ctx, `DELETE FROM daily_metrics WHERE day = ? AND `+zeroDaily, int64(r.Day)); err != nil {
				return fmt.Errorf("drop empty daily row: %w", err)
			}
		}
	}
	for k, c := range d.Costs {
		if *c == (analytics.CostRow{Service: c.Service, Model: c.Model, Operation: c.Operation, PriceRef: c.PriceRef}) {
			continue
		}
		if _, err := t.exec(ctx, t.st.addCost, int64(k.Day), string(k.Service), k.Model, k.Operation, k.PriceRef, c.Calls, c.Errors, c.UnpricedCalls,
			c.InputTokens, c.OutputTokens, c.CacheWriteTokens, c.CacheReadTokens, c.Characters,
			c.BytesTransferred, c.Requests, int64(c.Cost)); err != nil {
			return fmt.Errorf("upsert cost rollup: %w", err)
		}
		if c.Calls < 0 {
			if _, err := t.tx.ExecContext(ctx, `DELETE FROM cost_daily WHERE day = ? AND service = ? AND model = ? AND operation = ?
				AND price_ref = ? AND calls = 0`, int64(k.Day), string(k.Service), k.Model, k.Operation, k.PriceRef); err != nil {
				return fmt.Errorf("drop empty cost row: %w", err)
			}
		}
	}
	if err := applyStories(ctx, t, d); err != nil {
		return err
	}
	for user, su := range d.Signups {
		if _, err := t.exec(ctx, t.st.upsertUser, user, su.Email, micros(su.At), int64(su.Day)); err != nil {
			return fmt.Errorf("upsert user: %w", err)
		}
	}
	for user := range d.ResignUsers {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM users WHERE user_id = ?`, user); err != nil {
			return fmt.Errorf("recompute user: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO users (user_id, email, signup_ts, signup_day)
			SELECT user_id, email, ts, day FROM events WHERE type = 'user_signup' AND user_id = ? AND voided_by IS NULL
			ORDER BY ts, email LIMIT 1`, user); err != nil {
			return fmt.Errorf("recompute user: %w", err)
		}
	}
	return co.finish(ctx, t)
}

// zeroDaily is true of a daily row that holds no figure.
const zeroDaily = `new_users = 0 AND active_users = 0 AND churned_users = 0 AND stories_created = 0 AND stories_completed = 0
	AND stories_failed = 0 AND chapters = 0 AND audio_ms = 0 AND api_requests = 0 AND api_errors = 0 AND unpriced_calls = 0
	AND anthropic_cost = 0 AND elevenlabs_cost = 0 AND s3_cost = 0 AND payments_cents = 0 AND refunds_cents = 0`

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

const addCostSQL = `INSERT INTO cost_daily (day, service, model, operation, price_ref, calls, errors,
	unpriced_calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, characters,
	bytes_transferred, requests, cost) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (day, service, model, operation, price_ref) DO UPDATE SET
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

// linkUserDay links a user-day just inserted (prev_day NULL) and keeps
// the prev_day chain and active_spans deltas right: the new day's
// predecessor is the user's latest earlier day, and a later day (a late
// event filled a gap) is re-linked to the new day.
func linkUserDay(ctx context.Context, t txStmts, ud analytics.UserDay, spans map[analytics.SpanKey]int64) (neighbours, error) {
	nb := neighbours{prev: analytics.NoPrevDay}
	var p int64
	err := t.queryRow(ctx, t.st.prevDay, ud.UserID, int64(ud.Day)).Scan(&p)
	switch {
	case err == nil:
		nb.prev = analytics.Day(p)
		if _, err := t.exec(ctx, t.st.setPrev, p, ud.UserID, int64(ud.Day)); err != nil {
			return nb, fmt.Errorf("link user day: %w", err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return nb, fmt.Errorf("find previous user day: %w", err)
	}
	spans[analytics.SpanKey{Day: ud.Day, Prev: nb.prev}]++

	var next int64
	err = t.queryRow(ctx, t.st.nextDay, ud.UserID, int64(ud.Day)).Scan(&next)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nb, nil
	case err != nil:
		return nb, fmt.Errorf("find next user day: %w", err)
	}
	nb.next, nb.hasNext = analytics.Day(next), true
	spans[analytics.SpanKey{Day: analytics.Day(next), Prev: nb.prev}]--
	spans[analytics.SpanKey{Day: analytics.Day(next), Prev: ud.Day}]++
	if _, err := t.exec(ctx, t.st.setPrev, int64(ud.Day), ud.UserID, next); err != nil {
		return nb, fmt.Errorf("relink next user day: %w", err)
	}
	return nb, nil
}

// neighbours are a user's active days around one: the previous (NoPrevDay
// for none) and the next.
type neighbours struct {
	prev, next analytics.Day
	hasNext    bool
}

// only reports whether the day is the user's only active day.
func (nb neighbours) only() bool { return nb.prev == analytics.NoPrevDay && !nb.hasNext }

// unlinkUserDay removes a user-day whose last live event was voided: its
// successor (if any) is re-linked to its predecessor, the reverse of
// linkUserDay.
func unlinkUserDay(ctx context.Context, t txStmts, ud analytics.UserDay, prev analytics.Day, spans map[analytics.SpanKey]int64) (neighbours, error) {
	nb := neighbours{prev: prev}
	if _, err := t.exec(ctx, t.st.deleteUserDay, ud.UserID, int64(ud.Day)); err != nil {
		return nb, fmt.Errorf("remove user day: %w", err)
	}
	spans[analytics.SpanKey{Day: ud.Day, Prev: prev}]--
	var next int64
	err := t.queryRow(ctx, t.st.nextDay, ud.UserID, int64(ud.Day)).Scan(&next)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nb, nil
	case err != nil:
		return nb, fmt.Errorf("find next user day: %w", err)
	}
	nb.next, nb.hasNext = analytics.Day(next), true
	spans[analytics.SpanKey{Day: analytics.Day(next), Prev: ud.Day}]--
	spans[analytics.SpanKey{Day: analytics.Day(next), Prev: prev}]++
	var prevArg any
	if prev != analytics.NoPrevDay {
		prevArg = int64(prev)
	}
	if _, err := t.exec(ctx, t.st.setPrev, prevArg, ud.UserID, next); err != nil {
		return nb, fmt.Errorf("relink next user day: %w", err)
	}
	return nb, nil
}

// applyStories adds each touched story's delta, or recomputes the story
// from its live events when the batch took some of them out (its anchor
// may be among them).
func applyStories(ctx context.Context, t txStmts, d *analytics.RollupDelta) error {
	var ids []string
	for id, sd := range d.Stories {
		if !sd.IsZero() {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	before, anchors, err := readStories(ctx, t.tx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		sd := d.Stories[id]
		switch {
		case sd.Recompute:
			if _, err := t.tx.ExecContext(ctx, `DELETE FROM stories WHERE story_id = ?`, id); err != nil {
				return fmt.Errorf("recompute story: %w", err)
			}
			q := strings.ReplaceAll(fmt.Sprintf(storiesFillSQL, " AND story_id = ?", " AND story_id = ?"), "{T}", "stories")
			if _, err := t.tx.ExecContext(ctx, q, id, id); err != nil {
				return fmt.Errorf("recompute story: %w", err)
			}
		case !sd.HasAnchor:
			return fmt.Errorf("story %q: a delta without events to anchor it", id)
		default:
			a := sd.Anchor
			if _, err := t.exec(ctx, t.st.addStory, id, a.UserID, a.Rank, micros(a.At), int64(a.Day), sd.Events, sd.Created,
				sd.Completed, sd.Failed, sd.Chapters, sd.AudioMs, int64(sd.Anthropic), int64(sd.ElevenLabs), int64(sd.S3),
				int64(sd.Anthropic+sd.ElevenLabs+sd.S3)); err != nil {
				return fmt.Errorf("upsert story: %w", err)
			}
		}
	}
	// A recomputed story is read back; an added-to one is its old row plus
	// the delta, as the upsert wrote it.
	var recomputed []string
	for _, id := range ids {
		if d.Stories[id].Recompute {
			recomputed = append(recomputed, id)
		}
	}
	after := map[string]*analytics.StoryRow{}
	if len(recomputed) > 0 {
		if after, _, err = readStories(ctx, t.tx, recomputed); err != nil {
			return err
		}
	}
	stats := analytics.NewStoryStatsDelta()
	for _, id := range ids {
		sd := d.Stories[id]
		if !sd.Recompute {
			after[id] = sd.Apply(id, before[id], anchors[id])
		}
		stats.MoveStory(before[id], after[id])
	}
	for k, v := range stats.Daily {
		if *v == (analytics.StoryStat{}) {
			continue
		}
		if _, err := t.exec(ctx, t.st.addStoryDaily, int64(k.Day), string(k.Status), v.Stories, int64(v.Cost), v.AudioMillis); err != nil {
			return fmt.Errorf("upsert story statistics: %w", err)
		}
		if v.Stories < 0 {
			if _, err := t.exec(ctx, t.st.dropStoryDaily, int64(k.Day), string(k.Status)); err != nil {
				return fmt.Errorf("drop empty story statistics: %w", err)
			}
		}
	}
	for k, n := range stats.Buckets {
		if n == 0 {
			continue
		}
		if _, err := t.exec(ctx, t.st.addStoryBucket, int64(k.Day), k.Bucket, n); err != nil {
			return fmt.Errorf("upsert story buckets: %w", err)
		}
		if n < 0 {
			if _, err := t.exec(ctx, t.st.dropStoryBucket, int64(k.Day), k.Bucket); err != nil {
				return fmt.Errorf("drop empty story bucket: %w", err)
			}
		}
	}
	return nil
}

// storyColumns are read back into an analytics.StoryRow by scanStory.
const storyColumns = `story_id, user_id, day, events, created, completed, failed, chapters, audio_ms,
	anthropic_cost, elevenlabs_cost, s3_cost`

func scanStory(sc scanner) (analytics.StoryRow, error) {
	var st analytics.StoryRow
	var day, an, el, s3 int64
	err := sc.Scan(&st.StoryID, &st.UserID, &day, &st.Events, &st.Created, &st.Completed, &st.Failed,
		&st.Chapters, &st.AudioMillis, &an, &el, &s3)
	st.Day, st.AnthropicCost, st.ElevenLabsCost, st.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
	return st, err
}

// readStories reads the stored rows of the given stories and their anchors.
func readStories(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*analytics.StoryRow, map[string]analytics.StoryAnchor, error) {
	out := make(map[string]*analytics.StoryRow, len(ids))
	anchors := make(map[string]analytics.StoryAnchor, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 400)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+storyColumns+`, anchor_rank, anchor_ts FROM stories
			WHERE story_id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("read stories: %w", err)
		}
		for rows.Next() {
			var st analytics.StoryRow
			var day, an, el, s3, ts int64
			var a analytics.StoryAnchor
			if err := rows.Scan(&st.StoryID, &st.UserID, &day, &st.Events, &st.Created, &st.Completed, &st.Failed,
				&st.Chapters, &st.AudioMillis, &an, &el, &s3, &a.Rank, &ts); err != nil {
				rows.Close()
				return nil, nil, err
			}
			st.Day, st.AnthropicCost, st.ElevenLabsCost, st.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
			a.At, a.Day, a.UserID = fromMicros(ts), st.Day, st.UserID
			out[st.StoryID], anchors[st.StoryID] = &st, a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return out, anchors, nil
}
