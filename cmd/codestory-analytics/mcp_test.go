package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearerRoundTripper adds "Authorization: Bearer <token>" to every request.
type bearerRoundTripper struct{ token string }

func (b bearerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpClient opens an MCP session with the server's /mcp as token, with the
// SDK's own Streamable HTTP client.
func (ts *testServer) mcpClient(token string) *mcp.ClientSession {
	ts.t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: &http.Client{Transport: bearerRoundTripper{token}}, MaxRetries: -1}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "cmd-test", Version: "1"}, nil).Connect(context.Background(), tr, nil)
	if err != nil {
		ts.t.Fatalf("MCP connect: %v", err)
	}
	ts.t.Cleanup(func() { cs.Close() })
	return cs
}

func mcpCall(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return res
}

func mcpText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func mcpToolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	return names
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, b)
}

var mcpAdminTools = []string{"export_analytics", "get_budget_status", "get_cohorts", "get_cost_breakdown", "get_dashboard_metrics", "get_engagement", "get_story_costs", "get_top_users", "get_user_economics", "get_user_growth", "list_alerts", "list_anomalies", "list_prices", "reprice"}

// mcpOwnerTools are what an owner sees: the admin tools and get_audit_log.
var mcpOwnerTools = []string{"export_analytics", "get_audit_log", "get_budget_status", "get_cohorts", "get_cost_breakdown", "get_dashboard_metrics", "get_engagement", "get_story_costs", "get_top_users", "get_user_economics", "get_user_growth", "list_alerts", "list_anomalies", "list_prices", "reprice"}

// seedMCP ingests a small, varied data set.
func (ts *testServer) seedMCP(key string) {
	ts.t.Helper()
	res := ts.ingest(key,
		ev("m1", "user_signup", "2026-01-10T09:00:00Z", "u1", "email", "u1@example.com"),
		ev("m2", "user_signup", "2026-01-11T09:00:00Z", "u2", "email", "=cmd|' /C calc'!A0@example.com"),
		ev("m3", "api_call", "2026-01-10T10:00:00Z", "u1", "service", "anthropic", "operation", "chapter",
			"model", "claude-sonnet-4-5-20250929", "input_tokens", 1000, "output_tokens", 500),
		ev("m4", "api_call", "2026-01-11T10:00:00Z", "u2", "service", "elevenlabs", "operation", "text_to_speech",
			"model", "eleven_multilingual_v2", "characters", 2000),
		ev("m5", "api_call", "2026-01-12T10:00:00Z", "u2", "service", "s3", "operation", "GetObject", "bytes_transferred", 5000000),
		ev("m6", "story_created", "2026-01-10T10:00:00Z", "u1", "story_id", "s1"),
		ev("m7", "story_completed", "2026-01-10T11:00:00Z", "u1", "story_id", "s1", "chapters", 3, "audio_seconds", 61.5),
		ev("m8", "payment", "2026-01-12T02:00:00Z", "u1", "amount_cents", 999),
		ev("m9", "user_churned", "2026-01-13T05:00:00Z", "u2"),
	)
	if res.Status != 200 || !strings.Contains(string(res.Body), `"accepted":9`) {
		ts.t.Fatalf("seed: %d %s", res.Status, res.Body)
	}
}

