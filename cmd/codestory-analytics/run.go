package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/pricing"
	"github.com/codestory/analytics/sqlite"
)

const usage = `codestory-analytics — what the CodeStory platform costs and earns.

Usage: codestory-analytics <command> [flags]

Commands:
  serve        run the HTTP server (--addr, --db, --redis, --tz, --prices, --demo)
  migrate      apply schema migrations
  admin        admin accounts: create, list, disable, enable, set-role, delete, reset-password
  token        admin API tokens: create, list, revoke
  ingest-key   ingest keys: create, list, revoke
  ingest FILE  bulk-load NDJSON events (FILE or - for stdin)
  demo         generate a realistic deterministic data set (--days, --users, --seed)
  query        run an analytics tool and print JSON: dashboard, costs, growth, top, export
  prices       price catalog at run time: list, add --file F, remove
  reprice      recompute stored calls' costs from the current catalog (--since, --until, --model, --dry-run)
  void         take an event out of every figure (--id, --reason)
  rebuild      recompute every rollup from events (--tz re-buckets days)
  verify       prove rollups equal a fresh aggregate of events (exit 1 if not)
  audit        audit log: verify [--checkpoint LINE], head (print a checkpoint)
  mcp          MCP server on stdio (admin token in ANALYTICS_TOKEN)
  bench        measure ingest and query speed and print one report
  version      print the version (also --version)

Every flag has an environment twin: --db is ANALYTICS_DB, --tz ANALYTICS_TZ, and so on.
Run 'codestory-analytics <command> -h' for a command's flags.
`

// usageError is a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// env is the process environment, injected for tests.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv, stdin, stdout, stderr}
	if len(args) > 0 && isVersion(args[0]) {
		printVersion(stdout)
		return nil
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	if helpFor(cmd, rest, stdout) {
		return nil
	}
	err := e.dispatch(ctx, cmd, rest)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h or --version: printed, not a failure
	}
	return err
}

func (e env) dispatch(ctx context.Context, cmd string, rest []string) error {
	switch cmd {
	case "serve":
		return e.serve(ctx, rest)
	case "migrate":
		return e.migrate(ctx, rest)
	case "ingest-key":
		return e.ingestKey(ctx, rest)
	case "ingest":
		return e.ingest(ctx, rest)
	case "demo":
		return e.demo(ctx, rest)
	case "query":
		return e.query(ctx, rest)
	case "rebuild":
		return e.rebuild(ctx, rest)
	case "verify":
		return e.verify(ctx, rest)
	default:
		if extra, ok := extraCommands[cmd]; ok {
			return extra(e, ctx, rest)
		}
	}
	return usageError{fmt.Sprintf("unknown command %q (see 'codestory-analytics help')", cmd)}
}

// extraCommands are registered by the files that implement them.
var extraCommands = map[string]func(e env, ctx context.Context, args []string) error{}

// common holds the flags most commands share.
type common struct {
	db     string
	tz     string
	prices string
	// auditKeyFile is --audit-key-file; auditKeyEnv is ANALYTICS_AUDIT_KEY,
	// the key itself (never a flag: command lines are visible to all).
	auditKeyFile string
	auditKeyEnv  string
	create       bool // serve, migrate and demo may create a new database; nothing else does
}

