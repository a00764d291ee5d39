package client

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/codestory/analytics/internal/poll"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeIngest is a stand-in for POST /v1/events that records every batch and
// answers with the statuses queued in fail first.
type fakeIngest struct {
	mu      sync.Mutex
	srv     *httptest.Server
	batches [][]Event // every attempt, failed ones included
	stored  map[string]bool
	fail    []int    // statuses to answer before succeeding
	retryAt []string // Retry-After for each failure
	times   []time.Time
	hold    chan struct{} // when set, every request waits for it
	arrived atomic.Int64  // requests received (before hold)
}

func newFakeIngest(t *testing.T) *fakeIngest {
	f := &fakeIngest{stored: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.arrived.Add(1)
		if f.hold != nil {
			<-f.hold
		}
		if r.URL.Path != "/v1/events" || r.Header.Get("Authorization") != "Bearer key" {
			http.Error(w, "wrong request", 400)
			return
		}
		var body struct{ Events []Event }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.batches = append(f.batches, body.Events)
		f.times = append(f.times, time.Now())
		if len(f.fail) > 0 {
			status := f.fail[0]
			f.fail = f.fail[1:]
			if len(f.retryAt) > 0 {
				w.Header().Set("Retry-After", f.retryAt[0])
				f.retryAt = f.retryAt[1:]
			}
			http.Error(w, "try later", status)
			return
		}
		res := map[string]any{"accepted": 0, "duplicates": 0, "rejected": []any{}}
		acc, dup := 0, 0
		for _, e := range body.Events {
			if f.stored[e.ID] {
				dup++
			} else {
				f.stored[e.ID] = true
				acc++
			}
		}
		res["accepted"], res["duplicates"] = acc, dup
		json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIngest) snapshot() (batches [][]Event, stored int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]Event(nil), f.batches...), len(f.stored)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, 10*time.Second, 5*time.Millisecond, what, cond)
}

// checkNoLeak fails when goroutines started during the test are still
// running after it (polled: exiting goroutines take a moment).
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	if !poll.Within(5*time.Second, 10*time.Millisecond, func() bool { return runtime.NumGoroutine() <= before }) {
		buf := make([]byte, 1<<16)
		n := runtime.Stack(buf, true)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:n])
	}
}