// TestMCPMatchesREST: over Streamable HTTP with the SDK's client, each tool's
// structuredContent equals the REST response for the same input.
func TestMCPMatchesREST(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	owner := ts.adminToken("owner@example.com", "owner")
	ts.seedMCP(key)
	cs := ts.mcpClient(owner)
	if got := mcpToolNames(t, cs); !slices.Equal(got, mcpOwnerTools) {
		t.Fatalf("tools: %v", got)
	}
	if init := cs.InitializeResult(); init.ServerInfo.Name != "analytics" {
		t.Errorf("server name %q", init.ServerInfo.Name)
	}

	q := url.Values{"start_date": {"2026-01-09"}, "end_date": {"2026-01-14"}}
	args := map[string]any{"start_date": "2026-01-09", "end_date": "2026-01-14"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{"start_date": "2026-01-09", "end_date": "2026-01-14"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		tool, path string
		args       map[string]any
		pick       func(structured any) any // the part of the result REST returns
	}{
		{"get_dashboard_metrics", "/admin/analytics/dashboard?" + q.Encode(), args, nil},
		{"get_cost_breakdown", "/admin/analytics/costs?" + q.Encode(), args, nil},
		{"get_user_growth", "/admin/analytics/users/growth?" + q.Encode(), args, nil},
		// REST keeps the seed's bare list; the tool wraps it in an object.
		{"get_top_users", "/admin/analytics/users/top?limit=5&sort_by=api_calls&" + q.Encode(), with("limit", 5, "sort_by", "api_calls"),
			func(s any) any { return s.(map[string]any)["users"] }},
		{"get_top_users", "/admin/analytics/users/top", nil, func(s any) any { return s.(map[string]any)["users"] }},
		{"export_analytics", "/admin/analytics/export?format=json&" + q.Encode(), with("format", "json"), nil},
		{"get_dashboard_metrics", "/admin/analytics/dashboard", nil, nil}, // defaults: the last 30 days
	} {
		rest := ts.do("GET", tc.path, owner, nil)
		if rest.Status != 200 {
			t.Fatalf("%s: %d %s", tc.path, rest.Status, rest.Body)
		}
		res := mcpCall(t, cs, tc.tool, tc.args)
		if res.IsError {
			t.Fatalf("%s: %s", tc.tool, mcpText(res))
		}
		got := asJSON(t, res.StructuredContent)
		if tc.pick != nil {
			got = tc.pick(got)
		}
		if want := decodeJSON(t, rest.Body); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: MCP\n%v\nREST %s\n%v", tc.tool, got, tc.path, want)
		}
	}
	// CSV: the tool's content is the REST attachment, formula injection
	// escaped the same way.
	rest := ts.do("GET", "/admin/analytics/export?"+q.Encode(), owner, nil)
	res := mcpCall(t, cs, "export_analytics", args)
	sc := res.StructuredContent.(map[string]any)
	if rest.Status != 200 || sc["format"] != "csv" || sc["content"] != string(rest.Body) ||
		!strings.Contains(rest.Header.Get("Content-Disposition"), fmt.Sprint(sc["filename"])) || sc["filename"] != "analytics_2026-01-09_2026-01-14.csv" {
		t.Errorf("csv: MCP %v\nREST %d %q %s", sc, rest.Status, rest.Header.Get("Content-Disposition"), rest.Body)
	}

	// Validation: a wrong argument type is refused by the input schema;
	// a bad value by the guard, with the same message as REST.
	if res := mcpCall(t, cs, "get_top_users", map[string]any{"limit": "ten"}); !res.IsError || !strings.Contains(mcpText(res), `validating "arguments"`) {
		t.Errorf("limit ten: %v %s", res.IsError, mcpText(res))
	}
	for _, tc := range []struct {
		tool, path string
		args       map[string]any
	}{
		{"get_dashboard_metrics", "/admin/analytics/dashboard?start_date=2023-01-01&end_date=2024-12-31", map[string]any{"start_date": "2023-01-01", "end_date": "2024-12-31"}},
		{"get_cost_breakdown", "/admin/analytics/costs?start_date=2024-02-01&end_date=2024-01-01", map[string]any{"start_date": "2024-02-01", "end_date": "2024-01-01"}},
		{"get_user_growth", "/admin/analytics/users/growth?start_date=2024-1-01", map[string]any{"start_date": "2024-1-01"}},
		{"get_top_users", "/admin/analytics/users/top?limit=101", map[string]any{"limit": 101}},
		{"export_analytics", "/admin/analytics/export?format=xml", map[string]any{"format": "xml"}},
	} {
		rest := ts.do("GET", tc.path, owner, nil)
		res := mcpCall(t, cs, tc.tool, tc.args)
		if rest.Status != 400 || !res.IsError || mcpText(res) != rest.errorText(t) {
			t.Errorf("%s: MCP %v %q, REST %d %q", tc.tool, res.IsError, mcpText(res), rest.Status, rest.errorText(t))
		}
	}
}

