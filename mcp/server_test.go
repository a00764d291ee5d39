package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
	mcpserver "github.com/codestory/analytics/mcp"
	"github.com/codestory/analytics/pricing"
	"github.com/codestory/analytics/sqlite"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var ctx = context.Background()

// now is the fixed clock of every test: "today" is 2026-01-31.
var now = time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)

type stopped struct {
	session string
	door    analytics.Door
	email   string
}

type fixture struct {
	t        *testing.T
	store    *sqlite.Store
	guard    *guard.Guard
	tools    *analytics.Tools
	auth     *auth.Authenticator
	srv      *mcpserver.Server
	tokens   map[string]string // role or "ingest" → bearer secret
	mu       sync.Mutex
	stops    []stopped
	stopSeen chan struct{}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mcp.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, store: st, tokens: map[string]string{}, stopSeen: make(chan struct{}, 100)}
	clock := func() time.Time { return now }
	f.auth = &auth.Authenticator{Admins: st, Keys: st}
	f.tools = &analytics.Tools{Store: st, Now: clock}
	ing := &analytics.Ingester{Store: st, Pricer: pricing.Default(), Decoder: analytics.EventDecoder{Now: clock}}
	f.guard = guard.New(guard.Config{
		Limiter: guard.NewMemory(guard.AnalyticsRate, nil), Audit: &audit.Log{Store: st}, Now: clock, Location: st.Location,
		StopHooks: []guard.HookFunc{func(_ context.Context, in *guard.HookInput) (*guard.Decision, error) {
			f.mu.Lock()
			f.stops = append(f.stops, stopped{in.SessionID, in.Door, in.Principal.Email()})
			f.mu.Unlock()
			f.stopSeen <- struct{}{}
			return nil, nil
		}},
	})
	f.srv = mcpserver.New(mcpserver.Config{Guard: f.guard, Tools: f.tools, Ingester: ing, Now: clock})
	for _, role := range []analytics.Role{analytics.RoleViewer, analytics.RoleAnalyst, analytics.RoleOwner} {
		adm, err := st.CreateAdmin(ctx, string(role)+"@example.com", role, "")
		if err != nil {
			t.Fatal(err)
		}
		secret := auth.NewSecret(auth.AdminTokenPrefix)
		if _, err := st.CreateToken(ctx, adm.ID, "test", auth.HashSecret(secret)); err != nil {
			t.Fatal(err)
		}
		f.tokens[string(role)] = secret
	}
	key := auth.NewSecret(auth.IngestKeyPrefix)
	if _, err := st.CreateIngestKey(ctx, "backend", auth.HashSecret(key)); err != nil {
		t.Fatal(err)
	}
	f.tokens["ingest"] = key

	// A little data: two signups, one priced Claude call, a payment.
	var raws []json.RawMessage
	for _, e := range []string{
		`{"id":"s1","type":"user_signup","timestamp":"2026-01-10T09:00:00Z","user_id":"u1","email":"u1@example.com"}`,
		`{"id":"s2","type":"user_signup","timestamp":"2026-01-20T09:00:00Z","user_id":"u2"}`,
		`{"id":"c1","type":"api_call","timestamp":"2026-01-20T10:00:00Z","user_id":"u2","service":"anthropic","operation":"chapter","model":"claude-sonnet-4-5","input_tokens":1000,"output_tokens":500}`,
		`{"id":"p1","type":"payment","timestamp":"2026-01-21T10:00:00Z","user_id":"u2","amount_cents":999}`,
	} {
		raws = append(raws, json.RawMessage(e))
	}
	if res, err := ing.Ingest(ctx, raws); err != nil || res.Accepted != 4 {
		t.Fatalf("seed: %+v %v", res, err)
	}
	return f
}

