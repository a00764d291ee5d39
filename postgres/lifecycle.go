package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

var _ analytics.LifecycleStore = (*Store)(nil)

// lockAdmins serializes changes that could leave no enabled owner, across
// replicas.
const lockAdmins int32 = 11

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := usec(t)
	return &u
}

// touch records a credential's use, at most once per LastUseGranularity.
func (s *Store) touch(ctx context.Context, table string, id int64, last *time.Time, now time.Time) error {
	if last != nil && now.Sub(*last) < analytics.LastUseGranularity {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE `+table+` SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`,
		now, id, now.Add(-analytics.LastUseGranularity))
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
	t := analytics.APIToken{AdminID: adminID, AdminEmail: a.Email, Name: name, CreatedAt: usec(s.now()), ExpiresAt: nullTime(expires)}
	err = s.pool.QueryRow(ctx, `INSERT INTO api_tokens (admin_id, name, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		adminID, name, hash, t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	return t, err
}

const keyCols = `id, name, created_at, revoked_at, expires_at, last_used_at`

func scanKey(row pgx.Row) (analytics.IngestKey, error) {
	var k analytics.IngestKey
	err := row.Scan(&k.ID, &k.Name, &k.CreatedAt, &k.RevokedAt, &k.ExpiresAt, &k.LastUsedAt)
	k.CreatedAt = k.CreatedAt.UTC()
	k.RevokedAt, k.ExpiresAt, k.LastUsedAt = utcPtr(k.RevokedAt), utcPtr(k.ExpiresAt), utcPtr(k.LastUsedAt)
	return k, err
}

// CreateIngestKeyExpiring stores a new ingest key's hash with an expiry (zero: never).
func (s *Store) CreateIngestKeyExpiring(ctx context.Context, name string, hash []byte, expires time.Time) (analytics.IngestKey, error) {
	k := analytics.IngestKey{Name: name, CreatedAt: usec(s.now()), ExpiresAt: nullTime(expires)}
	err := s.pool.QueryRow(ctx, `INSERT INTO ingest_keys (name, hash, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		name, hash, k.CreatedAt, k.ExpiresAt).Scan(&k.ID)
	return k, err
}

// ListIngestKeys lists every ingest key by id.
func (s *Store) ListIngestKeys(ctx context.Context) ([]analytics.IngestKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyCols+` FROM ingest_keys ORDER BY id`)
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
	k, err := scanKey(s.pool.QueryRow(ctx, `UPDATE ingest_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING `+keyCols,
		usec(s.now()), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, analytics.Errorf(analytics.KindNotFound, "no live ingest key with id %d", id)
	}
	return k, err
}

// lastOwnerCheck refuses a change that takes owner rights from a, when a is
// the last enabled owner; the caller holds lockAdmins.
func lastOwnerCheck(ctx context.Context, tx pgx.Tx, a analytics.Admin, what string) error {
	if a.Role != analytics.RoleOwner || a.DisabledAt != nil {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM admins WHERE role = 'owner' AND disabled_at IS NULL`).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return analytics.Errorf(analytics.KindConflict, "%s is the last enabled owner and cannot be %s: make another admin owner first", a.Email, what)
	}
	return nil
}

// adminTx runs fn on the admin with id inside a transaction holding
// lockAdmins and returns the admin as it is afterwards.
func (s *Store) adminTx(ctx context.Context, id int64, fn func(tx pgx.Tx, a analytics.Admin) error) (analytics.Admin, error) {
	var after analytics.Admin
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockNamespace, lockAdmins); err != nil {
			return err
		}
		a, err := scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins a WHERE a.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return analytics.Errorf(analytics.KindNotFound, "no admin with id %d", id)
		}
		if err != nil {
			return err
		}
		if err := fn(tx, a); err != nil {
			return err
		}
		after, err = scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins a WHERE a.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			after, err = a, nil // deleted
		}
		return err
	})
	return after, err
}

