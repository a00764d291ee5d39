// Package postgres is the production store: PostgreSQL through pgx, for one
// or many server replicas sharing a database. Raw events are partitioned by
// month; rollups are updated in the ingest transaction exactly as in package
// sqlite, and the conformance suite in package storetest holds both to the
// same results.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock keys (the two-int4 form): lockNamespace keeps them apart from
// locks other code may take on the same database.
const (
	lockNamespace  int32 = 0x0A7A1C5 // "analytics"
	lockMigrations int32 = 1
	lockPartitions int32 = 2
)

// Options configure Open.
type Options struct {
	// Location is the reporting time zone. Nil keeps the zone the database
	// was built with (UTC for a new one). A zone different from the stored
	// one is refused unless the database has no events yet: changing it
	// needs Rebuild.
	Location *time.Location
	// Now is the clock (for received_at, key timestamps and creating the
	// partitions of the coming months); nil means time.Now.
	Now func() time.Time
}

// Store is the PostgreSQL implementation of analytics.Store. It is safe for
// concurrent use, and several Stores (replicas) may share one database.
type Store struct {
	pool *pgxpool.Pool
	url  string
	now  func() time.Time
	// loc is replaced when Rebuild changes the zone, here or (seen at the
	// next ingest) on another replica.
	loc atomic.Pointer[time.Location]

	partMu sync.Mutex
	parts  map[int]bool // months (see monthIndex) whose partition exists
}

var _ analytics.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value DSN),
// applies pending migrations, checks the reporting zone and makes sure the
// partitions of this month and the next exist.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, analytics.Errorf(analytics.KindInvalid, "postgres URL: %v", err)
	}
	// Plan every statement for its own arguments and the tables' sizes now
	// (unless the URL says otherwise). A cached generic plan is made once,
	// from the statistics of that moment, and kept until the tables are
	// analyzed again: made on empty tables it scanned them whole, and with
	// autovacuum off it never went away (a load of 1.44M events slowed
	// from 27k to 5.5k events/s). Planning each time cost nothing
	// measurable: BenchmarkIngest ran 5% faster with it. A SET after
	// connecting rather than a startup parameter, which a pooler such as
	// PgBouncer refuses unless told to ignore it.
	//
	// JIT off (unless the URL says otherwise): the per-user sums of a long
	// range cost more than jit_above_cost, and compiling them took 155 ms of
	// a 1.2 s get_user_economics on the scale set, every call, for
	// expressions that run a few hundred thousand times.
	var sets []string
	for _, p := range [][2]string{{"plan_cache_mode", "force_custom_plan"}, {"jit", "off"}} {
		if _, set := cfg.ConnConfig.RuntimeParams[p[0]]; !set {
			sets = append(sets, "SET "+p[0]+" = "+p[1])
		}
	}
	if len(sets) > 0 {
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, strings.Join(sets, "; "))
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", cfg.ConnConfig.Host, err)
	}
	s := &Store{pool: pool, url: url, now: opts.Now, parts: map[int]bool{}}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.initLocation(ctx, opts.Location); err != nil {
		pool.Close()
		return nil, err
	}
	m := monthIndex(s.now())
	if err := s.ensurePartitions(ctx, []int{m, m + 1}); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Location is the reporting time zone of the rollups.
func (s *Store) Location() *time.Location { return s.loc.Load() }

// URL is the connection string the store was opened with, password
// included: pass it on, do not log it.
func (s *Store) URL() string { return s.url }

// ExecRaw runs a statement outside any transaction (tests and maintenance).
func (s *Store) ExecRaw(ctx context.Context, query string) error {
	_, err := s.pool.Exec(ctx, query)
	return err
}

// Migrate applies every embedded migration not yet recorded, each in its own
// transaction. Each transaction first takes a transaction-scoped advisory
// lock and only then looks at schema_migrations, so replicas starting at once
// apply every migration exactly once: the second waits, then sees it done.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockNamespace, lockMigrations); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
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
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockNamespace, lockMigrations); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		if _, err := tx.Exec(ctx, body); err != nil { // no arguments: simple protocol, several statements
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			version, name, s.now())
		return err
	})
}

func (s *Store) initLocation(ctx context.Context, want *time.Location) error {
	name := "UTC"
	if want != nil {
		name = want.String()
	}
	// The first replica to get here records the zone; the others read it.
	if _, err := s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('timezone', $1) ON CONFLICT (key) DO NOTHING`, name); err != nil {
		return fmt.Errorf("record time zone: %w", err)
	}
	stored, err := s.storedZone(ctx, s.pool)
	if err != nil {
		return err
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
	if _, err := s.pool.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'timezone'`, want.String()); err != nil {
		return fmt.Errorf("record time zone: %w", err)
	}
	s.loc.Store(want)
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) storedZone(ctx context.Context, q querier) (string, error) {
	var zone string
	if err := q.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'timezone'`).Scan(&zone); err != nil {
		return "", fmt.Errorf("read time zone: %w", err)
	}
	return zone, nil
}

// EventCount is the number of stored events.
func (s *Store) EventCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// retryable reports whether a transaction failed only because it raced
// another one (serialization failure or deadlock) and may simply run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
