package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

// Corrections (voids and reprices) change events already stored and take
// their old figures back out of the rollups. They run beside ingests on
// every replica, so they extend IngestEvents' global lock order (see its
// comment) with one step, the rows of events themselves, which only
// corrections lock:
//
//   - event_ids: a void inserts its own id there first, as an ingest does; a
//     reprice takes the table in ROW SHARE mode, which orders it after (or
//     before) a Rebuild, the one transaction that holds event_ids exclusively;
//   - events rows, with SELECT … FOR UPDATE in (ts, id) order: two
//     corrections of one event run one after the other, and the second reads
//     the first's result (READ COMMITTED re-reads a row changed while it
//     waited), so no update is lost or applied twice;
//   - then user_locks and the rollups exactly as an ingest (applyDeltaAndCommit).
//
// An ingest never locks existing event rows, so it never waits for a
// correction before its own user locks; a correction waits for event rows
// only while holding nothing an ingest or another correction could need first.

// storedEventColumns are read back by scanStored, in this order.
const storedEventColumns = `id, type, ts, day, user_id, service, operation, model, input_tokens, output_tokens,
	cache_write_tokens, cache_write_1h_tokens, cache_read_tokens, characters, bytes_transferred, requests, status,
	explicit_cost, cost, priced, story_id, chapters, audio_ms, amount_cents, email, price_ref, COALESCE(voided_by, '')`

// storedEvent is an event as stored: its bucketed day and the void that took
// it out, if any.
type storedEvent struct {
	day      analytics.Day
	voidedBy string
	analytics.Event
}

func scanStored(row pgx.CollectableRow) (storedEvent, error) {
	var se storedEvent
	e := &se.Event
	var typ, svc, ref string
	var day int32
	var cost int64
	var explicit *int64
	if err := row.Scan(&e.ID, &typ, &e.Timestamp, &day, &e.UserID, &svc, &e.Operation, &e.Model, &e.InputTokens,
		&e.OutputTokens, &e.CacheCreationInputTokens, &e.CacheCreation1hTokens, &e.CacheReadInputTokens, &e.Characters,
		&e.BytesTransferred, &e.Requests, &e.Status, &explicit, &cost, &e.Priced, &e.StoryID, &e.Chapters, &e.AudioMillis,
		&e.AmountCents, &e.Email, &ref, &se.voidedBy); err != nil {
		return se, err
	}
	e.Type, e.Service, e.Cost, se.day = analytics.EventType(typ), analytics.Service(svc), analytics.Micros(cost), analytics.Day(day)
	e.Timestamp = e.Timestamp.UTC()
	if explicit != nil {
		m := analytics.Micros(*explicit)
		e.ExplicitCost = &m
	}
	var err error
	e.PriceRef, err = analytics.ParsePriceRef(ref)
	return se, err
}

// lockByKeySQL locks events by (ts, id), in the order given (sorted by the
// caller): one index probe per key, in the one partition that holds it.
const lockByKeySQL = `SELECT e.* FROM unnest($1::timestamptz[], $2::text[]) AS k(ts, id)
	CROSS JOIN LATERAL (SELECT ` + storedEventColumns + ` FROM events
		WHERE events.ts = k.ts AND events.id = k.id FOR UPDATE) e`

// lockByIDSQL locks events by id alone: events stored before event_ids
// recorded timestamps (migration 012), found by a scan.
const lockByIDSQL = `SELECT ` + storedEventColumns + ` FROM events WHERE id = ANY($1::text[]) ORDER BY ts, id FOR UPDATE`