func TestBatchesBySizeAndInterval(t *testing.T) {
	f := newFakeIngest(t)
	c := New(f.srv.URL, "key", WithBatchSize(10), WithFlushInterval(50*time.Millisecond), WithLogger(quiet()))
	defer c.Close(context.Background())
	for i := 0; i < 25; i++ {
		if err := c.Send(context.Background(), Event{Type: "user_churned", UserID: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	// 10 and 10 go by size; the last 5 by the interval, without Flush.
	waitFor(t, "25 events stored", func() bool { _, n := f.snapshot(); return n == 25 })
	batches, _ := f.snapshot()
	var sizes []int
	for _, b := range batches {
		sizes = append(sizes, len(b))
	}
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
		t.Errorf("batch sizes %v, want [10 10 5]", sizes)
	}
	ids := map[string]bool{}
	for _, b := range batches {
		for _, e := range b {
			if !strings.HasPrefix(e.ID, "ev_") || ids[e.ID] || e.Timestamp.IsZero() {
				t.Fatalf("event %+v: each needs a unique generated id and a timestamp", e)
			}
			ids[e.ID] = true
		}
	}
	if s := c.Stats(); s.Accepted != 25 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestRetriesKeepIDsAndHonourRetryAfter(t *testing.T) {
	f := newFakeIngest(t)
	f.fail = []int{503, 429, 500}
	f.retryAt = []string{"0", "1", ""}
	c := New(f.srv.URL, "key", WithBackoff(time.Millisecond, 2*time.Millisecond), WithLogger(quiet()))
	evs := []Event{{Type: "user_churned", UserID: "a"}, {ID: "mine", Type: "user_churned", UserID: "b"}}
	if err := c.Send(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches, stored := f.snapshot()
	if len(batches) != 4 || stored != 2 {
		t.Fatalf("%d attempts, %d stored; want 4 attempts and 2 stored", len(batches), stored)
	}
	for i := 1; i < 4; i++ {
		for j := range batches[i] {
			if batches[i][j].ID != batches[0][j].ID {
				t.Errorf("attempt %d sent id %q, the first sent %q: a retry must keep ids", i, batches[i][j].ID, batches[0][j].ID)
			}
		}
	}
	if batches[0][1].ID != "mine" {
		t.Errorf("a caller's id must be kept, got %q", batches[0][1].ID)
	}
	// The 429 said Retry-After: 1; the backoff alone would be ~2 ms.
	if gap := f.times[2].Sub(f.times[1]); gap < 900*time.Millisecond {
		t.Errorf("retry after a 429 with Retry-After: 1 came %v later", gap)
	}
	if s := c.Stats(); s.Retries != 3 || s.Accepted != 2 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 3 retries, 2 accepted", s)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), Event{Type: "user_churned", UserID: "c"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}

func TestRefusedBatchIsDroppedNotRetried(t *testing.T) {
	f := newFakeIngest(t)
	f.fail = []int{400}
	c := New(f.srv.URL, "key", WithLogger(quiet()))
	c.Send(context.Background(), Event{Type: "user_churned", UserID: "a"})
	c.Flush(context.Background())
	if batches, _ := f.snapshot(); len(batches) != 1 {
		t.Errorf("a 400 was retried: %d attempts", len(batches))
	}
	if s := c.Stats(); s.Dropped != 1 || s.Retries != 0 {
		t.Errorf("stats %+v", s)
	}
	c.Close(context.Background())
}

func TestFullBuffer(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		f := newFakeIngest(t)
		f.hold = make(chan struct{})
		c := New(f.srv.URL, "key", WithBufferSize(5), WithBatchSize(1), WithDropWhenFull(), WithLogger(quiet()))
		c.Send(context.Background(), Event{Type: "user_churned", UserID: "a"})
		waitFor(t, "the first batch in flight", func() bool { return f.arrived.Load() == 1 })
		for i := 1; i < 20; i++ {
			if err := c.Send(context.Background(), Event{Type: "user_churned", UserID: "a"}); err != nil {
				t.Fatal(err)
			}
		}
		// One batch of 1 is in flight (held), 5 wait: the other 14 are dropped.
		if s := c.Stats(); s.Dropped != 14 {
			t.Errorf("dropped %d, want 14", s.Dropped)
		}
		close(f.hold)
		c.Close(context.Background())
		if s := c.Stats(); s.Accepted != 6 || s.Dropped != 14 {
			t.Errorf("stats %+v, want 6 accepted + 14 dropped", s)
		}
	})
	t.Run("block", func(t *testing.T) {
		f := newFakeIngest(t)
		f.hold = make(chan struct{})
		c := New(f.srv.URL, "key", WithBufferSize(5), WithBatchSize(1), WithLogger(quiet()))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		c.Send(ctx, Event{Type: "user_churned", UserID: "a"})
		waitFor(t, "the first batch in flight", func() bool { return f.arrived.Load() == 1 })
		var err error
		sent := 1
		for i := 1; i < 20 && err == nil; i++ {
			if err = c.Send(ctx, Event{Type: "user_churned", UserID: "a"}); err == nil {
				sent++
			}
		}
		if !errors.Is(err, context.DeadlineExceeded) || sent != 6 {
			t.Errorf("Send on a full buffer: %v after %d events, want a deadline after 6", err, sent)
		}
		close(f.hold)
		c.Close(context.Background())
		if s := c.Stats(); s.Accepted != 6 || s.Dropped != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	f := newFakeIngest(t)
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		c := New(f.srv.URL, "key", WithLogger(quiet()))
		c.Send(context.Background(), Event{Type: "user_churned", UserID: "a"})
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	checkNoLeak(t, before)
	if _, n := f.snapshot(); n != 3 {
		t.Errorf("Close should deliver what is queued: %d stored, want 3", n)
	}
}

func TestCloseGivesUpOnADeadServer(t *testing.T) {
	f := newFakeIngest(t)
	f.fail = []int{503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503}
	before := runtime.NumGoroutine()
	c := New(f.srv.URL, "key", WithBackoff(20*time.Millisecond, 50*time.Millisecond), WithBatchSize(2), WithLogger(quiet()))
	c.Send(context.Background(), Event{Type: "user_churned", UserID: "a"}, Event{Type: "user_churned", UserID: "b"}, Event{Type: "user_churned", UserID: "c"})
	waitFor(t, "a retry", func() bool { return c.Stats().Retries > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want the deadline", err)
	}
	if s := c.Stats(); s.Dropped != 3 || s.Accepted != 0 {
		t.Errorf("stats %+v: the 3 undelivered events must be counted as dropped", s)
	}

	checkNoLeak(t, before)
}

func TestRetryAfterHeader(t *testing.T) {
	for h, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "99999": 10 * time.Minute, "soon": 0} {
		if got := retryAfter(h); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
	if got := retryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); got != 10*time.Minute {
		t.Errorf("an HTTP date an hour away: %v, want the 10-minute cap", got)
	}
}
