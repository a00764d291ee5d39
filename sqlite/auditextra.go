package sqlite

import (
	"context"
	"fmt"
	"time"

	analytics "github.com/codestory/analytics"
)

var _ analytics.AuditSuppressStore = (*Store)(nil)
var _ analytics.AskSpendStore = (*Store)(nil)

// CountDenial counts one unauthenticated denial of source in a window.
func (s *Store) CountDenial(ctx context.Context, source string, start time.Time) (int64, error) {
	var n int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO audit_denials (source, window_start, n) VALUES (?, ?, 1)
		ON CONFLICT (source, window_start) DO UPDATE SET n = n + 1 RETURNING n`, source, micros(start)).Scan(&n)
	return n, err
}

// TakeSuppressed claims the unreported suppressed denials of windows
// starting before before; the write transaction makes the claim atomic.
func (s *Store) TakeSuppressed(ctx context.Context, keep int64, before time.Time) ([]analytics.DeniedWindow, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT source, window_start, n, max(reported, ?) FROM audit_denials
		WHERE window_start < ? AND n > max(reported, ?) ORDER BY window_start, source`, keep, micros(before), keep)
	if err != nil {
		return nil, err
	}
	var out []analytics.DeniedWindow
	type claim struct {
		source string
		start  int64
		n      int64
	}
	var claims []claim
	for rows.Next() {
		var c claim
		var reported int64
		if err := rows.Scan(&c.source, &c.start, &c.n, &reported); err != nil {
			rows.Close()
			return nil, err
		}
		claims = append(claims, c)
		out = append(out, analytics.DeniedWindow{Source: c.source, Start: fromMicros(c.start), Suppressed: c.n - reported})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, c := range claims {
		if _, err := tx.ExecContext(ctx, `UPDATE audit_denials SET reported = ? WHERE source = ? AND window_start = ?`, c.n, c.source, c.start); err != nil {
			return nil, fmt.Errorf("claim suppressed denials: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_denials WHERE window_start < ? AND n <= max(reported, ?)`,
		micros(before.Add(-24*time.Hour)), keep); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// AddAskSpend adds to an admin's Ask spend of a day.
func (s *Store) AddAskSpend(ctx context.Context, adminID int64, day analytics.Day, cost analytics.Micros) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO ask_spend (admin_id, day, cost) VALUES (?, ?, ?)
		ON CONFLICT (admin_id, day) DO UPDATE SET cost = cost + excluded.cost`, adminID, int64(day), int64(cost))
	return err
}

// AskSpend is an admin's Ask spend of a day.
func (s *Store) AskSpend(ctx context.Context, adminID int64, day analytics.Day) (analytics.Micros, error) {
	var cost int64
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(sum(cost), 0) FROM ask_spend WHERE admin_id = ? AND day = ?`, adminID, int64(day)).Scan(&cost)
	return analytics.Micros(cost), err
}