// VoidEvents applies voids in order, in one transaction: each target is
// marked voided_by, the void is stored, and the target's figures are
// subtracted from every rollup. A void whose id is stored is a duplicate; a
// rejected void stores nothing, so a corrected retry with its id is taken.
func (s *Store) VoidEvents(ctx context.Context, voids []analytics.Event) (analytics.VoidCounts, error) {
	ts := make([]time.Time, len(voids))
	for i := range voids {
		if voids[i].Type != analytics.EventVoided {
			return analytics.VoidCounts{}, fmt.Errorf("void %q: not an event_voided event", voids[i].ID)
		}
		ts[i] = voids[i].Timestamp
	}
	if len(voids) == 0 {
		return analytics.VoidCounts{Rejected: map[int]string{}}, nil
	}
	if err := s.ensurePartitions(ctx, batchMonths(ts)); err != nil {
		return analytics.VoidCounts{}, err
	}
	for attempt := 0; ; attempt++ {
		counts, err := s.voidOnce(ctx, voids)
		if err == nil {
			return counts, nil
		}
		if !retryable(err) || attempt >= maxAttempts-1 {
			return analytics.VoidCounts{}, overflowError(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return analytics.VoidCounts{}, err
		}
	}
}

func (s *Store) voidOnce(ctx context.Context, voids []analytics.Event) (analytics.VoidCounts, error) {
	counts := analytics.VoidCounts{Rejected: map[int]string{}}
	conn, release, err := s.acquire(ctx)
	if err != nil {
		return counts, err
	}
	defer release()

	// The first copy of a void id in the batch is the one considered.
	first := map[string]int{}
	var ids, targetIDs []string
	for i := range voids {
		if _, dup := first[voids[i].ID]; !dup {
			first[voids[i].ID] = i
			ids = append(ids, voids[i].ID)
			targetIDs = append(targetIDs, voids[i].Voids)
		}
	}
	slices.Sort(ids)
	idTS := make([]time.Time, len(ids))
	for i, id := range ids {
		idTS[i] = voids[first[id]].Timestamp
	}

	// One round trip: begin, claim the void ids (as an ingest claims its
	// ids), read the zone, and find where the targets are stored.
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(insertEventIDsSQL, ids, idTS)
	b.Queue(`SELECT value FROM meta WHERE key = 'timezone'`)
	b.Queue(`SELECT id, ts FROM event_ids WHERE id = ANY($1::text[])`, targetIDs)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return counts, fmt.Errorf("begin: %w", err)
	}
	rows, _ := br.Query()
	newIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		br.Close()
		return counts, fmt.Errorf("insert void ids: %w", err)
	}
	loc, err := s.readZone(br.QueryRow())
	if err != nil {
		br.Close()
		return counts, err
	}
	type key struct {
		ts time.Time
		id string
	}
	var keys []key
	var unkeyed []string
	rows, _ = br.Query()
	var id string
	var at *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		if at == nil {
			unkeyed = append(unkeyed, id)
		} else {
			keys = append(keys, key{*at, id})
		}
		return nil
	})
	if err != nil {
		br.Close()
		return counts, fmt.Errorf("find voided events: %w", err)
	}
	if err := br.Close(); err != nil {
		return counts, err
	}

	// Lock the targets (the voids of this batch are not stored yet, so a
	// target that is one of them is not found here).
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(a.ts.Compare(b.ts), cmp.Compare(a.id, b.id)) })
	kts, kids := make([]time.Time, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		kts[i], kids[i] = k.ts, k.id
	}
	stored := map[string]*storedEvent{}
	for _, q := range []struct {
		sql  string
		args []any
		n    int
	}{{lockByKeySQL, []any{kts, kids}, len(keys)}, {lockByIDSQL, []any{unkeyed}, len(unkeyed)}} {
		if q.n == 0 {
			continue
		}
		rows, _ := conn.Query(ctx, q.sql, q.args...)
		found, err := pgx.CollectRows(rows, scanStored)
		if err != nil {
			return counts, fmt.Errorf("lock voided events: %w", err)
		}
		for i := range found {
			stored[found[i].ID] = &found[i]
		}
	}

	isNew := map[string]bool{}
	for _, id := range newIDs {
		isNew[id] = true
	}
	var accepted []analytics.Event
	var targets []*storedEvent
	var rejectedIDs []string
	for i := range voids {
		v := &voids[i]
		if first[v.ID] != i || !isNew[v.ID] {
			counts.Duplicates++
			continue
		}
		t, found := stored[v.Voids]
		var typ analytics.EventType
		var by string
		if found {
			typ, by = t.Type, t.voidedBy
		}
		if reason := analytics.VoidRejection(v.Voids, typ, by, found); reason != "" {
			counts.Rejected[i] = reason
			rejectedIDs = append(rejectedIDs, v.ID)
			continue
		}
		t.voidedBy = v.ID
		// A later void of this batch that names this one is voiding a void.
		stored[v.ID] = &storedEvent{Event: analytics.Event{ID: v.ID, Type: analytics.EventVoided}}
		accepted = append(accepted, *v)
		targets = append(targets, t)
	}
	counts.Accepted = len(accepted)

	d := analytics.NewRollupDelta()
	b = &pgx.Batch{}
	for _, t := range targets {
		b.Queue(`UPDATE events SET voided_by = $1 WHERE ts = $2 AND id = $3`, t.voidedBy, t.Timestamp, t.ID)
		d.AddEvent(&t.Event, t.day, -1)
	}
	if len(rejectedIDs) > 0 {
		// Rejected voids are not stored: free their ids for a retry.
		b.Queue(`DELETE FROM event_ids WHERE id = ANY($1::text[])`, rejectedIDs)
	}
	if err := d.Finish(); err != nil {
		return counts, err
	}
	if b.Len() > 0 {
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return counts, fmt.Errorf("mark voided events: %w", err)
		}
	}
	if len(accepted) > 0 {
		if err := copyEvents(ctx, conn, accepted, loc, s.now().UTC()); err != nil {
			return counts, fmt.Errorf("store voids: %w", err)
		}
	}
	if err := applyDeltaAndCommit(ctx, conn, d); err != nil {
		return counts, err
	}
	return counts, nil
}

