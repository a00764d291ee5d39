package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts bounds how often a transaction that lost a race (40001,
// 40P01) runs again.
const maxAttempts = 5

func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(1+rand.IntN(10*(attempt+1))) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IngestEvents stores a batch in one transaction, in this order:
//
//  1. new-id detection, one statement: the batch's distinct ids go into
//     event_ids (with their timestamps, by which a void finds its target)
//     with ON CONFLICT DO NOTHING RETURNING id; only returned ids are new
//     (an id committed by another replica meanwhile is not returned);
//  2. COPY of the new events into the partitioned events table;
//  3. analytics.BuildRollupDelta over the new events, in memory;
//  4. the rollups: the touched users are locked, their user-days inserted
//     and relinked (active spans), then one multi-row upsert per rollup table
//     adds the deltas (x = t.x + excluded.x), never read-modify-write.
//
// # Why several replicas cannot corrupt the rollups or deadlock
//
// Additive upserts commute, so only the active-span rollup needs care: its
// prev/next look-ups read a user's other active days, and two transactions
// adding days of the same user must not both read the chain before the other
// relinks it. So each transaction first locks every touched user (a row of
// user_locks, inserted or locked by one INSERT … ON CONFLICT DO UPDATE …
// WHERE false), and only then reads. The transaction runs at READ COMMITTED
// on purpose: each later statement takes a fresh snapshot after the lock was
// granted, and the previous holder's commit is visible before its row lock
// is released, so the look-ups see every earlier change to the user's days.
// (REPEATABLE READ would read from a snapshot older than the lock.)
//
// Every lock an ingest can wait for is taken in one global order, and every
// lock is held to commit, so a cycle of waits is impossible: a transaction
// waiting for lock r holds only locks before r, while the holder of r waits,
// if at all, for a lock after r.
//
//   - event_ids rows, ids ascending (the array is sorted; unnest feeds the
//     INSERT in array order). A concurrent insert of the same id waits here;
//   - the events table (ROW EXCLUSIVE, shared by all ingests). Only
//     partition creation and Rebuild conflict with it, and each runs in a
//     transaction of its own whose first ingest-visible lock is the
//     conflicting one, so it waits for ingests or they for it, never both;
//   - user_locks rows, user ids ascending (SortedUserDays' order);
//   - user_activity rows, of the locked users only, so never contended;
//   - daily_metrics by day, active_spans by (day, prev_day), cost_daily by
//     key, stories by story id, users by user id: each statement's rows
//     sorted, statements in this fixed table order. (A story may have events
//     of several users, so its row is contended across user locks; a void's
//     recompute locks its stories first, in one sorted statement, before it
//     deletes and re-inserts them: see queueStories.)
//
// Voids and reprices (corrections.go) follow the same order, with one more
// step before user_locks: the event rows they change, locked FOR UPDATE.
//
// Deadlocks and serialization failures are still retried a few times, with
// the whole transaction recomputed (a retry may find more ids already
// stored), in case something outside this order (an operator's SQL) races.
func (s *Store) IngestEvents(ctx context.Context, events []analytics.Event) (analytics.IngestCounts, error) {
	// The first copy of an id in the batch wins, as in SQLite, where the
	// later copies hit the conflict.
	byID := make(map[string]*analytics.Event, len(events))
	ids := make([]string, 0, len(events))
	ts := make([]time.Time, 0, len(events))
	for i := range events {
		e := &events[i]
		if e.Type == analytics.EventVoided {
			return analytics.IngestCounts{}, fmt.Errorf("insert event %q: voids go through VoidEvents", e.ID)
		}
		if _, dup := byID[e.ID]; dup {
			continue
		}
		byID[e.ID] = e
		ids = append(ids, e.ID)
		ts = append(ts, e.Timestamp)
	}
	if len(ids) == 0 {
		return analytics.IngestCounts{}, nil
	}
	if err := s.ensurePartitions(ctx, batchMonths(ts)); err != nil {
		return analytics.IngestCounts{}, err
	}
	slices.Sort(ids)
	for i, id := range ids {
		ts[i] = byID[id].Timestamp
	}
	for attempt := 0; ; attempt++ {
		accepted, err := s.ingestOnce(ctx, ids, ts, byID)
		if err == nil {
			return analytics.IngestCounts{Accepted: accepted, Duplicates: len(events) - accepted}, nil
		}
		if !retryable(err) || attempt >= maxAttempts-1 {
			return analytics.IngestCounts{}, overflowError(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return analytics.IngestCounts{}, err
		}
	}
}

// ingestOnce makes one attempt. It drives the transaction by hand on one
// pooled connection so that BEGIN travels in the first round trip and COMMIT
// in the last, two round trips fewer than pgx.Tx per batch.
func (s *Store) ingestOnce(ctx context.Context, ids []string, ts []time.Time, byID map[string]*analytics.Event) (int, error) {
	conn, release, err := s.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer release()

	// One round trip: begin, the new ids, and the zone. Reading the zone
	// after the INSERT has locked event_ids orders it after any Rebuild,
	// which holds event_ids exclusively: a replica that missed another's
	// rebuild into a new zone buckets by the new zone from here on.
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(insertEventIDsSQL, ids, ts)
	b.Queue(`SELECT value FROM meta WHERE key = 'timezone'`)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return 0, fmt.Errorf("begin: %w", err)
	}
	rows, _ := br.Query()
	newIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		br.Close()
		return 0, fmt.Errorf("insert event ids: %w", err)
	}
	loc, err := s.readZone(br.QueryRow())
	if err != nil {
		br.Close()
		return 0, err
	}
	if err := br.Close(); err != nil {
		return 0, err
	}
	if len(newIDs) == 0 {
		_, err := conn.Exec(ctx, "COMMIT")
		return 0, err
	}

	fresh := make([]analytics.Event, len(newIDs))
	for i, id := range newIDs {
		fresh[i] = *byID[id]
	}
	if err := copyEvents(ctx, conn, fresh, loc, s.now().UTC()); err != nil {
		return 0, fmt.Errorf("copy events: %w", err)
	}
	d, err := analytics.BuildRollupDelta(fresh, loc)
	if err != nil {
		return 0, err
	}
	if err := applyDeltaAndCommit(ctx, conn, d); err != nil {
		return 0, err
	}
	return len(fresh), nil
}

