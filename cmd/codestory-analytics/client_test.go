package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/codestory/analytics/internal/poll"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/codestory/analytics/client"
)

// freeAddr returns a loopback address that was free a moment ago, so that a
// server can be stopped and started again at the same place.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// dashboardTotal reads one dashboard total for the last week.
func dashboardTotal(t *testing.T, ts *testServer, token, field string) float64 {
	t.Helper()
	now := time.Now().UTC()
	res := ts.do("GET", fmt.Sprintf("/admin/analytics/dashboard?start_date=%s&end_date=%s",
		now.AddDate(0, 0, -6).Format("2006-01-02"), now.Format("2006-01-02")), token, nil)
	var d struct {
		Totals map[string]float64 `json:"totals"`
	}
	res.json(t, &d)
	return d.Totals[field]
}

// TestClientThroughServerRestart sends events with the Go client while the
// real server is stopped and started again on the same database and
// address: every event arrives exactly once.
func TestClientThroughServerRestart(t *testing.T) {
	addr := freeAddr(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "analytics.db")
	ts := startServer(t, db, "--addr", addr)
	key := ts.ingestKey()

	c := client.New("http://"+addr, key, client.WithBatchSize(20), client.WithFlushInterval(20*time.Millisecond),
		client.WithBackoff(20*time.Millisecond, 200*time.Millisecond), client.WithLogger(slog.New(slog.DiscardHandler)))

	const total = 600
	send := func(from, to int) {
		for i := from; i < to; i++ {
			e := client.Event{Type: "api_call", UserID: fmt.Sprintf("u%d", i%7), Service: "anthropic", Operation: "chat",
				Model: "claude-haiku-4-5", InputTokens: 100, OutputTokens: 10}
			if err := c.Send(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Half before the outage, half during it: the client buffers and
	// retries those until the server is back.
	send(0, total/2)
	waitFor(t, "some events delivered", func() bool { return c.Stats().Accepted > 0 })
	ts.stop()
	send(total/2, total)
	waitFor(t, "retries against the stopped server", func() bool { return c.Stats().Retries > 0 })
	ts2 := startServer(t, db, "--addr", addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	t.Logf("client stats: %+v", s)
	if s.Accepted+s.Duplicates != total || s.Dropped != 0 || s.Rejected != 0 || s.Retries == 0 {
		t.Errorf("stats %+v: want %d accepted+duplicates, none dropped, some retries", s, total)
	}
	admin := ts2.adminToken("a@example.com", "viewer")
	if got := dashboardTotal(t, ts2, admin, "api_requests"); got != total {
		t.Errorf("api_requests = %v, want exactly %d (nothing lost, nothing doubled)", got, total)
	}
	if out := ts2.mustCLI("", "verify"); !strings.Contains(strings.ToLower(out), "ok") {
		t.Errorf("verify: %s", out)
	}
}

// TestAnthropicMiddlewareAgainstServer records a Claude call through the
// middleware into the real server and finds it priced on the dashboard,
// at the same cost as the same call written by hand.
func TestAnthropicMiddlewareAgainstServer(t *testing.T) {
	msgs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"msg_real","type":"message","role":"assistant","model":"claude-sonnet-4-5",
			"content":[{"type":"text","text":"Chapter one"}],"stop_reason":"end_turn","stop_sequence":null,
			"usage":{"input_tokens":1200,"output_tokens":800,"cache_read_input_tokens":5000,"cache_creation_input_tokens":3000,
			"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000}}}`)
	}))
	defer msgs.Close()
	viaMW := startServer(t, "")
	byHand := startServer(t, "")
	c := client.New(viaMW.URL, viaMW.ingestKey(), client.WithLogger(slog.New(slog.DiscardHandler)))
	sdk := anthropic.NewClient(option.WithoutEnvironmentDefaults(), option.WithBaseURL(msgs.URL), option.WithAPIKey("k"),
		option.WithMaxRetries(0), option.WithMiddleware(client.AnthropicMiddleware(c)))
	ctx := client.WithStory(client.WithUser(context.Background(), "reader-1"), "story-9")
	if _, err := sdk.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 1000,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("write"))}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Accepted != 1 {
		t.Fatalf("stats %+v", s)
	}
	res := byHand.ingest(byHand.ingestKey(), map[string]any{"id": "x", "type": "api_call", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"user_id": "reader-1", "story_id": "story-9", "service": "anthropic", "operation": "messages", "model": "claude-sonnet-4-5",
		"input_tokens": 1200, "output_tokens": 800, "cache_read_input_tokens": 5000, "cache_creation_input_tokens": 3000,
		"cache_creation": map[string]int{"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000}})
	if res.Status != 200 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	a1, a2 := viaMW.adminToken("a@example.com", "viewer"), byHand.adminToken("a@example.com", "viewer")
	got, want := dashboardTotal(t, viaMW, a1, "total_cost_cents"), dashboardTotal(t, byHand, a2, "total_cost_cents")
	if got != want || got == 0 || dashboardTotal(t, viaMW, a1, "unpriced_calls") != 0 {
		t.Errorf("cost via the middleware %v cents, by hand %v cents; want equal, priced, non-zero", got, want)
	}
	top := viaMW.do("GET", "/admin/analytics/users/top", a1, nil)
	var users []map[string]any
	json.Unmarshal(top.Body, &users)
	if len(users) != 1 || users[0]["user_id"] != "reader-1" {
		t.Errorf("top users: %s", top.Body)
	}
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, time.Minute, 10*time.Millisecond, what, cond)
}
