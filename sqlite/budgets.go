package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

var _ analytics.BudgetStore = (*Store)(nil)

func ts(t time.Time) int64 { return t.UTC().UnixMicro() }

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// CreateBudget stores a budget and its webhooks.
func (s *Store) CreateBudget(ctx context.Context, b *analytics.Budget) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	th, _ := json.Marshal(b.Thresholds)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO budgets (name, scope, scope_value, period, amount, thresholds, notify_anomalies, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		b.Name, string(b.Scope), b.ScopeValue, string(b.Period), int64(b.Amount), string(th), b.NotifyAnomalies, ts(now), ts(now)).Scan(&b.ID)
	if err != nil {
		return fmt.Errorf("insert budget: %w", err)
	}
	if err := insertHooks(ctx, tx, b); err != nil {
		return err
	}
	b.CreatedAt, b.UpdatedAt = now, now
	return tx.Commit()
}

func insertHooks(ctx context.Context, tx *sql.Tx, b *analytics.Budget) error {
	for i := range b.Webhooks {
		w := &b.Webhooks[i]
		if err := tx.QueryRowContext(ctx, `INSERT INTO budget_webhooks (budget_id, url, format, secret) VALUES (?, ?, ?, ?) RETURNING id`,
			b.ID, w.URL, w.Format, w.Secret).Scan(&w.ID); err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
	}
	return nil
}

// Budgets lists every budget with its webhooks, by id.
func (s *Store) Budgets(ctx context.Context) ([]analytics.Budget, error) {
	return s.budgetsWhere(ctx, "", nil)
}

// Budget returns one budget.
func (s *Store) Budget(ctx context.Context, id int64) (analytics.Budget, error) {
	bs, err := s.budgetsWhere(ctx, "WHERE id = ?", []any{id})
	if err != nil {
		return analytics.Budget{}, err
	}
	if len(bs) == 0 {
		return analytics.Budget{}, analytics.Errorf(analytics.KindNotFound, "no budget with id %d", id)
	}
	return bs[0], nil
}

func (s *Store) budgetsWhere(ctx context.Context, where string, args []any) ([]analytics.Budget, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, scope, scope_value, period, amount, thresholds, notify_anomalies, created_at, updated_at
		FROM budgets `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Budget
	byID := map[int64]int{}
	for rows.Next() {
		var b analytics.Budget
		var scope, period, th string
		var amount, created, updated int64
		if err := rows.Scan(&b.ID, &b.Name, &scope, &b.ScopeValue, &period, &amount, &th, &b.NotifyAnomalies, &created, &updated); err != nil {
			return nil, err
		}
		b.Scope, b.Period, b.Amount = analytics.BudgetScope(scope), analytics.BudgetPeriod(period), analytics.Micros(amount)
		b.AmountDollars = analytics.FormatDollars(b.Amount)
		b.CreatedAt, b.UpdatedAt = fromMicros(created), fromMicros(updated)
		if err := json.Unmarshal([]byte(th), &b.Thresholds); err != nil {
			return nil, fmt.Errorf("budget %d thresholds: %w", b.ID, err)
		}
		b.Webhooks = []analytics.Webhook{}
		byID[b.ID] = len(out)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	hooks, err := s.read.QueryContext(ctx, `SELECT id, budget_id, url, format, secret FROM budget_webhooks ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer hooks.Close()
	for hooks.Next() {
		var w analytics.Webhook
		var bid int64
		if err := hooks.Scan(&w.ID, &bid, &w.URL, &w.Format, &w.Secret); err != nil {
			return nil, err
		}
		if i, ok := byID[bid]; ok {
			out[i].Webhooks = append(out[i].Webhooks, w)
		}
	}
	return out, hooks.Err()
}

