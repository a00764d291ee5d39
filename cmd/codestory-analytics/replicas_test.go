package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/internal/redistest"
)

func init() {
	extraFaultDBs["postgres"] = func(t *testing.T) string { return pgtest.NewDatabase(t) }
}

// TestTwoReplicas runs two servers on one PostgreSQL and one Redis: the rate
// limit is shared, overlapping ingests through both give exact totals and a
// clean verify, and the audit chain of both stays one line.
func TestTwoReplicas(t *testing.T) {
	db := pgtest.NewDatabase(t)
	_, prefix := redistest.Require(t)
	env := map[string]string{"ANALYTICS_REDIS_PREFIX": prefix, "ANALYTICS_DEMO_PASSWORD": "demo-password-123"}
	r1 := startServerEnv(t, db, env, "--redis", redistest.URL())
	r2 := startServerEnv(t, db, env, "--redis", redistest.URL())
	tok := r1.adminToken("ops@example.com", "analyst")
	key := r1.ingestKey()

	// 30 calls spread across both replicas are allowed; the 31st on either is not.
	for i := 0; i < 30; i++ {
		r := r1
		if i%2 == 1 {
			r = r2
		}
		if res := r.do("GET", "/admin/analytics/costs", tok, nil); res.Status != 200 {
			t.Fatalf("call %d on replica %d: %d %s", i+1, i%2+1, res.Status, res.Body)
		}
	}
	for i, r := range []*testServer{r1, r2} {
		res := r.do("GET", "/admin/analytics/dashboard", tok, nil)
		if res.Status != 429 || !strings.Contains(res.errorText(t), "Rate limit exceeded") {
			t.Errorf("31st call on replica %d: %d %s", i+1, res.Status, res.Body)
		}
	}

	// Overlapping ingests through both replicas at once.
	var batches [][]byte
	for b := 0; b < 20; b++ {
		var buf bytes.Buffer
		for i := 0; i < 500; i++ {
			n := b*400 + i // consecutive batches overlap by 100 events
			fmt.Fprintf(&buf, `{"id":"ev-%d","type":"api_call","timestamp":"2026-03-%02dT10:00:00Z","user_id":"u%d","service":"s3","operation":"put_object","cost_cents":0.0123}`+"\n", n, 1+n%28, n%97)
		}
		batches = append(batches, buf.Bytes())
	}
	var wg sync.WaitGroup
	for i, r := range []*testServer{r1, r2} {
		wg.Add(1)
		go func(i int, r *testServer) {
			defer wg.Done()
			for b := range batches {
				if (b+i)%3 == 0 && i == 1 {
					continue // replica 2 skips some batches; replica 1 sends all
				}
				res := r.do("POST", "/v1/events", key, bytes.NewReader(batches[b]), "Content-Type", "application/x-ndjson")
				if res.Status != 200 {
					t.Errorf("replica %d batch %d: %d %s", i+1, b, res.Status, res.Body)
				}
			}
		}(i, r)
	}
	wg.Wait()
	distinct := 19*400 + 500 // ev-0 … ev-8099
	out := r1.mustCLI("", "verify")
	if !strings.Contains(out, fmt.Sprintf("aggregate of %d events", distinct)) {
		t.Errorf("verify: %s (want %d events)", out, distinct)
	}
	q := r2.mustCLI("", "query", "costs", "--start", "2026-03-01", "--end", "2026-03-28")
	// 8,100 calls × 0.0123 cents = 99.63 cents.
	if !strings.Contains(q, `"cost_cents": 99.63`) {
		t.Errorf("total cost across replicas wrong:\n%s", q[:min(len(q), 600)])
	}
	if out := r2.mustCLI("", "audit", "verify"); !strings.Contains(out, "ok: audit chain of") {
		t.Errorf("audit verify: %s", out)
	}
}

// startServerEnv is startServer with extra environment.
func startServerEnv(t *testing.T, db string, env map[string]string, extra ...string) *testServer {
	t.Helper()
	saved := defaultEnv
	defaultEnv = env
	defer func() { defaultEnv = saved }()
	return startServer(t, db, extra...)
}
