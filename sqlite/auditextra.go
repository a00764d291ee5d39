package sqlite

import (
	"context"

	analytics "github.com/codestory/analytics"
)

var _ analytics.AskSpendStore = (*Store)(nil)

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
