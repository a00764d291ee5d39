// Package bench measures CodeStory Analytics on the machine it runs on and
// writes one report: ingest throughput of the store and of POST /v1/events
// beside two baselines run in the same process on the same rows (the seed's
// per-call read-modify-write design, and a bare bulk insert with no
// rollups), query latency of the five tools on a large demo data set
// beside a plain SQL aggregate over the raw events, and the server's peak
// memory while ingesting and exporting. `codestory-analytics bench` runs it.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/pricing"
)

// Config says what to measure and how much.
type Config struct {
	Engines     []string // EngineSQLite, EnginePostgres
	PostgresURL string   // a maintenance database; the bench creates and drops its own databases
	Events      int      // events per ingest path (default 200,000)
	SeedEvents  int      // events for the seed per-call baseline, which is slow (default 5,000)
	Batch       int      // events per batch (default 1,000)
	HTTPClients int      // concurrent HTTP clients (default 2)
	Repeat      int      // runs of each ingest path; the report gives the median (default 3)

	Scale       ScaleSpec // the query data set (default DefaultScale)
	SkipScale   bool      // no query latencies and no export memory
	ReloadScale bool      // load the scale data set again even if a kept one matches
	// ScalePostgresDB is the PostgreSQL database kept with the scale data
	// set between runs (default analytics_bench_scale).
	ScalePostgresDB string
	// Tools limits the query latencies to the tools of these names (see
	// SelectTools); empty times every tool.
	Tools      []string
	QueryRuns  int           // timed calls per tool and range (default 50)
	RawRuns    int           // at most this many raw-SQL runs per tool and range (default 5)
	RawMinRuns int           // at least this many (default 3)
	RawBudget  time.Duration // stop raw runs past this, once RawMinRuns are done (default 2 min)

	// Readers is the number of concurrent readers in the reads-during-
	// writes phase (default 8); LoadedFor how long each of its two halves
	// (idle, then with ingest) runs (default 60 s).
	Readers   int
	LoadedFor time.Duration

	// Dir holds SQLite files: the kept scale data set and, while they run,
	// the ingest paths' databases (default ./data/bench).
	Dir string
	// Binary is the codestory-analytics executable, run as a child process
	// for the memory figures; empty skips them.
	Binary string
	// StartServer starts the in-process HTTP server of the HTTP ingest
	// path. Nil, or an error from it, falls back to the ingest handler
	// wired alone over the store.
	StartServer ServerStarter
	Pricer      analytics.Pricer // default pricing.Default()
	// Command is the command line of the run, for the report.
	Command string
	Log     io.Writer // progress (default: discarded)
}

// DefaultScale is the scale data set: 140,000 users over 365 days, about
// 20.5 million events.
var DefaultScale = ScaleSpec{Users: 140_000, Days: 365, Seed: 1, End: DataEnd}

