package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

var _ analytics.BudgetStore = (*Store)(nil)

// CreateBudget stores a budget and its webhooks.
func (s *Store) CreateBudget(ctx context.Context, b *analytics.Budget) error {
	now := usec(s.now())
	th, _ := json.Marshal(b.Thresholds)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO budgets (name, scope, scope_value, period, amount, thresholds, notify_anomalies, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			b.Name, string(b.Scope), b.ScopeValue, string(b.Period), int64(b.Amount), string(th), b.NotifyAnomalies, now).Scan(&b.ID); err != nil {
			return fmt.Errorf("insert budget: %w", err)
		}
		b.CreatedAt, b.UpdatedAt = now, now
		return insertHooks(ctx, tx, b)
	})
}

func insertHooks(ctx context.Context, tx pgx.Tx, b *analytics.Budget) error {
	for i := range b.Webhooks {
		w := &b.Webhooks[i]
		if err := tx.QueryRow(ctx, `INSERT INTO budget_webhooks (budget_id, url, format, secret) VALUES ($1, $2, $3, $4) RETURNING id`,
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
	bs, err := s.budgetsWhere(ctx, "WHERE id = $1", []any{id})
	if err != nil {
		return analytics.Budget{}, err
	}
	if len(bs) == 0 {
		return analytics.Budget{}, analytics.Errorf(analytics.KindNotFound, "no budget with id %d", id)
	}
	return bs[0], nil
}

func (s *Store) budgetsWhere(ctx context.Context, where string, args []any) ([]analytics.Budget, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, scope, scope_value, period, amount, thresholds::text, notify_anomalies, created_at, updated_at
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
		var amount int64
		if err := rows.Scan(&b.ID, &b.Name, &scope, &b.ScopeValue, &period, &amount, &th, &b.NotifyAnomalies, &b.CreatedAt, &b.UpdatedAt); err != nil {
			return nil, err
		}
		b.Scope, b.Period, b.Amount = analytics.BudgetScope(scope), analytics.BudgetPeriod(period), analytics.Micros(amount)
		b.AmountDollars = analytics.FormatDollars(b.Amount)
		b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
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
	hooks, err := s.pool.Query(ctx, `SELECT id, budget_id, url, format, secret FROM budget_webhooks ORDER BY id`)
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
	now := usec(s.now())
	th, _ := json.Marshal(b.Thresholds)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE budgets SET name = $1, amount = $2, thresholds = $3, notify_anomalies = $4, updated_at = $5 WHERE id = $6`,
			b.Name, int64(b.Amount), string(th), b.NotifyAnomalies, now, b.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return analytics.Errorf(analytics.KindNotFound, "no budget with id %d", b.ID)
		}
		b.UpdatedAt = now
		if !replaceHooks {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM budget_webhooks WHERE budget_id = $1`, b.ID); err != nil {
			return err
		}
		return insertHooks(ctx, tx, b)
	})
}

// DeleteBudget removes a budget and its webhooks; its alerts stay.
func (s *Store) DeleteBudget(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM budgets WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return analytics.Errorf(analytics.KindNotFound, "no budget with id %d", id)
	}
	return nil
}

// UserDaily reads a user's days from user_activity (primary key order).
func (s *Store) UserDaily(ctx context.Context, userID string, r analytics.Range) ([]analytics.DayCost, error) {
	rows, err := s.pool.Query(ctx, `SELECT day, cost FROM user_activity WHERE user_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day`,
		userID, int32(r.Start), int32(r.End))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.DayCost
	for rows.Next() {
		var day int32
		var cost int64
		if err := rows.Scan(&day, &cost); err != nil {
			return nil, err
		}
		out = append(out, analytics.DayCost{Day: analytics.Day(day), Cost: analytics.Micros(cost)})
	}
	return out, rows.Err()
}

