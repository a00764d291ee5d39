package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/demo"
	"github.com/codestory/analytics/pricing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the real codestory-analytics once per test run, for tests
// that must kill it with SIGKILL.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "csa-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "codestory-analytics")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is the server binary running as a child process.
type process struct {
	t    *testing.T
	bin  string
	db   string
	addr string
	env  []string
	cmd  *exec.Cmd
}

func (p *process) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, "serve", "--addr", p.addr, "--db", p.db, "--log-level", "error")
	cmd.Env = append(os.Environ(), append([]string{"ANALYTICS_AUDIT_KEY=" + testAuditKey}, p.env...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get("http://" + p.addr + "/healthz"); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatal("server did not come up")
}

func (p *process) kill() {
	if p.cmd != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		p.cmd = nil
	}
}

func (p *process) cli(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(p.bin, append(args, "--db", p.db)...)
	cmd.Env = append(os.Environ(), append([]string{"ANALYTICS_AUDIT_KEY=" + testAuditKey}, p.env...)...)
	cmd.Stdin = strings.NewReader("a-long-enough-password\n")
	out, err := cmd.Output()
	if err != nil {
		p.t.Fatalf("%v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// faultEvents generates n demo events as NDJSON batches of 1,000, and the
// totals the server must end up with.
type expected struct {
	events, calls int64
	cost          analytics.Micros
}

func faultEvents(t *testing.T, users int) ([][]byte, expected) {
	var batches [][]byte
	var buf bytes.Buffer
	var want expected
	in := &analytics.Ingester{Pricer: pricing.Default()}
	n := 0
	err := demo.Generate(demo.Options{Days: 60, Users: users, Seed: 42, End: time.Now()}, func(evs []analytics.Event) error {
		for _, e := range evs {
			buf.Write(demo.WireJSON(e))
			buf.WriteByte('\n')
			n++
			want.events++
			if e.Type == analytics.EventAPICall {
				want.calls++
				in.Price(&e)
				want.cost += e.Cost
			}
			if n%1000 == 0 {
				batches = append(batches, bytes.Clone(buf.Bytes()))
				buf.Reset()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 0 {
		batches = append(batches, buf.Bytes())
	}
	return batches, want
}

// postRetrying sends a batch until the server answers 200, as a client
// with idempotent retries does.
func postRetrying(ctx context.Context, url, key string, body []byte) (int, error) {
	tries := 0
	for {
		tries++
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				var r analytics.IngestResult
				if err := json.Unmarshal(b, &r); err != nil {
					return tries, err
				}
				if len(r.Rejected) > 0 {
					return tries, fmt.Errorf("rejected: %+v", r.Rejected[0])
				}
				return tries, nil
			}
			if res.StatusCode < 500 {
				return tries, fmt.Errorf("status %d: %s", res.StatusCode, b)
			}
		}
		if ctx.Err() != nil {
			return tries, ctx.Err()
		}
		time.Sleep(time.Duration(20+rand.IntN(30)) * time.Millisecond)
	}
}

// checkTotals compares the server's totals over the whole data set with
// the client's, and runs verify.
func checkTotals(t *testing.T, p *process, want expected) {
	t.Helper()
	tok := p.cli("token", "create", "--email", "owner@example.com", "--name", "check")
	end := time.Now().UTC().Format(time.DateOnly)
	start := time.Now().UTC().AddDate(0, 0, -90).Format(time.DateOnly)
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/admin/analytics/dashboard?start_date="+start+"&end_date="+end, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d analytics.DashboardMetrics
	var raw struct {
		Totals struct {
			APIRequests int64           `json:"api_requests"`
			Cost        json.RawMessage `json:"total_cost_cents"`
		}
	}
	b, _ := io.ReadAll(res.Body)
	json.Unmarshal(b, &raw)
	_ = d
	wantCost, _ := json.Marshal(analytics.Cents(want.cost))
	if raw.Totals.APIRequests != want.calls || string(raw.Totals.Cost) != string(wantCost) {
		t.Errorf("totals: api_requests %d cost %s; want %d and %s", raw.Totals.APIRequests, raw.Totals.Cost, want.calls, wantCost)
	}
	out := p.cli("verify")
	if !strings.Contains(out, fmt.Sprintf("ok: rollups equal a fresh aggregate of %d events", want.events)) {
		t.Errorf("verify: %s (want %d events)", out, want.events)
	}
}

// faultDBs lists the engines the fault tests run on.
func faultDBs(t *testing.T) map[string]func(t *testing.T) string {
	dbs := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "f.db") },
	}
	for name, f := range extraFaultDBs {
		dbs[name] = f
	}
	return dbs
}

// extraFaultDBs is filled by the PostgreSQL test file.
var extraFaultDBs = map[string]func(t *testing.T) string{}

// TestKill9DuringIngest kills the server with SIGKILL at random moments
// while a client ingests 200,000 events and retries failed batches with the
// same ids; afterwards the totals are exact and verify is clean.
func TestKill9DuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	batches, want := faultEvents(t, 4700)
	if want.events < 200_000 {
		t.Fatalf("only %d events generated", want.events)
	}
	for name, newDB := range faultDBs(t) {
		t.Run(name, func(t *testing.T) {
			p := &process{t: t, bin: binary(t), db: newDB(t), addr: freePort(t)}
			p.cli("migrate") // only serve, migrate and demo create a database
			p.cli("admin", "create", "--email", "owner@example.com", "--role", "owner", "--password-stdin")
			key := p.cli("ingest-key", "create", "--name", "faults")
			p.start()
			defer p.kill()

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			done := make(chan error, 1)
			retries := 0
			go func() {
				for _, b := range batches {
					n, err := postRetrying(ctx, "http://"+p.addr, key, b)
					retries += n - 1
					if err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			kills := 0
			var clientErr error
		loop:
			for {
				select {
				case clientErr = <-done:
					break loop
				case <-time.After(time.Duration(100+rng.IntN(400)) * time.Millisecond):
					if kills < 12 {
						p.kill()
						kills++
						p.start()
					}
				}
			}
			if clientErr != nil {
				t.Fatal(clientErr)
			}
			if kills < 10 {
				t.Fatalf("only %d kills happened before the client finished", kills)
			}
			t.Logf("%s: %d kills, %d retried batches", name, kills, retries)
			checkTotals(t, p, want)
		})
	}
}

// TestBadClientsAreRefusedCleanly: an oversized batch, a body cut off
// mid-stream and slow-header clients are refused, nothing of them is
// stored, and the server keeps serving others meanwhile.
func TestBadClientsAreRefusedCleanly(t *testing.T) {
	for name, newDB := range faultDBs(t) {
		t.Run(name, func(t *testing.T) {
			p := &process{t: t, bin: binary(t), db: newDB(t), addr: freePort(t)}
			p.cli("migrate") // only serve, migrate and demo create a database
			p.cli("admin", "create", "--email", "owner@example.com", "--role", "owner", "--password-stdin")
			key := p.cli("ingest-key", "create", "--name", "faults")
			p.start()
			defer p.kill()
			url := "http://" + p.addr
			post := func(body []byte, ctype string) (int, string) {
				req, _ := http.NewRequest("POST", url+"/v1/events", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", ctype)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("post: %v", err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			good := []byte(`{"id":"ok-1","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u1"}` + "\n")

			// Slow clients: connections that send headers a byte at a time.
			var slow []net.Conn
			for i := 0; i < 40; i++ {
				c, err := net.Dial("tcp", p.addr)
				if err != nil {
					t.Fatal(err)
				}
				c.Write([]byte("POST /v1/events HTTP/1.1\r\nHost: x\r\n"))
				slow = append(slow, c)
			}
			defer func() {
				for _, c := range slow {
					c.Close()
				}
			}()

			// 10,001 events in one batch.
			var big bytes.Buffer
			for i := 0; i < 10_001; i++ {
				fmt.Fprintf(&big, `{"id":"big-%d","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`+"\n", i)
			}
			if code, body := post(big.Bytes(), "application/x-ndjson"); code != 413 || !strings.Contains(body, "more than 10000 events") {
				t.Errorf("10,001 events: %d %s", code, body)
			}
			// More bytes than the body limit.
			huge := append([]byte(`{"events":[`), bytes.Repeat([]byte(" "), 33<<20)...)
			if code, _ := post(append(huge, "]}"...), "application/json"); code != 413 {
				t.Errorf("33 MiB body: %d, want 413", code)
			}
			// A body cut off mid-stream: the client promises more than it sends and hangs up.
			c, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			part := big.Bytes()[:50_000]
			fmt.Fprintf(c, "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n", key, big.Len())
			c.Write(part)
			c.Close()

			// Others are served meanwhile.
			for i := 0; i < 5; i++ {
				if code, body := post(good, "application/x-ndjson"); code != 200 {
					t.Fatalf("a good client during the attack: %d %s", code, body)
				}
			}
			// The slow clients are cut off by the header timeout.
			slow[0].SetReadDeadline(time.Now().Add(15 * time.Second))
			if _, err := slow[0].Read(make([]byte, 1)); err == nil {
				b := make([]byte, 200)
				n, _ := slow[0].Read(b)
				if !strings.Contains(string(b[:n]), "408") {
					t.Logf("slow client got an answer: %q", b[:n])
				}
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Error("a slow client was still connected after 15 s")
			}
			time.Sleep(200 * time.Millisecond)
			if out := p.cli("verify"); !strings.Contains(out, "aggregate of 1 events") {
				t.Errorf("only the good event may be stored: %s", out)
			}
		})
	}
}

// TestConcurrentIngestAndReads runs 8 ingesting clients with overlapping
// batches and dashboard readers together for a while: no errors, exact totals.
func TestConcurrentIngestAndReads(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	dur := 60 * time.Second
	if v := os.Getenv("ANALYTICS_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	batches, want := faultEvents(t, 2000)
	for name, newDB := range faultDBs(t) {
		t.Run(name, func(t *testing.T) {
			p := &process{t: t, bin: binary(t), db: newDB(t), addr: freePort(t)}
			p.cli("migrate") // only serve, migrate and demo create a database
			p.cli("admin", "create", "--email", "owner@example.com", "--role", "owner", "--password-stdin")
			var readers []string
			for i := 0; i < 4; i++ {
				email := fmt.Sprintf("reader%d@example.com", i)
				p.cli("admin", "create", "--email", email, "--role", "viewer", "--password-stdin")
				readers = append(readers, p.cli("token", "create", "--email", email, "--name", "soak"))
			}
			key := p.cli("ingest-key", "create", "--name", "soak")
			p.start()
			defer p.kill()
			url := "http://" + p.addr
			ctx, cancel := context.WithTimeout(context.Background(), dur)
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			var mu sync.Mutex
			sent, reads := 0, 0
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 5))
					// Every writer starts at a different batch and goes round:
					// every batch arrives many times.
					for i := rng.IntN(len(batches)); ctx.Err() == nil; i = (i + 1) % len(batches) {
						req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/events", bytes.NewReader(batches[i]))
						req.Header.Set("Authorization", "Bearer "+key)
						req.Header.Set("Content-Type", "application/x-ndjson")
						res, err := http.DefaultClient.Do(req)
						if ctx.Err() != nil {
							return
						}
						if err != nil {
							errs <- err
							return
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != 200 {
							errs <- fmt.Errorf("writer %d: status %d", w, res.StatusCode)
							return
						}
						mu.Lock()
						sent++
						mu.Unlock()
					}
				}(w)
			}
			for i, tok := range readers {
				wg.Add(1)
				go func(i int, tok string) {
					defer wg.Done()
					paths := []string{"/admin/analytics/dashboard", "/admin/analytics/costs", "/admin/analytics/users/growth", "/admin/analytics/users/top"}
					for k := 0; ctx.Err() == nil; k++ {
						req, _ := http.NewRequestWithContext(ctx, "GET", url+paths[k%len(paths)]+"?start_date="+time.Now().UTC().AddDate(0, 0, -365).Format(time.DateOnly), nil)
						req.Header.Set("Authorization", "Bearer "+tok)
						res, err := http.DefaultClient.Do(req)
						if ctx.Err() != nil {
							return
						}
						if err != nil {
							errs <- err
							return
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != 200 {
							errs <- fmt.Errorf("reader %d: status %d", i, res.StatusCode)
							return
						}
						mu.Lock()
						reads++
						mu.Unlock()
						select { // 30 a minute per admin: stay under the limit
						case <-ctx.Done():
						case <-time.After(2100 * time.Millisecond):
						}
					}
				}(i, tok)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if sent < len(batches) {
				t.Fatalf("only %d batches sent in %s, fewer than the %d distinct ones", sent, dur, len(batches))
			}
			t.Logf("%s: %d batches (%d distinct) and %d dashboard reads in %s", name, sent, len(batches), reads, dur)
			checkTotals(t, p, want)
		})
	}
}
