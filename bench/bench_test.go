package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/demo"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/pricing"
	"github.com/google/go-cmp/cmp"
)

var ctx = context.Background()

// postgresOrSkip returns the PostgreSQL maintenance URL, skipping the test
// when the server is down (failing instead when CI=true).
func postgresOrSkip(t *testing.T) string {
	t.Helper()
	u := pgtest.ServerURL()
	if err := (&postgresEngine{admin: u}).reachable(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable: %v", redact(u), err)
		}
		t.Skipf("PostgreSQL at %s is unreachable: %v", redact(u), err)
	}
	return u
}

// engines are the engines a test runs on: SQLite in dir always,
// PostgreSQL when reachable.
func engines(t *testing.T, dir string) map[string]func(t *testing.T) engine {
	return map[string]func(t *testing.T) engine{
		EngineSQLite:   func(t *testing.T) engine { return &sqliteEngine{dir: dir} },
		EnginePostgres: func(t *testing.T) engine { return &postgresEngine{admin: postgresOrSkip(t)} },
	}
}

// TestRawBaselineEqualsTools holds the query baseline honest: the five
// tools over the raw-SQL store give exactly what they give over the real
// store's rollups, for ranges inside, across and outside the data.
func TestRawBaselineEqualsTools(t *testing.T) {
	for name, newEngine := range engines(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			eng := newEngine(t)
			db, drop, err := eng.fresh(ctx, "rawtest")
			if err != nil {
				t.Fatal(err)
			}
			defer drop()
			s, err := eng.open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			spec := ScaleSpec{Users: 300, Days: 60, Seed: 3, End: DataEnd}
			n, _, err := loadScale(ctx, s, spec, pricing.Default(), func(string, ...any) {})
			if err != nil {
				t.Fatal(err)
			}
			if n < 5000 {
				t.Fatalf("only %d events loaded", n)
			}
			h, d, err := eng.sqlDB(db)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			real := &analytics.Tools{Store: s}
			raw := &analytics.Tools{Store: &rawStore{Store: s, db: h, d: d}}
			last := spec.LastDay()
			ranges := map[string]analytics.RangeInput{
				"whole data set":      {StartDate: (last - 59).String(), EndDate: last.String()},
				"last week":           {StartDate: (last - 6).String(), EndDate: last.String()},
				"one day":             {StartDate: (last - 20).String(), EndDate: (last - 20).String()},
				"365 days to the end": {StartDate: (last - 364).String(), EndDate: last.String()},
				"starts before data":  {StartDate: (last - 90).String(), EndDate: (last - 30).String()},
				"after the data":      {StartDate: (last + 1).String(), EndDate: (last + 10).String()},
			}
			for rname, in := range ranges {
				t.Run(rname, func(t *testing.T) {
					same := func(what string, f func(t *analytics.Tools) (any, error)) {
						t.Helper()
						want, err := f(real)
						if err != nil {
							t.Fatalf("%s over the rollups: %v", what, err)
						}
						got, err := f(raw)
						if err != nil {
							t.Fatalf("%s over raw SQL: %v", what, err)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("%s: raw SQL differs from the rollups (-rollups +raw):\n%s", what, diff)
						}
					}
					same("dashboard", func(t *analytics.Tools) (any, error) { return t.DashboardMetrics(ctx, in) })
					same("costs", func(t *analytics.Tools) (any, error) { return t.CostBreakdown(ctx, in) })
					same("growth", func(t *analytics.Tools) (any, error) { return t.UserGrowth(ctx, in) })
					for _, by := range []analytics.SortBy{analytics.SortByCost, analytics.SortByStories, analytics.SortByAPICalls} {
						for _, limit := range []int{10, 100} {
							same("top users by "+string(by), func(t *analytics.Tools) (any, error) {
								return t.TopUsers(ctx, analytics.TopUsersInput{RangeInput: in, Limit: new(limit), SortBy: string(by)})
							})
						}
					}
					same("export", func(t *analytics.Tools) (any, error) {
						return t.ExportAnalytics(ctx, analytics.ExportInput{RangeInput: in, Format: "csv"})
					})
					for _, by := range []string{"margin", "cost", "revenue", "stories"} {
						same("economics by "+by, func(t *analytics.Tools) (any, error) {
							return t.UserEconomics(ctx, analytics.EconomicsInput{RangeInput: in, SortBy: by})
						})
					}
					same("stories", func(t *analytics.Tools) (any, error) {
						return t.StoryCosts(ctx, analytics.StoryCostsInput{RangeInput: in, Limit: new(100)})
					})
					for _, p := range []string{"week", "month"} {
						same("cohorts by "+p, func(t *analytics.Tools) (any, error) {
							return t.Cohorts(ctx, analytics.CohortsInput{RangeInput: in, Period: p})
						})
					}
					same("engagement", func(t *analytics.Tools) (any, error) { return t.Engagement(ctx, in) })
				})
			}
			// The comparison must be able to fail: the data set has top users
			// with emails and days with every kind of event.
			top, err := raw.TopUsers(ctx, analytics.TopUsersInput{RangeInput: ranges["whole data set"], Limit: new(10)})
			if err != nil || len(top.Users) != 10 || top.Users[0].Email == nil || top.Users[0].CostDollars == 0 {
				t.Fatalf("top users over raw SQL: %+v, %v", top, err)
			}
			econ, err := raw.UserEconomics(ctx, analytics.EconomicsInput{RangeInput: ranges["whole data set"]})
			if err != nil || econ.Summary.Users < 100 || econ.Summary.PayingUsers == 0 || econ.Summary.UsersLosingMoney == 0 {
				t.Fatalf("economics over raw SQL: %+v, %v", econ.Summary, err)
			}
			st, err := raw.StoryCosts(ctx, analytics.StoryCostsInput{RangeInput: ranges["whole data set"]})
			if err != nil || st.Completed == 0 || st.CostPerCompletedStory.P90 == nil || len(st.Top) != 10 {
				t.Fatalf("stories over raw SQL: %+v, %v", st, err)
			}
			co, err := raw.Cohorts(ctx, analytics.CohortsInput{RangeInput: ranges["whole data set"]})
			if err != nil || len(co.Cohorts) < 4 || co.Cohorts[0].Retained[1] == 0 {
				t.Fatalf("cohorts over raw SQL: %+v, %v", co, err)
			}
			dash, err := raw.DashboardMetrics(ctx, ranges["whole data set"])
			if err != nil || dash.Totals.ActiveUsers == 0 || dash.Totals.StoriesCompleted == 0 || dash.Totals.Revenue == 0 {
				t.Fatalf("dashboard over raw SQL: %+v, %v", dash.Totals, err)
			}
		})
	}
}

