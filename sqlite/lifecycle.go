package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	analytics "github.com/codestory/analytics"
)

var _ analytics.LifecycleStore = (*Store)(nil)

func optMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// touch records a credential's use, at most once per LastUseGranularity.
func (s *Store) touch(ctx context.Context, table string, id int64, last *time.Time, now time.Time) error {
	if last != nil && now.Sub(*last) < analytics.LastUseGranularity {
		return nil
	}
	_, err := s.write.ExecContext(ctx, `UPDATE `+table+` SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		micros(now), id, micros(now.Add(-analytics.LastUseGranularity)))
	if err != nil {
		return fmt.Errorf("record last use: %w", err)
	}
	return nil
}

// CreateTokenExpiring stores a new API token's hash with an expiry (zero: never).
func (s *Store) CreateTokenExpiring(ctx context.Context, adminID int64, name string, hash []byte, expires time.Time) (analytics.APIToken, error) {
	a, err := s.AdminByID(ctx, adminID)
	if err != nil {
		return analytics.APIToken{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	res, err := s.write.ExecContext(ctx, `INSERT INTO api_tokens (admin_id, name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		adminID, name, hash, micros(now), nullMicros(expires))
	if err != nil {
		return analytics.APIToken{}, err
	}
	id, _ := res.LastInsertId()
	t := analytics.APIToken{ID: id, AdminID: adminID, AdminEmail: a.Email, Name: name, CreatedAt: now}
	if !expires.IsZero() {
		e := expires.UTC().Truncate(time.Microsecond)
		t.ExpiresAt = &e
	}
	return t, nil
}

const keyCols = `id, name, created_at, revoked_at, expires_at, last_used_at`

func scanKey(sc scanner) (analytics.IngestKey, error) {
	var k analytics.IngestKey
	var created int64
	var revoked, expires, used sql.NullInt64
	err := sc.Scan(&k.ID, &k.Name, &created, &revoked, &expires, &used)
	k.CreatedAt = fromMicros(created)
	k.RevokedAt, k.ExpiresAt, k.LastUsedAt = optMicros(revoked), optMicros(expires), optMicros(used)
	return k, err
}

// CreateIngestKeyExpiring stores a new ingest key's hash with an expiry (zero: never).
func (s *Store) CreateIngestKeyExpiring(ctx context.Context, name string, hash []byte, expires time.Time) (analytics.IngestKey, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	res, err := s.write.ExecContext(ctx, `INSERT INTO ingest_keys (name, hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		name, hash, micros(now), nullMicros(expires))
	if err != nil {
		return analytics.IngestKey{}, err
	}
	id, err := res.LastInsertId()
	k := analytics.IngestKey{ID: id, Name: name, CreatedAt: now}
	if !expires.IsZero() {
		e := expires.UTC().Truncate(time.Microsecond)
		k.ExpiresAt = &e
	}
	return k, err
}

// ListIngestKeys lists every ingest key by id.
func (s *Store) ListIngestKeys(ctx context.Context) ([]analytics.IngestKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+keyCols+` FROM ingest_keys ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []analytics.IngestKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeIngestKey revokes a live ingest key.
func (s *Store) RevokeIngestKey(ctx context.Context, id int64) (analytics.IngestKey, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE ingest_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(s.now()), id)
	if err != nil {
		return analytics.IngestKey{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return analytics.IngestKey{}, analytics.Errorf(analytics.KindNotFound, "no live ingest key with id %d", id)
	}
	return scanKey(s.read.QueryRowContext(ctx, `SELECT `+keyCols+` FROM ingest_keys WHERE id = ?`, id))
}

// lastOwnerCheck refuses a change that takes owner rights from a, when a is
// the last enabled owner. It runs inside the write transaction, which
// SQLite's single writer makes atomic with the change.
func lastOwnerCheck(ctx context.Context, tx *sql.Tx, a analytics.Admin, what string) error {
	if a.Role != analytics.RoleOwner || a.DisabledAt != nil {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins WHERE role = 'owner' AND disabled_at IS NULL`).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return analytics.Errorf(analytics.KindConflict, "%s is the last enabled owner and cannot be %s: make another admin owner first", a.Email, what)
	}
	return nil
}

// adminTx runs fn on the admin with id inside a write transaction and
// returns the admin as it is afterwards.
func (s *Store) adminTx(ctx context.Context, id int64, fn func(tx *sql.Tx, a analytics.Admin) error) (analytics.Admin, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return analytics.Admin{}, err
	}
	defer tx.Rollback()
	a, err := scanAdmin(tx.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, analytics.Errorf(analytics.KindNotFound, "no admin with id %d", id)
	}
	if err != nil {
		return a, err
	}
	if err := fn(tx, a); err != nil {
		return a, err
	}
	after, err := scanAdmin(tx.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		after, err = a, nil // deleted
	}
	if err != nil {
		return a, err
	}
	return after, tx.Commit()
}

// stmt is one statement of a transaction with its arguments.
type stmt struct {
	q    string
	args []any
}

func execAll(ctx context.Context, tx *sql.Tx, stmts ...stmt) error {
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// UpdateAdmin changes an admin's role and/or disabled state.
func (s *Store) UpdateAdmin(ctx context.Context, id int64, ch analytics.AdminChange) (analytics.Admin, error) {
	now := micros(s.now())
	return s.adminTx(ctx, id, func(tx *sql.Tx, a analytics.Admin) error {
		if ch.Role != nil && *ch.Role != analytics.RoleOwner {
			if err := lastOwnerCheck(ctx, tx, a, "demoted"); err != nil {
				return err
			}
		}
		if ch.Disabled != nil && *ch.Disabled {
			if err := lastOwnerCheck(ctx, tx, a, "disabled"); err != nil {
				return err
			}
		}
		if ch.Role != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE admins SET role = ? WHERE id = ?`, string(*ch.Role), id); err != nil {
				return err
			}
		}
		switch {
		case ch.Disabled != nil && *ch.Disabled && a.DisabledAt == nil:
			return execAll(ctx, tx, stmt{`UPDATE admins SET disabled_at = ? WHERE id = ?`, []any{now, id}},
				stmt{`DELETE FROM sessions WHERE admin_id = ?`, []any{id}})
		case ch.Disabled != nil && !*ch.Disabled:
			_, err := tx.ExecContext(ctx, `UPDATE admins SET disabled_at = NULL WHERE id = ?`, id)
			return err
		}
		return nil
	})
}

