package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Path is a way events reach the database.
type Path string

// The ingest paths, measured on the same rows.
const (
	PathFloor Path = "floor" // bare bulk insert, no rollups
	PathStore Path = "store" // Store.IngestEvents, every rollup
	PathHTTP  Path = "http"  // POST /v1/events, NDJSON
	PathSeed  Path = "seed"  // the seed's per-call read-modify-write
)

// Label describes the path in the report.
func (p Path) Label() string {
	switch p {
	case PathFloor:
		return "bulk-insert floor (no rollups)"
	case PathStore:
		return "store, with rollups"
	case PathHTTP:
		return "HTTP POST /v1/events, with rollups"
	case PathSeed:
		return "seed per-call baseline"
	}
	return string(p)
}

// IngestGoal is the share of the bulk-insert floor that ingest through
// the store, with every rollup, must reach; HTTPIngestGoal the share
// POST /v1/events must (the goals).
const (
	IngestGoal     = 0.60
	HTTPIngestGoal = 0.50
)

// Goal is the share of the floor path p must reach; 0 for the baselines.
func (p Path) Goal() float64 {
	switch p {
	case PathStore:
		return IngestGoal
	case PathHTTP:
		return HTTPIngestGoal
	}
	return 0
}

// MemoryGoalKiB is the most the server's peak resident set may reach in
// any measured phase: 150 MiB.
const MemoryGoalKiB = 150 * 1024

// LoadRateGoal is the share of its target rate the ingest during the
// reads must reach for the phase to count as "at half the maximum rate".
const LoadRateGoal = 0.90

// IngestResult is one ingest path on one engine.
type IngestResult struct {
	Engine string
	Path   Path
	Events int
	Runs   []time.Duration // how long each run took to store Events
	Note   string
}

// Rate is the events stored per second in the median run.
func (r IngestResult) Rate() float64 { return float64(r.Events) / percentile(r.Runs, 50).Seconds() }

// Spread is the slowest and the fastest run's rate.
func (r IngestResult) Spread() (lo, hi float64) {
	return float64(r.Events) / slices.Max(r.Runs).Seconds(), float64(r.Events) / slices.Min(r.Runs).Seconds()
}

// ScaleResult describes the query data set of one engine.
type ScaleResult struct {
	Engine string
	Spec   ScaleSpec
	Record scaleRecord
	Reused bool // loaded by an earlier run
}

// QueryResult is one tool over one range length on one engine: the
// latencies through the rollups and through the raw-SQL baseline.
type QueryResult struct {
	Engine string
	Tool   string
	Days   int
	Goal   time.Duration // at p99
	Rollup []time.Duration
	Raw    []time.Duration
	// Same says the raw-SQL baseline's answer for the first range equals
	// the tool's, byte for byte as JSON.
	Same bool
}

// P50 and P99 are the tool's latency percentiles; RawP50 and RawP99 the
// baseline's.
func (q QueryResult) P50() time.Duration    { return percentile(q.Rollup, 50) }
func (q QueryResult) P99() time.Duration    { return percentile(q.Rollup, 99) }
func (q QueryResult) RawP50() time.Duration { return percentile(q.Raw, 50) }
func (q QueryResult) RawP99() time.Duration { return percentile(q.Raw, 99) }

// Met reports whether p99 is within the goal.
func (q QueryResult) Met() bool { return q.P99() <= q.Goal }

// MemoryResult is the server's peak resident memory in one phase.
type MemoryResult struct {
	Engine  string
	Phase   string
	IdleKiB int64 // VmHWM once the server answered /healthz
	PeakKiB int64 // VmHWM after the phase
	Note    string
	Err     string // why it was not measured
}

// Machine is what the figures were measured on.
type Machine struct {
	CPUs     int
	CPUModel string
	MemTotal string
	OS       string
	Go       string
	Engines  []string
	LoadAvg  string // at the start
	LoadEnd  string // at the end
	Revision string // the code measured: VCS revision of the binary
}

func machine(ctx context.Context, engines []engine) Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	m.LoadAvg = loadAvg()
	m.Revision = revision()
	for _, e := range engines {
		m.Engines = append(m.Engines, e.version(ctx))
	}
	return m
}

// revision is the git commit the binary was built from ("+ uncommitted
// changes" when the tree had some), or, when the build did not record it
// (-buildvcs=false), the working tree's at the start of the run.
func revision() string {
	var rev, dirty string
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = " + uncommitted changes"
				}
			}
		}
	}
	if rev == "" {
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			return "an unknown revision"
		}
		rev = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			dirty = " + uncommitted changes"
		}
	}
	return "commit " + rev[:min(12, len(rev))] + dirty
}

