package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
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
//     event_ids with ON CONFLICT DO NOTHING RETURNING id; only returned ids
//     are new (an id committed by another replica meanwhile is not returned);
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
//     key, users by user id: each statement's rows sorted, statements in this
//     fixed table order.
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
	for attempt := 0; ; attempt++ {
		accepted, err := s.ingestOnce(ctx, ids, byID)
		if err == nil {
			return analytics.IngestCounts{Accepted: accepted, Duplicates: len(events) - accepted}, nil
		}
		if !retryable(err) || attempt >= maxAttempts-1 {
			return analytics.IngestCounts{}, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return analytics.IngestCounts{}, err
		}
	}
}

// ingestOnce makes one attempt. It drives the transaction by hand on one
// pooled connection so that BEGIN travels in the first round trip and COMMIT
// in the last, two round trips fewer than pgx.Tx per batch.
func (s *Store) ingestOnce(ctx context.Context, ids []string, byID map[string]*analytics.Event) (int, error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("acquire connection: %w", err)
	}
	conn := pc.Conn()
	defer func() {
		if conn.PgConn().TxStatus() != 'I' { // failed inside the transaction
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			conn.Exec(rctx, "ROLLBACK")
			cancel()
		}
		pc.Release() // a connection still in a transaction is closed, not reused
	}()

	// One round trip: begin, the new ids, and the zone. Reading the zone
	// after the INSERT has locked event_ids orders it after any Rebuild,
	// which holds event_ids exclusively: a replica that missed another's
	// rebuild into a new zone buckets by the new zone from here on.
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(`INSERT INTO event_ids (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING id`, ids)
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
	var zone string
	if err := br.QueryRow().Scan(&zone); err != nil {
		br.Close()
		return 0, fmt.Errorf("read time zone: %w", err)
	}
	if err := br.Close(); err != nil {
		return 0, err
	}
	loc := s.Location()
	if zone != loc.String() {
		if loc, err = time.LoadLocation(zone); err != nil {
			return 0, fmt.Errorf("stored time zone %q: %w", zone, err)
		}
		s.loc.Store(loc)
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

// applyDeltaAndCommit adds a batch's deltas to every rollup and commits: the
// user-days first (which also yields each day's count of newly active
// users), then one round trip with one upsert per table and the COMMIT.
func applyDeltaAndCommit(ctx context.Context, conn *pgx.Conn, d *analytics.RollupDelta) error {
	spans := map[analytics.SpanKey]int64{}
	if len(d.UserDays) > 0 {
		if err := linkUserDays(ctx, conn, d, spans); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	var what []string
	for _, q := range []struct {
		name   string
		queued bool
	}{
		{"daily metrics", queueDaily(b, d.Daily)},
		{"active spans", queueSpans(b, spans)},
		{"user months", queueUserMonths(b, d)},
		{"cost rollup", queueCosts(b, d.Costs)},
		{"users", queueSignups(b, d.Signups)},
	} {
		if q.queued {
			what = append(what, "upsert "+q.name)
		}
	}
	b.Queue("COMMIT")
	what = append(what, "commit")
	br := conn.SendBatch(ctx, b)
	for _, what := range what {
		tag, err := br.Exec()
		if err == nil && what == "commit" && tag.String() != "COMMIT" {
			err = fmt.Errorf("transaction rolled back (%s)", tag)
		}
		if err != nil {
			br.Close()
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return br.Close()
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
// day) and returns the user-days it inserted. A row that exists and gains
// nothing (a signup, a payment) is locked but not written.
var addUserDaysSQL = fmt.Sprintf(`WITH added AS (
	INSERT INTO user_activity AS ua (user_id, day, prev_day, stories_created, api_calls, audio_ms, cost)
	SELECT user_id, day, %[1]d, s, a, au, c
	FROM unnest($1::text[], $2::int4[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) AS d(user_id, day, s, a, au, c)
	ON CONFLICT (user_id, day) DO UPDATE SET stories_created = ua.stories_created + excluded.stories_created,
		api_calls = ua.api_calls + excluded.api_calls, audio_ms = ua.audio_ms + excluded.audio_ms,
		cost = ua.cost + excluded.cost
	WHERE (excluded.stories_created, excluded.api_calls, excluded.audio_ms, excluded.cost) <> (0, 0, 0, 0)
	RETURNING ua.user_id, ua.day, ua.prev_day
)
SELECT user_id, day FROM added WHERE prev_day = %[1]d ORDER BY user_id, day`, unlinked)

// linkSQL relinks the prev_day chain around a set of just-inserted user-days
// ($1, $2, sorted) in one statement. The rows whose predecessor changes are
// the new rows themselves and, for each, the user's next day if that one is
// not new (a late event filled a gap before it). For each it returns the old
// and the new predecessor, from which the caller derives the active_spans
// deltas; the data-modifying CTE writes the changed links (an upsert whose
// rows all exist: a keyed bulk update through the primary key), which also
// replaces the new rows' unlinked marker. All CTEs read one snapshot, taken
// after the new rows were inserted.
const linkSQL = `WITH n AS (
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
		 ORDER BY p.day DESC LIMIT 1) AS new_prev
	FROM cand c
), relinked AS (
	INSERT INTO user_activity AS ua (user_id, day, prev_day)
	SELECT user_id, day, new_prev FROM linked WHERE old_prev IS DISTINCT FROM new_prev ORDER BY user_id, day
	ON CONFLICT (user_id, day) DO UPDATE SET prev_day = excluded.prev_day
)
SELECT day, is_new, old_prev, new_prev FROM linked`

// linkUserDays locks the batch's users, adds the per-user-day deltas, inserts
// the new user-days and relinks the prev_day chain around them, collecting
// the active_spans deltas and each day's newly active users.
func linkUserDays(ctx context.Context, conn *pgx.Conn, d *analytics.RollupDelta, spans map[analytics.SpanKey]int64) error {
	var users []string
	var all userDayArrays
	for _, ud := range d.SortedUserDays() {
		if len(users) == 0 || users[len(users)-1] != ud.UserID {
			users = append(users, ud.UserID)
		}
		all.add(ud, d.UserDays[ud])
	}
	// One round trip: lock the users, then add to their days. The upsert's
	// snapshot is taken after the locks were granted.
	b := &pgx.Batch{}
	b.Queue(lockUsersSQL, users)
	b.Queue(addUserDaysSQL, all.args()...)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("lock users: %w", err)
	}
	var newUsers []string
	var newDays []int32
	rows, _ := br.Query()
	var u string
	var day int32
	_, err := pgx.ForEachRow(rows, []any{&u, &day}, func() error {
		newUsers, newDays = append(newUsers, u), append(newDays, day)
		return nil
	})
	if err != nil {
		br.Close()
		return fmt.Errorf("add user activity: %w", err)
	}
	if err := br.Close(); err != nil {
		return err
	}
	if len(newUsers) == 0 {
		return nil
	}

	rows, _ = conn.Query(ctx, linkSQL, newUsers, newDays)
	var isNew bool
	var oldPrev, newPrev *int32
	_, err = pgx.ForEachRow(rows, []any{&day, &isNew, &oldPrev, &newPrev}, func() error {
		np := analytics.NoPrevDay
		if newPrev != nil {
			np = analytics.Day(*newPrev)
		}
		if isNew {
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
	users                 []string
	days                  []int32
	stories, calls, audio []int64
	cost                  []int64
}

func (a *userDayArrays) add(ud analytics.UserDay, d *analytics.UserDayDelta) {
	a.users = append(a.users, ud.UserID)
	a.days = append(a.days, int32(ud.Day))
	a.stories = append(a.stories, d.Stories)
	a.calls = append(a.calls, d.APICalls)
	a.audio = append(a.audio, d.AudioMillis)
	a.cost = append(a.cost, int64(d.Cost))
}

func (a *userDayArrays) args() []any {
	return []any{a.users, a.days, a.stories, a.calls, a.audio, a.cost}
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
	upsertCostSQL  = additiveUpsert("cost_daily", 4, append([]column{{"day", "int4"}, {"service", "text"}, {"model", "text"}, {"operation", "text"}},
		int8s("calls", "errors", "unpriced_calls", "input_tokens", "output_tokens", "cache_write_tokens",
			"cache_read_tokens", "characters", "bytes_transferred", "requests", "cost")...)...)
)

// upsertUsersSQL keeps the earliest signup per user (the smaller email breaks
// a tie, byte-wise, like analytics.BuildRollupDelta).
const upsertUsersSQL = `INSERT INTO users AS t (user_id, email, signup_ts)
	SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
	ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, signup_ts = excluded.signup_ts
	WHERE excluded.signup_ts < t.signup_ts OR (excluded.signup_ts = t.signup_ts AND excluded.email < t.email)`

func queueDaily(b *pgx.Batch, daily map[analytics.Day]*analytics.DailyRow) bool {
	if len(daily) == 0 {
		return false
	}
	days := make([]analytics.Day, 0, len(daily))
	for d := range daily {
		days = append(days, d)
	}
	slices.Sort(days)
	var dayCol []int32
	cols := make([][]int64, 16)
	for _, d := range days {
		r := daily[d]
		dayCol = append(dayCol, int32(d))
		for i, v := range []int64{r.NewUsers, r.ActiveUsers, r.ChurnedUsers, r.StoriesCreated, r.StoriesCompleted,
			r.StoriesFailed, r.Chapters, r.AudioMillis, r.APIRequests, r.APIErrors, r.UnpricedCalls,
			int64(r.AnthropicCost), int64(r.ElevenLabsCost), int64(r.S3Cost), r.PaymentsCents, r.RefundsCents} {
			cols[i] = append(cols[i], v)
		}
	}
	args := []any{dayCol}
	for _, c := range cols {
		args = append(args, c)
	}
	b.Queue(upsertDailySQL, args...)
	return true
}

var upsertUserMonthSQL = additiveUpsert("user_month", 2, append([]column{{"user_id", "text"}, {"month", "int4"}},
	int8s("stories_created", "api_calls", "audio_ms", "cost")...)...)

// queueUserMonths upserts the monthly rankings' rows. The user locks taken
// first serialize writers of one user's rows, whatever their order here.
func queueUserMonths(b *pgx.Batch, d *analytics.RollupDelta) bool {
	if len(d.UserMonths) == 0 {
		return false
	}
	var months []int32
	var users []string
	var stories, calls, audio, cost []int64
	for _, k := range d.SortedUserMonths() {
		v := d.UserMonths[k]
		months, users = append(months, k.Month), append(users, k.UserID)
		stories, calls, audio, cost = append(stories, v.Stories), append(calls, v.APICalls), append(audio, v.AudioMillis), append(cost, int64(v.Cost))
	}
	b.Queue(upsertUserMonthSQL, users, months, stories, calls, audio, cost)
	return true
}

func queueSpans(b *pgx.Batch, spans map[analytics.SpanKey]int64) bool {
	keys := make([]analytics.SpanKey, 0, len(spans))
	for k, n := range spans {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return false
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
	return true
}

func queueCosts(b *pgx.Batch, costs map[analytics.CostKey]*analytics.CostRow) bool {
	if len(costs) == 0 {
		return false
	}
	keys := make([]analytics.CostKey, 0, len(costs))
	for k := range costs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b analytics.CostKey) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Model, b.Model), cmp.Compare(a.Operation, b.Operation))
	})
	var days []int32
	var services, models, ops []string
	cols := make([][]int64, 11)
	for _, k := range keys {
		c := costs[k]
		days, services, models, ops = append(days, int32(k.Day)), append(services, string(k.Service)), append(models, k.Model), append(ops, k.Operation)
		for i, v := range []int64{c.Calls, c.Errors, c.UnpricedCalls, c.InputTokens, c.OutputTokens, c.CacheWriteTokens,
			c.CacheReadTokens, c.Characters, c.BytesTransferred, c.Requests, int64(c.Cost)} {
			cols[i] = append(cols[i], v)
		}
	}
	args := []any{days, services, models, ops}
	for _, c := range cols {
		args = append(args, c)
	}
	b.Queue(upsertCostSQL, args...)
	return true
}

func queueSignups(b *pgx.Batch, signups map[string]analytics.Signup) bool {
	if len(signups) == 0 {
		return false
	}
	users := make([]string, 0, len(signups))
	for u := range signups {
		users = append(users, u)
	}
	slices.Sort(users)
	emails := make([]string, len(users))
	ats := make([]time.Time, len(users))
	for i, u := range users {
		emails[i], ats[i] = signups[u].Email, signups[u].At
	}
	b.Queue(upsertUsersSQL, users, emails, ats)
	return true
}