func (f *fixture) principal(kind string) *analytics.Principal {
	f.t.Helper()
	p, err := f.auth.Bearer(ctx, f.tokens[kind])
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// connect opens an in-memory MCP session as the credential of kind.
func (f *fixture) connect(kind string) (*mcp.ClientSession, *mcp.ServerSession) {
	f.t.Helper()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := f.srv.Connect(ctx, f.principal(kind), st)
	if err != nil {
		f.t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { cs.Close() })
	return cs, ss
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// wantDenied checks a tool result is an error carrying exactly reason.
func wantDenied(t *testing.T, res *mcp.CallToolResult, reason string) {
	t.Helper()
	if !res.IsError || text(res) != reason {
		t.Fatalf("want isError with %q, got isError=%v %q", reason, res.IsError, text(res))
	}
	if res.StructuredContent != nil {
		t.Errorf("an error result carries structuredContent %v", res.StructuredContent)
	}
}

// jsonOf normalises a value to its decoded JSON, for comparison.
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

var adminTools = []string{"export_analytics", "get_budget_status", "get_cohorts", "get_cost_breakdown", "get_dashboard_metrics", "get_engagement", "get_story_costs", "get_top_users", "get_user_economics", "get_user_growth", "list_alerts", "list_anomalies", "list_prices", "reprice"}

func toolNames(t *testing.T, cs *mcp.ClientSession) ([]string, map[string]*mcp.Tool) {
	t.Helper()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]*mcp.Tool{}
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
		byName[tl.Name] = tl
	}
	slices.Sort(names)
	return names, byName
}

func TestToolListPerCredential(t *testing.T) {
	f := newFixture(t)
	for _, role := range []string{"viewer", "analyst", "owner"} {
		cs, _ := f.connect(role)
		if got, _ := toolNames(t, cs); !slices.Equal(got, adminTools) {
			t.Errorf("%s sees %v, want %v", role, got, adminTools)
		}
		if init := cs.InitializeResult(); init == nil || init.ServerInfo == nil || init.ServerInfo.Name != "analytics" {
			t.Errorf("server info: %+v", init)
		}
	}
	cs, _ := f.connect("ingest")
	got, tools := toolNames(t, cs)
	if !slices.Equal(got, []string{"log_api_call"}) {
		t.Fatalf("ingest key sees %v, want only log_api_call", got)
	}
	_ = tools
	// An admin cannot even call the internal tool: it does not exist for them.
	admin, _ := f.connect("owner")
	if res, err := admin.CallTool(ctx, &mcp.CallToolParams{Name: "log_api_call", Arguments: map[string]any{"id": "x"}}); err == nil && !res.IsError {
		t.Fatalf("admin called log_api_call: %+v", res)
	}
}

// TestSchemas: every tool has an object input schema with a description on
// every property, and an output schema.
func TestSchemas(t *testing.T) {
	f := newFixture(t)
	check := func(tl *mcp.Tool) {
		var in, out struct {
			Type       string
			Properties map[string]struct {
				Type        any
				Description string
			}
		}
		b, _ := json.Marshal(tl.InputSchema)
		if err := json.Unmarshal(b, &in); err != nil || in.Type != "object" || (len(in.Properties) == 0 && tl.Name != "list_prices") {
			t.Errorf("%s: input schema %s", tl.Name, b)
		}
		for name, p := range in.Properties {
			if p.Description == "" {
				t.Errorf("%s: input property %q has no description", tl.Name, name)
			}
		}
		b, _ = json.Marshal(tl.OutputSchema)
		if err := json.Unmarshal(b, &out); err != nil || out.Type != "object" || len(out.Properties) == 0 {
			t.Errorf("%s: output schema %s", tl.Name, b)
		}
		if tl.Description == "" {
			t.Errorf("%s: no description", tl.Name)
		}
	}
	for _, kind := range []string{"owner", "ingest"} {
		cs, _ := f.connect(kind)
		_, tools := toolNames(t, cs)
		for _, tl := range tools {
			check(tl)
		}
	}
	// Money is a number in the output schema, a day a string.
	b, _ := json.Marshal(mcpserver.SchemaFor[analytics.DashboardMetrics]())
	if !strings.Contains(string(b), `"total_cost_cents":{"type":"number"`) || !strings.Contains(string(b), `"date":{"type":"string"`) {
		t.Errorf("dashboard output schema: %s", b)
	}
}

