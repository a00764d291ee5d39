package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/codestory/analytics"
)

var testEnd = time.Date(2026, 6, 30, 15, 4, 5, 123456789, time.UTC)

func collect(t testing.TB, o Options) []analytics.Event {
	t.Helper()
	var all []analytics.Event
	err := Generate(o, func(b []analytics.Event) error {
		if len(b) == 0 || len(b) > ChunkSize {
			t.Fatalf("chunk of %d events", len(b))
		}
		all = append(all, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func hashRun(t testing.TB, o Options) (string, int) {
	t.Helper()
	h := sha256.New()
	n := 0
	var buf []byte
	err := Generate(o, func(b []analytics.Event) error {
		for i := range b {
			buf = AppendWireJSON(buf[:0], &b[i])
			buf = append(buf, '\n')
			h.Write(buf)
		}
		n += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func TestDeterministic(t *testing.T) {
	o := Options{Days: 30, Users: 500, Seed: 7, End: testEnd}
	h1, n1 := hashRun(t, o)
	h2, n2 := hashRun(t, o)
	if h1 != h2 || n1 != n2 {
		t.Fatalf("two runs differ: %s (%d events) vs %s (%d events)", h1, n1, h2, n2)
	}
	o.Seed = 8
	if h3, _ := hashRun(t, o); h3 == h1 {
		t.Fatal("another seed gives the same data")
	}
}

var (
	userIDRe  = regexp.MustCompile(`^user_\d{6,}$`)
	emailRe   = regexp.MustCompile(`^[a-z]+\.[a-z]+\d+@example\.com$`)
	storyIDRe = regexp.MustCompile(`^story_\d{6,}_\d+$`)
)

// TestDefaultDataSet checks the default data set event by event: order,
// range, unique ids, the real decoder's validation (with a round trip),
// and the shape of the data.
func TestDefaultDataSet(t *testing.T) {
	o := Options{End: testEnd}
	events := collect(t, o)
	dec := analytics.EventDecoder{Now: func() time.Time { return testEnd }}
	start := time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC) // 90 days ending 2026-06-30
	mid := start.AddDate(0, 0, 45)

	ids := make(map[string]struct{}, len(events))
	type storyState struct{ created, ended bool }
	stories := map[string]*storyState{}
	churned := map[string]time.Time{}
	signedUp := map[string]bool{}
	var (
		prev                                  time.Time
		signups, firstHalf, secondHalf        int
		created, completed, failed            int
		calls, errorsN, unknown, longCtx      int
		cacheReads, cacheWrites, cache1h      int
		payments, refunds, churns             int
		chapterCalls, ttsCalls, puts, gets    int
		sonnet, haiku, opus, multiling, flash int
		afterChurn                            int
	)
	var line []byte
	for i, e := range events {
		if e.Timestamp.Before(prev) {
			t.Fatalf("event %d (%s) at %s is before its predecessor at %s", i, e.ID, e.Timestamp, prev)
		}
		prev = e.Timestamp
		if e.Timestamp.Before(start) || e.Timestamp.After(testEnd) {
			t.Fatalf("event %s at %s is outside [%s, %s]", e.ID, e.Timestamp, start, testEnd)
		}
		if e.Timestamp.Location() != time.UTC || e.Timestamp.Nanosecond()%1000 != 0 {
			t.Fatalf("event %s timestamp %s is not UTC microseconds", e.ID, e.Timestamp)
		}
		if _, dup := ids[e.ID]; dup {
			t.Fatalf("duplicate id %s", e.ID)
		}
		ids[e.ID] = struct{}{}
		if !strings.HasPrefix(e.ID, "demo-1-") {
			t.Fatalf("id %q", e.ID)
		}
		if !userIDRe.MatchString(e.UserID) {
			t.Fatalf("event %s: user id %q", e.ID, e.UserID)
		}
		if e.Cost != 0 || e.Priced || e.ExplicitCost != nil {
			t.Fatalf("event %s is priced", e.ID)
		}

		line = AppendWireJSON(line[:0], &e)
		got, id, err := dec.DecodeEvent(line)
		if err != nil {
			t.Fatalf("event %s rejected by the decoder: %v\n%s", e.ID, err, line)
		}
		if id != e.ID || !got.Timestamp.Equal(e.Timestamp) {
			t.Fatalf("round trip of %s: got id %q at %s", line, id, got.Timestamp)
		}
		got.Timestamp = e.Timestamp
		if got != e {
			t.Fatalf("round trip changed the event:\n%+v\n%+v\n%s", e, got, line)
		}

		if ct, ok := churned[e.UserID]; ok && e.Type != analytics.EventRefund && e.Timestamp.After(ct) {
			if e.Type == analytics.EventStoryCreated || e.Operation == opGet {
				afterChurn++
			}
		}
		if e.Type != analytics.EventUserSignup && !signedUp[e.UserID] {
			t.Fatalf("event %s of %s before the user signed up", e.ID, e.UserID)
		}
		switch e.Type {
		case analytics.EventUserSignup:
			signups++
			if signedUp[e.UserID] {
				t.Fatalf("%s signs up twice", e.UserID)
			}
			signedUp[e.UserID] = true
			if !emailRe.MatchString(e.Email) {
				t.Fatalf("email %q", e.Email)
			}
			if e.Timestamp.Before(mid) {
				firstHalf++
			} else {
				secondHalf++
			}
		case analytics.EventUserChurned:
			churns++
			churned[e.UserID] = e.Timestamp
		case analytics.EventStoryCreated:
			created++
			if !storyIDRe.MatchString(e.StoryID) || stories[e.StoryID] != nil {
				t.Fatalf("story id %q (new or repeated)", e.StoryID)
			}
			stories[e.StoryID] = &storyState{created: true}
		case analytics.EventStoryCompleted, analytics.EventStoryFailed:
			s := stories[e.StoryID]
			if s == nil || s.ended {
				t.Fatalf("%s of story %q that was not created or already ended", e.Type, e.StoryID)
			}
			s.ended = true
			if e.Type == analytics.EventStoryFailed {
				failed++
				break
			}
			completed++
			if e.Chapters < 2 || e.Chapters > maxChapters || e.AudioMillis < e.Chapters*60_000 {
				t.Fatalf("story_completed %s: %d chapters, %d ms", e.StoryID, e.Chapters, e.AudioMillis)
			}
		case analytics.EventPayment:
			payments++
			switch e.AmountCents {
			case 999, 9900, 499, 1999:
			default:
				t.Fatalf("payment of %d cents", e.AmountCents)
			}
		case analytics.EventRefund:
			refunds++
		case analytics.EventAPICall:
			calls++
			s := stories[e.StoryID]
			if s == nil {
				t.Fatalf("call %s for unknown story %q", e.ID, e.StoryID)
			}
			if e.Operation != opGet && s.ended {
				t.Fatalf("call %s (%s) after story %s ended", e.ID, e.Operation, e.StoryID)
			}
			if e.Status == analytics.StatusError {
				errorsN++
				break
			}
			switch e.Service {
			case analytics.ServiceAnthropic:
				switch e.Model {
				case modelSonnet:
					sonnet++
				case modelHaiku:
					haiku++
				case modelOpus:
					opus++
				case modelExperimental:
					unknown++
				default:
					t.Fatalf("model %q", e.Model)
				}
				in := e.InputTokens + e.CacheCreationInputTokens + e.CacheReadInputTokens
				if in > 200_000 {
					longCtx++
				} else if e.InputTokens < 250 || in > 10_000 || e.OutputTokens < 500 || e.OutputTokens > 4000 {
					t.Fatalf("odd token counts: %s", line)
				}
				if e.CacheReadInputTokens > 0 {
					cacheReads++
				}
				if e.CacheCreationInputTokens > 0 {
					cacheWrites++
				}
				if e.CacheCreation1hTokens > 0 {
					cache1h++
				}
				if e.Operation == opChapter {
					chapterCalls++
				}
			case analytics.ServiceElevenLabs:
				ttsCalls++
				if e.Model == voiceFlash {
					flash++
				} else {
					multiling++
				}
			case analytics.ServiceS3:
				if e.Operation == opPut {
					puts++
				} else {
					gets++
				}
				if e.BytesTransferred < 1_000_000 {
					t.Fatalf("audio of %d bytes", e.BytesTransferred)
				}
			}
		}
	}

	t.Logf("%d events: %d signups (%d / %d per half), %d stories (%d completed, %d failed), %d calls (%d errors, %d unknown model, %d long context, %d cache reads, %d cache writes, %d 1h), %d payments, %d refunds, %d churned",
		len(events), signups, firstHalf, secondHalf, created, completed, failed, calls, errorsN, unknown, longCtx, cacheReads, cacheWrites, cache1h, payments, refunds, churns)

	if signups != o.withDefaults().Users {
		t.Errorf("signups = %d, want %d", signups, o.withDefaults().Users)
	}
	if secondHalf <= firstHalf {
		t.Errorf("no growth: %d signups in the first half, %d in the second", firstHalf, secondHalf)
	}
	share := func(n, of int) float64 { return float64(n) / float64(of) }
	checks := []struct {
		name      string
		v, lo, hi float64
	}{
		{"failed stories", share(failed, created), 0.015, 0.05},
		{"refunded payments", share(refunds, payments), 0.005, 0.04},
		{"unknown-model calls", share(unknown, calls), 0.002, 0.01},
		{"error calls", share(errorsN, calls), 0.003, 0.03},
		{"long-context calls", share(longCtx, calls), 0.0001, 0.003},
		{"churned users per month", share(churns, signups) / 3, 0.003, 0.02},
		{"sonnet share", share(sonnet, sonnet+haiku+opus), 0.6, 0.9},
		{"multilingual share", share(multiling, ttsCalls), 0.55, 0.9},
		{"stories per user", share(created, signups), 1.5, 10},
	}
	for _, c := range checks {
		if c.v < c.lo || c.v > c.hi {
			t.Errorf("%s = %.4f, want in [%g, %g]", c.name, c.v, c.lo, c.hi)
		}
	}
	if haiku == 0 || opus == 0 || flash == 0 || cacheReads == 0 || cacheWrites == 0 || cache1h == 0 || gets == 0 {
		t.Errorf("missing variety: haiku %d opus %d flash %d cache reads %d writes %d 1h %d gets %d", haiku, opus, flash, cacheReads, cacheWrites, cache1h, gets)
	}
	if puts < chapterCalls*9/10 || ttsCalls < chapterCalls*9/10 {
		t.Errorf("%d chapter calls but %d narrations and %d uploads", chapterCalls, ttsCalls, puts)
	}
	if afterChurn != 0 {
		t.Errorf("%d stories or plays started after their user churned", afterChurn)
	}
}

func TestEdgeCases(t *testing.T) {
	midnight := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range []Options{
		{Days: 1, Users: 50, End: midnight},                 // a zero-length period
		{Days: 1, Users: 1, End: midnight.Add(time.Minute)}, // one user, one minute
		{Days: 3, Users: 300, End: midnight.Add(-time.Nanosecond)},
		{Days: 400, Users: 300, Seed: 99, End: midnight.Add(13*time.Hour + 1500*time.Nanosecond)},
	} {
		events := collect(t, o)
		end := o.End.Truncate(time.Microsecond)
		y, m, d := o.End.Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-o.Days)
		signups := 0
		var prev time.Time
		for _, e := range events {
			if e.Timestamp.Before(start) || e.Timestamp.After(end) || e.Timestamp.Before(prev) {
				t.Fatalf("%+v: event %s at %s (period %s – %s, previous %s)", o, e.ID, e.Timestamp, start, end, prev)
			}
			prev = e.Timestamp
			if e.Type == analytics.EventUserSignup {
				signups++
			}
		}
		if signups != o.Users {
			t.Errorf("%+v: %d signups", o, signups)
		}
	}
}

func TestEmitError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	err := Generate(Options{Days: 10, Users: 300, End: testEnd}, func([]analytics.Event) error {
		calls++
		if calls == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
}

func TestEstimate(t *testing.T) {
	o := Options{Days: 60, Users: 800, End: testEnd}
	if _, n := hashRun(t, o); Estimate(o) != int64(n) {
		t.Errorf("Estimate = %d, Generate gave %d", Estimate(o), n)
	}
	o.Users = 6000
	_, n := hashRun(t, o)
	if est := Estimate(o); est < int64(n)*8/10 || est > int64(n)*12/10 {
		t.Errorf("Estimate = %d, Generate gave %d", est, n)
	}
}

func TestWireJSON(t *testing.T) {
	cost := analytics.Micros(12345)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	for _, e := range []analytics.Event{
		{ID: "a\"b<c>", Type: analytics.EventAPICall, Timestamp: ts, Service: analytics.ServiceAnthropic,
			Operation: "chapter", Model: "claude-sonnet-4-5", InputTokens: 10, OutputTokens: 20,
			CacheCreationInputTokens: 30, CacheCreation1hTokens: 12, CacheReadInputTokens: 40,
			Status: analytics.StatusOK, ExplicitCost: &cost},
		{ID: "x", Type: analytics.EventUserSignup, Timestamp: ts, UserID: "üser", Email: "a@b.c"},
		{ID: "y", Type: analytics.EventStoryCompleted, Timestamp: ts, UserID: "u", StoryID: "s", Chapters: 3, AudioMillis: 1500},
		{ID: "z", Type: analytics.EventRefund, Timestamp: ts, UserID: "u", AmountCents: 999},
	} {
		raw := WireJSON(e)
		got, _, err := analytics.EventDecoder{}.DecodeEvent(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if (got.ExplicitCost == nil) != (e.ExplicitCost == nil) || (got.ExplicitCost != nil && *got.ExplicitCost != *e.ExplicitCost) {
			t.Fatalf("%s: cost %v", raw, got.ExplicitCost)
		}
		got.ExplicitCost = e.ExplicitCost
		if got != e {
			t.Fatalf("%s:\n got %+v\nwant %+v", raw, got, e)
		}
	}
}

// TestLargeRunMemory generates about a million events and checks that the
// heap stays small while it does.
func TestLargeRunMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large run")
	}
	runtime.GC() // forget what earlier tests left behind
	var peak uint64
	var ms runtime.MemStats
	n, chunks := 0, 0
	begin := time.Now()
	err := Generate(Options{Days: 90, Users: 15000, End: testEnd}, func(b []analytics.Event) error {
		n += len(b)
		if chunks++; chunks%100 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events in %s, peak heap %d MB", n, time.Since(begin), peak>>20)
	if peak > 32<<20 {
		t.Errorf("peak heap %d MB", peak>>20)
	}
}

func BenchmarkGenerate(b *testing.B) {
	o := Options{Days: 90, Users: 2000, End: testEnd}
	var n int
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		if err := Generate(o, func(e []analytics.Event) error { n += len(e); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "events/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
}

func BenchmarkWireJSON(b *testing.B) {
	var events []analytics.Event
	_ = Generate(Options{Days: 5, Users: 200, End: testEnd}, func(e []analytics.Event) error {
		if len(events) < 10000 {
			events = append(events, e...)
		}
		return nil
	})
	var buf []byte
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = AppendWireJSON(buf[:0], &events[i%len(events)])
		i++
	}
}