// insertEventIDsSQL records a batch's ids (sorted) with their timestamps
// and returns the ids that were not stored yet.
const insertEventIDsSQL = `INSERT INTO event_ids (id, ts) SELECT * FROM unnest($1::text[], $2::timestamptz[])
	ON CONFLICT DO NOTHING RETURNING id`

// acquire takes a pooled connection for a transaction driven by hand
// (BEGIN and COMMIT sent inside batches). release rolls back a transaction
// left open by a failure before the connection goes back to the pool.
func (s *Store) acquire(ctx context.Context) (*pgx.Conn, func(), error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("acquire connection: %w", err)
	}
	conn := pc.Conn()
	return conn, func() {
		if conn.PgConn().TxStatus() != 'I' { // failed inside the transaction
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			conn.Exec(rctx, "ROLLBACK")
			cancel()
		}
		pc.Release() // a connection still in a transaction is closed, not reused
	}, nil
}

// readZone scans the stored reporting zone and makes it the store's: a
// replica that missed another's rebuild into a new zone buckets by the new
// zone from here on.
func (s *Store) readZone(row pgx.Row) (*time.Location, error) {
	var zone string
	if err := row.Scan(&zone); err != nil {
		return nil, fmt.Errorf("read time zone: %w", err)
	}
	loc := s.Location()
	if zone != loc.String() {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("stored time zone %q: %w", zone, err)
		}
		s.loc.Store(loc)
	}
	return loc, nil
}

// overflowError turns PostgreSQL's "bigint out of range" (a rollup sum
// that does not fit) into analytics.ErrOverflow: the batch was refused.
func overflowError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22003" {
		return analytics.ErrOverflow
	}
	return err
}