// TestStructuredOutput: each tool's structuredContent is the typed result of
// the same tool called directly (the REST handlers call it too; the cmd tests
// compare with the REST responses byte for byte).
func TestStructuredOutput(t *testing.T) {
	f := newFixture(t)
	cs, _ := f.connect("owner")
	rng := analytics.RangeInput{StartDate: "2026-01-05", EndDate: "2026-01-25"}
	args := map[string]any{"start_date": rng.StartDate, "end_date": rng.EndDate}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want func() (any, error)
	}{
		{"get_dashboard_metrics", args, func() (any, error) { return f.tools.DashboardMetrics(ctx, rng) }},
		{"get_cost_breakdown", args, func() (any, error) { return f.tools.CostBreakdown(ctx, rng) }},
		{"get_user_growth", args, func() (any, error) { return f.tools.UserGrowth(ctx, rng) }},
		{"get_top_users", map[string]any{"start_date": rng.StartDate, "end_date": rng.EndDate, "limit": 5, "sort_by": "cost"},
			func() (any, error) {
				return f.tools.TopUsers(ctx, analytics.TopUsersInput{RangeInput: rng, Limit: new(5), SortBy: "cost"})
			}},
		{"export_analytics", map[string]any{"start_date": rng.StartDate, "end_date": rng.EndDate, "format": "json"},
			func() (any, error) {
				return f.tools.ExportAnalytics(ctx, analytics.ExportInput{RangeInput: rng, Format: "json"})
			}},
		{"export_analytics", args, func() (any, error) { // csv by default
			return f.tools.ExportAnalytics(ctx, analytics.ExportInput{RangeInput: rng})
		}},
		{"get_dashboard_metrics", map[string]any{}, func() (any, error) { // the seed's defaults: the last 30 days
			return f.tools.DashboardMetrics(ctx, analytics.RangeInput{})
		}},
	} {
		res := call(t, cs, tc.tool, tc.args)
		if res.IsError {
			t.Fatalf("%s: %s", tc.tool, text(res))
		}
		want, err := tc.want()
		if err != nil {
			t.Fatal(err)
		}
		if got, w := jsonOf(t, res.StructuredContent), jsonOf(t, want); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: structuredContent\n%v\nwant\n%v", tc.tool, got, w)
		}
		// The text content is the same JSON, for clients without structured output.
		var fromText any
		if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil || !reflect.DeepEqual(fromText, jsonOf(t, want)) {
			t.Errorf("%s: text content %q", tc.tool, text(res))
		}
	}
	// Spot-check an exact figure: 1000 in + 500 out of Sonnet 4.5 = 1.05 cents.
	res := call(t, cs, "get_dashboard_metrics", args)
	if got := res.StructuredContent.(map[string]any)["totals"].(map[string]any)["total_cost_cents"]; got != 1.05 {
		t.Errorf("total_cost_cents = %v, want 1.05", got)
	}
}

