package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeMessages is a local stand-in for the Anthropic Messages API that
// replies from a script and keeps what it was sent.
type fakeMessages struct {
	mu     sync.Mutex
	bodies []map[string]any
	keys   []string
}

func (f *fakeMessages) start(t *testing.T, script func(n int) map[string]any) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.keys = append(f.keys, r.Header.Get("Authorization")+r.Header.Get("X-Api-Key"))
		n := len(f.bodies)
		f.mu.Unlock()
		if r.URL.Path != "/v1/messages" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(script(n))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func claudeReply(n int, stop string, in, out int, content ...map[string]any) map[string]any {
	return map[string]any{"id": fmt.Sprintf("msg_%d", n), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
		"content": content, "stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
}

type sseEvent struct {
	Name string
	Data map[string]any
}

func parseSSE(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	for _, block := range strings.Split(strings.TrimSpace(string(body)), "\n\n") {
		var ev sseEvent
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				ev.Name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				if err := json.Unmarshal([]byte(v), &ev.Data); err != nil {
					t.Fatalf("event data %q: %v", v, err)
				}
			}
		}
		out = append(out, ev)
	}
	return out
}

func TestAskNotConfigured(t *testing.T) {
	ts := startServerEnv(t, "", map[string]string{"ANALYTICS_DEMO_PASSWORD": "demo-password-123"})
	owner := ts.adminToken("owner@example.com", "owner")
	key := ts.ingestKey()
	body := `{"question": "What did January cost?"}`
	res := ts.do("POST", "/admin/analytics/ask", owner, strings.NewReader(body), "Content-Type", "application/json")
	if res.Status != 503 || strings.TrimSpace(string(res.Body)) != `{"error":"Ask is not configured: set ANTHROPIC_API_KEY"}` {
		t.Errorf("no key: %d %s", res.Status, res.Body)
	}
	if res := ts.do("POST", "/admin/analytics/ask", "", strings.NewReader(body)); res.Status != 401 || res.errorText(t) != "Analytics access requires admin authentication" {
		t.Errorf("no credential: %d %s", res.Status, res.Body)
	}
	if res := ts.do("POST", "/admin/analytics/ask", key, strings.NewReader(body)); res.Status != 403 {
		t.Errorf("ingest key: %d %s", res.Status, res.Body)
	}
}

