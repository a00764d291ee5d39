package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// monthIndex numbers the UTC month of t (year*12 + month-1); the events
// table is partitioned on these months.
func monthIndex(t time.Time) int {
	y, m, _ := t.UTC().Date()
	return y*12 + int(m) - 1
}

// boundFormat writes a partition bound as a UTC timestamptz literal.
const boundFormat = "2006-01-02 15:04:05+00"

func monthStart(mi int) time.Time {
	return time.Date(mi/12, time.Month(mi%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// partitionName is the table holding the events of month mi.
func partitionName(mi int) string {
	return fmt.Sprintf("events_p%04d%02d", mi/12, mi%12+1)
}

// ensurePartitions makes sure the partitions of the given months exist. Known
// months are answered from memory; the others are created in a short
// transaction of their own, serialized between replicas by an advisory lock.
//
// It must never run inside an ingest transaction: CREATE TABLE … PARTITION OF
// takes an ACCESS EXCLUSIVE lock on events, so it waits for the ingests in
// flight to commit; inside one of them it could deadlock with another.
func (s *Store) ensurePartitions(ctx context.Context, months []int) error {
	s.partMu.Lock()
	defer s.partMu.Unlock()
	var missing []int
	for _, m := range months {
		if !s.parts[m] && !slices.Contains(missing, m) {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockNamespace, lockPartitions); err != nil {
				return err
			}
			for _, m := range missing {
				name := partitionName(m)
				// Looking first avoids the parent-table lock when another
				// replica already made the partition.
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
					return err
				}
				if exists {
					continue
				}
				// The bounds are explicit UTC instants, independent of the
				// session's TimeZone.
				q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM ('%s') TO ('%s')`,
					pgx.Identifier{name}.Sanitize(),
					monthStart(m).Format(boundFormat), monthStart(m+1).Format(boundFormat))
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("create partition %s: %w", name, err)
				}
			}
			return nil
		})
		if err == nil {
			break
		}
		if !retryable(err) || attempt >= maxAttempts-1 {
			return fmt.Errorf("ensure event partitions: %w", err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	for _, m := range missing {
		s.parts[m] = true
	}
	return nil
}

// batchMonths lists the months of the events' timestamps, plus the month
// after the latest one, so that a partition usually exists before the first
// event of its month arrives.
func batchMonths(ts []time.Time) []int {
	var out []int
	latest := -1
	for _, t := range ts {
		m := monthIndex(t)
		if len(out) == 0 || out[len(out)-1] != m { // batches are mostly in time order
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
		latest = max(latest, m)
	}
	if latest >= 0 && !slices.Contains(out, latest+1) {
		out = append(out, latest+1)
	}
	return out
}