// UsersAtOrOver uses user_month (month, cost, user_id) for months, and the
// day's user_activity rows for days.
func (s *Store) UsersAtOrOver(ctx context.Context, period analytics.BudgetPeriod, start analytics.Day, min analytics.Micros) ([]analytics.UserSpend, error) {
	q, key := `SELECT user_id, cost FROM user_month WHERE month = $1 AND cost >= $2`, int32(analytics.MonthIndex(start))
	if period == analytics.BudgetPeriodDay {
		q, key = `SELECT user_id, cost FROM user_activity WHERE day = $1 AND cost >= $2`, int32(start)
	}
	rows, err := s.pool.Query(ctx, q, key, int64(min))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.UserSpend
	for rows.Next() {
		var u analytics.UserSpend
		var cost int64
		if err := rows.Scan(&u.UserID, &cost); err != nil {
			return nil, err
		}
		u.Cost = analytics.Micros(cost)
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserSpendNow reads the user's month and day rows by primary key, in one
// statement.
func (s *Store) UserSpendNow(ctx context.Context, userID string, month int, day analytics.Day) (analytics.Micros, analytics.Micros, error) {
	var m, d int64
	err := s.pool.QueryRow(ctx, `SELECT
		COALESCE((SELECT cost FROM user_month WHERE user_id = $1 AND month = $2), 0),
		COALESCE((SELECT cost FROM user_activity WHERE user_id = $1 AND day = $3), 0)`, userID, int32(month), int32(day)).Scan(&m, &d)
	return analytics.Micros(m), analytics.Micros(d), err
}

// FireAlert inserts the alert and its outbox messages in one transaction,
// or nothing when the key exists (another replica made it).
func (s *Store) FireAlert(ctx context.Context, a *analytics.Alert, msgs []analytics.Delivery) (bool, error) {
	inserted := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO alerts (dedup_key, type, budget_id, budget_name, user_id, service, period_start, period_end, threshold, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
			a.Key, a.Type, a.BudgetID, a.BudgetName, a.UserID, a.Service, int32(a.PeriodStart), int32(a.PeriodEnd), a.Threshold, string(a.Body), usec(a.CreatedAt)).Scan(&a.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert alert: %w", err)
		}
		for i := range msgs {
			m := &msgs[i]
			if err := tx.QueryRow(ctx, `INSERT INTO webhook_outbox (alert_id, message_id, url, format, secret, body, next_attempt_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, a.ID, m.MessageID, m.URL, m.Format, m.Secret, string(m.Body), usec(*m.NextAttemptAt), usec(m.CreatedAt)).Scan(&m.ID); err != nil {
				return fmt.Errorf("insert outbox message: %w", err)
			}
		}
		inserted = true
		return nil
	})
	return inserted, err
}

// ClaimDeliveries leases due messages: rows another replica is claiming are
// skipped (FOR UPDATE SKIP LOCKED), and the lease keeps them from being
// claimed again while the attempt runs outside the transaction.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]analytics.Delivery, error) {
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT id FROM webhook_outbox
			WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_outbox o SET claimed_until = $2 FROM due WHERE o.id = due.id
		RETURNING o.id, o.message_id, o.url, o.format, o.secret, o.body, o.attempts, o.created_at`,
		usec(now), usec(now.Add(lease)), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Delivery
	for rows.Next() {
		var d analytics.Delivery
		var body string
		var attempts int32
		if err := rows.Scan(&d.ID, &d.MessageID, &d.URL, &d.Format, &d.Secret, &body, &attempts, &d.CreatedAt); err != nil {
			return nil, err
		}
		d.Body, d.Attempts, d.State = []byte(body), int(attempts), analytics.DeliveryPending
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishAttempt records an attempt and moves the message on.
func (s *Store) FinishAttempt(ctx context.Context, id int64, a analytics.Attempt, state string, next *time.Time) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int32
		if err := tx.QueryRow(ctx, `UPDATE webhook_outbox SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts`, id).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (outbox_id, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, n, usec(a.At), a.StatusCode, a.Error, a.DurationMS); err != nil {
			return err
		}
		var nextAt, delivered *time.Time
		if next != nil {
			t := usec(*next)
			nextAt = &t
		}
		if state == analytics.DeliveryDelivered {
			t := usec(a.At)
			delivered = &t
		}
		_, err := tx.Exec(ctx, `UPDATE webhook_outbox SET state = $1, next_attempt_at = $2, claimed_until = NULL, delivered_at = $3, last_error = $4 WHERE id = $5`,
			state, nextAt, delivered, a.Error, id)
		return err
	})
}

// Alerts lists alerts newest first with their messages and attempts.
func (s *Store) Alerts(ctx context.Context, budgetID int64, limit int) ([]analytics.Alert, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, dedup_key, type, budget_id, budget_name, user_id, service, period_start, period_end, threshold, body, created_at
		FROM alerts WHERE $1 = 0 OR budget_id = $1 ORDER BY id DESC LIMIT $2`, budgetID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Alert
	idx := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var a analytics.Alert
		var body string
		var ps, pe, th int32
		if err := rows.Scan(&a.ID, &a.Key, &a.Type, &a.BudgetID, &a.BudgetName, &a.UserID, &a.Service, &ps, &pe, &th, &body, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.PeriodStart, a.PeriodEnd, a.Threshold = analytics.Day(ps), analytics.Day(pe), int(th)
		a.Body, a.CreatedAt, a.Deliveries = json.RawMessage(body), a.CreatedAt.UTC(), []analytics.Delivery{}
		idx[a.ID] = len(out)
		ids = append(ids, a.ID)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ms, err := s.pool.Query(ctx, `SELECT id, alert_id, message_id, url, format, state, attempts, next_attempt_at, delivered_at, last_error
		FROM webhook_outbox WHERE alert_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	pos := map[int64][2]int{}
	var oids []int64
	for ms.Next() {
		var d analytics.Delivery
		var aid int64
		var attempts int32
		if err := ms.Scan(&d.ID, &aid, &d.MessageID, &d.URL, &d.Format, &d.State, &attempts, &d.NextAttemptAt, &d.DeliveredAt, &d.LastError); err != nil {
			return nil, err
		}
		d.Attempts, d.AttemptLog = int(attempts), []analytics.Attempt{}
		for _, t := range []**time.Time{&d.NextAttemptAt, &d.DeliveredAt} {
			if *t != nil {
				u := (*t).UTC()
				*t = &u
			}
		}
		i := idx[aid]
		pos[d.ID] = [2]int{i, len(out[i].Deliveries)}
		oids = append(oids, d.ID)
		out[i].Deliveries = append(out[i].Deliveries, d)
	}
	if err := ms.Err(); err != nil {
		return nil, err
	}
	at, err := s.pool.Query(ctx, `SELECT outbox_id, at, status_code, error, duration_ms FROM webhook_attempts
		WHERE outbox_id = ANY($1) ORDER BY outbox_id, attempt`, oids)
	if err != nil {
		return nil, err
	}
	defer at.Close()
	for at.Next() {
		var a analytics.Attempt
		var oid int64
		var code int32
		if err := at.Scan(&oid, &a.At, &code, &a.Error, &a.DurationMS); err != nil {
			return nil, err
		}
		a.At, a.StatusCode = a.At.UTC(), int(code)
		if p, ok := pos[oid]; ok {
			d := &out[p[0]].Deliveries[p[1]]
			d.AttemptLog = append(d.AttemptLog, a)
		}
	}
	return out, at.Err()
}

// AlertKeys lists the keys of alerts with period_start >= since.
func (s *Store) AlertKeys(ctx context.Context, since analytics.Day) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT dedup_key FROM alerts WHERE period_start >= $1`, int32(since))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