// TestAsk: the Ask agent answers over server-sent events with two guarded
// tool calls (door agent), returns the tool results it used, and records its
// own Claude calls as priced api_call events.
func TestAsk(t *testing.T) {
	fake := &fakeMessages{}
	url := fake.start(t, func(n int) map[string]any {
		switch n {
		case 1:
			return claudeReply(n, "tool_use", 2000, 100, map[string]any{"type": "text", "text": "Checking costs and users."},
				map[string]any{"type": "tool_use", "id": "toolu_1", "name": "get_cost_breakdown", "input": map[string]any{"start_date": "2026-01-09", "end_date": "2026-01-14"}},
				map[string]any{"type": "tool_use", "id": "toolu_2", "name": "get_top_users", "input": map[string]any{"start_date": "2026-01-09", "end_date": "2026-01-14", "limit": 2}})
		}
		return claudeReply(n, "end_turn", 4000, 200, map[string]any{"type": "text", "text": "Costs were 21.05 cents; u2 cost most."})
	})
	ts := startServerEnv(t, "", map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": url, "ANALYTICS_DEMO_PASSWORD": "demo-password-123"})
	owner := ts.adminToken("owner@example.com", "owner")
	ts.seedMCP(ts.ingestKey())

	res := ts.do("POST", "/admin/analytics/ask", owner, strings.NewReader(`{"question": "Who cost most in January?"}`), "Content-Type", "application/json")
	if res.Status != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("ask: %d %v %s", res.Status, res.Header, res.Body)
	}
	events := parseSSE(t, res.Body)
	var names []string
	for _, ev := range events {
		names = append(names, ev.Name)
	}
	if want := []string{"progress", "progress", "tool", "tool", "progress", "answer"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("events %v, want %v\n%s", names, want, res.Body)
	}
	result := events[len(events)-1].Data["result"].(map[string]any)
	if result["answer"] != "Costs were 21.05 cents; u2 cost most." || result["turns"] != 2.0 || result["model"] != "claude-sonnet-5-5" {
		t.Errorf("result: %v", result)
	}
	// The tool results it used are the REST figures for the same input.
	calls := result["tool_calls"].([]any)
	costs := decodeJSON(t, ts.do("GET", "/admin/analytics/costs?start_date=2026-01-09&end_date=2026-01-14", owner, nil).Body)
	top := decodeJSON(t, ts.do("GET", "/admin/analytics/users/top?start_date=2026-01-09&end_date=2026-01-14&limit=2", owner, nil).Body)
	c0, c1 := calls[0].(map[string]any), calls[1].(map[string]any)
	if c0["tool"] != "get_cost_breakdown" || !reflect.DeepEqual(c0["output"], costs) {
		t.Errorf("cost call: %v\nREST %v", c0, costs)
	}
	if c1["tool"] != "get_top_users" || !reflect.DeepEqual(c1["output"].(map[string]any)["users"], top) {
		t.Errorf("top users call: %v\nREST %v", c1, top)
	}
	// Claude was called with the key, the default model and the five tools.
	fake.mu.Lock()
	first, keys := fake.bodies[0], fake.keys
	fake.mu.Unlock()
	if len(keys) != 2 || !strings.Contains(keys[0], "sk-ant-test") || first["model"] != "claude-sonnet-5-5" || len(first["tools"].([]any)) != 5 {
		t.Errorf("Claude request: keys %v, model %v, %d tools", keys, first["model"], len(first["tools"].([]any)))
	}

	// The agent's tool calls were audited with door agent, the question too.
	page := ts.do("GET", "/admin/audit?limit=20", owner, nil)
	var audit struct {
		Entries []struct {
			Door, Action, Outcome string
			Details               map[string]any
		}
	}
	page.json(t, &audit)
	var agentActions []string
	for _, e := range audit.Entries {
		if e.Door == "agent" {
			agentActions = append(agentActions, e.Action)
		}
	}
	if want := []string{"analytics_asked", "analytics_top_users_viewed", "analytics_costs_viewed"}; !reflect.DeepEqual(agentActions, want) {
		t.Errorf("agent audit: %v, want %v", agentActions, want)
	}

	// Its own Claude calls are api_call events priced by the catalog. Sonnet
	// 4.5 at $3 / $15 per million tokens: 6,000 input tokens = $0.018, 300
	// output tokens = $0.0045; $0.0225 = 2.25 cents.
	day := ts.do("GET", "/admin/analytics/costs", owner, nil)
	var cb struct {
		ByOperation []struct {
			Service, Operation string
			Calls              int
			CostCents          json.Number `json:"cost_cents"`
		} `json:"by_operation"`
	}
	day.json(t, &cb)
	found := false
	for _, op := range cb.ByOperation {
		if op.Operation == "analytics_ask" {
			found = true
			if op.Service != "anthropic" || op.Calls != 2 || op.CostCents.String() != "2.25" {
				t.Errorf("analytics_ask: %+v", op)
			}
		}
	}
	if !found {
		t.Errorf("no analytics_ask cost: %s", day.Body)
	}

	// A dashboard session must send its CSRF token; JSON clients get one object.
	ts.adminToken("analyst@example.com", "analyst")
	c, csrf, login := ts.login("analyst@example.com", "a-long-enough-password")
	if login.Status != 200 {
		t.Fatalf("login: %d %s", login.Status, login.Body)
	}
	q := strings.NewReader(`{"question": "Anything?"}`)
	if r := doWith(t, c, "POST", ts.URL+"/admin/analytics/ask", "", q, "Content-Type", "application/json"); r.Status != 403 {
		t.Errorf("cookie without CSRF: %d %s", r.Status, r.Body)
	}
	r := doWith(t, c, "POST", ts.URL+"/admin/analytics/ask", "", strings.NewReader(`{"question": "Anything?"}`),
		"Content-Type", "application/json", "X-CSRF-Token", csrf, "Accept", "application/json")
	var one struct {
		Answer    string
		ToolCalls []any `json:"tool_calls"`
	}
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("cookie with CSRF: %d %s", r.Status, r.Body)
	}
	r.json(t, &one)
	if one.Answer != "Costs were 21.05 cents; u2 cost most." || one.ToolCalls == nil {
		t.Errorf("JSON answer: %s", r.Body)
	}

	for _, tc := range []struct{ body, reason string }{
		{`{"question": "   "}`, "question is required"},
		{`{"q": "x"}`, `body must be JSON {"question": "..."}`},
		{`not json`, `body must be JSON {"question": "..."}`},
		{`{"question": "` + strings.Repeat("x", 2001) + `"}`, "question is longer than 2000 characters"},
	} {
		if r := ts.do("POST", "/admin/analytics/ask", owner, strings.NewReader(tc.body), "Content-Type", "application/json"); r.Status != 400 || r.errorText(t) != tc.reason {
			t.Errorf("%.30s: %d %s", tc.body, r.Status, r.Body)
		}
	}
}