// TestValidation: arguments that do not fit the input schema are refused by
// the SDK; dates, ranges, limits and formats by the guard, with the seed's
// messages, audited as denials.
func TestValidation(t *testing.T) {
	f := newFixture(t)
	cs, _ := f.connect("owner")
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string // a substring of the error text
	}{
		{"get_top_users", map[string]any{"limit": "ten"}, "validating \"arguments\""},
		{"get_dashboard_metrics", map[string]any{"start_date": 20260101}, "validating \"arguments\""},
		{"get_dashboard_metrics", map[string]any{"since": "2026-01-01"}, "validating \"arguments\""},
	} {
		res := call(t, cs, tc.tool, tc.args)
		if !res.IsError || !strings.Contains(text(res), tc.want) {
			t.Errorf("%s %v: isError=%v %q, want %q", tc.tool, tc.args, res.IsError, text(res), tc.want)
		}
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"get_dashboard_metrics", map[string]any{"start_date": "2026-1-01", "end_date": "2026-01-02"}, "Invalid date format (expected YYYY-MM-DD)"},
		{"get_dashboard_metrics", map[string]any{"start_date": "2026-01-01", "end_date": "2026-02-30"}, "Invalid date: 2026-02-30 does not exist (day out of range)"},
		{"get_top_users", map[string]any{"limit": 0}, "limit must be between 1 and 100 (got 0)"},
		{"get_cost_breakdown", map[string]any{"start_date": "2025-01-01", "end_date": "2026-01-02"}, "Date range cannot exceed 365 days"},
		{"get_user_growth", map[string]any{"start_date": "2026-01-10", "end_date": "2026-01-02"}, "End date must be after start date"},
		{"get_top_users", map[string]any{"limit": 500}, "limit must be between 1 and 100 (got 500)"},
		{"get_top_users", map[string]any{"sort_by": "revenue"}, `sort_by must be one of cost, stories, api_calls (got "revenue")`},
		{"export_analytics", map[string]any{"format": "xml"}, `format must be csv or json (got "xml")`},
	} {
		wantDenied(t, call(t, cs, tc.tool, tc.args), tc.want)
	}
	entries, err := f.store.ListAudit(ctx, analytics.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, e := range entries {
		if e.Door == analytics.DoorMCP && e.Outcome == analytics.OutcomeDenied {
			denied++
		}
	}
	if denied != 8 {
		t.Errorf("%d denials audited with door mcp, want 8", denied)
	}
}

func TestPermissionsAndRateLimit(t *testing.T) {
	f := newFixture(t)
	viewer, _ := f.connect("viewer")
	wantDenied(t, call(t, viewer, "export_analytics", nil), "Permission denied: export_analytics requires EXPORT_DATA (your role: viewer)")
	analyst, _ := f.connect("analyst")
	if res := call(t, analyst, "export_analytics", nil); res.IsError {
		t.Fatalf("analyst export: %s", text(res))
	}

	// The owner's 30/min budget is shared by all their sessions.
	a, _ := f.connect("owner")
	b, _ := f.connect("owner")
	for i := range 30 {
		cs := a
		if i%2 == 1 {
			cs = b
		}
		if res := call(t, cs, "get_dashboard_metrics", nil); res.IsError {
			t.Fatalf("call %d: %s", i+1, text(res))
		}
	}
	wantDenied(t, call(t, b, "get_cost_breakdown", nil), "Rate limit exceeded: 30 analytics requests per minute")
	// Others keep theirs.
	if res := call(t, analyst, "get_user_growth", nil); res.IsError {
		t.Fatalf("analyst after owner's limit: %s", text(res))
	}
}

// TestAuditAndStop: calls are audited with door mcp and the session id; the
// session's state lives in the guard until the client closes, when Stop runs.
func TestAuditAndStop(t *testing.T) {
	f := newFixture(t)
	cs, ss := f.connect("analyst")
	call(t, cs, "export_analytics", map[string]any{"start_date": "2026-01-01", "end_date": "2026-01-31", "format": "json"})
	call(t, cs, "get_top_users", map[string]any{"limit": 3, "sort_by": "stories"})
	entries, err := f.store.ListAudit(ctx, analytics.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d audit entries, want 2: %+v", len(entries), entries)
	}
	var session string
	for i, want := range []struct{ action, detail string }{
		{"analytics_top_users_viewed", `"sort_by":"stories"`},
		{"analytics_data_exported", `"alert":"DATA_EXPORT"`},
	} {
		e := entries[i]
		if e.Door != analytics.DoorMCP || e.Action != want.action || e.Outcome != analytics.OutcomeAllowed || e.AdminEmail != "analyst@example.com" ||
			!strings.Contains(string(e.Details), want.detail) {
			t.Errorf("entry %d: %+v %s", i, e, e.Details)
		}
		var d struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(e.Details, &d)
		if !strings.HasPrefix(d.SessionID, "mcp-") || (session != "" && d.SessionID != session) {
			t.Errorf("session id %q", d.SessionID)
		}
		session = d.SessionID
	}
	if !f.guard.HasSession(session) {
		t.Fatalf("no live guard session %q", session)
	}
	_ = ss
	cs.Close()
	f.waitStop(t, session)
	if f.guard.HasSession(session) {
		t.Error("session state kept after Stop")
	}
	if n := f.srv.SessionCount(); n != 0 {
		t.Errorf("%d sessions still tracked", n)
	}
}