// loadAvg is the 1, 5 and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// procField is the value of the first "name: value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// Report is everything one run measured.
type Report struct {
	Config  Config
	Machine Machine
	Started time.Time
	Took    time.Duration
	Ingest  []IngestResult
	Scale   []ScaleResult
	Queries []QueryResult
	Memory  []MemoryResult
	Reads   []ReadResult // reads during writes
	Load    []LoadResult // the ingest during them
}

func (r *Report) ingest(engine string, p Path) (IngestResult, bool) {
	for _, x := range r.Ingest {
		if x.Engine == engine && x.Path == p {
			return x, true
		}
	}
	return IngestResult{}, false
}

// Verdicts lists every goal with its outcome, met or missed.
func (r *Report) Verdicts() (met, missed []string) {
	add := func(ok bool, s string) {
		if ok {
			met = append(met, s)
		} else {
			missed = append(missed, s)
		}
	}
	for _, x := range r.Ingest {
		if x.Path.Goal() == 0 {
			continue
		}
		if floor, ok := r.ingest(x.Engine, PathFloor); ok {
			share := x.Rate() / floor.Rate()
			add(share >= x.Path.Goal(), fmt.Sprintf("%s %s: %.0f%% of the bulk-insert floor (goal ≥ %.0f%%)", x.Engine, x.Path.Label(), share*100, x.Path.Goal()*100))
		}
	}
	for _, q := range r.Queries {
		if q.Days == 365 {
			add(q.Met(), fmt.Sprintf("%s %s over 365 days: p99 %s (goal ≤ %s)", q.Engine, q.Tool, ms(q.P99()), ms(q.Goal)))
		}
	}
	for _, q := range r.Queries {
		add(q.Same, fmt.Sprintf("%s %s over %d days: the raw-SQL answer equals the tool's", q.Engine, q.Tool, q.Days))
	}
	for _, l := range r.Load {
		if l.Err != "" {
			add(false, fmt.Sprintf("%s reads during writes: %s", l.Engine, l.Err))
			continue
		}
		add(l.Rate() >= LoadRateGoal*l.Target, fmt.Sprintf("%s ingest during the reads: %s events/s of the %s asked (goal ≥ %.0f%%)", l.Engine,
			thousands(int64(l.Rate())), thousands(int64(l.Target)), LoadRateGoal*100))
	}
	for _, x := range r.Reads {
		add(x.Met(), fmt.Sprintf("%s %s during ingest: p99 %s, %s× its idle %s (goal ≤ %.0f×)", x.Engine, x.Tool, ms(x.LoadedP99()),
			ratio(x.LoadedP99(), x.IdleP99()), ms(x.IdleP99()), LoadedGoal))
	}
	for _, x := range r.Memory {
		if x.Err != "" {
			add(false, fmt.Sprintf("%s peak memory, %s: %s", x.Engine, x.Phase, x.Err))
			continue
		}
		add(x.PeakKiB <= MemoryGoalKiB, fmt.Sprintf("%s peak memory, %s: %s (goal ≤ %s)", x.Engine, x.Phase, mib(x.PeakKiB), mib(MemoryGoalKiB)))
	}
	return met, missed
}

