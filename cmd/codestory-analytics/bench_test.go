package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/demo"
	"github.com/codestory/analytics/pricing"
	"github.com/codestory/analytics/sqlite"
)

// benchEvents returns n realistic, priced demo events.
func benchEvents(b *testing.B, n int) []analytics.Event {
	b.Helper()
	out := make([]analytics.Event, 0, n)
	in := &analytics.Ingester{Pricer: pricing.Default()}
	stop := errorString("enough")
	err := demo.Generate(demo.Options{Days: 365, Users: n/40 + 100, Seed: 7, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}, func(evs []analytics.Event) error {
		for _, e := range evs {
			in.Price(&e)
			out = append(out, e)
			if len(out) == n {
				return stop
			}
		}
		return nil
	})
	if err != nil && err != stop {
		b.Fatal(err)
	}
	return out
}

type errorString string

func (e errorString) Error() string { return string(e) }

// BenchmarkIngestSQLiteStore measures batches of 1,000 events straight into
// the SQLite store with every rollup maintained.
func BenchmarkIngestSQLiteStore(b *testing.B) {
	events := benchEvents(b, 400_000)
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		start := (i * 1000) % len(events)
		if start == 0 && i > 0 {
			b.Fatal("ran out of fresh events")
		}
		c, err := s.IngestEvents(context.Background(), events[start:start+1000])
		if err != nil {
			b.Fatal(err)
		}
		n += c.Accepted
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestSQLiteHTTP measures the same through POST /v1/events
// (JSON decoding, validation, pricing and the store).
func BenchmarkIngestSQLiteHTTP(b *testing.B) {
	events := benchEvents(b, 400_000)
	bodies := make([][]byte, 0, len(events)/1000)
	for i := 0; i+1000 <= len(events); i += 1000 {
		var buf bytes.Buffer
		for _, e := range events[i : i+1000] {
			buf.Write(demo.WireJSON(e))
			buf.WriteByte('\n')
		}
		bodies = append(bodies, buf.Bytes())
	}
	t := &testing.T{}
	ts := startServer(t, "sqlite:"+filepath.Join(b.TempDir(), "h.db"))
	defer ts.stop()
	key := ts.ingestKey()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i >= len(bodies) {
			b.Fatal("ran out of fresh events")
		}
		req, _ := http.NewRequest("POST", ts.URL+"/v1/events", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("batch %d: %v %v", i, err, res.Status)
		}
		res.Body.Close()
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
