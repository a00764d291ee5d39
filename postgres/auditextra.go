package postgres

import (
	"context"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

var _ analytics.AuditSuppressStore = (*Store)(nil)
var _ analytics.AskSpendStore = (*Store)(nil)

// CountDenial counts one unauthenticated denial of source in a window; the
// upsert is atomic, so replicas share one count per address.
func (s *Store) CountDenial(ctx context.Context, source string, start time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_denials (source, window_start, n) VALUES ($1, $2, 1)
		ON CONFLICT (source, window_start) DO UPDATE SET n = audit_denials.n + 1 RETURNING n`, source, start.UTC()).Scan(&n)
	return n, err
}

// TakeSuppressed claims the unreported suppressed denials of windows
// starting before before. The rows are locked while claimed, so two
// replicas flushing at once report each window once.
func (s *Store) TakeSuppressed(ctx context.Context, keep int64, before time.Time) ([]analytics.DeniedWindow, error) {
	var out []analytics.DeniedWindow
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT source, window_start, n, greatest(reported, $1) AS r FROM audit_denials
				WHERE window_start < $2 AND n > greatest(reported, $1) FOR UPDATE)
			UPDATE audit_denials d SET reported = c.n FROM c
			WHERE d.source = c.source AND d.window_start = c.window_start
			RETURNING d.source, d.window_start, c.n - c.r`, keep, before.UTC())
		if err != nil {
			return err
		}
		for rows.Next() {
			var w analytics.DeniedWindow
			if err := rows.Scan(&w.Source, &w.Start, &w.Suppressed); err != nil {
				rows.Close()
				return err
			}
			w.Start = w.Start.UTC()
			out = append(out, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM audit_denials WHERE window_start < $1 AND n <= greatest(reported, $2)`,
			before.Add(-24*time.Hour).UTC(), keep)
		return err
	})
	return out, err
}

// AddAskSpend adds to an admin's Ask spend of a day.
func (s *Store) AddAskSpend(ctx context.Context, adminID int64, day analytics.Day, cost analytics.Micros) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO ask_spend (admin_id, day, cost) VALUES ($1, $2, $3)
		ON CONFLICT (admin_id, day) DO UPDATE SET cost = ask_spend.cost + excluded.cost`, adminID, int32(day), int64(cost))
	return err
}

// AskSpend is an admin's Ask spend of a day.
func (s *Store) AskSpend(ctx context.Context, adminID int64, day analytics.Day) (analytics.Micros, error) {
	var cost int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(cost), 0)::bigint FROM ask_spend WHERE admin_id = $1 AND day = $2`, adminID, int32(day)).Scan(&cost)
	return analytics.Micros(cost), err
}
