package postgres_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/postgres"
)

// trafficGen makes realistic traffic: a clock that advances 20 minutes per
// batch of 1,000 events (so runs cross days and months), users drawn with a
// skew (a few heavy users, a long tail of 5,000), 5% late events from up to
// three days back, and the event mix of a story platform.
type trafficGen struct {
	mu    sync.Mutex
	rng   *rand.Rand
	clock time.Time
	seq   int
}

func newTrafficGen() *trafficGen {
	return &trafficGen{rng: rand.New(rand.NewPCG(42, 7)), clock: time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC)}
}

var models = []struct {
	svc   analytics.Service
	model string
	op    string
}{
	{analytics.ServiceAnthropic, "claude-sonnet-4-5", "chapter"},
	{analytics.ServiceAnthropic, "claude-sonnet-4-5", "outline"},
	{analytics.ServiceAnthropic, "claude-haiku-4-5", "title"},
	{analytics.ServiceElevenLabs, "eleven_multilingual_v2", "narrate"},
	{analytics.ServiceS3, "", "put_object"},
	{analytics.ServiceS3, "", "get_object"},
}

func (g *trafficGen) batch(n int) []analytics.Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	window := 20 * time.Minute
	out := make([]analytics.Event, n)
	for i := range out {
		g.seq++
		id := fmt.Sprintf("evt_%09d", g.seq)
		ts := g.clock.Add(time.Duration(g.rng.Int64N(int64(window))))
		if g.rng.IntN(20) == 0 {
			ts = ts.Add(-time.Duration(g.rng.Int64N(int64(72 * time.Hour))))
		}
		ts = ts.Truncate(time.Microsecond)
		user := fmt.Sprintf("user_%04d", min(4999, int(math.Floor(g.rng.ExpFloat64()*800))))
		var e analytics.Event
		switch k := g.rng.IntN(100); {
		case k < 75:
			m := models[g.rng.IntN(len(models))]
			e = analytics.Event{ID: id, Type: analytics.EventAPICall, Timestamp: ts, UserID: user, Service: m.svc,
				Model: m.model, Operation: m.op, Status: analytics.StatusOK, Priced: true,
				InputTokens: g.rng.Int64N(4000), OutputTokens: g.rng.Int64N(2000), CacheReadInputTokens: g.rng.Int64N(1000),
				Cost: analytics.Micros(g.rng.IntN(50_000))}
			if m.svc == analytics.ServiceS3 {
				e.Requests, e.BytesTransferred = 1, g.rng.Int64N(5<<20)
			}
			if g.rng.IntN(50) == 0 {
				e.Status = analytics.StatusError
			}
			if g.rng.IntN(30) == 0 {
				e.UserID = ""
			}
		case k < 85:
			e = analytics.Event{ID: id, Type: analytics.EventStoryCreated, Timestamp: ts, UserID: user, StoryID: id, Priced: true}
		case k < 93:
			e = analytics.Event{ID: id, Type: analytics.EventStoryCompleted, Timestamp: ts, UserID: user, StoryID: id,
				Chapters: 1 + g.rng.Int64N(8), AudioMillis: g.rng.Int64N(900_000), Priced: true}
		case k < 95:
			e = analytics.Event{ID: id, Type: analytics.EventStoryFailed, Timestamp: ts, UserID: user, StoryID: id, Priced: true}
		case k < 97:
			e = analytics.Event{ID: id, Type: analytics.EventUserSignup, Timestamp: ts, UserID: user, Email: user + "@example.com", Priced: true}
		case k < 99:
			e = analytics.Event{ID: id, Type: analytics.EventPayment, Timestamp: ts, UserID: user, AmountCents: 999, Priced: true}
		default:
			e = analytics.Event{ID: id, Type: analytics.EventUserChurned, Timestamp: ts, UserID: user, Priced: true}
		}
		out[i] = e
	}
	g.clock = g.clock.Add(window)
	return out
}

// BenchmarkIngest is one writer storing batches of 1,000 events with every
// rollup; events/s is the figure to watch.
func BenchmarkIngest(b *testing.B) {
	s, err := postgres.Open(ctx, pgtest.NewDatabase(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := newTrafficGen()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		batch := g.batch(1000)
		b.StartTimer()
		c, err := s.IngestEvents(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		if c.Accepted != len(batch) {
			b.Fatalf("accepted %d of %d", c.Accepted, len(batch))
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
	b.StopTimer()
	if diffs, err := s.Verify(ctx); err != nil || len(diffs) > 0 {
		b.Fatalf("Verify after the run = %v, %v", diffs, err)
	}
}

// BenchmarkIngestReplicas has two stores (replicas) with two writers each
// share the database, batches of 1,000.
func BenchmarkIngestReplicas(b *testing.B) {
	url := pgtest.NewDatabase(b)
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	g := newTrafficGen()
	var next int
	var mu sync.Mutex
	b.SetParallelism(2) // 2 × GOMAXPROCS writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		s := stores[next%2]
		next++
		mu.Unlock()
		for pb.Next() {
			batch := g.batch(1000)
			if _, err := s.IngestEvents(ctx, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}