// DeleteAdmin removes an admin with their sessions, tokens and device cookies.
func (s *Store) DeleteAdmin(ctx context.Context, id int64) (analytics.Admin, error) {
	return s.adminTx(ctx, id, func(tx *sql.Tx, a analytics.Admin) error {
		if err := lastOwnerCheck(ctx, tx, a, "deleted"); err != nil {
			return err
		}
		return execAll(ctx, tx, stmt{`DELETE FROM devices WHERE admin_id = ?`, []any{id}}, stmt{`DELETE FROM sessions WHERE admin_id = ?`, []any{id}},
			stmt{`DELETE FROM api_tokens WHERE admin_id = ?`, []any{id}}, stmt{`DELETE FROM admins WHERE id = ?`, []any{id}})
	})
}

// SetPassword replaces an admin's password and revokes their sessions,
// tokens and device cookies.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) (analytics.Admin, error) {
	now := micros(s.now())
	return s.adminTx(ctx, id, func(tx *sql.Tx, a analytics.Admin) error {
		return execAll(ctx, tx, stmt{`UPDATE admins SET password_hash = ? WHERE id = ?`, []any{hash, id}},
			stmt{`DELETE FROM sessions WHERE admin_id = ?`, []any{id}}, stmt{`DELETE FROM devices WHERE admin_id = ?`, []any{id}},
			stmt{`UPDATE api_tokens SET revoked_at = ? WHERE admin_id = ? AND revoked_at IS NULL`, []any{now, id}})
	})
}

