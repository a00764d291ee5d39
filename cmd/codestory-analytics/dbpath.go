package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// Only serve, migrate and demo create a database: every other command
// refuses a missing one, naming the path it looked at, so that a command run
// from the wrong directory (the default --db is relative) or with a typo
// never works quietly on a new, empty database.

const pointAtDB = "point --db (or ANALYTICS_DB) at your database, e.g. --db sqlite:/srv/analytics/analytics.db or --db postgres://user@host/analytics"

// checkSQLitePath refuses a missing database file unless c.create; a
// creating command makes at most the file's own directory, never a tree of
// them, so a mistyped path fails instead of growing directories.
func (c common) checkSQLitePath(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	switch _, err := os.Stat(path); {
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("database %s: %w", abs, err)
	}
	if !c.create {
		return fmt.Errorf("no database at %s (from --db %s): %s; or create one there with 'codestory-analytics migrate --db %s'",
			abs, c.db, pointAtDB, c.db)
	}
	dir := filepath.Dir(abs)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Dir(dir)); err != nil {
			return fmt.Errorf("will not create database %s: its directory %s and that directory's parent do not exist (is --db %s mistyped?); create the directory first if the path is right",
				abs, dir, c.db)
		}
	}
	return nil
}

// checkPostgresSchema refuses a PostgreSQL database that does not exist or
// has never been migrated, unless c.create.
func (c common) checkPostgresSchema(ctx context.Context) error {
	if c.create {
		return nil
	}
	cfg, err := pgx.ParseConfig(c.db)
	if err != nil {
		return usageError{fmt.Sprintf("--db: not a PostgreSQL URL: %v", err)}
	}
	where := fmt.Sprintf("database %q on %s:%d", cfg.Database, cfg.Host, cfg.Port)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w; %s", where, err, pointAtDB)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&ok); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if !ok {
		return fmt.Errorf("%s has no CodeStory Analytics schema: %s; or create the schema there with 'codestory-analytics migrate'", where, pointAtDB)
	}
	return nil
}
