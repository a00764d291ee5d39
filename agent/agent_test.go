package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/agent"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/pricing"
	"github.com/codestory/analytics/sqlite"
)

var ctx = context.Background()

var now = time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)

// fakeClaude is a local stand-in for the Messages API: it answers each
// request with the next scripted reply and keeps the requests.
type fakeClaude struct {
	t      *testing.T
	mu     sync.Mutex
	reqs   []request
	script func(n int, req request) map[string]any
	srv    *httptest.Server
}

// request is what the agent sent, decoded.
type request struct {
	Model     string `json:"model"`
	MaxTokens int    `json:"max_tokens"`
	System    []struct {
		Text string `json:"text"`
	} `json:"system"`
	Tools []struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		InputSchema map[string]any `json:"input_schema"`
	} `json:"tools"`
	Messages []struct {
		Role    string `json:"role"`
		Content []struct {
			Type      string          `json:"type"`
			Text      string          `json:"text"`
			ID        string          `json:"id"`
			Name      string          `json:"name"`
			Input     json.RawMessage `json:"input"`
			ToolUseID string          `json:"tool_use_id"`
			IsError   bool            `json:"is_error"`
			Content   []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"content"`
	} `json:"messages"`
}

func newFake(t *testing.T, script func(n int, req request) map[string]any) *fakeClaude {
	f := &fakeClaude{t: t, script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The SDK sends the API key as a bearer token (older versions: X-Api-Key).
		key := r.Header.Get("X-Api-Key")
		if key == "" {
			key = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if r.Method != "POST" || r.URL.Path != "/v1/messages" || key != "test-key" {
			t.Errorf("unexpected request %s %s key=%q", r.Method, r.URL.Path, key)
			http.Error(w, `{"type":"error","error":{"type":"not_found_error","message":"nope"}}`, 404)
			return
		}
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode request: %v", err)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		n := len(f.reqs)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(f.script(n, req))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeClaude) client() anthropic.Client {
	return anthropic.NewClient(option.WithoutEnvironmentDefaults(), option.WithBaseURL(f.srv.URL), option.WithAPIKey("test-key"), option.WithMaxRetries(0))
}

func (f *fakeClaude) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// message builds a Messages API reply.
func message(n int, stop string, usage [2]int, content ...map[string]any) map[string]any {
	return map[string]any{
		"id": fmt.Sprintf("msg_%d", n), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
		"content": content, "stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": usage[0], "output_tokens": usage[1], "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	}
}

func textBlock(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

func toolUse(id, name string, input map[string]any) map[string]any {
	return map[string]any{"type": "tool_use", "id": id, "name": name, "input": input}
}

type env struct {
	store *sqlite.Store
	guard *guard.Guard
	tools *analytics.Tools
	ing   *analytics.Ingester
	mu    sync.Mutex
	stops []string
	admin map[analytics.Role]*analytics.Principal
}

func newEnv(t *testing.T) *env {
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "agent.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{store: st, admin: map[analytics.Role]*analytics.Principal{}}
	clock := func() time.Time { return now }
	e.tools = &analytics.Tools{Store: st, Now: clock}
	e.ing = &analytics.Ingester{Store: st, Pricer: pricing.Default(), Decoder: analytics.EventDecoder{Now: clock}}
	e.guard = guard.New(guard.Config{Limiter: guard.NewMemory(guard.AnalyticsRate, nil), Audit: &audit.Log{Store: st}, Now: clock, Location: st.Location,
		StopHooks: []guard.HookFunc{func(_ context.Context, in *guard.HookInput) (*guard.Decision, error) {
			e.mu.Lock()
			e.stops = append(e.stops, string(in.Door)+" "+in.SessionID+" "+in.Principal.Email())
			e.mu.Unlock()
			return nil, nil
		}}})
	for _, r := range []analytics.Role{analytics.RoleViewer, analytics.RoleOwner} {
		adm, err := st.CreateAdmin(ctx, string(r)+"@example.com", r, "")
		if err != nil {
			t.Fatal(err)
		}
		e.admin[r] = &analytics.Principal{Admin: &adm, Via: "token"}
	}
	res, err := e.ing.Ingest(ctx, []json.RawMessage{
		json.RawMessage(`{"id":"s1","type":"user_signup","timestamp":"2026-01-10T09:00:00Z","user_id":"u1"}`),
		json.RawMessage(`{"id":"c1","type":"api_call","timestamp":"2026-01-20T10:00:00Z","user_id":"u1","service":"anthropic","operation":"chapter","model":"claude-sonnet-4-5","input_tokens":1000,"output_tokens":500}`),
	})
	if err != nil || res.Accepted != 2 {
		t.Fatalf("seed: %+v %v", res, err)
	}
	return e
}

func (e *env) config(f *fakeClaude, role analytics.Role, session string) agent.Config {
	return agent.Config{Client: f.client(), Model: "claude-sonnet-4-5", Guard: e.guard, Tools: e.tools,
		Principal: e.admin[role], SessionID: session, Now: func() time.Time { return now }}
}

func (e *env) audit(t *testing.T) []analytics.AuditEntry {
	t.Helper()
	entries, err := e.store.ListAudit(ctx, analytics.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(entries) // oldest first
	return entries
}

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTwoToolsAndAnswer: a scripted conversation in which the model calls
// two tools in two turns, reads their results and answers.
func TestTwoToolsAndAnswer(t *testing.T) {
	e := newEnv(t)
	fake := newFake(t, func(n int, req request) map[string]any {
		switch n {
		case 1:
			return message(n, "tool_use", [2]int{1200, 80}, textBlock("Let me look at the dashboard."),
				toolUse("toolu_1", "get_dashboard_metrics", map[string]any{"start_date": "2026-01-01", "end_date": "2026-01-31"}))
		case 2:
			return message(n, "tool_use", [2]int{2500, 60},
				toolUse("toolu_2", "get_top_users", map[string]any{"limit": 3, "sort_by": "cost"}))
		}
		return message(n, "end_turn", [2]int{3000, 150}, textBlock("January cost 1.05 cents, all of it from u1."))
	})
	var events []agent.Event
	var usages []agent.Usage
	cfg := e.config(fake, analytics.RoleOwner, "agent-test1")
	cfg.Record = func(_ context.Context, u agent.Usage) { usages = append(usages, u) }
	res, err := agent.Run(ctx, cfg, "What did January cost, and who cost most?", func(ev agent.Event) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != "January cost 1.05 cents, all of it from u1." || res.Turns != 3 || res.StopReason != "end_turn" {
		t.Errorf("result: %+v", res)
	}

	// The model was offered exactly the five admin tools, each with a
	// described schema, and told today's date.
	reqs := fake.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	var names []string
	for _, tl := range reqs[0].Tools {
		names = append(names, tl.Name)
		if tl.Description == "" || tl.InputSchema["type"] != "object" || tl.InputSchema["properties"] == nil {
			t.Errorf("tool %s: %+v", tl.Name, tl)
		}
	}
	slices.Sort(names)
	if want := []string{"export_analytics", "get_cost_breakdown", "get_dashboard_metrics", "get_top_users", "get_user_growth"}; !slices.Equal(names, want) {
		t.Errorf("tools offered: %v", names)
	}
	if reqs[0].Model != "claude-sonnet-4-5" || len(reqs[0].System) != 1 || !strings.Contains(reqs[0].System[0].Text, "Today is 2026-01-31") {
		t.Errorf("first request: model %q system %+v", reqs[0].Model, reqs[0].System)
	}

	// Each tool result the model read is the tool's own output, and the
	// run returns them so the answer can be checked.
	dash, _ := e.tools.DashboardMetrics(ctx, analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-31"})
	top, _ := e.tools.TopUsers(ctx, analytics.TopUsersInput{Limit: new(3), SortBy: "cost"})
	for i, want := range []struct {
		id  string
		out any
	}{{"toolu_1", dash}, {"toolu_2", top}} {
		msgs := reqs[i+1].Messages
		last := msgs[len(msgs)-1]
		if last.Role != "user" || len(last.Content) != 1 || last.Content[0].Type != "tool_result" || last.Content[0].ToolUseID != want.id || last.Content[0].IsError {
			t.Fatalf("request %d: last message %+v", i+2, last)
		}
		var got any
		if err := json.Unmarshal([]byte(last.Content[0].Content[0].Text), &got); err != nil || !reflect.DeepEqual(got, jsonOf(t, want.out)) {
			t.Errorf("tool result %s: %s", want.id, last.Content[0].Content[0].Text)
		}
		if tc := res.ToolCalls[i]; tc.ID != want.id || tc.Error != "" || !reflect.DeepEqual(jsonOf(t, tc.Output), jsonOf(t, want.out)) {
			t.Errorf("ToolCalls[%d] = %+v", i, tc)
		}
		// The assistant's tool_use turn is sent back before the results.
		if prev := msgs[len(msgs)-2]; prev.Role != "assistant" || prev.Content[len(prev.Content)-1].ID != want.id {
			t.Errorf("request %d: assistant turn %+v", i+2, prev)
		}
	}

	// Every tool call went through the guard with door agent and is audited;
	// Stop ran once at the end.
	entries := e.audit(t)
	if len(entries) != 2 || entries[0].Action != "analytics_dashboard_viewed" || entries[1].Action != "analytics_top_users_viewed" {
		t.Fatalf("audit: %+v", entries)
	}
	for _, en := range entries {
		if en.Door != analytics.DoorAgent || en.Outcome != analytics.OutcomeAllowed || en.AdminEmail != "owner@example.com" ||
			!strings.Contains(string(en.Details), `"session_id":"agent-test1"`) {
			t.Errorf("audit entry: %+v %s", en, en.Details)
		}
	}
	if !slices.Equal(e.stops, []string{"agent agent-test1 owner@example.com"}) {
		t.Errorf("stops: %v", e.stops)
	}

	// Progress streamed as it happened, the answer last.
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	want := []string{"progress", "progress", "tool", "progress", "tool", "progress", "answer"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if last := events[len(events)-1]; last.Result == nil || last.Result.Answer != res.Answer {
		t.Errorf("answer event %+v", last)
	}

	// Usage: one record per Claude call with the real counts.
	if len(usages) != 3 || usages[0].InputTokens != 1200 || usages[2].OutputTokens != 150 || usages[1].MessageID != "msg_2" ||
		usages[0].Model != "claude-sonnet-4-5-20250929" || usages[2].Turn != 3 {
		t.Errorf("usages: %+v", usages)
	}
	if res.Usage.Calls != 3 || res.Usage.InputTokens != 6700 || res.Usage.OutputTokens != 290 {
		t.Errorf("totals: %+v", res.Usage)
	}
}

// TestDeniedToolFedBack: a call the guard denies reaches the model as an
// error tool_result with the guard's reason, and is audited as a denial.
func TestDeniedToolFedBack(t *testing.T) {
	e := newEnv(t)
	fake := newFake(t, func(n int, req request) map[string]any {
		switch n {
		case 1:
			return message(n, "tool_use", [2]int{100, 10},
				toolUse("toolu_x", "export_analytics", map[string]any{"format": "csv"}),
				toolUse("toolu_y", "get_user_growth", map[string]any{"start_date": "2025-01-01", "end_date": "2026-01-31"}),
				toolUse("toolu_z", "log_api_call", map[string]any{"id": "evil"}),
				toolUse("toolu_w", "get_top_users", map[string]any{"limit": "many"}))
		}
		return message(n, "end_turn", [2]int{100, 10}, textBlock("You may not export data."))
	})
	res, err := agent.Run(ctx, e.config(fake, analytics.RoleViewer, "agent-denied"), "Export January", nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	results := reqs[1].Messages[len(reqs[1].Messages)-1].Content
	want := []struct{ id, text string }{
		{"toolu_x", "Permission denied: export_analytics requires EXPORT_DATA (your role: viewer)"},
		{"toolu_y", "Date range cannot exceed 365 days"},
		{"toolu_z", `tool "log_api_call" is not available; use one of get_dashboard_metrics, get_cost_breakdown, get_user_growth, get_top_users, export_analytics`},
		{"toolu_w", "invalid input for get_top_users: json: cannot unmarshal string into Go struct field TopUsersInput.limit of type int"},
	}
	if len(results) != len(want) {
		t.Fatalf("tool results %+v", results)
	}
	for i, w := range want {
		r := results[i]
		if r.Type != "tool_result" || r.ToolUseID != w.id || !r.IsError || len(r.Content) != 1 || r.Content[0].Text != w.text {
			t.Errorf("result %d: %+v, want error %q", i, r, w.text)
		}
		if res.ToolCalls[i].Error != w.text {
			t.Errorf("ToolCalls[%d].Error = %q", i, res.ToolCalls[i].Error)
		}
	}
	if res.Answer != "You may not export data." {
		t.Errorf("answer %q", res.Answer)
	}
	// The two guarded calls were audited as denials (the unknown tool and the
	// malformed input never reached a tool).
	entries := e.audit(t)
	if len(entries) != 2 || entries[0].Action != "analytics_data_exported" || entries[0].Outcome != analytics.OutcomeDenied ||
		entries[0].Door != analytics.DoorAgent || entries[1].Reason != "Date range cannot exceed 365 days" {
		t.Errorf("audit: %+v", entries)
	}
}

// TestMaxTurns: a model that never stops calling tools is cut off after the
// seed's 10 turns; the tools of the last turn are not run, Stop still runs.
func TestMaxTurns(t *testing.T) {
	e := newEnv(t)
	fake := newFake(t, func(n int, req request) map[string]any {
		return message(n, "tool_use", [2]int{10, 5}, toolUse(fmt.Sprintf("toolu_%d", n), "get_dashboard_metrics", map[string]any{}))
	})
	var last agent.Event
	res, err := agent.Run(ctx, e.config(fake, analytics.RoleOwner, "agent-loop"), "Loop forever", func(ev agent.Event) { last = ev })
	if err == nil || analytics.ErrorMessage(err) != "Ask stopped after 10 turns without a final answer; try a narrower question" {
		t.Fatalf("err = %v", err)
	}
	if n := len(fake.requests()); n != 10 {
		t.Errorf("%d Claude calls, want 10", n)
	}
	if res.Turns != 10 || len(res.ToolCalls) != 9 || res.Usage.Calls != 10 {
		t.Errorf("result: turns %d, %d tool calls, %d calls", res.Turns, len(res.ToolCalls), res.Usage.Calls)
	}
	if last.Kind != agent.EventError || last.Error != analytics.ErrorMessage(err) {
		t.Errorf("last event %+v", last)
	}
	if len(e.audit(t)) != 9 || len(e.stops) != 1 {
		t.Errorf("%d audit entries, stops %v", len(e.audit(t)), e.stops)
	}

	// A smaller cap is honoured too.
	fake2 := newFake(t, func(n int, req request) map[string]any {
		return message(n, "tool_use", [2]int{10, 5}, toolUse(fmt.Sprintf("toolu_%d", n), "get_user_growth", map[string]any{}))
	})
	cfg := e.config(fake2, analytics.RoleOwner, "agent-loop2")
	cfg.MaxTurns = 3
	if _, err := agent.Run(ctx, cfg, "Loop", nil); err == nil || len(fake2.requests()) != 3 {
		t.Errorf("MaxTurns 3: %v after %d calls", err, len(fake2.requests()))
	}
}

// TestUsageRecordedWithCost: the agent's own Claude calls become api_call
// events (service anthropic, operation analytics_ask, no user) priced by the
// catalog from their real token usage.
func TestUsageRecordedWithCost(t *testing.T) {
	e := newEnv(t)
	fake := newFake(t, func(n int, req request) map[string]any {
		if n == 1 {
			m := message(n, "tool_use", [2]int{10000, 2000}, toolUse("toolu_1", "get_cost_breakdown", map[string]any{}))
			m["usage"].(map[string]any)["cache_read_input_tokens"] = 100000
			m["usage"].(map[string]any)["cache_creation_input_tokens"] = 4000
			m["usage"].(map[string]any)["cache_creation"] = map[string]any{"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 1000}
			return m
		}
		return message(n, "end_turn", [2]int{20000, 1000}, textBlock("Done."))
	})
	cfg := e.config(fake, analytics.RoleOwner, "agent-cost")
	cfg.Record = func(ctx context.Context, u agent.Usage) {
		res, err := e.ing.Ingest(ctx, []json.RawMessage{u.RawEvent(fmt.Sprintf("ask-%s-%d", cfg.SessionID, u.Turn))})
		if err != nil || res.Accepted != 1 {
			t.Errorf("ingest usage: %+v %v", res, err)
		}
	}
	if _, err := agent.Run(ctx, cfg, "How much?", nil); err != nil {
		t.Fatal(err)
	}
	// Sonnet 4.5: input $3, output $15, 5-minute cache write $3.75, 1-hour
	// cache write $6, cache read $0.30 per million tokens.
	// Turn 1: 10,000 input $0.03 + 2,000 output $0.03 + 3,000 5-minute
	//         writes $0.01125 + 1,000 1-hour writes $0.006 + 100,000 reads
	//         $0.03 = $0.10725
	// Turn 2: 20,000×3 + 1,000×15 = $0.06 + $0.015 = $0.075
	// Total $0.18225 = 18.225 cents.
	cost, err := e.tools.CostBreakdown(ctx, analytics.RangeInput{StartDate: "2026-01-31", EndDate: "2026-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	var op *analytics.OperationCost
	for i := range cost.ByOperation {
		if cost.ByOperation[i].Operation == agent.Operation {
			op = &cost.ByOperation[i]
		}
	}
	if op == nil || op.Service != analytics.ServiceAnthropic || op.Calls != 2 || jsonOf(t, op.Cost) != 18.225 || op.UnpricedCalls != 0 {
		t.Fatalf("analytics_ask cost: %+v", op)
	}
	// No end user is charged for it.
	top, _ := e.tools.TopUsers(ctx, analytics.TopUsersInput{RangeInput: analytics.RangeInput{StartDate: "2026-01-31", EndDate: "2026-01-31"}})
	if len(top.Users) != 0 {
		t.Errorf("users charged: %+v", top.Users)
	}
}

// TestClaudeFailure: an API error ends the run with a safe message, is
// recorded as a failed call, and still runs Stop.
func TestClaudeFailure(t *testing.T) {
	e := newEnv(t)
	fake := newFake(t, nil)
	fake.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`))
	})
	var usages []agent.Usage
	cfg := e.config(fake, analytics.RoleOwner, "agent-fail")
	cfg.Record = func(_ context.Context, u agent.Usage) { usages = append(usages, u) }
	_, err := agent.Run(ctx, cfg, "Anything", nil)
	if err == nil || analytics.ErrorKind(err) != analytics.KindUnavailable || analytics.ErrorMessage(err) != "the Claude API refused the request (HTTP 401)" {
		t.Fatalf("err = %v (%q)", err, analytics.ErrorMessage(err))
	}
	if len(usages) != 1 || usages[0].Error == "" || !strings.Contains(string(usages[0].RawEvent("x")), `"status":"error"`) {
		t.Errorf("usages %+v", usages)
	}
	if len(e.stops) != 1 {
		t.Errorf("stops %v", e.stops)
	}
}