func (f *fixture) waitStop(t *testing.T, session string) stopped {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		for _, s := range f.stops {
			if s.session == session {
				f.mu.Unlock()
				if s.door != analytics.DoorMCP {
					t.Errorf("Stop door %q", s.door)
				}
				return s
			}
		}
		f.mu.Unlock()
		select {
		case <-f.stopSeen:
		case <-deadline:
			t.Fatalf("Stop did not run for %q (ran for %+v)", session, f.stops)
		}
	}
}

func TestLogAPICall(t *testing.T) {
	f := newFixture(t)
	cs, _ := f.connect("ingest")
	ev := map[string]any{"id": "mcp-1", "timestamp": "2026-01-30T10:00:00Z", "user_id": "u9", "service": "anthropic",
		"operation": "chapter", "model": "claude-sonnet-4-5", "input_tokens": 2000, "output_tokens": 1000}
	res := call(t, cs, "log_api_call", ev)
	if res.IsError {
		t.Fatal(text(res))
	}
	// 2000 × $3/M + 1000 × $15/M = $0.021 = 2.1 cents.
	want := map[string]any{"id": "mcp-1", "accepted": true, "duplicate": false, "cost_cents": 2.1, "priced": true}
	if got := jsonOf(t, res.StructuredContent); !reflect.DeepEqual(got, jsonOf(t, want)) {
		t.Errorf("got %v, want %v", got, want)
	}
	res = call(t, cs, "log_api_call", ev)
	if got := res.StructuredContent.(map[string]any); got["duplicate"] != true || got["accepted"] != false {
		t.Errorf("retry: %v", got)
	}
	// An explicit cost wins; no timestamp means now.
	res = call(t, cs, "log_api_call", map[string]any{"id": "mcp-2", "service": "elevenlabs", "operation": "narration", "cost_cents": 0.0125})
	if got := res.StructuredContent.(map[string]any); got["cost_cents"] != 0.0125 || got["accepted"] != true {
		t.Errorf("explicit cost: %v %s", got, text(res))
	}
	// The event contract's rules apply.
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"id": "bad1", "service": "openai", "operation": "x", "model": "gpt"}, `unknown service "openai" (expected anthropic, elevenlabs or s3)`},
		{map[string]any{"id": "bad2", "service": "anthropic", "operation": "x", "model": "m", "status": "maybe"}, `status must be "ok" or "error" (got "maybe")`},
		{map[string]any{"id": "bad3", "service": "s3", "operation": "get", "cost_cents": 0.00001}, "more than 4 decimal places"},
		{map[string]any{"id": "bad4", "timestamp": "yesterday", "service": "s3", "operation": "get"}, "is not RFC 3339"},
	} {
		res := call(t, cs, "log_api_call", tc.args)
		if !res.IsError || !strings.Contains(text(res), tc.want) {
			t.Errorf("%v: isError=%v %q, want %q", tc.args, res.IsError, text(res), tc.want)
		}
	}
	if res := call(t, cs, "log_api_call", map[string]any{"service": "s3"}); !res.IsError || !strings.Contains(text(res), "validating") {
		t.Errorf("missing id: %q", text(res))
	}
	cost, err := f.tools.CostBreakdown(ctx, analytics.RangeInput{StartDate: "2026-01-30", EndDate: "2026-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, cost.Breakdown.Anthropic.Cost); got != 2.1 {
		t.Errorf("stored anthropic cost %v cents, want 2.1", got)
	}
	entries, _ := f.store.ListAudit(ctx, analytics.AuditFilter{Action: "api_call_logged", Limit: 100})
	if len(entries) != 7 || entries[0].Door != analytics.DoorMCP || entries[0].AdminEmail != "ingest-key:backend" {
		t.Errorf("audit: %d entries %+v", len(entries), entries)
	}
}

