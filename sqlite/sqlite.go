// Package sqlite is the embedded store: one SQLite file (pure Go,
// modernc.org/sqlite) in WAL mode, with embedded numbered migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	analytics "github.com/codestory/analytics"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure Open.
type Options struct {
	// Location is the reporting time zone. Nil keeps the zone the database
	// was built with (UTC for a new one). A zone different from the stored
	// one is refused unless the database has no events yet: changing it
	// needs Rebuild.
	Location *time.Location
	// Now is the clock (for audit and key timestamps); nil means time.Now.
	Now func() time.Time
}

// Store is the SQLite implementation of analytics.Store.
type Store struct {
	// write has one connection: SQLite has one writer at a time, and one
	// Go-side queue avoids busy-waiting on the file lock.
	write *sql.DB
	read  *sql.DB
	// The audit log has a file of its own (AuditPath), with its own writer.
	auditWrite, auditRead *sql.DB
	loc                   atomic.Pointer[time.Location]
	now                   func() time.Time
	path                  string

	stmts *stmts
}

var _ analytics.Store = (*Store)(nil)

func dsn(path string, immediate bool) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	if immediate {
		q.Set("_txlock", "immediate")
		// The writer's statement journals (a multi-row insert's undo
		// record) stay in memory, not in a temporary file per statement.
		q.Add("_pragma", "temp_store(MEMORY)")
		// Checkpoint every 10,000 WAL pages (40 MiB), not SQLite's 1,000:
		// pages that several batches rewrite (daily rows, the upper levels
		// of every index) are copied back once, not once per few batches.
		q.Add("_pragma", "wal_autocheckpoint(10000)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(8)
	s := &Store{write: write, read: read, now: opts.Now, path: path}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openAudit(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.initLocation(ctx, opts.Location); err != nil {
		s.Close()
		return nil, err
	}
	// Prepared before any transaction: the write pool has one connection,
	// which a transaction holds.
	if s.stmts, err = s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if st := s.stmts; st != nil {
		for _, p := range st.all {
			p.Close()
		}
	}
	errs := []error{s.write.Close(), s.read.Close()}
	for _, db := range []*sql.DB{s.auditWrite, s.auditRead} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// Ping checks the database file answers.
func (s *Store) Ping(ctx context.Context) error { return s.read.PingContext(ctx) }

// Location is the reporting time zone of the rollups.
func (s *Store) Location() *time.Location { return s.loc.Load() }

// refreshLocation re-reads the stored zone inside a write transaction, so a
// `rebuild --tz` run by another process is seen by the next batch.
func (s *Store) refreshLocation(ctx context.Context, tx *sql.Tx) (*time.Location, error) {
	var zone string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'timezone'`).Scan(&zone); err != nil {
		return nil, fmt.Errorf("read time zone: %w", err)
	}
	loc := s.loc.Load()
	if zone == loc.String() {
		return loc, nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("stored time zone %q: %w", zone, err)
	}
	s.loc.Store(loc)
	return loc, nil
}

// Migrate applies every embedded migration not yet recorded, each in its
// own transaction.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		num, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if err := s.applyMigration(ctx, version, base, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, version int, name, body string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, name, s.now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) initLocation(ctx context.Context, want *time.Location) error {
	var stored string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'timezone'`).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if want == nil {
			want = time.UTC
		}
		if _, err := s.write.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('timezone', ?)`, want.String()); err != nil {
			return fmt.Errorf("record time zone: %w", err)
		}
		s.loc.Store(want)
		return nil
	case err != nil:
		return fmt.Errorf("read time zone: %w", err)
	}
	loc, err := time.LoadLocation(stored)
	if err != nil {
		return fmt.Errorf("stored time zone %q: %w", stored, err)
	}
	s.loc.Store(loc)
	if want == nil || want.String() == stored {
		return nil
	}
	n, err := s.EventCount(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return analytics.Errorf(analytics.KindConflict,
			"the database's rollups are bucketed in time zone %s, not %s: start with --tz %s, or run `codestory-analytics rebuild --tz %s` to re-bucket them",
			stored, want, stored, want)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'timezone'`, want.String()); err != nil {
		return fmt.Errorf("record time zone: %w", err)
	}
	s.loc.Store(want)
	return nil
}

// EventCount is the number of stored events.
func (s *Store) EventCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// ExecRaw runs a statement on the write connection (tests and maintenance).
func (s *Store) ExecRaw(ctx context.Context, query string) error {
	// The audit file is attached, so a query on audit_log (a test
	// tampering with the chain) reaches it by its plain name.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS audit`, AuditPath(s.path)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE audit`)
	_, err = conn.ExecContext(ctx, query)
	return err
}