// Markdown renders the report: a summary of the goals, then the ingest,
// query and memory figures.
func (r *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	c := r.Config
	m := r.Machine
	w("# Performance\n\n")
	w("How fast CodeStory Analytics ingests and answers, and how much memory its server needs. Every figure and verdict below comes from one run of `codestory-analytics bench`, which wrote this file; edit the bench, not the file. Measurements of single changes, and the analyses of where the time goes, are in [performance-history.md](performance-history.md).\n\n")
	w("## Reproduce\n\n```sh\n")
	if c.Command != "" {
		w("%s    # this run\n", c.Command)
	}
	w("go run ./cmd/codestory-analytics bench --out docs/performance.md    # everything, both engines\n")
	w("go run ./cmd/codestory-analytics bench --engines sqlite --skip-scale    # ingest only, a few minutes\n")
	w("make bench    # the Go benchmarks of ingest (events/s)\n```\n\n")
	w("The query data set (%s users, %d days, demo seed %d) is generated by `demo`, loaded through the store and kept in `--dir` (SQLite) and the `%s` database (PostgreSQL), so a second run skips loading it (`--reload-scale` loads it again). PostgreSQL is reached at `--pg`.\n\n",
		thousands(int64(c.Scale.Users)), c.Scale.Days, c.Scale.Seed, c.ScalePostgresDB)
	w("## Machine\n\n")
	w("Measured %s, the run took %s, code at %s. %d CPUs (%s), %s RAM, %s, %s; %s. Load average (1, 5, 15 min) at the start %s, at the end %s: other work on the machine adds noise.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second), m.Revision, m.CPUs, m.CPUModel, m.MemTotal, m.OS, m.Go,
		strings.Join(m.Engines, ", "), m.LoadAvg, m.LoadEnd)

	met, missed := r.Verdicts()
	w("## Goals\n\n")
	if len(missed) == 0 {
		w("**Every goal met** (%d):\n\n", len(met))
	} else {
		w("**%d goal(s) MISSED**, %d met:\n\n", len(missed), len(met))
	}
	for _, s := range missed {
		w("- **MISSED**: %s\n", s)
	}
	for _, s := range met {
		w("- met: %s\n", s)
	}
	w("\n")

	w("## Ingest: %s events in batches of %s\n\n", thousands(int64(c.Events)), thousands(int64(c.Batch)))
	w("The same generated, priced events on every path, each on a fresh database, one writer unless said otherwise.\n\n")
	w("- Floor: the same rows into the real `events` table and nothing else; SQLite: a prepared 100-row INSERT, one transaction per batch; PostgreSQL: COPY (pgx CopyFrom) of each batch, one transaction each. On PostgreSQL the store also records every id in `event_ids` (its dedup index: the month-partitioned `events` cannot hold a unique id), which the floor does not.\n")
	w("- Store: `Store.IngestEvents` per batch, every rollup updated in the same transaction.\n")
	w("- HTTP: NDJSON bodies of %s events from %d concurrent clients to a server in the bench's process (decoding, validation and pricing included). Two transactions in flight let PostgreSQL overlap one's commit with the other's work; SQLite has one writer.\n",
		thousands(int64(c.Batch)), c.HTTPClients)
	w("- Seed: the seed's log_api_call design, one transaction per event (insert the log row, read then rewrite the day's metrics row and the user's activity row), on the first %s events, synchronous commits.\n\n",
		thousands(int64(c.SeedEvents)))
	w("| engine | path | events | events/s (median of %d) | slowest–fastest run | ÷ floor | × seed | goal: share of floor | verdict |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n", c.Repeat)
	var notes []string
	for _, x := range r.Ingest {
		floor, hasFloor := r.ingest(x.Engine, PathFloor)
		seed, hasSeed := r.ingest(x.Engine, PathSeed)
		ratioFloor, ratioSeed, goal, verdict := "", "", "", ""
		if hasFloor {
			ratioFloor = fmt.Sprintf("%.0f%%", x.Rate()/floor.Rate()*100)
		}
		if hasSeed {
			ratioSeed = fmt.Sprintf("%.1f×", x.Rate()/seed.Rate())
		}
		if hasFloor && x.Path.Goal() > 0 {
			goal = fmt.Sprintf("≥ %.0f%%", x.Path.Goal()*100)
			verdict = verdictWord(x.Rate()/floor.Rate() >= x.Path.Goal())
		}
		lo, hi := x.Spread()
		w("| %s | %s | %s | %s | %s–%s | %s | %s | %s | %s |\n", x.Engine, x.Path.Label(), thousands(int64(x.Events)), thousands(int64(x.Rate())),
			thousands(int64(lo)), thousands(int64(hi)), ratioFloor, ratioSeed, goal, verdict)
		if x.Note != "" {
			notes = append(notes, fmt.Sprintf("%s, %s: %s", x.Engine, x.Path.Label(), x.Note))
		}
	}
	w("\n")
	for _, n := range notes {
		w("- %s\n", n)
	}
	if len(notes) > 0 {
		w("\n")
	}

	if len(r.Queries) > 0 {
		w("## Query latency on the scale data set\n\n")
		for _, s := range r.Scale {
			how := fmt.Sprintf("loaded through the store in batches of 1,000 at %s events/s", thousands(int64(float64(s.Record.Events)/s.Record.LoadSecs)))
			if s.Reused {
				how = fmt.Sprintf("reused, as loaded on %s through the store at %s events/s", s.Record.LoadedAt.Format(time.DateOnly), thousands(int64(float64(s.Record.Events)/s.Record.LoadSecs)))
			}
			w("- %s: %s events, %s users, %d days to %s (demo seed %d); %s.\n", s.Engine, thousands(s.Record.Events), thousands(int64(s.Record.Users)),
				s.Spec.Days, s.Spec.LastDay(), s.Spec.Seed, how)
		}
		w("\nEach tool is called as its REST handler calls it (`analytics.Tools`; the export writes its CSV), %d times per range with the end date stepping back a day each call, after one warm-up call. The raw-SQL baseline is the same tool code over a store whose reads are plain aggregates of the `events` table (GROUP BY day, COUNT(DISTINCT user_id), GROUP BY user_id …), %d–%d runs without warm-up. The first call's answer of each is compared with the tool's, as JSON, in this run (a test holds them equal on small data sets too).\n\n",
			c.QueryRuns, c.RawMinRuns, c.RawRuns)
		w("| engine | tool | days | p50 | p99 | raw SQL p50 | raw SQL p99 | raw ÷ rollups (p50) | raw = tool | goal: p99 ≤ | verdict |\n|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|\n")
		for _, q := range r.Queries {
			verdict := verdictWord(q.Met())
			if q.Days != 365 {
				verdict += " (goal is for 365 days)"
			}
			same := "equal"
			if !q.Same {
				same = "**DIFFERENT**"
			}
			w("| %s | %s | %d | %s | %s | %s | %s (%d runs) | %s× | %s | %s | %s |\n", q.Engine, q.Tool, q.Days, ms(q.P50()), ms(q.P99()),
				ms(q.RawP50()), ms(q.RawP99()), len(q.Raw), ratio(q.RawP50(), q.P50()), same, ms(q.Goal), verdict)
		}
		w("\n")
	}

	if len(r.Load) > 0 {
		w("## Reads during writes\n\n")
		w("The server binary (`serve --rate-limit 1000000`, so that the loop is not refused) on a copy of the scale data set. %d readers, each an analyst with a token of their own, call the dashboard's reads over REST in a loop, each over %d days ending on the data set's last day or up to six days before it: first for %s with no writer (idle), then for %s while %d clients post NDJSON batches of %s events on a fixed schedule at half the HTTP path's median rate above (loaded). The events fall on the data set's last 30 days, the days the reads cover. Every read is audited, as in production.\n\n",
			c.Readers, loadedDays, c.LoadedFor, c.LoadedFor, c.HTTPClients, thousands(int64(c.Batch)))
		for _, l := range r.Load {
			if l.Err != "" {
				w("- %s: %s\n", l.Engine, l.Err)
				continue
			}
			w("- %s: ingest asked %s events/s, reached %s events/s (%s events in %s; %d batches sent late).\n", l.Engine, thousands(int64(l.Target)),
				thousands(int64(l.Rate())), thousands(int64(l.Events)), l.Took.Round(100*time.Millisecond), l.Behind)
		}
		w("\n| engine | read | calls idle | idle p50 | idle p99 | calls loaded | loaded p50 | loaded p99 | loaded ÷ idle (p99) | goal | verdict |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, x := range r.Reads {
			w("| %s | %s | %d | %s | %s | %d | %s | %s | %s× | ≤ %.0f× | %s |\n", x.Engine, x.Tool, len(x.Idle), ms(percentile(x.Idle, 50)), ms(x.IdleP99()),
				len(x.Loaded), ms(percentile(x.Loaded, 50)), ms(x.LoadedP99()), ratio(x.LoadedP99(), x.IdleP99()), LoadedGoal, verdictWord(x.Met()))
		}
		w("\n")
	}

	if len(r.Memory) > 0 {
		w("## Peak memory of the server\n\n")
		w("The server binary running `serve` as a child process; VmHWM (peak resident set) from /proc once it answers /healthz, and again after the phase.\n\n")
		w("| engine | phase | peak RSS at start | peak RSS after | goal | verdict | note |\n|---|---|---:|---:|---:|---|---|\n")
		for _, x := range r.Memory {
			if x.Err != "" {
				w("| %s | %s | – | – | ≤ %s | **MISSED** | %s |\n", x.Engine, x.Phase, mib(MemoryGoalKiB), x.Err)
				continue
			}
			w("| %s | %s | %s | %s | ≤ %s | %s | %s |\n", x.Engine, x.Phase, mib(x.IdleKiB), mib(x.PeakKiB), mib(MemoryGoalKiB), verdictWord(x.PeakKiB <= MemoryGoalKiB), x.Note)
		}
		w("\n")
	}
	return b.String()
}

func verdictWord(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	v := float64(a) / float64(b)
	switch {
	case v >= 100:
		return thousands(int64(v + 0.5))
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ms formats a latency in milliseconds, with precision where it is small.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 1000:
		return thousands(int64(v+0.5)) + " ms"
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// redact hides a URL's password.
func redact(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		return u.Redacted()
	}
	return db
}