// TestRun serves a session over a pair of pipes, as `codestory-analytics
// mcp` serves stdio: EOF ends it and Stop runs before Run returns.
func TestRun(t *testing.T) {
	f := newFixture(t)
	sr, cw := io.Pipe()
	cr, sw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- f.srv.Run(ctx, f.principal("owner"), &mcp.IOTransport{Reader: sr, Writer: sw}) }()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: cw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, cs, "get_user_growth", nil); res.IsError {
		t.Fatal(text(res))
	}
	cs.Close()
	cw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after EOF")
	}
	// The lock is released before the next session: its end runs the
	// Stop hook, which takes it too.
	f.mu.Lock()
	stops := slices.Clone(f.stops)
	f.mu.Unlock()
	if len(stops) != 1 || !strings.HasPrefix(stops[0].session, "mcp-stdio-") || stops[0].email != "owner@example.com" {
		t.Errorf("stops: %+v", stops)
	}

	// A cancelled context ends the session too.
	cctx, cancel := context.WithCancel(ctx)
	sr2, _ := io.Pipe()
	_, sw2 := io.Pipe()
	go func() { done <- f.srv.Run(cctx, f.principal("owner"), &mcp.IOTransport{Reader: sr2, Writer: sw2}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// bearerTransport adds a bearer token to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func (f *fixture) httpServer() *httptest.Server {
	hs := httptest.NewServer(f.srv.HTTPHandler(f.auth.Bearer))
	f.t.Cleanup(hs.Close)
	return hs
}

func httpClient(t *testing.T, url, token string) *mcp.ClientSession {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearerTransport{token}}, MaxRetries: -1}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return cs
}

