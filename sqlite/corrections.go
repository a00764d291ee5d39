package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	analytics "github.com/codestory/analytics"
)

// eventColumns are read back into an analytics.Event by scanEvent.
const eventColumns = `rowid, id, type, ts, day, user_id, service, operation, model, input_tokens, output_tokens,
	cache_write_tokens, cache_write_1h_tokens, cache_read_tokens, characters, bytes_transferred, requests, status,
	explicit_cost, cost, priced, story_id, chapters, audio_ms, amount_cents, email, price_ref, COALESCE(voided_by, '')`

// storedEvent is an event as stored: its rowid, its bucketed day and the
// void that took it out, if any.
type storedEvent struct {
	rowid    int64
	day      analytics.Day
	voidedBy string
	analytics.Event
}

func scanEvent(sc interface{ Scan(...any) error }) (storedEvent, error) {
	var se storedEvent
	e := &se.Event
	var typ, svc, ref string
	var ts, day, cost int64
	var explicit sql.NullInt64
	if err := sc.Scan(&se.rowid, &e.ID, &typ, &ts, &day, &e.UserID, &svc, &e.Operation, &e.Model, &e.InputTokens,
		&e.OutputTokens, &e.CacheCreationInputTokens, &e.CacheCreation1hTokens, &e.CacheReadInputTokens, &e.Characters,
		&e.BytesTransferred, &e.Requests, &e.Status, &explicit, &cost, &e.Priced, &e.StoryID, &e.Chapters, &e.AudioMillis,
		&e.AmountCents, &e.Email, &ref, &se.voidedBy); err != nil {
		return se, err
	}
	e.Type, e.Service, e.Timestamp, e.Cost = analytics.EventType(typ), analytics.Service(svc), fromMicros(ts), analytics.Micros(cost)
	se.day = analytics.Day(day)
	if explicit.Valid {
		m := analytics.Micros(explicit.Int64)
		e.ExplicitCost = &m
	}
	var err error
	if e.PriceRef, err = analytics.ParsePriceRef(ref); err != nil {
		return se, err
	}
	return se, nil
}

// VoidEvents applies voids in order, in one transaction: each target is
// marked voided_by, the void is stored, and the target's figures are
// subtracted from every rollup.
func (s *Store) VoidEvents(ctx context.Context, voids []analytics.Event) (analytics.VoidCounts, error) {
	counts := analytics.VoidCounts{Rejected: map[int]string{}}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return counts, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	loc, err := s.refreshLocation(ctx, tx)
	if err != nil {
		return counts, err
	}
	received := micros(s.now())
	d := analytics.NewRollupDelta()
	for i := range voids {
		v := &voids[i]
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE id = ?`, v.ID).Scan(&one); {
		case err == nil:
			counts.Duplicates++
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return counts, fmt.Errorf("look up void %q: %w", v.ID, err)
		}
		target, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, v.Voids))
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return counts, fmt.Errorf("look up voided event %q: %w", v.Voids, err)
		}
		if reason := analytics.VoidRejection(v.Voids, target.Type, target.voidedBy, found); reason != "" {
			counts.Rejected[i] = reason
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET voided_by = ? WHERE rowid = ?`, v.ID, target.rowid); err != nil {
			return counts, fmt.Errorf("void event %q: %w", v.Voids, err)
		}
		if _, err := tx.ExecContext(ctx, insertVoidSQL, v.ID, micros(v.Timestamp), int64(analytics.EventDay(v, loc)),
			received, v.Voids, v.Reason); err != nil {
			return counts, fmt.Errorf("insert void %q: %w", v.ID, err)
		}
		d.AddEvent(&target.Event, target.day, -1)
		counts.Accepted++
	}
	if err := d.Finish(); err != nil {
		return analytics.VoidCounts{}, err
	}
	if err := applyDelta(ctx, txStmts{tx, s.stmts}, d); err != nil {
		return analytics.VoidCounts{}, err
	}
	if err := tx.Commit(); err != nil {
		return analytics.VoidCounts{}, fmt.Errorf("commit: %w", err)
	}
	return counts, nil
}

// RepriceEvents walks the events table in rowid order, a bounded batch per
// transaction. Each transaction reads its batch under the write lock, so an
// ingest, a void or another reprice cannot change those rows in between:
// no update is lost or doubled.
func (s *Store) RepriceEvents(ctx context.Context, opts analytics.RepriceOptions, quote func(*analytics.Event)) (analytics.RepriceReport, error) {
	var rep analytics.RepriceReport
	batch := opts.BatchSize
	if batch <= 0 {
		batch = analytics.DefaultRepriceBatch
	}
	since, until := int64(-1<<31), int64(1<<31)
	if opts.Since != nil {
		since = int64(*opts.Since)
	}
	if opts.Until != nil {
		until = int64(*opts.Until)
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE rowid > ? AND type = 'api_call' AND explicit_cost IS NULL
		AND voided_by IS NULL AND day BETWEEN ? AND ?`
	args := []any{nil, since, until}
	if opts.Model != "" {
		q += ` AND model = ?`
		args = append(args, opts.Model)
	}
	q += ` ORDER BY rowid LIMIT ?`
	args = append(args, batch)
	last := int64(-1 << 62)
	for {
		n, next, err := s.repriceBatch(ctx, q, args, last, opts.DryRun, quote, &rep)
		if err != nil {
			return rep, err
		}
		if n < batch {
			break
		}
		last = next
	}
	rep.Done(opts)
	return rep, nil
}

func (s *Store) repriceBatch(ctx context.Context, q string, args []any, after int64, dryRun bool,
	quote func(*analytics.Event), rep *analytics.RepriceReport) (int, int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	args[0] = after
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("read calls to reprice: %w", err)
	}
	var batch []storedEvent
	for rows.Next() {
		se, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		batch = append(batch, se)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if len(batch) == 0 {
		return 0, after, nil
	}
	d := analytics.NewRollupDelta()
	for i := range batch {
		old := &batch[i]
		now := old.Event
		quote(&now)
		if !rep.Tally(&old.Event, &now) || dryRun {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET cost = ?, priced = ?, price_ref = ? WHERE rowid = ?`,
			int64(now.Cost), now.Priced, now.PriceRef.String(), old.rowid); err != nil {
			return 0, 0, fmt.Errorf("reprice event %q: %w", old.ID, err)
		}
		d.AddEvent(&old.Event, old.day, -1)
		d.AddEvent(&now, old.day, 1)
	}
	if err := d.Finish(); err != nil {
		return 0, 0, err
	}
	if !dryRun {
		if err := applyDelta(ctx, txStmts{tx, s.stmts}, d); err != nil {
			return 0, 0, err
		}
		if err := tx.Commit(); err != nil {
			return 0, 0, fmt.Errorf("commit: %w", err)
		}
	}
	return len(batch), batch[len(batch)-1].rowid, nil
}