// TestMCPCredentials: the tool list depends on the credential; without a
// valid bearer token /mcp answers 401 before any MCP happens.
func TestMCPCredentials(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	viewer := ts.adminToken("viewer@example.com", "viewer")
	owner := ts.adminToken("owner@example.com", "owner")

	for _, tc := range []struct{ method, auth, reason string }{
		{"POST", "", "Analytics access requires admin authentication"},
		{"GET", "", "Analytics access requires admin authentication"},
		{"DELETE", "", "Analytics access requires admin authentication"},
		{"POST", "Bearer csa_not-a-token", "invalid or revoked token"},
		{"POST", "Token " + owner, "Authorization header must be 'Bearer <token>'"},
	} {
		res := ts.do(tc.method, "/mcp", "", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`),
			"Authorization", tc.auth, "Content-Type", "application/json", "Accept", "application/json, text/event-stream")
		if res.Status != 401 || res.errorText(t) != tc.reason || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %q: %d %s %v", tc.method, tc.auth, res.Status, res.Body, res.Header)
		}
	}

	if got := mcpToolNames(t, ts.mcpClient(viewer)); !slices.Equal(got, mcpAdminTools) {
		t.Errorf("viewer sees %v", got)
	}
	ingest := ts.mcpClient(key)
	if got := mcpToolNames(t, ingest); !slices.Equal(got, []string{"log_api_call"}) {
		t.Fatalf("ingest key sees %v", got)
	}
	// log_api_call stores a priced event that the admin tools then see.
	res := mcpCall(t, ingest, "log_api_call", map[string]any{"id": "via-mcp", "timestamp": "2026-01-15T10:00:00Z", "user_id": "u7",
		"service": "anthropic", "operation": "chapter", "model": "claude-sonnet-4-5", "input_tokens": 1000, "output_tokens": 500})
	if res.IsError || !reflect.DeepEqual(asJSON(t, res.StructuredContent), map[string]any{"id": "via-mcp", "accepted": true, "duplicate": false, "cost_cents": 1.05, "priced": true}) {
		t.Fatalf("log_api_call: %s", mcpText(res))
	}
	dash := ts.do("GET", "/admin/analytics/dashboard?start_date=2026-01-15&end_date=2026-01-15", owner, nil)
	if !strings.Contains(string(dash.Body), `"api_requests":1`) || !strings.Contains(string(dash.Body), `"total_cost_cents":1.05`) {
		t.Errorf("dashboard after log_api_call: %s", dash.Body)
	}
	// A viewer is denied what its role lacks, with the guard's reason.
	res = mcpCall(t, ts.mcpClient(viewer), "export_analytics", nil)
	if !res.IsError || mcpText(res) != "Permission denied: export_analytics requires EXPORT_DATA (your role: viewer)" {
		t.Errorf("viewer export: %v %q", res.IsError, mcpText(res))
	}
	// Revoking the token cuts an open session off at its next request.
	sess := ts.mcpClient(owner)
	mcpCall(t, sess, "get_user_growth", nil)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "revoke", "--db", ts.DB, "2"}, ts.getenv, strings.NewReader(""), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "owner@example.com revoked") {
		t.Fatalf("revoke: %v %s", err, out.String())
	}
	if _, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_user_growth"}); err == nil {
		t.Error("a revoked token still works on its open session")
	}
}

// TestMCPRateLimitSharedWithREST: one admin's 30 calls a minute are shared
// by MCP and REST; the 31st, whichever door it comes through, is denied, and
// every MCP call is audited with door mcp.
func TestMCPRateLimitSharedWithREST(t *testing.T) {
	ts := startServer(t, "")
	analyst := ts.adminToken("analyst@example.com", "analyst")
	owner := ts.adminToken("owner@example.com", "owner")
	cs := ts.mcpClient(analyst)
	for i := range 30 {
		if i%2 == 0 {
			if res := ts.do("GET", "/admin/analytics/costs", analyst, nil); res.Status != 200 {
				t.Fatalf("REST call %d: %d %s", i+1, res.Status, res.Body)
			}
		} else if res := mcpCall(t, cs, "get_dashboard_metrics", nil); res.IsError {
			t.Fatalf("MCP call %d: %s", i+1, mcpText(res))
		}
	}
	res := mcpCall(t, cs, "export_analytics", map[string]any{"format": "json"})
	if !res.IsError || mcpText(res) != "Rate limit exceeded: 30 analytics requests per minute" {
		t.Fatalf("31st call over MCP: %v %q", res.IsError, mcpText(res))
	}
	if rest := ts.do("GET", "/admin/analytics/dashboard", analyst, nil); rest.Status != 429 {
		t.Errorf("32nd call over REST: %d", rest.Status)
	}

	page := ts.do("GET", "/admin/audit?admin=analyst@example.com&limit=100", owner, nil)
	var audit struct {
		Entries []struct {
			Door, Action, Outcome, Reason string
			Details                       map[string]any
		}
	}
	page.json(t, &audit)
	count := map[string]int{}
	for _, e := range audit.Entries {
		if e.Door == "cli" {
			continue // admin and token creation
		}
		count[e.Door+" "+e.Outcome]++
		if e.Door == "mcp" && !strings.HasPrefix(fmt.Sprint(e.Details["session_id"]), "mcp-") {
			t.Errorf("mcp entry without session: %+v", e)
		}
		if e.Door == "mcp" && e.Outcome == "denied" && (e.Action != "analytics_data_exported" || e.Reason != "Rate limit exceeded: 30 analytics requests per minute") {
			t.Errorf("denial entry: %+v", e)
		}
	}
	if want := map[string]int{"mcp allowed": 15, "mcp denied": 1, "rest allowed": 15, "rest denied": 1}; !reflect.DeepEqual(count, want) {
		t.Errorf("audit by door: %v, want %v", count, want)
	}
}

// TestMCPShutdownWithOpenSession: an MCP client's open event stream does not
// hold the server's shutdown up.
func TestMCPShutdownWithOpenSession(t *testing.T) {
	ts := startServer(t, "")
	cs := ts.mcpClient(ts.adminToken("o@example.com", "owner"))
	mcpCall(t, cs, "get_dashboard_metrics", nil)
	start := time.Now()
	ts.stop()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %s with an open MCP session", d)
	}
}

// TestMCPStdio runs `codestory-analytics mcp` in process on a pair of pipes,
// with the SDK's client on the other end.
func TestMCPStdio(t *testing.T) {
	ts := startServer(t, "")
	tok := ts.adminToken("owner@example.com", "owner")
	key := ts.ingestKey()
	ts.seedMCP(key)

	for _, tc := range []struct{ token, want string }{
		{"", "ANALYTICS_TOKEN is not set"},
		{"csa_bogus", "mcp: ANALYTICS_TOKEN: invalid or revoked token"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"mcp", "--db", ts.DB}, func(k string) string {
			if k == "ANALYTICS_TOKEN" {
				return tc.token
			}
			return ""
		}, strings.NewReader(""), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), tc.want) || out.Len() != 0 {
			t.Errorf("token %q: %v (stdout %q)", tc.token, err, out.String())
		}
	}

	sr, cw := io.Pipe()
	cr, sw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"mcp", "--db", ts.DB, "--log-level", "debug"},
			func(k string) string { return map[string]string{"ANALYTICS_TOKEN": tok}[k] }, sr, sw, &stderr)
		sw.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(context.Background(), &mcp.IOTransport{Reader: cr, Writer: cw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := mcpToolNames(t, cs); !slices.Equal(got, mcpOwnerTools) {
		t.Errorf("stdio tools: %v", got)
	}
	res := mcpCall(t, cs, "get_cost_breakdown", map[string]any{"start_date": "2026-01-09", "end_date": "2026-01-14"})
	rest := ts.do("GET", "/admin/analytics/costs?start_date=2026-01-09&end_date=2026-01-14", tok, nil)
	if res.IsError || !reflect.DeepEqual(asJSON(t, res.StructuredContent), decodeJSON(t, rest.Body)) {
		t.Errorf("stdio cost breakdown: %s\nREST %s", mcpText(res), rest.Body)
	}
	cs.Close()
	cw.Close() // EOF on the server's stdin
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("mcp exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("mcp did not exit on EOF")
	}
	if !strings.Contains(stderr.String(), "MCP session ended") {
		t.Errorf("stderr lacks the session's end (Stop):\n%s", stderr.String())
	}
	// The stdio call was audited with door mcp.
	page := ts.do("GET", "/admin/audit?action=analytics_costs_viewed&limit=10", tok, nil)
	if !strings.Contains(string(page.Body), `"door":"mcp"`) || !strings.Contains(string(page.Body), `"session_id":"mcp-stdio-`) {
		t.Errorf("audit: %s", page.Body)
	}
}

// inspector returns a command that runs the real MCP Inspector CLI, installed
// with npm into a cache directory. Without npx (or when the install fails)
// the test is skipped, except in CI where it must run.
func inspector(t *testing.T) func(args ...string) *exec.Cmd {
	t.Helper()
	const version = "2.12.0"
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("npx"); err != nil {
		skip("npx not found: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "codestory-analytics", "mcp-inspector-"+version)
	bin := filepath.Join(dir, "node_modules", ".bin", "mcp-inspector")
	if _, err := os.Stat(bin); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			skip("inspector cache: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@modelcontextprotocol/inspector@"+version)
		cmd.Env = append(os.Environ(), "INSPECTOR_SKIP_CLIENT_INSTALL=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			skip("npm install @modelcontextprotocol/inspector: %v\n%s", err, out)
		}
	}
	return func(args ...string) *exec.Cmd {
		// npx runs the package installed in dir.
		cmd := exec.Command("npx", append([]string{"--no-install", "@modelcontextprotocol/inspector", "--cli"}, args...)...)
		cmd.Dir = dir
		return cmd
	}
}

func runInspector(t *testing.T, cmd *exec.Cmd) (map[string]any, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Args[0], cmd.Args[1:]...)
	c.Dir, c.Env = cmd.Dir, cmd.Env
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var v map[string]any
	if jerr := json.Unmarshal(stdout.Bytes(), &v); jerr != nil {
		t.Fatalf("inspector %v: %v\nstdout: %s\nstderr: %s", cmd.Args, err, stdout.String(), stderr.String())
	}
	return v, stderr.String()
}

func inspectorToolNames(t *testing.T, v map[string]any) []string {
	t.Helper()
	var names []string
	tools, _ := v["tools"].([]any)
	for _, tl := range tools {
		names = append(names, tl.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

// TestMCPInspectorCLI drives the server with the real MCP Inspector CLI:
// tools/list and tools/call, over stdio (the built binary) and over HTTP.
func TestMCPInspectorCLI(t *testing.T) {
	insp := inspector(t)
	bin := binary(t)
	ts := startServer(t, "")
	tok := ts.adminToken("owner@example.com", "owner")
	key := ts.ingestKey()
	ts.seedMCP(key)
	dbPath := strings.TrimPrefix(ts.DB, "sqlite:")
	want := decodeJSON(t, ts.do("GET", "/admin/analytics/users/growth?start_date=2026-01-09&end_date=2026-01-14", tok, nil).Body)

	stdio := func(token string, args ...string) *exec.Cmd {
		return insp(append([]string{"-e", "ANALYTICS_TOKEN=" + token, bin, "mcp", "--db", "sqlite:" + dbPath}, args...)...)
	}
	overHTTP := func(token string, args ...string) *exec.Cmd {
		return insp(append([]string{ts.URL + "/mcp", "--transport", "http", "--header", "Authorization: Bearer " + token}, args...)...)
	}
	for name, door := range map[string]func(string, ...string) *exec.Cmd{"stdio": stdio, "http": overHTTP} {
		t.Run(name, func(t *testing.T) {
			v, stderr := runInspector(t, door(tok, "--method", "tools/list"))
			if got := inspectorToolNames(t, v); !slices.Equal(got, mcpOwnerTools) {
				t.Errorf("tools/list: %v\n%s", got, stderr)
			}
			for _, tl := range v["tools"].([]any) {
				m := tl.(map[string]any)
				if m["inputSchema"] == nil || m["outputSchema"] == nil {
					t.Errorf("%s lacks a schema", m["name"])
				}
			}
			v, stderr = runInspector(t, door(tok, "--method", "tools/call", "--tool-name", "get_user_growth",
				"--tool-arg", "start_date=2026-01-09", "end_date=2026-01-14"))
			if v["isError"] == true || !reflect.DeepEqual(v["structuredContent"], want) {
				t.Errorf("tools/call get_user_growth: %v\n%s", v, stderr)
			}
			// A denial is a tool result with isError and the guard's reason.
			v, _ = runInspector(t, door(tok, "--method", "tools/call", "--tool-name", "get_dashboard_metrics",
				"--tool-arg", "start_date=2024-01-01", "end_date=2026-01-14"))
			if v["isError"] != true || !strings.Contains(fmt.Sprint(v["content"]), "Date range cannot exceed 365 days") {
				t.Errorf("denied call: %v", v)
			}
			v, _ = runInspector(t, door(key, "--method", "tools/list"))
			if got := inspectorToolNames(t, v); !slices.Equal(got, []string{"log_api_call"}) {
				t.Errorf("ingest key tools/list: %v", got)
			}
		})
	}
	// The calls were audited with door mcp: 2 per door (one allowed, one denied).
	page := ts.do("GET", "/admin/audit?admin=owner@example.com&limit=100", tok, nil)
	var audit struct {
		Entries []struct{ Door, Outcome string }
	}
	page.json(t, &audit)
	n := 0
	for _, e := range audit.Entries {
		if e.Door == "mcp" {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d audit entries with door mcp, want 4", n)
	}
}