// RepriceEvents walks the live api_calls of the range without a
// caller-given cost in (ts, id) order, a bounded batch per transaction. Each
// batch locks its rows (FOR UPDATE) before quoting them, so a void or
// another reprice of the same rows waits or is waited for, and no update is
// lost or doubled; ingests meanwhile only add rows. A dry run locks and
// writes nothing.
func (s *Store) RepriceEvents(ctx context.Context, opts analytics.RepriceOptions, quote func(*analytics.Event)) (analytics.RepriceReport, error) {
	var rep analytics.RepriceReport
	batch := opts.BatchSize
	if batch <= 0 {
		batch = analytics.DefaultRepriceBatch
	}
	// Days are reporting-zone days; the timestamps bound the scan (and the
	// partitions read) a day wider on each side, as no zone is a day off UTC.
	since, until := int32(math.MinInt32), int32(math.MaxInt32)
	lo, hi := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if opts.Since != nil {
		since, lo = int32(*opts.Since), (*opts.Since - 1).Date()
	}
	if opts.Until != nil {
		until, hi = int32(*opts.Until), (*opts.Until + 2).Date()
	}
	q := `SELECT ` + storedEventColumns + ` FROM events WHERE ts >= $1 AND (ts, id) > ($1, $2) AND ts < $3
		AND type = 'api_call' AND explicit_cost IS NULL AND voided_by IS NULL AND day BETWEEN $4 AND $5`
	args := []any{lo, "", hi, since, until, batch}
	if opts.Model != "" {
		q += ` AND model = $7`
		args = append(args, opts.Model)
	}
	q += ` ORDER BY ts, id LIMIT $6`
	if !opts.DryRun {
		q += ` FOR UPDATE`
	}
	for {
		var (
			pairs [][2]analytics.Event
			err   error
		)
		for attempt := 0; ; attempt++ {
			pairs, err = s.repriceBatch(ctx, q, args, opts.DryRun, quote)
			if err == nil {
				break
			}
			if !retryable(err) || attempt >= maxAttempts-1 {
				return rep, overflowError(err)
			}
			if err := backoff(ctx, attempt); err != nil {
				return rep, err
			}
		}
		// Tallied once the batch is committed, so a retried batch counts once.
		for i := range pairs {
			rep.Tally(&pairs[i][0], &pairs[i][1])
		}
		if len(pairs) < batch {
			break
		}
		last := pairs[len(pairs)-1][0]
		args[0], args[1] = last.Timestamp, last.ID
	}
	rep.Done(opts)
	return rep, nil
}

// repriceBatch reprices the batch after the key in args[0:2] and returns
// each call examined as it was and as it is now, in (ts, id) order.
func (s *Store) repriceBatch(ctx context.Context, q string, args []any, dryRun bool,
	quote func(*analytics.Event)) ([][2]analytics.Event, error) {
	conn, release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(`LOCK TABLE event_ids IN ROW SHARE MODE`)
	b.Queue(q, args...)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("begin: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("lock event ids: %w", err)
	}
	rows, _ := br.Query()
	calls, err := pgx.CollectRows(rows, scanStored)
	if err != nil {
		br.Close()
		return nil, fmt.Errorf("read calls to reprice: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		_, err := conn.Exec(ctx, "ROLLBACK")
		return nil, err
	}

	d := analytics.NewRollupDelta()
	b = &pgx.Batch{}
	pairs := make([][2]analytics.Event, len(calls))
	for i := range calls {
		old := &calls[i]
		now := old.Event
		quote(&now)
		pairs[i] = [2]analytics.Event{old.Event, now}
		var scratch analytics.RepriceReport // Tally also says whether anything stored changes
		if !scratch.Tally(&old.Event, &now) || dryRun {
			continue
		}
		b.Queue(`UPDATE events SET cost = $1, priced = $2, price_ref = $3 WHERE ts = $4 AND id = $5`,
			int64(now.Cost), now.Priced, now.PriceRef.String(), old.Timestamp, old.ID)
		d.AddEvent(&old.Event, old.day, -1)
		d.AddEvent(&now, old.day, 1)
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	if dryRun {
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			return nil, err
		}
		return pairs, nil
	}
	if b.Len() > 0 {
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("reprice events: %w", err)
		}
	}
	if err := applyDeltaAndCommit(ctx, conn, d); err != nil {
		return nil, err
	}
	return pairs, nil
}

