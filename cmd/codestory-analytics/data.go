package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/demo"
	"golang.org/x/term"
)

func (e env) ingestKey(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] != "create" {
		return e.ingestKeyLifecycle(ctx, args)
	}
	if len(args) == 0 {
		return usageError{"usage: codestory-analytics ingest-key create --name N [--expires 90d|never] | ingest-key list | ingest-key revoke ID"}
	}
	var c common
	fs := e.flags("ingest-key create", &c)
	name := fs.String("name", "", "what the key is for, e.g. story-backend")
	expires := fs.String("expires", "never", "lifetime: 90d, 12h, 30m… or never")
	if _, err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usageError{"ingest-key create: --name is required"}
	}
	expiry, err := tokenExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	a, err := c.openApp(ctx, appOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	key := auth.NewSecret(auth.IngestKeyPrefix)
	k, err := a.store.CreateIngestKeyExpiring(ctx, *name, auth.HashSecret(key), expiry)
	if err != nil {
		return fmt.Errorf("create ingest key: %w", err)
	}
	if err := e.cliAudit(ctx, a, nil, "ingest-key:"+k.Name, "ingest_key_created", map[string]any{"target_id": k.ID, "name": k.Name,
		"expires_at": fmtTime(k.ExpiresAt, "never")}); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, key)
	fmt.Fprintf(e.stderr, "ingest key %d %q created, expires %s; it is shown only once. Send it as 'Authorization: Bearer <key>' to POST /v1/events.\n",
		k.ID, *name, fmtTime(k.ExpiresAt, "never"))
	return nil
}

// BatchSize is how many events one ingest transaction carries.
const BatchSize = 1000

func (e env) ingest(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("ingest", &c)
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	pricer, err := c.pricer(ctx, s)
	if err != nil {
		return err
	}
	in := &analytics.Ingester{Store: s, Pricer: pricer}

	var r io.Reader = e.stdin
	var size int64
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		r = f
	}
	counted := &countingReader{r: r}
	prog := newProgress(e.stderr, size)
	sc := bufio.NewScanner(counted)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var total analytics.IngestResult
	var batch []json.RawMessage
	var lines []int
	line, rejected := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := in.Ingest(ctx, batch)
		if err != nil {
			return fmt.Errorf("batch ending at line %d: %w", line, err)
		}
		total.Accepted += res.Accepted
		total.Duplicates += res.Duplicates
		for _, rj := range res.Rejected {
			rejected++
			if rejected <= 100 {
				prog.clear()
				fmt.Fprintf(e.stderr, "line %d (id %q): %s\n", lines[rj.Index], rj.ID, rj.Error)
			}
		}
		batch, lines = batch[:0], lines[:0]
		prog.update(counted.n, total.Accepted+total.Duplicates+rejected)
		return nil
	}
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		batch = append(batch, json.RawMessage(b))
		lines = append(lines, line)
		if len(batch) == BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return err
	}
	prog.done()
	fmt.Fprintf(e.stdout, "ingested %d events: %d accepted, %d duplicates, %d rejected in %s\n",
		total.Accepted+total.Duplicates+rejected, total.Accepted, total.Duplicates, rejected, prog.elapsed())
	if rejected > 100 {
		fmt.Fprintf(e.stderr, "(%d more rejections not shown)\n", rejected-100)
	}
	if rejected > 0 {
		return fmt.Errorf("%d line(s) rejected (the other events are stored; fix those lines and ingest the file again: stored ids count as duplicates)", rejected)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress draws a bar on a terminal and stays silent otherwise (the
// summary line is printed either way).
type progress struct {
	w     io.Writer
	tty   bool
	total int64
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, total: total, start: time.Now()}
}

func (p *progress) update(done int64, events int) {
	if !p.tty || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	rate := float64(events) / time.Since(p.start).Seconds()
	if p.total > 0 {
		frac := float64(done) / float64(p.total)
		width := 30
		filled := int(frac * float64(width))
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d events, %.0f/s ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100, events, rate)
	} else {
		fmt.Fprintf(p.w, "\r%d events, %.0f/s ", events, rate)
	}
}

func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) done() { p.clear() }

func (p *progress) elapsed() time.Duration { return time.Since(p.start).Round(time.Millisecond) }

func (e env) demo(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("demo", &c)
	days := fs.Int("days", 90, "days of data, ending today")
	users := fs.Int("users", 2000, "users signed up by the end")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same data)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *days < 1 || *users < 1 {
		return usageError{"demo: --days and --users must be at least 1"}
	}
	c.create = true
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	pricer, err := c.pricer(ctx, s)
	if err != nil {
		return err
	}
	res, err := loadDemo(ctx, &analytics.Ingester{Store: s, Pricer: pricer}, demo.Options{Days: *days, Users: *users, Seed: *seed, End: time.Now()}, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo data: %d events stored (%d already present)\n", res.Accepted, res.Duplicates)
	return nil
}

// loadDemo generates a demo data set straight into the store, priced like
// any other events.
func loadDemo(ctx context.Context, in *analytics.Ingester, opts demo.Options, progressTo io.Writer) (analytics.IngestCounts, error) {
	var total analytics.IngestCounts
	prog := newProgress(progressTo, demo.Estimate(opts))
	err := demo.Generate(opts, func(events []analytics.Event) error {
		for len(events) > 0 {
			n := min(len(events), BatchSize)
			chunk := events[:n]
			events = events[n:]
			for i := range chunk {
				in.Price(&chunk[i])
			}
			c, err := in.Store.IngestEvents(ctx, chunk)
			if err != nil {
				return err
			}
			total.Accepted += c.Accepted
			total.Duplicates += c.Duplicates
			prog.update(int64(total.Accepted+total.Duplicates), total.Accepted+total.Duplicates)
		}
		return nil
	})
	prog.done()
	return total, err
}