func TestStreamableHTTP(t *testing.T) {
	f := newFixture(t)
	hs := f.httpServer()

	// No credential, a bad one, a malformed header: 401 JSON before the SDK.
	for _, auth := range []string{"", "Bearer csa_nope", "Basic abc"} {
		req, _ := http.NewRequest("POST", hs.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error string }
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != 401 || body.Error == "" || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") ||
			res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%q: %d %q %v", auth, res.StatusCode, body.Error, res.Header)
		}
	}

	owner := httpClient(t, hs.URL, f.tokens["owner"])
	if got, _ := toolNames(t, owner); !slices.Equal(got, adminTools) {
		t.Errorf("owner over HTTP sees %v", got)
	}
	res := call(t, owner, "get_cost_breakdown", map[string]any{"start_date": "2026-01-01", "end_date": "2026-01-31"})
	want, _ := f.tools.CostBreakdown(ctx, analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-31"})
	if res.IsError || !reflect.DeepEqual(jsonOf(t, res.StructuredContent), jsonOf(t, want)) {
		t.Errorf("cost breakdown over HTTP: %s", text(res))
	}
	viewer := httpClient(t, hs.URL, f.tokens["viewer"])
	wantDenied(t, call(t, viewer, "export_analytics", nil), "Permission denied: export_analytics requires EXPORT_DATA (your role: viewer)")
	ingest := httpClient(t, hs.URL, f.tokens["ingest"])
	if got, _ := toolNames(t, ingest); !slices.Equal(got, []string{"log_api_call"}) {
		t.Errorf("ingest key over HTTP sees %v", got)
	}

	// A session belongs to the credential owner who opened it.
	sid := owner.ID()
	if sid == "" {
		t.Fatal("no Mcp-Session-Id")
	}
	req, _ := http.NewRequest("POST", hs.URL, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", owner.InitializeResult().ProtocolVersion)
	req.Header.Set("Authorization", "Bearer "+f.tokens["viewer"])
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != http.StatusForbidden {
		t.Errorf("another admin on the owner's session: %d", hr.StatusCode)
	}

	// Audit entries carry door mcp, the address and the session id.
	entries, _ := f.store.ListAudit(ctx, analytics.AuditFilter{AdminEmail: "owner@example.com", Limit: 10})
	if len(entries) != 1 || entries[0].Door != analytics.DoorMCP || !strings.Contains(string(entries[0].Details), `"session_id":"mcp-`+sid+`"`) ||
		!strings.Contains(string(entries[0].Details), `"ip_address":"127.0.0.1"`) {
		t.Errorf("audit: %+v", entries)
	}

	// Closing the session (DELETE /mcp) runs Stop for it.
	if !f.guard.HasSession("mcp-" + sid) {
		t.Errorf("no guard session for %s", sid)
	}
	if err := owner.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if s := f.waitStop(t, "mcp-"+sid); s.email != "owner@example.com" {
		t.Errorf("Stop principal %q", s.email)
	}
	if f.guard.HasSession("mcp-" + sid) {
		t.Error("guard session kept after DELETE")
	}
	viewer.Close()
	ingest.Close()
}

// TestIdleSessionStops: a client that never sends DELETE has its session
// closed after the idle timeout, and Stop runs.
func TestIdleSessionStops(t *testing.T) {
	f := newFixture(t)
	f.srv = mcpserver.New(mcpserver.Config{Guard: f.guard, Tools: f.tools, SessionTimeout: 200 * time.Millisecond})
	hs := f.httpServer()
	cs := httpClient(t, hs.URL, f.tokens["owner"])
	call(t, cs, "get_dashboard_metrics", nil)
	f.waitStop(t, "mcp-"+cs.ID())
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_dashboard_metrics"}); err == nil {
		t.Error("call on an expired session succeeded")
	}
	cs.Close()
}

var _ = errors.New

// TestEconomicsTools: the unit-economics tools answer over MCP what the
// tools answer directly (u2 paid 9.99 $ and made one priced Claude call),
// and refuse bad input with the tool's reason.
func TestEconomicsTools(t *testing.T) {
	f := newFixture(t)
	cs, _ := f.connect("viewer")
	rng := map[string]any{"start_date": "2026-01-01", "end_date": "2026-01-31"}
	res := call(t, cs, "get_user_economics", rng)
	want, err := f.tools.UserEconomics(ctx, analytics.EconomicsInput{RangeInput: analytics.RangeInput{StartDate: "2026-01-01", EndDate: "2026-01-31"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || !reflect.DeepEqual(jsonOf(t, res.StructuredContent), jsonOf(t, want)) {
		t.Fatalf("get_user_economics: %s", text(res))
	}
	if len(want.Users) != 1 || want.Users[0].UserID != "u2" || want.Users[0].Revenue != 9_990_000 || want.Users[0].Cost <= 0 ||
		want.Summary.PayingUsers != 1 {
		t.Fatalf("economics %+v", want)
	}
	res = call(t, cs, "get_cohorts", map[string]any{"start_date": "2026-01-01", "end_date": "2026-01-31", "period": "month"})
	if sc, _ := json.Marshal(res.StructuredContent); res.IsError || !strings.Contains(string(sc), `"cohorts":[{"cohort":"2026-01-01"`) ||
		!strings.Contains(string(sc), `"size":2`) {
		t.Fatalf("get_cohorts: %s", text(res))
	}
	if res := call(t, cs, "get_story_costs", rng); res.IsError {
		t.Fatalf("get_story_costs: %s", text(res))
	}
	wantDenied(t, call(t, cs, "get_user_economics", map[string]any{"sort_by": "profit"}), "sort_by must be one of margin, cost, revenue, stories (got \"profit\")")
	wantDenied(t, call(t, cs, "get_cohorts", map[string]any{"period": "day"}), "period must be week or month (got \"day\")")
}