func (c *Config) defaults() {
	if len(c.Engines) == 0 {
		c.Engines = []string{EngineSQLite, EnginePostgres}
	}
	if c.PostgresURL == "" {
		c.PostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	if c.Events <= 0 {
		c.Events = 200_000
	}
	if c.SeedEvents <= 0 {
		c.SeedEvents = 5_000
	}
	c.SeedEvents = min(c.SeedEvents, c.Events)
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.HTTPClients <= 0 {
		c.HTTPClients = 2
	}
	if c.Repeat <= 0 {
		c.Repeat = 3
	}
	if c.Scale.Users <= 0 {
		c.Scale.Users = DefaultScale.Users
	}
	if c.Scale.Days <= 0 {
		c.Scale.Days = DefaultScale.Days
	}
	if c.Scale.Seed == 0 {
		c.Scale.Seed = DefaultScale.Seed
	}
	if c.Scale.End.IsZero() {
		c.Scale.End = DefaultScale.End
	}
	if c.ScalePostgresDB == "" {
		c.ScalePostgresDB = "analytics_bench_scale"
	}
	if c.QueryRuns <= 0 {
		c.QueryRuns = 50
	}
	if c.RawRuns <= 0 {
		c.RawRuns = 5
	}
	if c.RawMinRuns <= 0 {
		c.RawMinRuns = 3
	}
	c.RawMinRuns = min(c.RawMinRuns, c.RawRuns)
	if c.RawBudget <= 0 {
		c.RawBudget = 2 * time.Minute
	}
	if c.Readers <= 0 {
		c.Readers = 8
	}
	if c.LoadedFor <= 0 {
		c.LoadedFor = time.Minute
	}
	if c.Dir == "" {
		c.Dir = filepath.Join("data", "bench")
	}
	if c.Pricer == nil {
		c.Pricer = pricing.Default()
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

type runner struct {
	cfg    Config
	rep    *Report
	events []analytics.Event
	bodies [][]byte
}

func (r *runner) log(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, format+"\n", args...)
}

// Run measures everything cfg asks for, one engine after the other, and
// returns the report. It stops at the first error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	r := &runner{cfg: cfg, rep: &Report{Started: time.Now(), Config: cfg}}
	var engines []engine
	for _, name := range cfg.Engines {
		switch name {
		case EngineSQLite:
			engines = append(engines, &sqliteEngine{dir: filepath.Join(cfg.Dir, "tmp")})
		case EnginePostgres:
			pg := &postgresEngine{admin: cfg.PostgresURL}
			if err := pg.reachable(ctx); err != nil {
				return nil, fmt.Errorf("PostgreSQL at %s: %w", redact(cfg.PostgresURL), err)
			}
			engines = append(engines, pg)
		default:
			return nil, fmt.Errorf("unknown engine %q (expected %s or %s)", name, EngineSQLite, EnginePostgres)
		}
	}
	if _, err := SelectTools(cfg.Tools); err != nil {
		return nil, err
	}
	r.rep.Machine = machine(ctx, engines)
	defer os.Remove(filepath.Join(cfg.Dir, "tmp"))

	r.log("generating %s ingest events…", thousands(int64(cfg.Events)))
	var err error
	if r.events, err = ingestEvents(cfg.Events, cfg.Pricer); err != nil {
		return nil, err
	}
	r.bodies = ndjsonBodies(r.events, cfg.Batch)
	for _, eng := range engines {
		if err := r.ingest(ctx, eng); err != nil {
			return nil, fmt.Errorf("%s ingest: %w", eng.name(), err)
		}
		if cfg.SkipScale {
			continue
		}
		if err := r.queries(ctx, eng); err != nil {
			return nil, fmt.Errorf("%s queries: %w", eng.name(), err)
		}
	}
	r.rep.Took = time.Since(r.rep.Started)
	r.rep.Machine.LoadEnd = loadAvg()
	return r.rep, nil
}

// measure stores events along path cfg.Repeat times, each time on a fresh
// database, and records every run; the report gives the median. once
// stores them into db and returns how long that took, its set-up
// (schema, server start) excluded.
func (r *runner) measure(ctx context.Context, eng engine, path Path, events int, once func(db string) (time.Duration, string, error)) error {
	r.log("%s: %s, %s events, %d runs…", eng.name(), path.Label(), thousands(int64(events)), r.cfg.Repeat)
	res := IngestResult{Engine: eng.name(), Path: path, Events: events}
	for range r.cfg.Repeat {
		db, drop, err := eng.fresh(ctx, string(path))
		if err != nil {
			return err
		}
		took, note, err := once(db)
		drop()
		if err != nil {
			return fmt.Errorf("%s: %w", path.Label(), err)
		}
		res.Runs, res.Note = append(res.Runs, took), note
		r.log("  %s events/s", thousands(int64(float64(events)/took.Seconds())))
	}
	r.rep.Ingest = append(r.rep.Ingest, res)
	return nil
}

// stopwatch returns a func that (re)starts it and one that reads it.
func stopwatch() (start func(), elapsed func() time.Duration) {
	t0 := time.Now()
	return func() { t0 = time.Now() }, func() time.Duration { return time.Since(t0) }
}

func (r *runner) ingest(ctx context.Context, eng engine) error {
	cfg := r.cfg
	n := len(r.events)
	err := r.measure(ctx, eng, PathFloor, n, func(db string) (time.Duration, string, error) {
		start, elapsed := stopwatch()
		err := eng.floor(ctx, db, r.events, cfg.Batch, start)
		return elapsed(), "", err
	})
	if err != nil {
		return err
	}
	err = r.measure(ctx, eng, PathStore, n, func(db string) (time.Duration, string, error) {
		s, err := eng.open(ctx, db)
		if err != nil {
			return 0, "", err
		}
		defer s.Close()
		t0 := time.Now()
		err = ingestAll(ctx, s, r.events, cfg.Batch)
		return time.Since(t0), "", err
	})
	if err != nil {
		return err
	}
	err = r.measure(ctx, eng, PathHTTP, n, func(db string) (time.Duration, string, error) {
		srv, err := r.startServer(ctx, eng, db)
		if err != nil {
			return 0, "", err
		}
		t0 := time.Now()
		err = postBatches(ctx, srv.URL, srv.IngestKey, r.bodies, cfg.HTTPClients)
		took := time.Since(t0)
		return took, srv.Wiring, joinErr(err, srv.Stop())
	})
	if err != nil {
		return err
	}
	err = r.measure(ctx, eng, PathSeed, cfg.SeedEvents, func(db string) (time.Duration, string, error) {
		start, elapsed := stopwatch()
		err := runSeed(ctx, eng, db, r.events[:cfg.SeedEvents], start)
		return elapsed(), "", err
	})
	if err != nil {
		return err
	}
	return r.ingestMemory(ctx, eng)
}

// ingestAll stores events through s in batches, all of them fresh.
func ingestAll(ctx context.Context, s analytics.Store, events []analytics.Event, batch int) error {
	for b := range slices.Chunk(events, batch) {
		c, err := s.IngestEvents(ctx, b)
		if err != nil {
			return err
		}
		if c.Accepted != len(b) {
			return fmt.Errorf("accepted %d of %d fresh events", c.Accepted, len(b))
		}
	}
	return nil
}

func (r *runner) startServer(ctx context.Context, eng engine, db string) (*Server, error) {
	if r.cfg.StartServer != nil {
		srv, err := r.cfg.StartServer(ctx, db)
		if err == nil {
			return srv, nil
		}
		r.log("  the application cannot serve %s (%v): using the ingest handler alone", eng.name(), err)
		srv, err2 := ingestOnlyServer(eng, r.cfg.Pricer)(ctx, db)
		if err2 != nil {
			return nil, err2
		}
		srv.Wiring += fmt.Sprintf("; the whole application could not open %s: %v", eng.name(), err)
		return srv, nil
	}
	return ingestOnlyServer(eng, r.cfg.Pricer)(ctx, db)
}

func (r *runner) ingestMemory(ctx context.Context, eng engine) error {
	res := MemoryResult{Engine: eng.name(), Phase: fmt.Sprintf("ingest of %s events over HTTP (%d clients)", thousands(int64(len(r.events))), r.cfg.HTTPClients)}
	defer func() { r.rep.Memory = append(r.rep.Memory, res) }()
	if r.cfg.Binary == "" {
		res.Err = "not measured: no server binary"
		return nil
	}
	db, drop, err := eng.fresh(ctx, "mem")
	if err != nil {
		return err
	}
	defer drop()
	r.log("%s: peak memory of a serve process during ingest…", eng.name())
	idle, peak, rate, err := peakDuringIngest(ctx, r.cfg.Binary, db, r.bodies, r.cfg.HTTPClients)
	if err != nil {
		res.Err = "not measured: " + err.Error()
		r.log("  %s", res.Err)
		return nil
	}
	res.IdleKiB, res.PeakKiB = idle, peak
	res.Note = fmt.Sprintf("%s events/s", thousands(int64(rate)))
	r.log("  peak %.0f MiB", float64(peak)/1024)
	return nil
}

func (r *runner) queries(ctx context.Context, eng engine) error {
	db, rec, err := r.scaleData(ctx, eng)
	if err != nil {
		return err
	}
	s, err := eng.open(ctx, db)
	if err != nil {
		return err
	}
	defer s.Close()
	h, d, err := eng.sqlDB(db)
	if err != nil {
		return err
	}
	defer h.Close()
	real := &analytics.Tools{Store: s}
	raw := &analytics.Tools{Store: &rawStore{Store: s, db: h, d: d}}
	last := r.cfg.Scale.LastDay()
	timed, err := SelectTools(r.cfg.Tools)
	if err != nil {
		return err
	}
	for _, days := range []int{30, 365} {
		for _, tl := range timed {
			res := QueryResult{Engine: eng.name(), Tool: tl.name, Days: days, Goal: tl.goal}
			r.log("%s: %s over %d days…", eng.name(), tl.name, days)
			var want, got []byte
			if res.Rollup, want, err = latencies(ctx, real, tl, last, days, r.cfg.QueryRuns, r.cfg.QueryRuns, 0, true); err != nil {
				return fmt.Errorf("%s: %w", tl.name, err)
			}
			if res.Raw, got, err = latencies(ctx, raw, tl, last, days, r.cfg.RawRuns, r.cfg.RawMinRuns, r.cfg.RawBudget, false); err != nil {
				return fmt.Errorf("%s (raw SQL): %w", tl.name, err)
			}
			res.Same = bytes.Equal(want, got)
			if !res.Same {
				r.log("  the raw-SQL answer differs from the tool's:\n  tool: %.2000s\n  raw:  %.2000s", want, got)
			}
			r.log("  p50 %s p99 %s; raw SQL p50 %s", ms(res.P50()), ms(res.P99()), ms(res.RawP50()))
			r.rep.Queries = append(r.rep.Queries, res)
		}
	}
	s.Close()
	h.Close() // before the reads-during-writes phase copies db: PostgreSQL copies only a database nobody is connected to
	if err := r.exportMemory(ctx, eng, db, rec); err != nil {
		return err
	}
	return r.readsDuringWrites(ctx, eng, db)
}

// exportTables are the tables of export_analytics.
var exportTables = []string{"daily", "users", "stories", "cohorts"}

func (r *runner) exportMemory(ctx context.Context, eng engine, db string, rec scaleRecord) error {
	last := r.cfg.Scale.LastDay()
	start, end := (last - 364).String(), last.String()
	for _, table := range exportTables {
		res := MemoryResult{Engine: eng.name(), Phase: fmt.Sprintf("CSV export of the %s table over 365 days (%s to %s) on the scale data set", table, start, end)}
		if r.cfg.Binary == "" {
			res.Err = "not measured: no server binary"
			r.rep.Memory = append(r.rep.Memory, res)
			continue
		}
		r.log("%s: peak memory of a fresh serve process during a 365-day CSV export of %s…", eng.name(), table)
		idle, peak, size, err := peakDuringExport(ctx, r.cfg.Binary, db, table, start, end)
		if err != nil {
			res.Err = "not measured: " + err.Error()
			r.log("  %s", res.Err)
		} else {
			res.IdleKiB, res.PeakKiB = idle, peak
			res.Note = fmt.Sprintf("%s bytes of CSV from %s events", thousands(size), thousands(rec.Events))
			r.log("  peak %.0f MiB", float64(peak)/1024)
		}
		r.rep.Memory = append(r.rep.Memory, res)
	}
	return nil
}

// scaleData returns the scale data set's database, loading it first unless
// a previous run left one with the same spec and event count.
func (r *runner) scaleData(ctx context.Context, eng engine) (string, scaleRecord, error) {
	spec := r.cfg.Scale
	recPath := filepath.Join(r.cfg.Dir, "scale-"+eng.name()+".json")
	var db string
	var recreate func() error
	switch e := eng.(type) {
	case *sqliteEngine:
		path := filepath.Join(r.cfg.Dir, "scale-sqlite.db")
		db = "sqlite:" + path
		recreate = func() error { removeSQLite(path); return nil }
	case *postgresEngine:
		var err error
		if db, err = e.dbURL(r.cfg.ScalePostgresDB); err != nil {
			return "", scaleRecord{}, err
		}
		recreate = func() error {
			if err := e.dropDB(ctx, r.cfg.ScalePostgresDB); err != nil {
				return err
			}
			_, err := e.create(ctx, r.cfg.ScalePostgresDB)
			return err
		}
	}
	res := ScaleResult{Engine: eng.name(), Spec: spec}
	defer func() { r.rep.Scale = append(r.rep.Scale, res) }()

	if rec, ok := readScaleRecord(recPath); ok && !r.cfg.ReloadScale && rec.Spec.equal(spec) && rec.DB == redact(db) {
		if n, err := countEvents(ctx, eng, db); err == nil && n == rec.Events {
			r.log("%s: reusing the scale data set in %s (%s events, loaded %s)", eng.name(), redact(db), thousands(n), rec.LoadedAt.Format(time.DateOnly))
			res.Record, res.Reused = rec, true
			return db, rec, nil
		}
	}
	r.log("%s: loading the scale data set (%d users, %d days) into %s through the store…", eng.name(), spec.Users, spec.Days, redact(db))
	if err := recreate(); err != nil {
		return "", scaleRecord{}, err
	}
	s, err := eng.open(ctx, db)
	if err != nil {
		return "", scaleRecord{}, err
	}
	start := time.Now()
	n, users, err := loadScale(ctx, s, spec, r.cfg.Pricer, r.log)
	s.Close()
	if err != nil {
		return "", scaleRecord{}, err
	}
	rec := scaleRecord{Spec: spec, DB: redact(db), Events: n, Users: users, LoadedAt: time.Now().UTC(), LoadSecs: time.Since(start).Seconds()}
	r.log("  %s events in %s (%s events/s)", thousands(n), time.Since(start).Round(time.Second), thousands(int64(float64(n)/rec.LoadSecs)))
	if _, ok := eng.(*postgresEngine); ok {
		// What autovacuum does on its own after a bulk load: statistics and
		// the visibility map, so the measured plans are the steady state's.
		r.log("  VACUUM ANALYZE…")
		if err := execSQL(ctx, eng, db, "VACUUM ANALYZE"); err != nil {
			return "", scaleRecord{}, err
		}
	}
	if err := writeScaleRecord(recPath, rec); err != nil {
		return "", scaleRecord{}, err
	}
	res.Record = rec
	return db, rec, nil
}

func (s ScaleSpec) equal(o ScaleSpec) bool {
	return s.Users == o.Users && s.Days == o.Days && s.Seed == o.Seed && s.End.Equal(o.End)
}

func countEvents(ctx context.Context, eng engine, db string) (int64, error) {
	h, _, err := eng.sqlDB(db)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	var n int64
	err = h.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

func execSQL(ctx context.Context, eng engine, db, stmt string) error {
	h, _, err := eng.sqlDB(db)
	if err != nil {
		return err
	}
	defer h.Close()
	_, err = h.ExecContext(ctx, stmt)
	return err
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