// PriceEntries returns the runtime price entries and their version.
func (s *Store) PriceEntries(ctx context.Context) ([]analytics.PriceEntryRow, int64, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'prices_version'`).Scan(&version); err != nil {
		return nil, 0, fmt.Errorf("read prices version: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT service, model, effective_from, entry, updated_at FROM price_entries
		ORDER BY service, model, effective_from`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []analytics.PriceEntryRow
	for rows.Next() {
		var r analytics.PriceEntryRow
		var svc, entry string
		var from, at int64
		if err := rows.Scan(&svc, &r.Model, &from, &entry, &at); err != nil {
			return nil, 0, err
		}
		r.Service, r.EffectiveFrom, r.Entry, r.UpdatedAt = analytics.Service(svc), analytics.Day(from), []byte(entry), fromMicros(at)
		out = append(out, r)
	}
	return out, version, rows.Err()
}

// PricesVersion is bumped by every change to the runtime price entries.
func (s *Store) PricesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'prices_version'`).Scan(&v)
	return v, err
}

// PutPriceEntries stores entries (same key: replaced) and bumps the version.
func (s *Store) PutPriceEntries(ctx context.Context, entries []analytics.PriceEntryRow) ([]analytics.PriceEntryRow, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var replaced []analytics.PriceEntryRow
	now := micros(s.now())
	for _, r := range entries {
		var old string
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT entry, updated_at FROM price_entries WHERE service = ? AND model = ? AND effective_from = ?`,
			string(r.Service), r.Model, int64(r.EffectiveFrom)).Scan(&old, &at)
		switch {
		case err == nil:
			replaced = append(replaced, analytics.PriceEntryRow{Service: r.Service, Model: r.Model, EffectiveFrom: r.EffectiveFrom,
				Entry: []byte(old), UpdatedAt: fromMicros(at)})
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO price_entries (service, model, effective_from, entry, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, model, effective_from) DO UPDATE SET entry = excluded.entry,
			updated_at = excluded.updated_at`, string(r.Service), r.Model, int64(r.EffectiveFrom), string(r.Entry), now); err != nil {
			return nil, fmt.Errorf("store price entry: %w", err)
		}
	}
	if err := bumpPrices(ctx, tx); err != nil {
		return nil, err
	}
	return replaced, tx.Commit()
}

// RemovePriceEntry deletes one runtime entry and bumps the version.
func (s *Store) RemovePriceEntry(ctx context.Context, service analytics.Service, model string, from analytics.Day) (analytics.PriceEntryRow, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return analytics.PriceEntryRow{}, err
	}
	defer tx.Rollback()
	r := analytics.PriceEntryRow{Service: service, Model: model, EffectiveFrom: from}
	var entry string
	var at int64
	err = tx.QueryRowContext(ctx, `DELETE FROM price_entries WHERE service = ? AND model = ? AND effective_from = ?
		RETURNING entry, updated_at`, string(service), model, int64(from)).Scan(&entry, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return r, analytics.Errorf(analytics.KindNotFound, "no database price entry for %s model %q from %s (built-in and file entries cannot be removed; add an entry that overrides them)", service, model, from)
	}
	if err != nil {
		return r, err
	}
	r.Entry, r.UpdatedAt = []byte(entry), fromMicros(at)
	if err := bumpPrices(ctx, tx); err != nil {
		return r, err
	}
	return r, tx.Commit()
}

func bumpPrices(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'prices_version'`)
	return err
}

// UnpricedModels lists the models with unpriced calls, from the cost rollup.
func (s *Store) UnpricedModels(ctx context.Context) ([]analytics.UnpricedModel, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT service, model, SUM(unpriced_calls) FROM cost_daily
		GROUP BY service, model HAVING SUM(unpriced_calls) > 0 ORDER BY service, model`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []analytics.UnpricedModel{}
	for rows.Next() {
		var u analytics.UnpricedModel
		var svc string
		if err := rows.Scan(&svc, &u.Model, &u.Calls); err != nil {
			return nil, err
		}
		u.Service = analytics.Service(svc)
		out = append(out, u)
	}
	return out, rows.Err()
}
