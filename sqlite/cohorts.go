package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	analytics "github.com/codestory/analytics"
)

// cohortTracker keeps cohort_days and unsigned_users in step with a batch
// (inside applyDelta's transaction). Users whose first signup may change in
// the batch (a signup arrived or was taken out) are moved whole: their old
// cohort loses everything they contributed before the batch, their new one
// gains everything they contribute after it. Every other user's days add
// their own changes.
type cohortTracker struct {
	d        *analytics.RollupDelta
	moving   map[string]bool
	days     []cohortDay
	firsts   map[string]bool // users whose only active day was added or removed
	delta    analytics.CohortDelta
	signupOf map[string]analytics.Day
}

type cohortDay struct {
	ud    analytics.UserDay
	delta *analytics.UserDayDelta
	nb    neighbours
	sign  int64
}

func beginCohorts(ctx context.Context, t txStmts, d *analytics.RollupDelta) (*cohortTracker, error) {
	co := &cohortTracker{d: d, moving: map[string]bool{}, firsts: map[string]bool{}, delta: analytics.CohortDelta{}}
	for u := range d.Signups {
		co.moving[u] = true
	}
	for u := range d.ResignUsers {
		co.moving[u] = true
	}
	if len(co.moving) == 0 {
		return co, nil
	}
	old, err := signupDays(ctx, t.tx, keys(co.moving))
	if err != nil {
		return nil, err
	}
	for u, day := range old {
		days, err := userDayFigures(ctx, t.tx, u)
		if err != nil {
			return nil, err
		}
		co.delta.AddUser(day, days, -1)
	}
	return co, nil
}

// day records a user-day's change: sign 1 when it became active, −1 when
// it was removed, 0 when it stayed.
func (co *cohortTracker) day(ud analytics.UserDay, delta *analytics.UserDayDelta, nb neighbours, sign int64) {
	if sign != 0 && nb.only() {
		co.firsts[ud.UserID] = true
	}
	if co.moving[ud.UserID] {
		return
	}
	co.days = append(co.days, cohortDay{ud, delta, nb, sign})
}

// finish runs after the user-days and the users table are written.
func (co *cohortTracker) finish(ctx context.Context, t txStmts) error {
	users := map[string]bool{}
	for _, cd := range co.days {
		users[cd.ud.UserID] = true
	}
	for u := range co.moving {
		users[u] = true
	}
	var err error
	if co.signupOf, err = signupDays(ctx, t.tx, keys(users)); err != nil {
		return err
	}
	for _, cd := range co.days {
		if s, ok := co.signupOf[cd.ud.UserID]; ok {
			co.delta.AddDay(s, cd.ud.Day, cd.delta.RevenueCents, cd.delta.Cost, cd.nb.prev, cd.nb.next, cd.nb.hasNext, cd.sign)
		}
	}
	for u := range co.moving {
		if s, ok := co.signupOf[u]; ok {
			days, err := userDayFigures(ctx, t.tx, u)
			if err != nil {
				return err
			}
			co.delta.AddUser(s, days, 1)
		}
	}
	for k, cd := range co.delta {
		if cd.IsZero() {
			continue
		}
		var f, r, c int64
		if err := t.queryRow(ctx, t.st.addCohortDay, string(k.G), k.Cohort, int64(k.Day), cd.Firsts, cd.RevenueCents,
			int64(cd.Cost)).Scan(&f, &r, &c); err != nil {
			return fmt.Errorf("upsert cohort day: %w", err)
		}
		if f == 0 && r == 0 && c == 0 {
			if _, err := t.exec(ctx, t.st.dropCohortDay, string(k.G), k.Cohort, int64(k.Day)); err != nil {
				return fmt.Errorf("drop empty cohort day: %w", err)
			}
		}
	}
	// A user is unsigned while they have active days and no live signup.
	for u := range co.moving {
		co.firsts[u] = true
	}
	for u := range co.firsts {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM unsigned_users WHERE user_id = ?`, u); err != nil {
			return fmt.Errorf("unsigned users: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO unsigned_users (user_id) SELECT ?
			WHERE NOT EXISTS (SELECT 1 FROM users WHERE user_id = ?) AND EXISTS (SELECT 1 FROM user_activity WHERE user_id = ?)`,
			u, u, u); err != nil {
			return fmt.Errorf("unsigned users: %w", err)
		}
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// signupDays reads the signup day of those of users that have a signup.
func signupDays(ctx context.Context, tx *sql.Tx, users []string) (map[string]analytics.Day, error) {
	out := make(map[string]analytics.Day, len(users))
	for len(users) > 0 {
		chunk := users[:min(len(users), 400)]
		users = users[len(chunk):]
		args := make([]any, len(chunk))
		for i, u := range chunk {
			args[i] = u
		}
		rows, err := tx.QueryContext(ctx, `SELECT user_id, signup_day FROM users WHERE user_id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read signup days: %w", err)
		}
		for rows.Next() {
			var u string
			var d int64
			if err := rows.Scan(&u, &d); err != nil {
				rows.Close()
				return nil, err
			}
			out[u] = analytics.Day(d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// userDayFigures reads all of a user's active days.
func userDayFigures(ctx context.Context, tx *sql.Tx, user string) ([]analytics.UserDayFigures, error) {
	rows, err := tx.QueryContext(ctx, `SELECT day, revenue_cents, cost FROM user_activity WHERE user_id = ?`, user)
	if err != nil {
		return nil, fmt.Errorf("read user days: %w", err)
	}
	defer rows.Close()
	var out []analytics.UserDayFigures
	for rows.Next() {
		var f analytics.UserDayFigures
		var d, cost int64
		if err := rows.Scan(&d, &f.RevenueCents, &cost); err != nil {
			return nil, err
		}
		f.Day, f.Cost = analytics.Day(d), analytics.Micros(cost)
		out = append(out, f)
	}
	return out, rows.Err()
}
