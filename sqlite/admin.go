package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

var _ analytics.AdminStore = (*Store)(nil)
var _ analytics.AuditStore = (*Store)(nil)

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// CreateAdmin adds an admin.
func (s *Store) CreateAdmin(ctx context.Context, email string, role analytics.Role, passwordHash string) (analytics.Admin, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	res, err := s.write.ExecContext(ctx, `INSERT INTO admins (email, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		email, string(role), passwordHash, micros(now))
	if isUniqueViolation(err) {
		return analytics.Admin{}, analytics.Errorf(analytics.KindConflict, "an admin with email %s already exists", email)
	}
	if err != nil {
		return analytics.Admin{}, err
	}
	id, _ := res.LastInsertId()
	return analytics.Admin{ID: id, Email: email, Role: role, PasswordHash: passwordHash, CreatedAt: now}, nil
}

const adminCols = `a.id, a.email, a.role, a.password_hash, a.created_at, a.disabled_at, a.last_login_at`

func scanAdmin(sc scanner, extra ...any) (analytics.Admin, error) {
	var a analytics.Admin
	var role string
	var created int64
	var disabled, login sql.NullInt64
	err := sc.Scan(append([]any{&a.ID, &a.Email, &role, &a.PasswordHash, &created, &disabled, &login}, extra...)...)
	a.Role, a.CreatedAt = analytics.Role(role), fromMicros(created)
	a.DisabledAt, a.LastLoginAt = optMicros(disabled), optMicros(login)
	return a, err
}

func (s *Store) adminWhere(ctx context.Context, where string, arg any) (analytics.Admin, error) {
	a, err := scanAdmin(s.read.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins a WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return a, analytics.Errorf(analytics.KindNotFound, "no such admin")
	}
	return a, err
}

// AdminByEmail finds an admin by email, case-insensitively.
func (s *Store) AdminByEmail(ctx context.Context, email string) (analytics.Admin, error) {
	return s.adminWhere(ctx, "a.email = ?", email)
}

// AdminByID finds an admin by id.
func (s *Store) AdminByID(ctx context.Context, id int64) (analytics.Admin, error) {
	return s.adminWhere(ctx, "a.id = ?", id)
}

// ListAdmins lists every admin by id.
func (s *Store) ListAdmins(ctx context.Context) ([]analytics.Admin, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+adminCols+` FROM admins a ORDER BY a.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.Admin
	for rows.Next() {
		a, err := scanAdmin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateToken stores a new API token's hash.
func (s *Store) CreateToken(ctx context.Context, adminID int64, name string, hash []byte) (analytics.APIToken, error) {
	return s.CreateTokenExpiring(ctx, adminID, name, hash, time.Time{})
}

const tokenCols = `t.id, t.admin_id, a.email, t.name, t.created_at, t.revoked_at, t.expires_at, t.last_used_at`

func scanToken(sc scanner) (analytics.APIToken, error) {
	var t analytics.APIToken
	var created int64
	var revoked, expires, used sql.NullInt64
	err := sc.Scan(&t.ID, &t.AdminID, &t.AdminEmail, &t.Name, &created, &revoked, &expires, &used)
	t.CreatedAt = fromMicros(created)
	t.RevokedAt, t.ExpiresAt, t.LastUsedAt = optMicros(revoked), optMicros(expires), optMicros(used)
	return t, err
}

// AdminByTokenHash resolves a live token (unrevoked, unexpired, of an
// enabled admin) to its admin, and records its use.
func (s *Store) AdminByTokenHash(ctx context.Context, hash []byte) (analytics.Admin, analytics.APIToken, error) {
	var t analytics.APIToken
	var created int64
	var expires, used sql.NullInt64
	now := s.now()
	a, err := scanAdmin(s.read.QueryRowContext(ctx, `SELECT `+adminCols+`, t.id, t.name, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.hash = ? AND t.revoked_at IS NULL
		AND a.disabled_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)`, hash, micros(now)),
		&t.ID, &t.Name, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return a, t, s.whyRefused(ctx, "token", hash)
	}
	if err != nil {
		return a, t, err
	}
	t.AdminID, t.AdminEmail, t.CreatedAt = a.ID, a.Email, fromMicros(created)
	t.ExpiresAt, t.LastUsedAt = optMicros(expires), optMicros(used)
	if err := s.touch(ctx, "api_tokens", t.ID, t.LastUsedAt, now); err != nil {
		return a, t, err
	}
	return a, t, nil
}

// ListTokens lists tokens (of one admin when adminID != 0).
func (s *Store) ListTokens(ctx context.Context, adminID int64) ([]analytics.APIToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN admins a ON a.id = t.admin_id
		WHERE ? = 0 OR t.admin_id = ? ORDER BY t.id`, adminID, adminID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []analytics.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a live token.
func (s *Store) RevokeToken(ctx context.Context, id int64) (analytics.APIToken, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(s.now()), id)
	if err != nil {
		return analytics.APIToken{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return analytics.APIToken{}, analytics.Errorf(analytics.KindNotFound, "no live token with id %d", id)
	}
	return scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.id = ?`, id))
}

// CreateSession stores a dashboard session by the hash of its cookie.
func (s *Store) CreateSession(ctx context.Context, hash []byte, se analytics.Session) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions (hash, admin_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hash, se.AdminID, se.CSRFToken, micros(se.CreatedAt), micros(se.ExpiresAt))
	if err != nil {
		return err
	}
	// Expired sessions are dropped as new ones arrive.
	_, err = s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, micros(se.CreatedAt))
	return err
}

// SessionByHash resolves an unexpired session.
func (s *Store) SessionByHash(ctx context.Context, hash []byte, now time.Time) (analytics.Admin, analytics.Session, error) {
	var se analytics.Session
	var created, expires int64
	a, err := scanAdmin(s.read.QueryRowContext(ctx, `SELECT `+adminCols+`, s.csrf_token, s.created_at, s.expires_at
		FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.hash = ? AND s.expires_at > ? AND a.disabled_at IS NULL`, hash, micros(now)),
		&se.CSRFToken, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return a, se, analytics.Errorf(analytics.KindUnauthenticated, "session expired or unknown; log in again")
	}
	se.AdminID, se.CreatedAt, se.ExpiresAt = a.ID, fromMicros(created), fromMicros(expires)
	return a, se, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}
