package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

var _ analytics.AuditSuppressStore = (*Store)(nil)

// AuditSuffix names the audit log's own database file: <database>.audit.
// SQLite has one writer per file, so an audit entry written next to the
// ingest would wait for every batch's transaction; in a file of its own it
// waits only for other audit entries, and a read stays a read.
const AuditSuffix = ".audit"

// AuditPath is the audit file of the database file at path.
func AuditPath(path string) string { return path + AuditSuffix }

// auditSchema is the audit file's schema: the audit_log and audit_denials
// of migrations 002 and 020, and the file's id, which the main database
// keeps too, so that a missing or foreign audit file is refused.
const auditSchema = `
CREATE TABLE IF NOT EXISTS audit_log (
    id          INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    admin_id    INTEGER,
    admin_email TEXT    NOT NULL DEFAULT '',
    door        TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    details     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    mac         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_by_admin ON audit_log (admin_email, id);
CREATE INDEX IF NOT EXISTS audit_log_by_action ON audit_log (action, id);
CREATE TABLE IF NOT EXISTS audit_denials (
    source       TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    reported     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, window_start)
);
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

// openAudit opens (creating if needed) the audit file of the database,
// checks it is the database's own, and moves into it the entries an older
// version kept in the main file (same ids, hashes and MACs, so the chain
// verifies as before).
func (s *Store) openAudit(ctx context.Context) error {
	path := AuditPath(s.path)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	var err error
	if s.auditWrite, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return err
	}
	s.auditWrite.SetMaxOpenConns(1)
	if s.auditRead, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return err
	}
	s.auditRead.SetMaxOpenConns(4)
	if _, err := s.auditWrite.ExecContext(ctx, auditSchema); err != nil {
		return fmt.Errorf("audit file %s: %w", path, err)
	}
	var fileID string
	err = s.auditWrite.QueryRowContext(ctx, `SELECT value FROM audit_meta WHERE key = 'file_id'`).Scan(&fileID)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 16)
		rand.Read(b)
		fileID = hex.EncodeToString(b)
		_, err = s.auditWrite.ExecContext(ctx, `INSERT INTO audit_meta (key, value) VALUES ('file_id', ?)`, fileID)
	}
	if err != nil {
		return fmt.Errorf("audit file %s: %w", path, err)
	}
	var want string
	err = s.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'audit_file_id'`).Scan(&want)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := s.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('audit_file_id', ?)`, fileID); err != nil {
			return err
		}
	case err != nil:
		return err
	case want != fileID:
		if created {
			s.auditWrite.Close()
			s.auditRead.Close()
			removeFiles(path)
		}
		return fmt.Errorf("the audit log of %s lives in %s, and that file is missing or belongs to another database (its id %q, this database's %q): restore it next to the database, with the database",
			s.path, path, fileID, want)
	}
	return s.moveAudit(ctx, path)
}

// moveAudit copies the audit tables an older version kept in the main file
// into the audit file, then drops them: two transactions, each atomic, the
// copy idempotent, so a crash between them only repeats the copy.
func (s *Store) moveAudit(ctx context.Context, path string) error {
	var n int
	if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('audit_log', 'audit_denials')`).Scan(&n); err != nil || n == 0 {
		return err
	}
	conn, err := s.auditWrite.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, s.path); err != nil {
		return fmt.Errorf("attach the database to move its audit log: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
	copyOld := func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO main.audit_log (`+auditCols+`) SELECT `+auditCols+` FROM old.audit_log`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO main.audit_denials (source, window_start, n, reported)
			SELECT source, window_start, n, reported FROM old.audit_denials`); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := copyOld(); err != nil {
		return fmt.Errorf("move the audit log into %s: %w", path, err)
	}
	if _, err := s.write.ExecContext(ctx, `DROP TABLE IF EXISTS audit_log; DROP TABLE IF EXISTS audit_denials`); err != nil {
		return fmt.Errorf("drop the moved audit tables: %w", err)
	}
	return nil
}

func removeFiles(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

// AppendAudit chains and stores an audit entry. The audit file's single
// writer makes read-last-entry-then-insert atomic inside the transaction.
func (s *Store) AppendAudit(ctx context.Context, e analytics.AuditEntry, link func(prev, e *analytics.AuditEntry)) (analytics.AuditEntry, error) {
	tx, err := s.auditWrite.BeginTx(ctx, nil)
	if err != nil {
		return e, err
	}
	defer tx.Rollback()
	var prev analytics.AuditEntry
	err = tx.QueryRowContext(ctx, `SELECT id, hash, mac FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev.ID, &prev.Hash, &prev.MAC)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	e.ID = prev.ID + 1
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if len(e.Details) == 0 {
		e.Details = []byte("{}")
	}
	if prev.ID == 0 {
		link(nil, &e)
	} else {
		link(&prev, &e)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, ts, admin_id, admin_email, door, action, outcome, reason, details, prev_hash, hash, mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, micros(e.Time), e.AdminID, e.AdminEmail, string(e.Door), e.Action,
		e.Outcome, e.Reason, string(e.Details), e.PrevHash, e.Hash, e.MAC); err != nil {
		return e, fmt.Errorf("insert audit entry: %w", err)
	}
	return e, tx.Commit()
}

const auditCols = `id, ts, admin_id, admin_email, door, action, outcome, reason, details, prev_hash, hash, mac`

func scanAudit(sc scanner) (analytics.AuditEntry, error) {
	var e analytics.AuditEntry
	var ts int64
	var adminID sql.NullInt64
	var door, details string
	err := sc.Scan(&e.ID, &ts, &adminID, &e.AdminEmail, &door, &e.Action, &e.Outcome, &e.Reason, &details, &e.PrevHash, &e.Hash, &e.MAC)
	e.Time, e.Door, e.Details = fromMicros(ts), analytics.Door(door), []byte(details)
	if adminID.Valid {
		id := adminID.Int64
		e.AdminID = &id
	}
	return e, err
}

// ListAudit returns entries matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f analytics.AuditFilter) ([]analytics.AuditEntry, error) {
	var where []string
	var args []any
	if f.AdminEmail != "" {
		where, args = append(where, "admin_email = ? COLLATE NOCASE"), append(args, f.AdminEmail)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "ts >= ?"), append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "ts < ?"), append(args, micros(f.Until))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.auditRead.QueryContext(ctx, q, args...)
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
	rows, err := s.auditRead.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY id`)
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

// CountDenial counts one unauthenticated denial of source in a window.
func (s *Store) CountDenial(ctx context.Context, source string, start time.Time) (int64, error) {
	var n int64
	err := s.auditWrite.QueryRowContext(ctx, `INSERT INTO audit_denials (source, window_start, n) VALUES (?, ?, 1)
		ON CONFLICT (source, window_start) DO UPDATE SET n = n + 1 RETURNING n`, source, micros(start)).Scan(&n)
	return n, err
}

// TakeSuppressed claims the unreported suppressed denials of windows
// starting before before; the write transaction makes the claim atomic.
func (s *Store) TakeSuppressed(ctx context.Context, keep int64, before time.Time) ([]analytics.DeniedWindow, error) {
	tx, err := s.auditWrite.BeginTx(ctx, nil)
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