// UpdateBudget stores a budget's changed fields (and webhooks).
func (s *Store) UpdateBudget(ctx context.Context, b *analytics.Budget, replaceHooks bool) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	th, _ := json.Marshal(b.Thresholds)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE budgets SET name = ?, amount = ?, thresholds = ?, notify_anomalies = ?, updated_at = ? WHERE id = ?`,
		b.Name, int64(b.Amount), string(th), b.NotifyAnomalies, ts(now), b.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return analytics.Errorf(analytics.KindNotFound, "no budget with id %d", b.ID)
	}
	if replaceHooks {
		if _, err := tx.ExecContext(ctx, `DELETE FROM budget_webhooks WHERE budget_id = ?`, b.ID); err != nil {
			return err
		}
		if err := insertHooks(ctx, tx, b); err != nil {
			return err
		}
	}
	b.UpdatedAt = now
	return tx.Commit()
}

// DeleteBudget removes a budget and its webhooks; its alerts stay.
func (s *Store) DeleteBudget(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM budgets WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return analytics.Errorf(analytics.KindNotFound, "no budget with id %d", id)
	}
	return nil
}

// UserDaily reads a user's days from user_activity (primary key order).
func (s *Store) UserDaily(ctx context.Context, userID string, r analytics.Range) ([]analytics.DayCost, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, cost FROM user_activity WHERE user_id = ? AND day BETWEEN ? AND ? ORDER BY day`,
		userID, int64(r.Start), int64(r.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.DayCost
	for rows.Next() {
		var d analytics.DayCost
		if err := rows.Scan(&d.Day, &d.Cost); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UsersAtOrOver uses user_month (month, cost, user_id) for months, and the
// day's user_activity rows for days.
func (s *Store) UsersAtOrOver(ctx context.Context, period analytics.BudgetPeriod, start analytics.Day, min analytics.Micros) ([]analytics.UserSpend, error) {
	q, key := `SELECT user_id, cost FROM user_month WHERE month = ? AND cost >= ?`, int64(analytics.MonthIndex(start))
	if period == analytics.BudgetPeriodDay {
		q, key = `SELECT user_id, cost FROM user_activity WHERE day = ? AND cost >= ?`, int64(start)
	}
	rows, err := s.read.QueryContext(ctx, q, key, int64(min))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.UserSpend
	for rows.Next() {
		var u analytics.UserSpend
		if err := rows.Scan(&u.UserID, &u.Cost); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserSpendNow reads the user's month and day rows by primary key.
func (s *Store) UserSpendNow(ctx context.Context, userID string, month int, day analytics.Day) (analytics.Micros, analytics.Micros, error) {
	var m, d int64
	err := s.read.QueryRowContext(ctx, userSpendSQL, userID, month, userID, int64(day)).Scan(&m, &d)
	return analytics.Micros(m), analytics.Micros(d), err
}

const userSpendSQL = `SELECT
	COALESCE((SELECT cost FROM user_month WHERE user_id = ? AND month = ?), 0),
	COALESCE((SELECT cost FROM user_activity WHERE user_id = ? AND day = ?), 0)`

// FireAlert inserts the alert and its outbox messages in one transaction,
// or nothing when the key exists.
func (s *Store) FireAlert(ctx context.Context, a *analytics.Alert, msgs []analytics.Delivery) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `INSERT INTO alerts (dedup_key, type, budget_id, budget_name, user_id, service, period_start, period_end, threshold, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
		a.Key, a.Type, a.BudgetID, a.BudgetName, a.UserID, a.Service, int64(a.PeriodStart), int64(a.PeriodEnd), a.Threshold, string(a.Body), ts(a.CreatedAt)).Scan(&a.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert alert: %w", err)
	}
	for i := range msgs {
		m := &msgs[i]
		if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_outbox (alert_id, message_id, url, format, secret, body, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.ID, m.MessageID, m.URL, m.Format, m.Secret, string(m.Body), ts(*m.NextAttemptAt), ts(m.CreatedAt)).Scan(&m.ID); err != nil {
			return false, fmt.Errorf("insert outbox message: %w", err)
		}
	}
	return true, tx.Commit()
}

// ClaimDeliveries leases due messages with claimed_until (one writer at a
// time in SQLite, so the claim is atomic).
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]analytics.Delivery, error) {
	// Look first on a reader: an idle outbox must not take the single
	// writer (which ingest needs) every poll.
	var due bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= ?
		AND (claimed_until IS NULL OR claimed_until < ?))`, ts(now), ts(now)).Scan(&due); err != nil || !due {
		return nil, err
	}
	rows, err := s.write.QueryContext(ctx, `UPDATE webhook_outbox SET claimed_until = ?
		WHERE id IN (SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= ?
			AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING id, message_id, url, format, secret, body, attempts, created_at`,
		ts(now.Add(lease)), ts(now), ts(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Delivery
	for rows.Next() {
		var d analytics.Delivery
		var body string
		var created int64
		if err := rows.Scan(&d.ID, &d.MessageID, &d.URL, &d.Format, &d.Secret, &body, &d.Attempts, &created); err != nil {
			return nil, err
		}
		d.Body, d.CreatedAt, d.State = []byte(body), fromMicros(created), analytics.DeliveryPending
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishAttempt records an attempt and moves the message on.
func (s *Store) FinishAttempt(ctx context.Context, id int64, a analytics.Attempt, state string, next *time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `UPDATE webhook_outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, id).Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (outbox_id, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`,
		id, n, ts(a.At), a.StatusCode, a.Error, a.DurationMS); err != nil {
		return err
	}
	var nextAt, delivered any
	if next != nil {
		nextAt = ts(*next)
	}
	if state == analytics.DeliveryDelivered {
		delivered = ts(a.At)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_outbox SET state = ?, next_attempt_at = ?, claimed_until = NULL, delivered_at = ?, last_error = ? WHERE id = ?`,
		state, nextAt, delivered, a.Error, id); err != nil {
		return err
	}
	return tx.Commit()
}

// Alerts lists alerts newest first with their messages and attempts.
func (s *Store) Alerts(ctx context.Context, budgetID int64, limit int) ([]analytics.Alert, error) {
	where, args := "", []any{}
	if budgetID != 0 {
		where, args = "WHERE budget_id = ?", append(args, budgetID)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, dedup_key, type, budget_id, budget_name, user_id, service, period_start, period_end, threshold, body, created_at
		FROM alerts `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Alert
	idx := map[int64]int{}
	for rows.Next() {
		var a analytics.Alert
		var body string
		var created int64
		if err := rows.Scan(&a.ID, &a.Key, &a.Type, &a.BudgetID, &a.BudgetName, &a.UserID, &a.Service, &a.PeriodStart, &a.PeriodEnd, &a.Threshold, &body, &created); err != nil {
			return nil, err
		}
		a.Body, a.CreatedAt, a.Deliveries = json.RawMessage(body), fromMicros(created), []analytics.Delivery{}
		idx[a.ID] = len(out)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]string, 0, len(out))
	for _, a := range out {
		ids = append(ids, fmt.Sprint(a.ID))
	}
	in := strings.Join(ids, ",")
	ms, err := s.read.QueryContext(ctx, `SELECT id, alert_id, message_id, url, format, state, attempts, next_attempt_at, delivered_at, last_error
		FROM webhook_outbox WHERE alert_id IN (`+in+`) ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	where2 := map[int64][2]int{}
	for ms.Next() {
		var d analytics.Delivery
		var aid int64
		var next, delivered sql.NullInt64
		if err := ms.Scan(&d.ID, &aid, &d.MessageID, &d.URL, &d.Format, &d.State, &d.Attempts, &next, &delivered, &d.LastError); err != nil {
			return nil, err
		}
		d.NextAttemptAt, d.DeliveredAt, d.AttemptLog = optTime(next), optTime(delivered), []analytics.Attempt{}
		i := idx[aid]
		where2[d.ID] = [2]int{i, len(out[i].Deliveries)}
		out[i].Deliveries = append(out[i].Deliveries, d)
	}
	if err := ms.Err(); err != nil {
		return nil, err
	}
	at, err := s.read.QueryContext(ctx, `SELECT outbox_id, at, status_code, error, duration_ms FROM webhook_attempts
		WHERE outbox_id IN (SELECT id FROM webhook_outbox WHERE alert_id IN (`+in+`)) ORDER BY outbox_id, attempt`)
	if err != nil {
		return nil, err
	}
	defer at.Close()
	for at.Next() {
		var a analytics.Attempt
		var oid, when int64
		if err := at.Scan(&oid, &when, &a.StatusCode, &a.Error, &a.DurationMS); err != nil {
			return nil, err
		}
		a.At = fromMicros(when)
		if p, ok := where2[oid]; ok {
			d := &out[p[0]].Deliveries[p[1]]
			d.AttemptLog = append(d.AttemptLog, a)
		}
	}
	return out, at.Err()
}

// AlertKeys lists the keys of alerts with period_start >= since.
func (s *Store) AlertKeys(ctx context.Context, since analytics.Day) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT dedup_key FROM alerts WHERE period_start >= ?`, int64(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