func (e env) envOr(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// DefaultDB is where the embedded database lives unless --db says otherwise.
const DefaultDB = "sqlite:./data/analytics.db"

func (e env) flags(name string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	withHelp(fs, e.stdout)
	if c != nil {
		fs.StringVar(&c.db, "db", e.envOr("ANALYTICS_DB", DefaultDB), "database: sqlite:PATH or postgres://URL (ANALYTICS_DB)")
		fs.StringVar(&c.tz, "tz", e.envOr("ANALYTICS_TZ", ""), "reporting time zone, e.g. UTC or Europe/Berlin (ANALYTICS_TZ; default: the database's, UTC for a new one)")
		fs.StringVar(&c.prices, "prices", e.envOr("ANALYTICS_PRICES", ""), "price catalog override file (ANALYTICS_PRICES)")
		fs.StringVar(&c.auditKeyFile, "audit-key-file", e.envOr("ANALYTICS_AUDIT_KEY_FILE", ""), "file holding the audit log's HMAC key (ANALYTICS_AUDIT_KEY_FILE; or the key itself in ANALYTICS_AUDIT_KEY); default for SQLite: the database path + "+AuditKeySuffix+", generated when absent; PostgreSQL requires one, shared by every replica")
		c.auditKeyEnv = e.getenv("ANALYTICS_AUDIT_KEY")
	}
	return fs
}

// parse parses flags and exactly `positional` arguments, which may stand
// before, between or after the flags.
func parse(fs *flag.FlagSet, args []string, positional int) ([]string, error) {
	var pos []string
	for {
		if err := afterParse(fs, fs.Parse(args)); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != positional {
		if positional == 0 {
			return nil, usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), pos[0])}
		}
		return nil, usageError{fmt.Sprintf("%s: expected %d argument(s), got %d", fs.Name(), positional, len(pos))}
	}
	return pos, nil
}

func (c common) location() (*time.Location, error) {
	if c.tz == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(c.tz)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--tz %q: unknown time zone (use an IANA name such as UTC or Europe/Berlin)", c.tz)}
	}
	return loc, nil
}

// pricer is the catalog every command prices with: built-in, the --prices
// file, then the database's entries (reloaded whenever they change).
func (c common) pricer(ctx context.Context, s analytics.PriceStore) (*pricing.Live, error) {
	live := &pricing.Live{Store: s}
	if c.prices != "" {
		f, err := os.Open(c.prices)
		if err != nil {
			return nil, fmt.Errorf("--prices: %w", err)
		}
		defer f.Close()
		if live.File, err = pricing.ParseEntries(f); err != nil {
			return nil, fmt.Errorf("--prices %s: %w", c.prices, err)
		}
	}
	if err := live.Refresh(ctx); err != nil {
		return nil, err
	}
	return live, nil
}

// openStore opens the database named by --db.
func (c common) openStore(ctx context.Context) (analytics.Store, error) {
	loc, err := c.location()
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(c.db, "sqlite:"):
		path := strings.TrimPrefix(c.db, "sqlite:")
		if path == "" {
			return nil, usageError{"--db sqlite: needs a file path, e.g. sqlite:./data/analytics.db"}
		}
		if err := c.checkSQLitePath(path); err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, path, sqlite.Options{Location: loc})
	case strings.HasPrefix(c.db, "postgres://"), strings.HasPrefix(c.db, "postgresql://"):
		if openPostgres == nil {
			return nil, errors.New("this build has no PostgreSQL support")
		}
		if err := c.checkPostgresSchema(ctx); err != nil {
			return nil, err
		}
		return openPostgres(ctx, c.db, loc)
	}
	return nil, usageError{fmt.Sprintf("--db %q: expected sqlite:PATH or a postgres:// URL", c.db)}
}

// openPostgres is set by postgres.go.
var openPostgres func(ctx context.Context, url string, loc *time.Location) (analytics.Store, error)

func (e env) logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: l}))
}

func (e env) migrate(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("migrate", &c)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	// The whole app, so that the audit key is found (or generated) and a
	// chain from before audit keys is anchored under it.
	c.create = true
	a, err := c.openApp(ctx, appOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func (e env) rebuild(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("rebuild", &c)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	loc, err := c.location()
	if err != nil {
		return err
	}
	keep := c
	keep.tz = "" // open in the stored zone; Rebuild moves it
	s, err := keep.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	if err := s.Rebuild(ctx, loc); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	n, _ := s.EventCount(ctx)
	fmt.Fprintf(e.stdout, "rebuilt rollups from %d events in %s (time zone %s)\n", n, time.Since(start).Round(time.Millisecond), s.Location())
	return nil
}

func (e env) verify(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("verify", &c)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	diffs, err := s.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	n, _ := s.EventCount(ctx)
	if len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintln(e.stdout, d)
		}
		return fmt.Errorf("rollups differ from the events in %d place(s); run 'codestory-analytics rebuild' to recompute them", len(diffs))
	}
	fmt.Fprintf(e.stdout, "ok: rollups equal a fresh aggregate of %d events\n", n)
	return nil
}
