package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ analytics.AdminStore = (*Store)(nil)
var _ analytics.AuditStore = (*Store)(nil)

// lockAudit serializes audit appends across replicas so the hash chain stays
// one line.
const lockAudit int32 = 10

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func usec(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateAdmin adds an admin.
func (s *Store) CreateAdmin(ctx context.Context, email string, role analytics.Role, passwordHash string) (analytics.Admin, error) {
	a := analytics.Admin{Email: email, Role: role, PasswordHash: passwordHash, CreatedAt: usec(s.now())}
	err := s.pool.QueryRow(ctx, `INSERT INTO admins (email, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		email, string(role), passwordHash, a.CreatedAt).Scan(&a.ID)
	if isUnique(err) {
		return analytics.Admin{}, analytics.Errorf(analytics.KindConflict, "an admin with email %s already exists", email)
	}
	return a, err
}

const adminCols = `a.id, a.email, a.role, a.password_hash, a.created_at, a.disabled_at, a.last_login_at`

func scanAdmin(row pgx.Row, extra ...any) (analytics.Admin, error) {
	var a analytics.Admin
	var role string
	err := row.Scan(append([]any{&a.ID, &a.Email, &role, &a.PasswordHash, &a.CreatedAt, &a.DisabledAt, &a.LastLoginAt}, extra...)...)
	a.Role, a.CreatedAt = analytics.Role(role), a.CreatedAt.UTC()
	a.DisabledAt, a.LastLoginAt = utcPtr(a.DisabledAt), utcPtr(a.LastLoginAt)
	return a, err
}

func (s *Store) adminWhere(ctx context.Context, where string, arg any) (analytics.Admin, error) {
	a, err := scanAdmin(s.pool.QueryRow(ctx, `SELECT `+adminCols+` FROM admins a WHERE `+where, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, analytics.Errorf(analytics.KindNotFound, "no such admin")
	}
	return a, err
}

// AdminByEmail finds an admin by email, case-insensitively.
func (s *Store) AdminByEmail(ctx context.Context, email string) (analytics.Admin, error) {
	return s.adminWhere(ctx, "lower(a.email) = lower($1)", email)
}

// AdminByID finds an admin by id.
func (s *Store) AdminByID(ctx context.Context, id int64) (analytics.Admin, error) {
	return s.adminWhere(ctx, "a.id = $1", id)
}

// ListAdmins lists every admin by id.
func (s *Store) ListAdmins(ctx context.Context) ([]analytics.Admin, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+adminCols+` FROM admins a ORDER BY a.id`)
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

func scanToken(row pgx.Row) (analytics.APIToken, error) {
	var t analytics.APIToken
	err := row.Scan(&t.ID, &t.AdminID, &t.AdminEmail, &t.Name, &t.CreatedAt, &t.RevokedAt, &t.ExpiresAt, &t.LastUsedAt)
	t.CreatedAt = t.CreatedAt.UTC()
	t.RevokedAt, t.ExpiresAt, t.LastUsedAt = utcPtr(t.RevokedAt), utcPtr(t.ExpiresAt), utcPtr(t.LastUsedAt)
	return t, err
}

// AdminByTokenHash resolves a live token (unrevoked, unexpired, of an
// enabled admin) to its admin, and records its use.
func (s *Store) AdminByTokenHash(ctx context.Context, hash []byte) (analytics.Admin, analytics.APIToken, error) {
	var t analytics.APIToken
	now := usec(s.now())
	a, err := scanAdmin(s.pool.QueryRow(ctx, `SELECT `+adminCols+`, t.id, t.name, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.hash = $1 AND t.revoked_at IS NULL
		AND a.disabled_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)`, hash, now),
		&t.ID, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, t, s.whyRefused(ctx, "token", hash)
	}
	if err != nil {
		return a, t, err
	}
	t.AdminID, t.AdminEmail, t.CreatedAt = a.ID, a.Email, t.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt = utcPtr(t.ExpiresAt), utcPtr(t.LastUsedAt)
	if err := s.touch(ctx, "api_tokens", t.ID, t.LastUsedAt, now); err != nil {
		return a, t, err
	}
	return a, t, nil
}

// ListTokens lists tokens (of one admin when adminID != 0).
func (s *Store) ListTokens(ctx context.Context, adminID int64) ([]analytics.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN admins a ON a.id = t.admin_id
		WHERE $1 = 0 OR t.admin_id = $1 ORDER BY t.id`, adminID)
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
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, usec(s.now()), id)
	if err != nil {
		return analytics.APIToken{}, err
	}
	if tag.RowsAffected() == 0 {
		return analytics.APIToken{}, analytics.Errorf(analytics.KindNotFound, "no live token with id %d", id)
	}
	return scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.id = $1`, id))
}

// CreateSession stores a dashboard session by the hash of its cookie and
// drops expired ones.
func (s *Store) CreateSession(ctx context.Context, hash []byte, se analytics.Session) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO sessions (hash, admin_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, se.AdminID, se.CSRFToken, usec(se.CreatedAt), usec(se.ExpiresAt)); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, usec(se.CreatedAt))
	return err
}

// SessionByHash resolves an unexpired session.
func (s *Store) SessionByHash(ctx context.Context, hash []byte, now time.Time) (analytics.Admin, analytics.Session, error) {
	var se analytics.Session
	a, err := scanAdmin(s.pool.QueryRow(ctx, `SELECT `+adminCols+`, s.csrf_token, s.created_at, s.expires_at
		FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL`, hash, now),
		&se.CSRFToken, &se.CreatedAt, &se.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, se, analytics.Errorf(analytics.KindUnauthenticated, "session expired or unknown; log in again")
	}
	se.AdminID, se.CreatedAt, se.ExpiresAt = a.ID, se.CreatedAt.UTC(), se.ExpiresAt.UTC()
	return a, se, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

// AppendAudit chains and stores an audit entry. A transaction-scoped
// advisory lock makes read-last-hash-then-insert atomic across replicas, so
// the chain stays one line; ids are consecutive because they are assigned
// under the same lock.
func (s *Store) AppendAudit(ctx context.Context, e analytics.AuditEntry, link func(prev, e *analytics.AuditEntry)) (analytics.AuditEntry, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockNamespace, lockAudit); err != nil {
			return err
		}
		var prev analytics.AuditEntry
		err := tx.QueryRow(ctx, `SELECT id, hash, mac FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev.ID, &prev.Hash, &prev.MAC)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		e.ID = prev.ID + 1
		e.Time = usec(e.Time)
		if len(e.Details) == 0 {
			e.Details = []byte("{}")
		}
		if prev.ID == 0 {
			link(nil, &e)
		} else {
			link(&prev, &e)
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (id, ts, admin_id, admin_email, door, action, outcome, reason, details, prev_hash, hash, mac)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, e.ID, e.Time, e.AdminID, e.AdminEmail, string(e.Door), e.Action,
			e.Outcome, e.Reason, string(e.Details), e.PrevHash, e.Hash, e.MAC)
		return err
	})
	if err != nil {
		return e, fmt.Errorf("append audit entry: %w", err)
	}
	return e, nil
}

const auditCols = `id, ts, admin_id, admin_email, door, action, outcome, reason, details, prev_hash, hash, mac`

func scanAudit(row pgx.Row) (analytics.AuditEntry, error) {
	var e analytics.AuditEntry
	var door, details string
	err := row.Scan(&e.ID, &e.Time, &e.AdminID, &e.AdminEmail, &door, &e.Action, &e.Outcome, &e.Reason, &details, &e.PrevHash, &e.Hash, &e.MAC)
	e.Time, e.Door, e.Details = e.Time.UTC(), analytics.Door(door), []byte(details)
	return e, err
}

// ListAudit returns entries matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f analytics.AuditFilter) ([]analytics.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.AdminEmail != "" {
		add("lower(admin_email) = lower(?)", f.AdminEmail)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("ts >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		add("ts < ?", f.Until)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	q := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []analytics.AuditEntry{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ScanAudit calls fn for every entry in id order.
func (s *Store) ScanAudit(ctx context.Context, fn func(analytics.AuditEntry) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
