package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/sqlite"
)

func appendEntries(t *testing.T, ctx context.Context, s *sqlite.Store, n int) {
	t.Helper()
	log := &audit.Log{Store: s}
	for i := range n {
		if _, err := log.Append(ctx, analytics.AuditEntry{AdminEmail: "a@x", Door: analytics.DoorREST, Action: "dashboard_viewed",
			Outcome: analytics.OutcomeAllowed, Details: audit.Details(map[string]any{"n": i})}); err != nil {
			t.Fatal(err)
		}
	}
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestAuditDoesNotWaitForTheWriter holds the database's write lock, as an
// ingest transaction does, and appends audit entries meanwhile: the audit
// file has a writer of its own, so an audited read never waits for ingest.
func TestAuditDoesNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	holder := rawDB(t, path)
	tx, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = value WHERE key = 'timezone'`); err != nil {
		t.Fatal(err)
	}
	// The lock is real: another writer of the database is refused.
	if _, err := rawDB(t, path).ExecContext(ctx, `UPDATE meta SET value = value WHERE key = 'timezone'`); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("a second writer while the lock is held: %v, want database is locked", err)
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	appendEntries(t, actx, s, 3)
	if n, err := audit.Verify(actx, s); err != nil || n != 3 {
		t.Fatalf("chain while the writer is held: %d entries, %v", n, err)
	}
}

// TestAuditMovesOutOfTheDatabase rebuilds the layout of an older version
// (audit tables in the main file, no audit file) and checks that opening it
// moves every entry, chain intact, and drops the old tables; and that a
// database whose audit file has gone missing is refused, not given a new,
// empty chain.
func TestAuditMovesOutOfTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendEntries(t, ctx, s, 4)
	head, _ := s.ListAudit(ctx, analytics.AuditFilter{Limit: 1})
	s.Close()

	old := rawDB(t, path)
	for _, q := range []string{
		`ATTACH DATABASE '` + sqlite.AuditPath(path) + `' AS a`,
		`CREATE TABLE main.audit_log AS SELECT id, ts, admin_id, admin_email, door, action, outcome, reason, details, prev_hash, hash, mac FROM a.audit_log`,
		`CREATE TABLE main.audit_denials AS SELECT * FROM a.audit_denials`,
		`INSERT INTO main.audit_denials VALUES ('10.0.0.1', 5, 3, 0)`,
		`DETACH DATABASE a`,
		`DELETE FROM meta WHERE key = 'audit_file_id'`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(sqlite.AuditPath(path) + suffix)
	}

	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := audit.Verify(ctx, s); err != nil || n != 4 {
		t.Fatalf("moved chain: %d entries, %v; want 4 intact", n, err)
	}
	if got, _ := s.ListAudit(ctx, analytics.AuditFilter{Limit: 1}); len(got) != 1 || got[0].Hash != head[0].Hash {
		t.Fatalf("the newest entry after the move: %+v, want hash %s", got, head[0].Hash)
	}
	if ws, err := s.TakeSuppressed(ctx, 1, time.Now()); err != nil || len(ws) != 1 || ws[0].Suppressed != 2 {
		t.Fatalf("moved denial counts: %+v %v, want 2 suppressed from 10.0.0.1", ws, err)
	}
	appendEntries(t, ctx, s, 1)
	if n, err := audit.Verify(ctx, s); err != nil || n != 5 {
		t.Fatalf("chain after one more entry: %d, %v", n, err)
	}
	s.Close()
	var tables int
	if err := rawDB(t, path).QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('audit_log', 'audit_denials')`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("old audit tables left in the database: %d %v", tables, err)
	}

	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(sqlite.AuditPath(path) + suffix)
	}
	_, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err == nil || !strings.Contains(err.Error(), "missing or belongs to another database") {
		t.Fatalf("opening without its audit file: %v, want a refusal", err)
	}
	if _, serr := os.Stat(sqlite.AuditPath(path)); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the refused open left an audit file behind: %v", serr)
	}
}
