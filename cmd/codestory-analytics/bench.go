package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/bench"
)

func init() { extraCommands["bench"] = env.bench }

// bench measures ingest throughput, query latency and memory on this
// machine and prints the report (docs/performance.md).
func (e env) bench(ctx context.Context, args []string) error {
	fs := e.flags("bench", nil)
	engines := fs.String("engines", "sqlite,postgres", "engines to measure, comma-separated: sqlite, postgres")
	pg := fs.String("pg", e.envOr("ANALYTICS_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL maintenance database; the bench creates and drops its own databases (ANALYTICS_BENCH_POSTGRES)")
	events := fs.Int("events", 200_000, "events per ingest path")
	repeat := fs.Int("repeat", 3, "runs of each ingest path (the report gives the median)")
	seedEvents := fs.Int("seed-events", 5_000, "events for the seed per-call baseline (one transaction each)")
	users := fs.Int("scale-users", bench.DefaultScale.Users, "users of the query data set (140,000 gives about 20.5 million events over 365 days)")
	days := fs.Int("scale-days", bench.DefaultScale.Days, "days of the query data set")
	skipScale := fs.Bool("skip-scale", false, "skip the query latencies and the export memory (no large data set)")
	reloadScale := fs.Bool("reload-scale", false, "load the query data set again even if a kept one matches (after a schema change)")
	scaleDB := fs.String("scale-pg-db", "analytics_bench_scale", "PostgreSQL database kept with the query data set between runs")
	toolNames := fs.String("tools", "", "time only these tools over the scale data set, comma-separated (e.g. get_user_economics); empty: all")
	queryRuns := fs.Int("query-runs", 50, "timed calls per tool and range")
	rawRuns := fs.Int("raw-runs", 5, "at most this many runs of the raw-SQL baseline per tool and range")
	readers := fs.Int("readers", 8, "concurrent readers in the reads-during-writes phase")
	loadedFor := fs.Duration("loaded-for", time.Minute, "how long the reads-during-writes phase reads, idle and then again during ingest")
	dir := fs.String("dir", "./data/bench", "where SQLite files go; the scale data set is kept here between runs")
	out := fs.String("out", "", "also write the report (markdown) to this file")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the server binary: %w", err)
	}
	// PostgreSQL needs an audit key. The bench's databases are its own, so
	// unless one is configured it uses a fixed bench key (the same across
	// runs, for the kept scale database), which the child processes inherit.
	if os.Getenv("ANALYTICS_AUDIT_KEY") == "" && os.Getenv("ANALYTICS_AUDIT_KEY_FILE") == "" {
		if err := os.Setenv("ANALYTICS_AUDIT_KEY", benchAuditKey); err != nil {
			return err
		}
	}
	cfg := bench.Config{
		Engines:         strings.Split(*engines, ","),
		PostgresURL:     *pg,
		Events:          *events,
		SeedEvents:      *seedEvents,
		Repeat:          *repeat,
		Scale:           bench.ScaleSpec{Users: *users, Days: *days, Seed: bench.DefaultScale.Seed, End: bench.DefaultScale.End},
		SkipScale:       *skipScale,
		ReloadScale:     *reloadScale,
		ScalePostgresDB: *scaleDB,
		Tools:           splitList(*toolNames),
		QueryRuns:       *queryRuns,
		RawRuns:         *rawRuns,
		Readers:         *readers,
		LoadedFor:       *loadedFor,
		Command:         strings.Join(append([]string{"codestory-analytics", "bench"}, args...), " "),
		Dir:             *dir,
		Binary:          bin,
		StartServer:     startBenchServer,
		Log:             e.stderr,
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	md := rep.Markdown()
	fmt.Fprint(e.stdout, md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// startBenchServer wires the whole application on db as `serve` does, with
// a new ingest key, on a free 127.0.0.1 port.
// benchAuditKey is the audit key of the bench's own databases when none is
// configured: 32 bytes, hex (sha256 of "codestory-analytics bench").
const benchAuditKey = "c45da43afb1f6f1b16c4a3572bd7ee9b2c24ae4bd0705d88101789856fc55c47"

func startBenchServer(ctx context.Context, db string) (*bench.Server, error) {
	a, err := common{db: db, create: true, auditKeyEnv: os.Getenv("ANALYTICS_AUDIT_KEY"), auditKeyFile: os.Getenv("ANALYTICS_AUDIT_KEY_FILE")}.openApp(ctx, appOptions{})
	if err != nil {
		return nil, err
	}
	key := auth.NewSecret(auth.IngestKeyPrefix)
	if _, err := a.store.CreateIngestKey(ctx, "bench", auth.HashSecret(key)); err != nil {
		a.Close()
		return nil, err
	}
	url, stop, err := bench.ServeHandler(a.handler())
	if err != nil {
		a.Close()
		return nil, err
	}
	return &bench.Server{URL: url, IngestKey: key, Wiring: "the whole application, wired as serve wires it",
		Stop: func() error { return errors.Join(stop(), a.Close()) }}, nil
}