// buildBinary builds codestory-analytics, for the memory figures.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "codestory-analytics")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/codestory/analytics/cmd/codestory-analytics").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunTiny runs the whole bench at a tiny scale and checks the report
// has every figure, each positive, then runs it again to see the scale data
// set reused.
func TestRunTiny(t *testing.T) {
	bin := buildBinary(t)
	// The server binary needs an audit key on PostgreSQL, as the bench
	// command provides.
	t.Setenv("ANALYTICS_AUDIT_KEY", "c45da43afb1f6f1b16c4a3572bd7ee9b2c24ae4bd0705d88101789856fc55c47")
	for name, newEngine := range engines(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			eng := newEngine(t)
			b := make([]byte, 4)
			rand.Read(b)
			cfg := Config{
				Engines:         []string{name},
				Events:          5_000,
				SeedEvents:      300,
				Repeat:          2,
				Scale:           ScaleSpec{Users: 40, Days: 30, Seed: 2, End: DataEnd},
				ScalePostgresDB: "analytics_bench_scale_test_" + hex.EncodeToString(b),
				QueryRuns:       5,
				RawRuns:         2,
				RawMinRuns:      1,
				Readers:         3,
				LoadedFor:       2 * time.Second,
				Dir:             t.TempDir(),
				Binary:          bin,
			}
			if pg, ok := eng.(*postgresEngine); ok {
				cfg.PostgresURL = pg.admin
				t.Cleanup(func() { pg.dropDB(context.Background(), cfg.ScalePostgresDB) })
			}
			var log strings.Builder
			cfg.Log = &log
			rep, err := Run(ctx, cfg)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			for _, p := range []Path{PathFloor, PathStore, PathHTTP, PathSeed} {
				x, ok := rep.ingest(name, p)
				if !ok || len(x.Runs) != 2 || x.Rate() <= 0 {
					t.Errorf("ingest %s: %+v", p, x)
				}
			}
			if x, _ := rep.ingest(name, PathSeed); x.Events != 300 {
				t.Errorf("seed baseline ran %d events, want 300", x.Events)
			}
			if len(rep.Scale) != 1 || rep.Scale[0].Reused || rep.Scale[0].Record.Events < 1000 || rep.Scale[0].Record.Users != 40 {
				t.Errorf("scale data set: %+v", rep.Scale)
			}
			if len(rep.Queries) != 2*len(tools) {
				t.Errorf("%d query results, want %d", len(rep.Queries), 2*len(tools))
			}
			for _, q := range rep.Queries {
				if len(q.Rollup) != 5 || len(q.Raw) < 1 || q.P50() <= 0 || q.RawP50() <= 0 || !q.Same {
					t.Errorf("query %s over %d days: %d runs (p50 %s), %d raw runs (p50 %s), raw answer equal: %v", q.Tool, q.Days, len(q.Rollup), q.P50(), len(q.Raw), q.RawP50(), q.Same)
				}
			}
			// Reads during writes: every read timed in both phases, the
			// ingest at (about) the rate asked, the events stored.
			if len(rep.Load) != 1 || rep.Load[0].Err != "" || rep.Load[0].Events == 0 || rep.Load[0].Target <= 0 {
				t.Fatalf("load during reads: %+v", rep.Load)
			}
			if l := rep.Load[0]; l.Rate() > 1.2*l.Target || l.Rate() < 0.5*l.Target {
				t.Errorf("ingest during reads ran at %.0f events/s, asked %.0f", l.Rate(), l.Target)
			}
			if len(rep.Reads) != len(loadedReads) {
				t.Errorf("%d reads during writes, want %d", len(rep.Reads), len(loadedReads))
			}
			for _, x := range rep.Reads {
				if len(x.Idle) == 0 || len(x.Loaded) == 0 || x.IdleP99() <= 0 {
					t.Errorf("read %s: %d idle, %d loaded calls", x.Tool, len(x.Idle), len(x.Loaded))
				}
			}
			// Ingest over HTTP, the export of each table, reads during writes.
			if len(rep.Memory) != 2+len(exportTables) {
				t.Fatalf("memory: %+v", rep.Memory)
			}
			for _, m := range rep.Memory {
				if m.Err != "" || m.IdleKiB <= 0 || m.PeakKiB < m.IdleKiB {
					t.Errorf("memory, %s: %+v", m.Phase, m)
				}
			}
			md := rep.Markdown()
			for _, want := range []string{"bulk-insert floor", "store, with rollups", "HTTP POST /v1/events", "seed per-call baseline",
				"get_dashboard_metrics", "get_cost_breakdown", "get_user_growth", "get_top_users", "export_analytics", "Peak memory",
				"## Reads during writes", "get_cohorts (weekly)", "## Goals", "CSV export of the users table"} {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q:\n%s", want, md)
				}
			}

			cfg.SkipScale = false
			again, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Scale) != 1 || !again.Scale[0].Reused || again.Scale[0].Record.Events != rep.Scale[0].Record.Events {
				t.Errorf("second run did not reuse the scale data set: %+v", again.Scale)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %s, want %s", c.p, got, c.want)
		}
	}
	if got := percentile(d[:3], 99); got != 100*time.Millisecond {
		t.Errorf("p99 of three = %s, want the largest", got)
	}
}

