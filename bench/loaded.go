package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	analytics "github.com/codestory/analytics"
)

// LoadedGoal is how far a read's p99 may rise while ingest runs: at most
// this many times its idle p99 (the goal).
const LoadedGoal = 2.0

// read is one of the dashboard's reads, called over HTTP as the dashboard
// calls it.
type read struct {
	tool, path, query string
}

// loadedReads are the reads the readers cycle through while ingest runs.
var loadedReads = []read{
	{"get_dashboard_metrics", "/admin/analytics/dashboard", ""},
	{"get_cost_breakdown", "/admin/analytics/costs", ""},
	{"get_top_users", "/admin/analytics/users/top", ""},
	{"get_user_economics (first page)", "/admin/analytics/users/economics", ""},
	{"get_cohorts (weekly)", "/admin/analytics/cohorts", "&period=week"},
}

// ReadResult is one read's latencies with no writer (Idle) and while
// ingest runs (Loaded), on one engine.
type ReadResult struct {
	Engine       string
	Tool         string
	Idle, Loaded []time.Duration
}

// IdleP99 and LoadedP99 are the read's p99 in each phase.
func (r ReadResult) IdleP99() time.Duration   { return percentile(r.Idle, 99) }
func (r ReadResult) LoadedP99() time.Duration { return percentile(r.Loaded, 99) }

// Met reports whether the loaded p99 is within LoadedGoal × the idle p99.
func (r ReadResult) Met() bool {
	return len(r.Loaded) > 0 && float64(r.LoadedP99()) <= LoadedGoal*float64(r.IdleP99())
}

// LoadResult is the ingest that ran during the loaded phase on one engine.
type LoadResult struct {
	Engine string
	Target float64       // events/s asked for: half the HTTP path's median rate
	Events int           // events the server accepted during the phase
	Took   time.Duration // the phase
	Behind int           // batches sent later than their schedule said
	Err    string
}

// Rate is the ingest rate achieved during the loaded phase.
func (l LoadResult) Rate() float64 {
	if l.Took <= 0 {
		return 0
	}
	return float64(l.Events) / l.Took.Seconds()
}

// loadedDays is the range of every read during the phase: the dashboard's
// month.
const loadedDays = 30

// readsDuringWrites serves a copy of the scale data set from the server
// binary and times the readers' calls twice, for cfg.LoadedFor each: with
// no writer, then while events are posted at half the HTTP path's median
// rate. It records the server's peak memory too.
func (r *runner) readsDuringWrites(ctx context.Context, eng engine, scale string) error {
	cfg := r.cfg
	httpPath, ok := r.rep.ingest(eng.name(), PathHTTP)
	load := LoadResult{Engine: eng.name()}
	mem := MemoryResult{Engine: eng.name()}
	defer func() {
		r.rep.Load = append(r.rep.Load, load)
		r.rep.Memory = append(r.rep.Memory, mem)
	}()
	if !ok {
		load.Err = "not measured: no HTTP ingest rate to halve"
		mem.Phase, mem.Err = "reads during writes", load.Err
		return nil
	}
	load.Target = httpPath.Rate() / 2
	mem.Phase = fmt.Sprintf("reads during writes: %d readers, ingest at %s events/s", cfg.Readers, thousands(int64(load.Target)))
	if cfg.Binary == "" {
		load.Err, mem.Err = "not measured: no server binary", "not measured: no server binary"
		return nil
	}

	batches := int(math.Ceil(load.Target*(cfg.LoadedFor.Seconds()+30)/float64(cfg.Batch))) + 1
	r.log("%s: reads during writes: generating %s events to post at %s events/s…", eng.name(), thousands(int64(batches*cfg.Batch)), thousands(int64(load.Target)))
	bodies, err := generatedBodies(batches*cfg.Batch, cfg.Batch, cfg.Pricer)
	if err != nil {
		return err
	}
	r.log("%s: copying the scale data set…", eng.name())
	db, drop, err := eng.clone(ctx, scale, "loaded")
	if err != nil {
		return err
	}
	defer drop()

	c := &child{bin: cfg.Binary, db: db, args: []string{"--rate-limit", "1000000"}}
	tokens := make([]string, cfg.Readers)
	for i := range tokens {
		if tokens[i], err = c.analystToken(ctx, fmt.Sprintf("bench-reader-%d-%d@codestory.local", i, time.Now().UnixNano())); err != nil {
			return err
		}
	}
	key, err := c.cli(ctx, "", "ingest-key", "create", "--name", "bench-loaded")
	if err != nil {
		return err
	}
	if err := c.start(ctx); err != nil {
		return err
	}
	defer c.stop()
	if mem.IdleKiB, err = c.memKiB("VmHWM"); err != nil {
		return err
	}
	last := r.cfg.Scale.LastDay()

	r.log("%s: %d readers for %s, no writer…", eng.name(), cfg.Readers, cfg.LoadedFor)
	idle, err := readLoop(ctx, c.url(), tokens, last, cfg.LoadedFor)
	if err != nil {
		return fmt.Errorf("idle reads: %w", err)
	}

	r.log("%s: %d readers for %s, ingest at %s events/s…", eng.name(), cfg.Readers, cfg.LoadedFor, thousands(int64(load.Target)))
	wctx, stopWriters := context.WithCancel(ctx)
	w := &pacedWriter{url: c.url(), key: key, bodies: bodies, batch: cfg.Batch, rate: load.Target}
	done := w.start(wctx, cfg.HTTPClients)
	t0 := time.Now()
	loaded, rerr := readLoop(ctx, c.url(), tokens, last, cfg.LoadedFor)
	stopWriters()
	werr := <-done
	load.Took = time.Since(t0)
	load.Events, load.Behind = int(w.posted.Load())*cfg.Batch, int(w.behind.Load())
	if rerr != nil {
		return fmt.Errorf("reads during ingest: %w", rerr)
	}
	if werr != nil {
		return fmt.Errorf("ingest during reads: %w", werr)
	}
	if w.ranOut.Load() {
		load.Err = "the generated events ran out before the phase ended"
	}
	if mem.PeakKiB, err = c.memKiB("VmHWM"); err != nil {
		return err
	}
	mem.Note = fmt.Sprintf("%s events/s achieved", thousands(int64(load.Rate())))
	for _, rd := range loadedReads {
		res := ReadResult{Engine: eng.name(), Tool: rd.tool, Idle: idle[rd.tool], Loaded: loaded[rd.tool]}
		r.log("  %s: p99 idle %s, loaded %s", rd.tool, ms(res.IdleP99()), ms(res.LoadedP99()))
		r.rep.Reads = append(r.rep.Reads, res)
	}
	r.log("  ingest %s events/s (asked %s), peak RSS %s", thousands(int64(load.Rate())), thousands(int64(load.Target)), mib(mem.PeakKiB))
	return nil
}

