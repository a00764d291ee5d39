package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/postgres"
	"github.com/codestory/analytics/sqlite"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Engine names, as --engines takes them.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// engine is one database engine under test. A database is named by its
// --db form ("sqlite:PATH" or a postgres:// URL), so the in-process server,
// a child process and the baselines all reach the same one.
type engine interface {
	name() string
	// fresh creates an empty database; drop removes it.
	fresh(ctx context.Context, label string) (db string, drop func(), err error)
	// clone copies database src (closed, nothing connected to it) into a
	// new database; drop removes the copy.
	clone(ctx context.Context, src, label string) (db string, drop func(), err error)
	open(ctx context.Context, db string) (analytics.Store, error)
	// sqlDB opens a plain database/sql handle on db, for the baselines.
	sqlDB(db string) (*sql.DB, dialect, error)
	// floor bulk-inserts events into the real events table of db, without
	// any rollup, in transactions of batch events; it calls start when its
	// set-up (schema, statements) is done.
	floor(ctx context.Context, db string, events []analytics.Event, batch int, start func()) error
	version(ctx context.Context) string
}

// dialect papers over the few differences the baselines' SQL meets.
type dialect struct{ pg bool }

// q rewrites ? placeholders as $1, $2, … for PostgreSQL.
func (d dialect) q(s string) string {
	if !d.pg {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ts is a timestamp as the events table stores it.
func (d dialect) ts(t time.Time) any {
	if d.pg {
		return t
	}
	return t.UnixMicro()
}

// sqliteEngine keeps its databases as files under dir.
type sqliteEngine struct {
	dir string
	seq int
}

func (e *sqliteEngine) name() string { return EngineSQLite }

func (e *sqliteEngine) fresh(_ context.Context, label string) (string, func(), error) {
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return "", nil, err
	}
	e.seq++
	path := filepath.Join(e.dir, fmt.Sprintf("%s-%d-%d.db", label, os.Getpid(), e.seq))
	removeSQLite(path)
	return "sqlite:" + path, func() { removeSQLite(path) }, nil
}

func (e *sqliteEngine) clone(ctx context.Context, src, label string) (string, func(), error) {
	db, drop, err := e.fresh(ctx, label)
	if err != nil {
		return "", nil, err
	}
	// The database and its audit file (sqlite.AuditPath), each with its WAL.
	for _, suffix := range []string{"", "-wal", sqlite.AuditSuffix, sqlite.AuditSuffix + "-wal"} {
		if err := copyFile(sqlitePath(src)+suffix, sqlitePath(db)+suffix); err != nil && !(suffix != "" && errors.Is(err, fs.ErrNotExist)) {
			drop()
			return "", nil, err
		}
	}
	return db, drop, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func removeSQLite(path string) {
	for _, file := range []string{path, sqlite.AuditPath(path)} {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(file + suffix)
		}
	}
}

func sqlitePath(db string) string { return strings.TrimPrefix(db, "sqlite:") }

func (e *sqliteEngine) open(ctx context.Context, db string) (analytics.Store, error) {
	return sqlite.Open(ctx, sqlitePath(db), sqlite.Options{})
}

// sqliteDSN has the pragmas sqlite.Open uses: WAL, synchronous=FULL, and
// transactions that take the write lock when they begin.
func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func (e *sqliteEngine) sqlDB(db string) (*sql.DB, dialect, error) {
	h, err := sql.Open("sqlite", sqliteDSN(sqlitePath(db)))
	return h, dialect{}, err
}

func (e *sqliteEngine) version(ctx context.Context) string {
	h, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return "?"
	}
	defer h.Close()
	var v string
	if err := h.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v); err != nil {
		return "?"
	}
	return "SQLite " + v + " (modernc.org/sqlite)"
}

// postgresEngine creates its databases on the server at admin (a URL of a
// maintenance database, such as postgres).
type postgresEngine struct {
	admin string
}

func (e *postgresEngine) name() string { return EnginePostgres }

// dbURL is the admin URL pointed at database name.
func (e *postgresEngine) dbURL(name string) (string, error) {
	u, err := url.Parse(e.admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (e *postgresEngine) exec(ctx context.Context, stmt string) error {
	return e.execFor(ctx, 2*time.Minute, stmt)
}

// execFor runs stmt on the maintenance database, for at most d.
func (e *postgresEngine) execFor(ctx context.Context, d time.Duration, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

func (e *postgresEngine) create(ctx context.Context, name string) (string, error) {
	if err := e.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return e.dbURL(name)
}

func (e *postgresEngine) dropDB(ctx context.Context, name string) error {
	return e.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func (e *postgresEngine) fresh(ctx context.Context, label string) (string, func(), error) {
	name := benchDBName(label)
	u, err := e.create(ctx, name)
	if err != nil {
		return "", nil, err
	}
	return u, func() { e.dropDB(context.Background(), name) }, nil
}

// benchDBName is a new database name for label.
func benchDBName(label string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "analytics_bench_" + label + "_" + hex.EncodeToString(b)
}

// clone copies src with CREATE DATABASE … TEMPLATE, a file-level copy
// (an hour at most: the scale data set is many gigabytes).
func (e *postgresEngine) clone(ctx context.Context, src, label string) (string, func(), error) {
	u, err := url.Parse(src)
	if err != nil {
		return "", nil, err
	}
	name := benchDBName(label)
	if err := e.execFor(ctx, time.Hour, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("copy database %s: %w", u.Path, err)
	}
	db, err := e.dbURL(name)
	if err != nil {
		e.dropDB(context.Background(), name)
		return "", nil, err
	}
	return db, func() { e.dropDB(context.Background(), name) }, nil
}

func (e *postgresEngine) open(ctx context.Context, db string) (analytics.Store, error) {
	return postgres.Open(ctx, db, postgres.Options{})
}

func (e *postgresEngine) sqlDB(db string) (*sql.DB, dialect, error) {
	h, err := sql.Open("pgx", db)
	return h, dialect{pg: true}, err
}

func (e *postgresEngine) version(ctx context.Context) string {
	h, _, err := e.sqlDB(e.admin)
	if err != nil {
		return "?"
	}
	defer h.Close()
	var v string
	if err := h.QueryRowContext(ctx, `SHOW server_version`).Scan(&v); err != nil {
		return "?"
	}
	return "PostgreSQL " + v
}

// reachable reports whether the server answers.
func (e *postgresEngine) reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.admin)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}