// PriceEntries returns the runtime price entries and their version, read in
// one snapshot.
func (s *Store) PriceEntries(ctx context.Context) ([]analytics.PriceEntryRow, int64, error) {
	var out []analytics.PriceEntryRow
	var version int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, pricesVersionSQL).Scan(&version); err != nil {
			return fmt.Errorf("read prices version: %w", err)
		}
		rows, _ := tx.Query(ctx, `SELECT service, model, effective_from, entry, updated_at FROM price_entries
			ORDER BY service, model, effective_from`)
		var err error
		out, err = pgx.CollectRows(rows, scanPriceEntry)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, version, nil
}

func scanPriceEntry(row pgx.CollectableRow) (analytics.PriceEntryRow, error) {
	var r analytics.PriceEntryRow
	var svc, entry string
	var from int32
	err := row.Scan(&svc, &r.Model, &from, &entry, &r.UpdatedAt)
	r.Service, r.EffectiveFrom, r.Entry, r.UpdatedAt = analytics.Service(svc), analytics.Day(from), []byte(entry), r.UpdatedAt.UTC()
	return r, err
}

const pricesVersionSQL = `SELECT value::bigint FROM meta WHERE key = 'prices_version'`

// PricesVersion is bumped by every change to the runtime price entries.
func (s *Store) PricesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, pricesVersionSQL).Scan(&v)
	return v, err
}

// bumpPricesSQL bumps the version first thing in a change: its row lock
// serializes writers of the price entries across replicas.
const bumpPricesSQL = `UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'prices_version'`

// PutPriceEntries stores entries (same key: replaced) and bumps the version.
func (s *Store) PutPriceEntries(ctx context.Context, entries []analytics.PriceEntryRow) ([]analytics.PriceEntryRow, error) {
	var replaced []analytics.PriceEntryRow
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		replaced = nil
		if _, err := tx.Exec(ctx, bumpPricesSQL); err != nil {
			return fmt.Errorf("bump prices version: %w", err)
		}
		now := s.now().UTC()
		for _, r := range entries {
			rows, _ := tx.Query(ctx, `SELECT service, model, effective_from, entry, updated_at FROM price_entries
				WHERE service = $1 AND model = $2 AND effective_from = $3`, string(r.Service), r.Model, int32(r.EffectiveFrom))
			old, err := pgx.CollectRows(rows, scanPriceEntry)
			if err != nil {
				return err
			}
			replaced = append(replaced, old...)
			if _, err := tx.Exec(ctx, `INSERT INTO price_entries (service, model, effective_from, entry, updated_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (service, model, effective_from) DO UPDATE SET entry = excluded.entry,
				updated_at = excluded.updated_at`, string(r.Service), r.Model, int32(r.EffectiveFrom), string(r.Entry), now); err != nil {
				return fmt.Errorf("store price entry: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

// RemovePriceEntry deletes one runtime entry and bumps the version.
func (s *Store) RemovePriceEntry(ctx context.Context, service analytics.Service, model string, from analytics.Day) (analytics.PriceEntryRow, error) {
	r := analytics.PriceEntryRow{Service: service, Model: model, EffectiveFrom: from}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, bumpPricesSQL); err != nil {
			return fmt.Errorf("bump prices version: %w", err)
		}
		var entry string
		err := tx.QueryRow(ctx, `DELETE FROM price_entries WHERE service = $1 AND model = $2 AND effective_from = $3
			RETURNING entry, updated_at`, string(service), model, int32(from)).Scan(&entry, &r.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return analytics.Errorf(analytics.KindNotFound, "no database price entry for %s model %q from %s (built-in and file entries cannot be removed; add an entry that overrides them)", service, model, from)
		}
		r.Entry, r.UpdatedAt = []byte(entry), r.UpdatedAt.UTC()
		return err
	})
	return r, err
}

// UnpricedModels lists the models with unpriced calls, from the cost rollup
// (which holds live calls only).
func (s *Store) UnpricedModels(ctx context.Context) ([]analytics.UnpricedModel, error) {
	rows, _ := s.pool.Query(ctx, `SELECT service, model, sum(unpriced_calls)::bigint FROM cost_daily
		GROUP BY service, model HAVING sum(unpriced_calls) > 0 ORDER BY service, model`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.UnpricedModel, error) {
		var u analytics.UnpricedModel
		var svc string
		err := row.Scan(&svc, &u.Model, &u.Calls)
		u.Service = analytics.Service(svc)
		return u, err
	})
	if out == nil && err == nil {
		out = []analytics.UnpricedModel{}
	}
	return out, err
}