// readLoop runs one reader per token for d: each cycles through
// loadedReads, its range of loadedDays ending on last or up to six days
// before it, and records every call's latency by tool. A failed call
// stops the loop with its error.
func readLoop(ctx context.Context, base string, tokens []string, last analytics.Day, d time.Duration) (map[string][]time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		out   = map[string][]time.Duration{}
		first error
		wg    sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens)}}
	for i, token := range tokens {
		wg.Go(func() {
			for n := i; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				rd := loadedReads[n%len(loadedReads)]
				end := last - analytics.Day(n%7)
				u := base + rd.path + "?start_date=" + url.QueryEscape((end - loadedDays + 1).String()) + "&end_date=" + url.QueryEscape(end.String()) + rd.query
				t0 := time.Now()
				err := getOK(ctx, client, u, token)
				took := time.Since(t0)
				mu.Lock()
				if err != nil && first == nil && ctx.Err() == nil {
					first = fmt.Errorf("%s: %w", rd.tool, err)
					cancel()
				}
				if err == nil {
					out[rd.tool] = append(out[rd.tool], took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out, first
}

func getOK(ctx context.Context, client *http.Client, u, token string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
		return fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// pacedWriter posts bodies of batch events at rate events/s: body k is
// due at k·batch/rate seconds after the start, and is sent then by the
// first free client (at once when the clients are behind).
type pacedWriter struct {
	url, key string
	bodies   [][]byte
	batch    int
	rate     float64

	next, posted, behind atomic.Int64
	ranOut               atomic.Bool
}

// start runs clients senders until ctx is done; the channel gives the
// first error, or nil, once they have all stopped.
func (w *pacedWriter) start(ctx context.Context, clients int) <-chan error {
	done := make(chan error, 1)
	t0 := time.Now()
	interval := time.Duration(float64(w.batch) / w.rate * float64(time.Second))
	client := &http.Client{}
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(clients, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(w.next.Add(1) - 1)
				if k >= len(w.bodies) {
					w.ranOut.Store(true)
					return
				}
				due := t0.Add(time.Duration(k) * interval)
				if wait := time.Until(due); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
					}
				} else if wait < -interval {
					w.behind.Add(1)
				}
				if err := postOne(ctx, client, w.url, w.key, w.bodies[k]); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { first = err })
					}
					return
				}
				w.posted.Add(1)
			}
		})
	}
	go func() {
		wg.Wait()
		done <- first
	}()
	return done
}