// TestIngestEventsAreValid: the ingest events go through the HTTP decoder
// unchanged (no rejection would skew the HTTP path's rate).
func TestIngestEventsAreValid(t *testing.T) {
	events, err := ingestEvents(3000, pricing.Default())
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	for i, e := range events {
		users[e.UserID] = true
		var dec analytics.EventDecoder
		got, _, err := dec.DecodeEvent(demo.WireJSON(e))
		if err != nil {
			t.Fatalf("event %d (%s): %v", i, e.ID, err)
		}
		if got.ID != e.ID || !got.Timestamp.Equal(e.Timestamp) {
			t.Fatalf("event %d: decoded %+v from %+v", i, got, e)
		}
	}
	if len(users) < 50 {
		t.Errorf("only %d users in 3,000 events", len(users))
	}
}

// TestSelectTools: a tool is named by its name up to the first space, in
// the report's order, and an unknown name is refused with the known ones.
func TestSelectTools(t *testing.T) {
	got, err := SelectTools([]string{"get_cohorts", "get_user_economics"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "get_user_economics (first page)" || got[1].name != "get_cohorts (weekly)" {
		t.Fatalf("selected %v", got)
	}
	if all, _ := SelectTools(nil); len(all) != len(tools) {
		t.Fatalf("no names selected %d tools, want all %d", len(all), len(tools))
	}
	if _, err := SelectTools([]string{"get_user_economics", "get_everything"}); err == nil ||
		!strings.Contains(err.Error(), "no timed tool named get_everything (known: get_dashboard_metrics") {
		t.Fatalf("unknown tool: %v", err)
	}
}