// applyDeltaAndCommit adds a batch's (possibly negative) deltas to every
// rollup and commits: the user-days first (which also yields each day's
// change in active users), then one round trip with one upsert per table,
// the removal of rows a correction emptied, and the COMMIT. Afterwards the
// rollups hold exactly what a fresh aggregate of the live events would: a
// user-day without live events is unlinked and removed, and so are a
// user-month without user-days, a daily row without any figure and a cost
// row without calls; a story that lost events is recomputed from its live
// events (none: no row).
func applyDeltaAndCommit(ctx context.Context, conn *pgx.Conn, d *analytics.RollupDelta) error {
	if err := checkStories(d.Stories); err != nil {
		return err
	}
	spans := map[analytics.SpanKey]int64{}
	tr := newEconTracker(d)
	var emptied []analytics.UserMonth
	if len(d.UserDays) > 0 {
		var err error
		if emptied, err = linkUserDays(ctx, conn, d, spans, tr); err != nil {
			return err
		}
	} else if len(tr.stories) > 0 {
		b := &pgx.Batch{}
		tr.queueBefore(b)
		br := conn.SendBatch(ctx, b)
		if err := tr.readBefore(br); err != nil {
			br.Close()
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	var what []string
	for _, q := range []struct {
		name   string
		queued int
	}{
		{"upsert daily metrics", queueDaily(b, d.Daily)},
		{"upsert active spans", queueSpans(b, spans)},
		{"upsert user months", queueUserMonths(b, d)},
		{"drop emptied user months", queueEmptiedMonths(b, emptied)},
		{"upsert user totals", queueUserTotals(b, d)},
		{"upsert cost rollup", queueCosts(b, d.Costs)},
		{"upsert stories", queueStories(b, d.Stories)},
		{"upsert users", queueSignups(b, d.Signups)},
		{"recompute users", queueResign(b, d.ResignUsers)},
	} {
		for range q.queued {
			what = append(what, q.name)
		}
	}
	redo := tr.queueAfter(b)
	br := conn.SendBatch(ctx, b)
	if err := execNamed(br, what); err != nil {
		br.Close()
		return err
	}
	stats, err := tr.readAfter(br, redo)
	if err != nil {
		br.Close()
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}

	// Last round trip: the unit-economics statistics, and the COMMIT.
	b = &pgx.Batch{}
	what = what[:0]
	for range tr.queueStatistics(b, stats) {
		what = append(what, "upsert unit-economics statistics")
	}
	b.Queue("COMMIT")
	what = append(what, "commit")
	br = conn.SendBatch(ctx, b)
	if err := execNamed(br, what); err != nil {
		br.Close()
		return err
	}
	return br.Close()
}

// execNamed reads the results of the batch's first len(what) statements,
// named by what; a COMMIT must report COMMIT (not a rollback).
func execNamed(br pgx.BatchResults, what []string) error {
	for _, what := range what {
		tag, err := br.Exec()
		if err == nil && what == "commit" && tag.String() != "COMMIT" {
			err = fmt.Errorf("transaction rolled back (%s)", tag)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, overflowError(err))
		}
	}
	return nil
}

// lockUsersSQL locks one user_locks row per user, in array order: a new user
// is inserted (and so held until commit), a known one is locked by the
// conflict action, whose WHERE false keeps it from writing a new row version.
const lockUsersSQL = `INSERT INTO user_locks (user_id) SELECT unnest($1::text[])
	ON CONFLICT (user_id) DO UPDATE SET user_id = excluded.user_id WHERE false`

// Every statement below reaches rows through a primary key, one probe per
// array element (ON CONFLICT arbiters, scalar subqueries and LATERAL with
// LIMIT), never through a join or an EXISTS that the planner could turn into
// a hash over the whole table: with unnest's poor row estimates, UPDATE …
// FROM unnest(…) and EXISTS (…) both do that once user_activity has fresh
// statistics, and the cost then grows with the table instead of the batch.

// unlinked is the prev_day of a user-day inserted by the running
// transaction until linkSQL, later in the same transaction, links it: it
// tells the upsert's inserted rows from its updated ones, and no other
// transaction ever sees it (nor could Verify miss it).
const unlinked = -2

// addUserDaysSQL adds the batch's per-user-day deltas (sorted by user and
// day) and returns the user-days it inserted (prev_day = unlinked) and those
// left without live events (a correction took their last one out). A row
// whose delta changes nothing (a reprice that only names another catalog
// entry) is locked but not written. Every event with a user adds to the
// events count, so in an ingest every touched row is written.
var addUserDaysSQL = fmt.Sprintf(`WITH added AS (
	INSERT INTO user_activity AS ua (user_id, day, prev_day, events, stories_created, api_calls, audio_ms, cost,
		revenue_cents, pay_events)
	SELECT user_id, day, %[1]d, n, s, a, au, c, r, p
	FROM unnest($1::text[], $2::int4[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[])
		AS d(user_id, day, n, s, a, au, c, r, p)
	ON CONFLICT (user_id, day) DO UPDATE SET events = ua.events + excluded.events,
		stories_created = ua.stories_created + excluded.stories_created,
		api_calls = ua.api_calls + excluded.api_calls, audio_ms = ua.audio_ms + excluded.audio_ms,
		cost = ua.cost + excluded.cost, revenue_cents = ua.revenue_cents + excluded.revenue_cents,
		pay_events = ua.pay_events + excluded.pay_events
	WHERE (excluded.events, excluded.stories_created, excluded.api_calls, excluded.audio_ms, excluded.cost,
		excluded.revenue_cents, excluded.pay_events) <> (0, 0, 0, 0, 0, 0, 0)
	RETURNING ua.user_id, ua.day, ua.prev_day, ua.events
)
SELECT user_id, day, prev_day IS NOT DISTINCT FROM %[1]d, events FROM added
WHERE prev_day IS NOT DISTINCT FROM %[1]d OR events <= 0 ORDER BY user_id, day`, unlinked)

// unlinkSQL removes one user-day left without live events ($1, $2) and
// relinks the user's next day to the removed day's predecessor, the reverse
// of linkSQL. It returns that predecessor and the next day (NULL: none). One
// statement per removed day, run in (user, day) order, so each reads the
// chain as the previous one left it.
const unlinkSQL = `WITH gone AS (
	DELETE FROM user_activity WHERE user_id = $1 AND day = $2 RETURNING prev_day
), nx AS (
	SELECT ua.day FROM user_activity ua WHERE ua.user_id = $1 AND ua.day > $2 ORDER BY ua.day LIMIT 1
), relinked AS (
	UPDATE user_activity ua SET prev_day = (SELECT prev_day FROM gone)
	WHERE ua.user_id = $1 AND ua.day = (SELECT day FROM nx)
)
SELECT EXISTS (SELECT 1 FROM gone), (SELECT prev_day FROM gone), (SELECT day FROM nx)`

// linkSQL relinks the prev_day chain around a set of just-inserted user-days
// ($1, $2, sorted) in one statement. The rows whose predecessor changes are
// the new rows themselves and, for each, the user's next day if that one is
// not new (a late event filled a gap before it). For each it returns the old
// and the new predecessor, from which the caller derives the active_spans
// deltas; the data-modifying CTE writes the changed links (an upsert whose
// rows all exist: a keyed bulk update through the primary key), which also
// replaces the new rows' unlinked marker. All CTEs read one snapshot, taken
// after the new rows were inserted.
var linkSQL = `WITH n AS (
	SELECT * FROM unnest($1::text[], $2::int4[]) AS n(user_id, day)
), cand AS (
	SELECT n.user_id, n.day, true AS is_new FROM n
	UNION ALL
	SELECT nx.user_id, nx.day, false FROM n
	CROSS JOIN LATERAL (
		SELECT ua.user_id, ua.day FROM user_activity ua
		WHERE ua.user_id = n.user_id AND ua.day > n.day ORDER BY ua.day LIMIT 1) nx
	WHERE NOT EXISTS (SELECT 1 FROM n n2 WHERE n2.user_id = nx.user_id AND n2.day = nx.day)
), linked AS MATERIALIZED (
	SELECT c.user_id, c.day, c.is_new,
		(SELECT ua.prev_day FROM user_activity ua WHERE ua.user_id = c.user_id AND ua.day = c.day LIMIT 1) AS old_prev,
		(SELECT p.day FROM user_activity p WHERE p.user_id = c.user_id AND p.day < c.day
		 ORDER BY p.day DESC LIMIT 1) AS new_prev,
		CASE WHEN c.is_new THEN (SELECT x.day FROM user_activity x WHERE x.user_id = c.user_id AND x.day > c.day
			AND x.prev_day IS DISTINCT FROM ` + fmt.Sprint(unlinked) + ` ORDER BY x.day LIMIT 1) END AS next_old
	FROM cand c
), relinked AS (
	INSERT INTO user_activity AS ua (user_id, day, prev_day)
	SELECT user_id, day, new_prev FROM linked WHERE old_prev IS DISTINCT FROM new_prev ORDER BY user_id, day
	ON CONFLICT (user_id, day) DO UPDATE SET prev_day = excluded.prev_day
)
SELECT user_id, day, is_new, old_prev, new_prev, next_old FROM linked`

// linkUserDays locks the batch's users, adds the per-user-day deltas, inserts
// the new user-days and relinks the prev_day chain around them, and removes
// and unlinks the user-days left without live events, collecting the
// active_spans deltas, each day's change in active users and the user-months
// that lost a day.
func linkUserDays(ctx context.Context, conn *pgx.Conn, d *analytics.RollupDelta, spans map[analytics.SpanKey]int64,
	tr *econTracker) ([]analytics.UserMonth, error) {
	var users []string
	var all userDayArrays
	for _, ud := range d.SortedUserDays() {
		if len(users) == 0 || users[len(users)-1] != ud.UserID {
			users = append(users, ud.UserID)
		}
		if delta := d.UserDays[ud]; !delta.IsZero() {
			all.add(ud, delta)
		}
	}
	// One round trip: lock the users and the stories, read what the
	// unit-economics tracker needs of the state before, then add to the
	// users' days. The reads' and the upsert's snapshots are taken after the
	// locks were granted.
	b := &pgx.Batch{}
	b.Queue(lockUsersSQL, users)
	tr.queueBefore(b)
	b.Queue(addUserDaysSQL, all.args()...)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("lock users: %w", err)
	}
	if err := tr.readBefore(br); err != nil {
		br.Close()
		return nil, err
	}
	var newUsers []string
	var newDays []int32
	var gone []analytics.UserDay
	rows, _ := br.Query()
	var u string
	var day int32
	var isNew bool
	var left int64
	_, err := pgx.ForEachRow(rows, []any{&u, &day, &isNew, &left}, func() error {
		if left < 0 || (isNew && left == 0) {
			return fmt.Errorf("user activity of %q on %s would hold %d events: the correction does not match the stored events",
				u, analytics.Day(day), left)
		}
		if isNew {
			newUsers, newDays = append(newUsers, u), append(newDays, day)
		} else {
			gone = append(gone, analytics.UserDay{UserID: u, Day: analytics.Day(day)})
		}
		return nil
	})
	if err != nil {
		br.Close()
		return nil, fmt.Errorf("add user activity: %w", overflowError(err))
	}
	if err := br.Close(); err != nil {
		return nil, overflowError(err)
	}
	// The days that stay active change only their figures.
	changed := map[analytics.UserDay]bool{}
	for i, u := range newUsers {
		changed[analytics.UserDay{UserID: u, Day: analytics.Day(newDays[i])}] = true
	}
	for _, ud := range gone {
		changed[ud] = true
	}
	for ud, delta := range d.UserDays {
		if !delta.IsZero() && !changed[ud] {
			tr.day(ud, analytics.NoPrevDay, 0, false, 0)
		}
	}
	if len(newUsers) > 0 {
		if err := relinkNewDays(ctx, conn, d, spans, tr, newUsers, newDays); err != nil {
			return nil, err
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return unlinkUserDays(ctx, conn, d, spans, tr, gone)
}

// unlinkUserDays removes the user-days left without live events and
// relinks each one's successor to its predecessor, in one round trip.
func unlinkUserDays(ctx context.Context, conn *pgx.Conn, d *analytics.RollupDelta, spans map[analytics.SpanKey]int64,
	tr *econTracker, gone []analytics.UserDay) ([]analytics.UserMonth, error) {
	b := &pgx.Batch{}
	for _, ud := range gone {
		b.Queue(unlinkSQL, ud.UserID, int32(ud.Day))
	}
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	var months []analytics.UserMonth
	for _, ud := range gone {
		var found bool
		var prev, next *int32
		if err := br.QueryRow().Scan(&found, &prev, &next); err != nil {
			return nil, fmt.Errorf("unlink user day: %w", err)
		}
		if !found {
			return nil, fmt.Errorf("unlink user day: %q has no activity on %s", ud.UserID, ud.Day)
		}
		p := analytics.NoPrevDay
		if prev != nil {
			p = analytics.Day(*prev)
		}
		spans[analytics.SpanKey{Day: ud.Day, Prev: p}]--
		if next != nil {
			tr.day(ud, p, analytics.Day(*next), true, -1)
		} else {
			tr.day(ud, p, 0, false, -1)
		}
		if next != nil {
			spans[analytics.SpanKey{Day: analytics.Day(*next), Prev: ud.Day}]--
			spans[analytics.SpanKey{Day: analytics.Day(*next), Prev: p}]++
		}
		d.Daily[ud.Day].ActiveUsers--
		um := analytics.UserMonth{UserID: ud.UserID, Month: analytics.MonthOf(ud.Day)}
		if len(months) == 0 || months[len(months)-1] != um {
			months = append(months, um)
		}
	}
	return months, br.Close()
}

// relinkNewDays links the user-days just inserted (linkSQL), collecting the
// active_spans deltas and each day's newly active users.
func relinkNewDays(ctx context.Context, conn *pgx.Conn, d *analytics.RollupDelta, spans map[analytics.SpanKey]int64,
	tr *econTracker, newUsers []string, newDays []int32) error {
	rows, _ := conn.Query(ctx, linkSQL, newUsers, newDays)
	var user string
	var day int32
	var isNew bool
	var oldPrev, newPrev, nextOld *int32
	_, err := pgx.ForEachRow(rows, []any{&user, &day, &isNew, &oldPrev, &newPrev, &nextOld}, func() error {
		np := analytics.NoPrevDay
		if newPrev != nil {
			np = analytics.Day(*newPrev)
		}
		if isNew {
			ud := analytics.UserDay{UserID: user, Day: analytics.Day(day)}
			if nextOld != nil {
				tr.day(ud, np, analytics.Day(*nextOld), true, 1)
			} else {
				tr.day(ud, np, 0, false, 1)
			}
			spans[analytics.SpanKey{Day: analytics.Day(day), Prev: np}]++
			d.Daily[analytics.Day(day)].ActiveUsers++
			return nil
		}
		op := analytics.NoPrevDay
		if oldPrev != nil {
			op = analytics.Day(*oldPrev)
		}
		if op != np {
			spans[analytics.SpanKey{Day: analytics.Day(day), Prev: op}]--
			spans[analytics.SpanKey{Day: analytics.Day(day), Prev: np}]++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("link user days: %w", err)
	}
	return nil
}

// userDayArrays holds user-day deltas column-wise, for unnest.
type userDayArrays struct {
	users                         []string
	days                          []int32
	events, stories, calls, audio []int64
	cost, revenue, pays           []int64
}

func (a *userDayArrays) add(ud analytics.UserDay, d *analytics.UserDayDelta) {
	a.users = append(a.users, ud.UserID)
	a.days = append(a.days, int32(ud.Day))
	a.events = append(a.events, d.Events)
	a.stories = append(a.stories, d.Stories)
	a.calls = append(a.calls, d.APICalls)
	a.audio = append(a.audio, d.AudioMillis)
	a.cost = append(a.cost, int64(d.Cost))
	a.revenue = append(a.revenue, d.RevenueCents)
	a.pays = append(a.pays, d.PayEvents)
}

func (a *userDayArrays) args() []any {
	return []any{a.users, a.days, a.events, a.stories, a.calls, a.audio, a.cost, a.revenue, a.pays}
}

// column is a rollup column and its element type for unnest.
type column struct{ name, typ string }

// additiveUpsert builds a multi-row upsert fed by one array parameter per
// column: the first keys columns identify a row, the others are added to it.
// Rows are inserted (and conflicting rows locked) in array order.
func additiveUpsert(table string, keys int, cols ...column) string {
	var names, params, sets []string
	for i, c := range cols {
		names = append(names, c.name)
		params = append(params, fmt.Sprintf("$%d::%s[]", i+1, c.typ))
		if i >= keys {
			sets = append(sets, fmt.Sprintf("%s = t.%s + excluded.%s", c.name, c.name, c.name))
		}
	}
	return fmt.Sprintf("INSERT INTO %s AS t (%s) SELECT * FROM unnest(%s) ON CONFLICT (%s) DO UPDATE SET %s",
		table, strings.Join(names, ", "), strings.Join(params, ", "), strings.Join(names[:keys], ", "), strings.Join(sets, ", "))
}

func int8s(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		out[i] = column{n, "int8"}
	}
	return out
}

var (
	upsertDailySQL = additiveUpsert("daily_metrics", 1, append([]column{{"day", "int4"}},
		int8s("new_users", "active_users", "churned_users", "stories_created", "stories_completed",
			"stories_failed", "chapters", "audio_ms", "api_requests", "api_errors", "unpriced_calls",
			"anthropic_cost", "elevenlabs_cost", "s3_cost", "payments_cents", "refunds_cents")...)...)
	upsertSpansSQL = additiveUpsert("active_spans", 2, column{"day", "int4"}, column{"prev_day", "int4"}, column{"users", "int8"})
	upsertCostSQL  = additiveUpsert("cost_daily", 5, append([]column{{"day", "int4"}, {"service", "text"}, {"model", "text"}, {"operation", "text"}, {"price_ref", "text"}},
		int8s("calls", "errors", "unpriced_calls", "input_tokens", "output_tokens", "cache_write_tokens",
			"cache_read_tokens", "characters", "bytes_transferred", "requests", "cost")...)...)
)

// upsertUsersSQL keeps the earliest signup per user (the smaller email breaks
// a tie, byte-wise, like analytics.BuildRollupDelta).
const upsertUsersSQL = `INSERT INTO users AS t (user_id, email, signup_ts, signup_day)
	SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int4[])
	ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, signup_ts = excluded.signup_ts, signup_day = excluded.signup_day
	WHERE excluded.signup_ts < t.signup_ts OR (excluded.signup_ts = t.signup_ts AND excluded.email < t.email)`

// dropEmptyDailySQL deletes the given days' rows that hold no figure (a
// correction took out the day's last live events).
const dropEmptyDailySQL = `DELETE FROM daily_metrics WHERE day = ANY($1::int4[]) AND (new_users, active_users, churned_users,
	stories_created, stories_completed, stories_failed, chapters, audio_ms, api_requests, api_errors, unpriced_calls,
	anthropic_cost, elevenlabs_cost, s3_cost, payments_cents, refunds_cents) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)`

// queueDaily queues the daily upsert and, for days a correction lowered,
// the removal of rows left empty; it returns the number of statements.
func queueDaily(b *pgx.Batch, daily map[analytics.Day]*analytics.DailyRow) int {
	days := make([]analytics.Day, 0, len(daily))
	for d, r := range daily {
		if !r.IsZero() {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		return 0
	}
	slices.Sort(days)
	var dayCol, lowered []int32
	cols := make([][]int64, 16)
	for _, d := range days {
		r := daily[d]
		dayCol = append(dayCol, int32(d))
		neg := false
		for i, v := range []int64{r.NewUsers, r.ActiveUsers, r.ChurnedUsers, r.StoriesCreated, r.StoriesCompleted,
			r.StoriesFailed, r.Chapters, r.AudioMillis, r.APIRequests, r.APIErrors, r.UnpricedCalls,
			int64(r.AnthropicCost), int64(r.ElevenLabsCost), int64(r.S3Cost), r.PaymentsCents, r.RefundsCents} {
			cols[i] = append(cols[i], v)
			neg = neg || v < 0
		}
		if neg {
			lowered = append(lowered, int32(d))
		}
	}
	args := []any{dayCol}
	for _, c := range cols {
		args = append(args, c)
	}
	b.Queue(upsertDailySQL, args...)
	if len(lowered) == 0 {
		return 1
	}
	b.Queue(dropEmptyDailySQL, lowered)
	return 2
}

var upsertUserMonthSQL = additiveUpsert("user_month", 2, append([]column{{"user_id", "text"}, {"month", "int4"}},
	int8s("stories_created", "api_calls", "audio_ms", "cost", "revenue_cents", "pay_events")...)...)

// queueUserMonths upserts the monthly rankings' rows. The user locks taken
// first serialize writers of one user's rows, whatever their order here.
func queueUserMonths(b *pgx.Batch, d *analytics.RollupDelta) int {
	var months []int32
	var users []string
	var stories, calls, audio, cost, revenue, pays []int64
	for _, k := range d.SortedUserMonths() {
		v := d.UserMonths[k]
		if v.IsZero() {
			continue
		}
		months, users = append(months, k.Month), append(users, k.UserID)
		stories, calls, audio, cost = append(stories, v.Stories), append(calls, v.APICalls), append(audio, v.AudioMillis), append(cost, int64(v.Cost))
		revenue, pays = append(revenue, v.RevenueCents), append(pays, v.PayEvents)
	}
	if len(users) == 0 {
		return 0
	}
	b.Queue(upsertUserMonthSQL, users, months, stories, calls, audio, cost, revenue, pays)
	return 1
}

var upsertUserTotalsSQL = additiveUpsert("user_totals", 1, append([]column{{"user_id", "text"}},
	int8s("events", "stories_created", "api_calls", "pay_events", "revenue_cents", "cost")...)...)

// dropEmptyTotalsSQL deletes the given users' totals left without events.
const dropEmptyTotalsSQL = `DELETE FROM user_totals WHERE user_id = ANY($1::text[]) AND events = 0`

// queueUserTotals upserts each touched user's lifetime totals (in user
// order, under the user locks taken first) and drops the rows a correction
// emptied.
func queueUserTotals(b *pgx.Batch, d *analytics.RollupDelta) int {
	var users, lowered []string
	var events, stories, calls, pays, revenue, cost []int64
	for _, u := range d.SortedUsers() {
		v := d.Users[u]
		if v.IsZero() {
			continue
		}
		users, events, stories, calls = append(users, u), append(events, v.Events), append(stories, v.Stories), append(calls, v.APICalls)
		pays, revenue, cost = append(pays, v.PayEvents), append(revenue, v.RevenueCents), append(cost, int64(v.Cost))
		if v.Events < 0 {
			lowered = append(lowered, u)
		}
	}
	if len(users) == 0 {
		return 0
	}
	b.Queue(upsertUserTotalsSQL, users, events, stories, calls, pays, revenue, cost)
	if len(lowered) == 0 {
		return 1
	}
	b.Queue(dropEmptyTotalsSQL, lowered)
	return 2
}

// dropEmptyMonthSQL deletes a user's month row once none of the user's days
// in that month ($3 to $4) is left.
const dropEmptyMonthSQL = `DELETE FROM user_month WHERE user_id = $1 AND month = $2
	AND NOT EXISTS (SELECT 1 FROM user_activity WHERE user_id = $1 AND day BETWEEN $3 AND $4)`

// queueEmptiedMonths removes the user-months that may have lost their last
// day (corrections only: few rows, one statement each).
func queueEmptiedMonths(b *pgx.Batch, months []analytics.UserMonth) int {
	for _, um := range months {
		first, last := analytics.MonthDays(um.Month)
		b.Queue(dropEmptyMonthSQL, um.UserID, um.Month, int32(first), int32(last))
	}
	return len(months)
}

// recomputeUserSQL replaces a user's row, one of whose signups was voided,
// with the earliest live signup (none: no row). Two statements: a
// data-modifying CTE's DELETE is not visible to the INSERT's key check.
const recomputeUserSQL = `INSERT INTO users (user_id, email, signup_ts, signup_day)
	SELECT user_id, email, ts, day FROM events WHERE type = 'user_signup' AND user_id = $1 AND voided_by IS NULL
	ORDER BY ts, email LIMIT 1`

// queueResign recomputes the users whose signups were voided, in user order.
func queueResign(b *pgx.Batch, users map[string]bool) int {
	sorted := make([]string, 0, len(users))
	for u := range users {
		sorted = append(sorted, u)
	}
	slices.Sort(sorted)
	for _, u := range sorted {
		b.Queue(`DELETE FROM users WHERE user_id = $1`, u)
		b.Queue(recomputeUserSQL, u)
	}
	return 2 * len(sorted)
}

func queueSpans(b *pgx.Batch, spans map[analytics.SpanKey]int64) int {
	keys := make([]analytics.SpanKey, 0, len(spans))
	for k, n := range spans {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0
	}
	slices.SortFunc(keys, func(a, b analytics.SpanKey) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Prev, b.Prev))
	})
	var days, prevs []int32
	var users []int64
	for _, k := range keys {
		days, prevs, users = append(days, int32(k.Day)), append(prevs, int32(k.Prev)), append(users, spans[k])
	}
	b.Queue(upsertSpansSQL, days, prevs, users)
	return 1
}

// dropEmptyCostSQL deletes the given days' cost rows left without calls (a
// void, or a reprice that moved the calls to another price entry's row).
const dropEmptyCostSQL = `DELETE FROM cost_daily WHERE day = ANY($1::int4[]) AND calls = 0`

// queueCosts queues the cost upsert and, for days where a correction took
// calls out of a row, the removal of rows left without calls.
func queueCosts(b *pgx.Batch, costs map[analytics.CostKey]*analytics.CostRow) int {
	keys := make([]analytics.CostKey, 0, len(costs))
	for k, c := range costs {
		if *c != (analytics.CostRow{Service: c.Service, Model: c.Model, Operation: c.Operation, PriceRef: c.PriceRef}) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0
	}
	slices.SortFunc(keys, func(a, b analytics.CostKey) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.PriceRef, b.PriceRef))
	})
	var days, lowered []int32
	var services, models, ops, refs []string
	cols := make([][]int64, 11)
	for _, k := range keys {
		c := costs[k]
		days, services, models, ops, refs = append(days, int32(k.Day)), append(services, string(k.Service)),
			append(models, k.Model), append(ops, k.Operation), append(refs, k.PriceRef)
		for i, v := range []int64{c.Calls, c.Errors, c.UnpricedCalls, c.InputTokens, c.OutputTokens, c.CacheWriteTokens,
			c.CacheReadTokens, c.Characters, c.BytesTransferred, c.Requests, int64(c.Cost)} {
			cols[i] = append(cols[i], v)
		}
		if c.Calls < 0 && (len(lowered) == 0 || lowered[len(lowered)-1] != int32(k.Day)) {
			lowered = append(lowered, int32(k.Day))
		}
	}
	args := []any{days, services, models, ops, refs}
	for _, c := range cols {
		args = append(args, c)
	}
	b.Queue(upsertCostSQL, args...)
	if len(lowered) == 0 {
		return 1
	}
	b.Queue(dropEmptyCostSQL, lowered)
	return 2
}

func queueSignups(b *pgx.Batch, signups map[string]analytics.Signup) int {
	if len(signups) == 0 {
		return 0
	}
	users := make([]string, 0, len(signups))
	for u := range signups {
		users = append(users, u)
	}
	slices.Sort(users)
	emails := make([]string, len(users))
	ats := make([]time.Time, len(users))
	days := make([]int32, len(users))
	for i, u := range users {
		emails[i], ats[i], days[i] = signups[u].Email, signups[u].At, int32(signups[u].Day)
	}
	b.Queue(upsertUsersSQL, users, emails, ats, days)
	return 1
}