func execAll(ctx context.Context, tx pgx.Tx, stmts ...[]any) error {
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st[0].(string), st[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// UpdateAdmin changes an admin's role and/or disabled state.
func (s *Store) UpdateAdmin(ctx context.Context, id int64, ch analytics.AdminChange) (analytics.Admin, error) {
	now := usec(s.now())
	return s.adminTx(ctx, id, func(tx pgx.Tx, a analytics.Admin) error {
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
			if _, err := tx.Exec(ctx, `UPDATE admins SET role = $1 WHERE id = $2`, string(*ch.Role), id); err != nil {
				return err
			}
		}
		switch {
		case ch.Disabled != nil && *ch.Disabled && a.DisabledAt == nil:
			return execAll(ctx, tx, []any{`UPDATE admins SET disabled_at = $1 WHERE id = $2`, now, id},
				[]any{`DELETE FROM sessions WHERE admin_id = $1`, id})
		case ch.Disabled != nil && !*ch.Disabled:
			_, err := tx.Exec(ctx, `UPDATE admins SET disabled_at = NULL WHERE id = $1`, id)
			return err
		}
		return nil
	})
}

// DeleteAdmin removes an admin with their sessions, tokens and device cookies.
func (s *Store) DeleteAdmin(ctx context.Context, id int64) (analytics.Admin, error) {
	return s.adminTx(ctx, id, func(tx pgx.Tx, a analytics.Admin) error {
		if err := lastOwnerCheck(ctx, tx, a, "deleted"); err != nil {
			return err
		}
		return execAll(ctx, tx, []any{`DELETE FROM devices WHERE admin_id = $1`, id}, []any{`DELETE FROM sessions WHERE admin_id = $1`, id},
			[]any{`DELETE FROM api_tokens WHERE admin_id = $1`, id}, []any{`DELETE FROM admins WHERE id = $1`, id})
	})
}

// SetPassword replaces an admin's password and revokes their sessions,
// tokens and device cookies.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) (analytics.Admin, error) {
	now := usec(s.now())
	return s.adminTx(ctx, id, func(tx pgx.Tx, a analytics.Admin) error {
		return execAll(ctx, tx, []any{`UPDATE admins SET password_hash = $1 WHERE id = $2`, hash, id},
			[]any{`DELETE FROM sessions WHERE admin_id = $1`, id}, []any{`DELETE FROM devices WHERE admin_id = $1`, id},
			[]any{`UPDATE api_tokens SET revoked_at = $1 WHERE admin_id = $2 AND revoked_at IS NULL`, now, id})
	})
}

// RecordLogin notes a successful password login.
func (s *Store) RecordLogin(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE admins SET last_login_at = $1 WHERE id = $2`, usec(at), id)
	return err
}

// CheckCredential fails when c no longer works.
func (s *Store) CheckCredential(ctx context.Context, c analytics.Credential) error {
	now := s.now()
	var revoked, expires, disabled *time.Time
	switch {
	case c.IngestKeyID != 0:
		err := s.pool.QueryRow(ctx, `SELECT revoked_at, expires_at FROM ingest_keys WHERE id = $1`, c.IngestKeyID).Scan(&revoked, &expires)
		return credentialState(err, "ingest key", revoked, expires, disabled, now)
	case c.TokenID != 0:
		err := s.pool.QueryRow(ctx, `SELECT t.revoked_at, t.expires_at, a.disabled_at FROM api_tokens t JOIN admins a ON a.id = t.admin_id
			WHERE t.id = $1 AND t.admin_id = $2`, c.TokenID, c.AdminID).Scan(&revoked, &expires, &disabled)
		return credentialState(err, "token", revoked, expires, disabled, now)
	case c.AdminID != 0:
		err := s.pool.QueryRow(ctx, `SELECT disabled_at FROM admins WHERE id = $1`, c.AdminID).Scan(&disabled)
		return credentialState(err, "admin account", revoked, expires, disabled, now)
	}
	return analytics.Errorf(analytics.KindUnauthenticated, "no credential")
}

func credentialState(err error, what string, revoked, expires, disabled *time.Time, now time.Time) error {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return analytics.Errorf(analytics.KindUnauthenticated, "this %s no longer exists", what)
	case err != nil:
		return err
	case disabled != nil:
		return analytics.Errorf(analytics.KindUnauthenticated, "this admin account is disabled")
	case revoked != nil:
		return analytics.Errorf(analytics.KindUnauthenticated, "this %s has been revoked", what)
	case expires != nil && !expires.After(now):
		return analytics.Errorf(analytics.KindUnauthenticated, "this %s has expired", what)
	}
	return nil
}

// CreateDevice stores a device cookie's hash.
func (s *Store) CreateDevice(ctx context.Context, hash []byte, adminID int64, created, expires time.Time) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO devices (hash, admin_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hash, adminID, usec(created), usec(expires)); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM devices WHERE expires_at < $1`, usec(created))
	return err
}

// DeviceAdmin returns the admin a live device cookie belongs to.
func (s *Store) DeviceAdmin(ctx context.Context, hash []byte, now time.Time) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT d.admin_id FROM devices d JOIN admins a ON a.id = d.admin_id
		WHERE d.hash = $1 AND d.expires_at > $2 AND a.disabled_at IS NULL`, hash, usec(now)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, analytics.Errorf(analytics.KindNotFound, "unknown device")
	}
	return id, err
}

// whyRefused explains why a credential hash did not resolve: unknown, or
// known but revoked, expired or of a disabled admin.
func (s *Store) whyRefused(ctx context.Context, what string, hash []byte) error {
	var revoked, expires, disabled *time.Time
	var err error
	if what == "token" {
		err = s.pool.QueryRow(ctx, `SELECT t.revoked_at, t.expires_at, a.disabled_at FROM api_tokens t JOIN admins a ON a.id = t.admin_id
			WHERE t.hash = $1`, hash).Scan(&revoked, &expires, &disabled)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT revoked_at, expires_at FROM ingest_keys WHERE hash = $1`, hash).Scan(&revoked, &expires)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return analytics.Errorf(analytics.KindUnauthenticated, "invalid or revoked %s", what)
	}
	if err := credentialState(err, what, revoked, expires, disabled, s.now()); err != nil {
		return err
	}
	return analytics.Errorf(analytics.KindUnauthenticated, "invalid or revoked %s", what)
}
