package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

// The bulk-insert floor writes the same rows into the real events table
// (schema created by opening a real store) and does nothing else: no
// dedup look-up beyond the table's own keys, no rollup. It is the most a
// store can hope to ingest on the engine; the store's ingest is measured
// as a share of it.

// eventColumns are the events table's columns, in the order eventValues
// gives them (both stores' schemas have the same columns).
var eventColumns = []string{"id", "type", "ts", "day", "user_id", "service", "operation", "model",
	"input_tokens", "output_tokens", "cache_write_tokens", "cache_write_1h_tokens", "cache_read_tokens",
	"characters", "bytes_transferred", "requests", "status", "explicit_cost", "cost", "priced",
	"story_id", "chapters", "audio_ms", "amount_cents", "email", "received_at"}

// eventValues appends e's column values, converted as the store converts
// them (timestamps through d.ts).
func eventValues(dst []any, e *analytics.Event, loc *time.Location, d dialect, received any) []any {
	var explicit any
	if e.ExplicitCost != nil {
		explicit = int64(*e.ExplicitCost)
	}
	day := analytics.EventDay(e, loc)
	var dayV any = int64(day)
	if d.pg {
		dayV = int32(day)
	}
	return append(dst, e.ID, string(e.Type), d.ts(e.Timestamp), dayV, e.UserID, string(e.Service), e.Operation, e.Model,
		e.InputTokens, e.OutputTokens, e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens,
		e.Characters, e.BytesTransferred, e.Requests, e.Status, explicit, int64(e.Cost), e.Priced,
		e.StoryID, e.Chapters, e.AudioMillis, e.AmountCents, e.Email, received)
}

// sqliteRowsPerInsert is how many rows one INSERT statement of the SQLite
// floor carries.
const sqliteRowsPerInsert = 100

func multiRowInsert(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(eventColumns)), ",") + ")"
	return "INSERT INTO events (" + strings.Join(eventColumns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// floor on SQLite: one prepared 100-row INSERT, run batch/100 times per
// transaction, with the store's pragmas (WAL, synchronous=FULL).
func (e *sqliteEngine) floor(ctx context.Context, db string, events []analytics.Event, batch int, start func()) error {
	s, err := e.open(ctx, db) // creates the schema
	if err != nil {
		return err
	}
	loc := s.Location()
	s.Close()
	h, d, err := e.sqlDB(db)
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetMaxOpenConns(1)
	full, err := h.PrepareContext(ctx, multiRowInsert(sqliteRowsPerInsert))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, sqliteRowsPerInsert*len(eventColumns))
	start()
	for len(events) > 0 {
		n := min(batch, len(events))
		b := events[:n]
		events = events[n:]
		received := d.ts(time.Now())
		tx, err := h.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for len(b) > 0 {
			k := min(sqliteRowsPerInsert, len(b))
			args = args[:0]
			for i := range b[:k] {
				args = eventValues(args, &b[i], loc, d, received)
			}
			if k == sqliteRowsPerInsert {
				_, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, multiRowInsert(k), args...)
			}
			if err != nil {
				tx.Rollback()
				return fmt.Errorf("insert events: %w", err)
			}
			b = b[k:]
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// floor on PostgreSQL: COPY (pgx CopyFrom) of each batch into the
// partitioned events table, one transaction per batch.
func (e *postgresEngine) floor(ctx context.Context, db string, events []analytics.Event, batch int, start func()) error {
	s, err := e.open(ctx, db) // creates the schema
	if err != nil {
		return err
	}
	loc := s.Location()
	s.Close()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// The store creates each month's partition before the month's first
	// event arrives; so does the floor, outside the measured loop's work.
	if err := createMonthPartitions(ctx, conn, events); err != nil {
		return err
	}
	d := dialect{pg: true}
	row := make([]any, 0, len(eventColumns))
	start()
	for len(events) > 0 {
		n := min(batch, len(events))
		b := events[:n]
		events = events[n:]
		received := time.Now()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			copied, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromSlice(len(b), func(i int) ([]any, error) {
				row = eventValues(row[:0], &b[i], loc, d, received)
				return row, nil
			}))
			if err == nil && copied != int64(len(b)) {
				err = fmt.Errorf("copied %d of %d events", copied, len(b))
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
	}
	return nil
}

// createMonthPartitions makes a partition of events for every UTC month the
// events fall in.
func createMonthPartitions(ctx context.Context, conn *pgx.Conn, events []analytics.Event) error {
	months := map[time.Time]bool{}
	for i := range events {
		y, m, _ := events[i].Timestamp.UTC().Date()
		months[time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)] = true
	}
	for m := range months {
		name := fmt.Sprintf("events_p%04d%02d", m.Year(), int(m.Month()))
		q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{name}.Sanitize(), m.Format("2006-01-02 15:04:05+00"), m.AddDate(0, 1, 0).Format("2006-01-02 15:04:05+00"))
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create partition %s: %w", name, err)
		}
	}
	return nil
}