// RecordLogin notes a successful password login.
func (s *Store) RecordLogin(ctx context.Context, id int64, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE admins SET last_login_at = ? WHERE id = ?`, micros(at), id)
	return err
}

// CheckCredential fails when c no longer works.
func (s *Store) CheckCredential(ctx context.Context, c analytics.Credential) error {
	now := micros(s.now())
	var revoked, expires, disabled sql.NullInt64
	switch {
	case c.IngestKeyID != 0:
		err := s.read.QueryRowContext(ctx, `SELECT revoked_at, expires_at FROM ingest_keys WHERE id = ?`, c.IngestKeyID).Scan(&revoked, &expires)
		return credentialState(err, "ingest key", revoked, expires, disabled, now)
	case c.TokenID != 0:
		err := s.read.QueryRowContext(ctx, `SELECT t.revoked_at, t.expires_at, a.disabled_at FROM api_tokens t JOIN admins a ON a.id = t.admin_id
			WHERE t.id = ? AND t.admin_id = ?`, c.TokenID, c.AdminID).Scan(&revoked, &expires, &disabled)
		return credentialState(err, "token", revoked, expires, disabled, now)
	case c.AdminID != 0:
		err := s.read.QueryRowContext(ctx, `SELECT disabled_at FROM admins WHERE id = ?`, c.AdminID).Scan(&disabled)
		return credentialState(err, "admin account", revoked, expires, disabled, now)
	}
	return analytics.Errorf(analytics.KindUnauthenticated, "no credential")
}

func credentialState(err error, what string, revoked, expires, disabled sql.NullInt64, now int64) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return analytics.Errorf(analytics.KindUnauthenticated, "this %s no longer exists", what)
	case err != nil:
		return err
	case disabled.Valid:
		return analytics.Errorf(analytics.KindUnauthenticated, "this admin account is disabled")
	case revoked.Valid:
		return analytics.Errorf(analytics.KindUnauthenticated, "this %s has been revoked", what)
	case expires.Valid && expires.Int64 <= now:
		return analytics.Errorf(analytics.KindUnauthenticated, "this %s has expired", what)
	}
	return nil
}

// CreateDevice stores a device cookie's hash.
func (s *Store) CreateDevice(ctx context.Context, hash []byte, adminID int64, created, expires time.Time) error {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO devices (hash, admin_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hash, adminID, micros(created), micros(expires)); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, `DELETE FROM devices WHERE expires_at < ?`, micros(created))
	return err
}

// DeviceAdmin returns the admin a live device cookie belongs to.
func (s *Store) DeviceAdmin(ctx context.Context, hash []byte, now time.Time) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT d.admin_id FROM devices d JOIN admins a ON a.id = d.admin_id
		WHERE d.hash = ? AND d.expires_at > ? AND a.disabled_at IS NULL`, hash, micros(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, analytics.Errorf(analytics.KindNotFound, "unknown device")
	}
	return id, err
}

// whyRefused explains why a credential hash did not resolve: unknown, or
// known but revoked, expired or of a disabled admin.
func (s *Store) whyRefused(ctx context.Context, what string, hash []byte) error {
	var revoked, expires, disabled sql.NullInt64
	var err error
	if what == "token" {
		err = s.read.QueryRowContext(ctx, `SELECT t.revoked_at, t.expires_at, a.disabled_at FROM api_tokens t JOIN admins a ON a.id = t.admin_id
			WHERE t.hash = ?`, hash).Scan(&revoked, &expires, &disabled)
	} else {
		err = s.read.QueryRowContext(ctx, `SELECT revoked_at, expires_at FROM ingest_keys WHERE hash = ?`, hash).Scan(&revoked, &expires)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Errorf(analytics.KindUnauthenticated, "invalid or revoked %s", what)
	}
	if err := credentialState(err, what, revoked, expires, disabled, micros(s.now())); err != nil {
		return err
	}
	return analytics.Errorf(analytics.KindUnauthenticated, "invalid or revoked %s", what)
}
