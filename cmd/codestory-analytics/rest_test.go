package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ev builds a contract event.
func ev(id, typ, ts, user string, kv ...any) map[string]any {
	m := map[string]any{"id": id, "type": typ, "timestamp": ts}
	if user != "" {
		m["user_id"] = user
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// TestEndToEndIngestAndQuery ingests over HTTP and checks every figure of
// the dashboard against hand-computed values.
func TestEndToEndIngestAndQuery(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	owner := ts.adminToken("owner@example.com", "owner")

	res := ts.ingest(key,
		ev("e1", "user_signup", "2026-01-10T09:00:00Z", "u1", "email", "u1@example.com"),
		ev("e2", "user_signup", "2026-01-11T09:00:00+02:00", "u2", "email", "u2@example.com"), // 07:00Z
		// 1000 input + 500 output tokens of Sonnet 4.5 at $3/$15 per MTok = 0.003 + 0.0075 = $0.0105
		ev("e3", "api_call", "2026-01-10T10:00:00Z", "u1", "service", "anthropic", "operation", "chapter",
			"model", "claude-sonnet-4-5-20250929", "input_tokens", 1000, "output_tokens", 500),
		// 2,000 characters of eleven_multilingual_v2 at $0.10 per 1,000 = $0.20
		ev("e4", "api_call", "2026-01-10T23:59:59.999Z", "u1", "service", "elevenlabs", "operation", "text_to_speech",
			"model", "eleven_multilingual_v2", "characters", 2000),
		// an explicit cost wins: 1.2345 cents = $0.012345
		ev("e5", "api_call", "2026-01-11T00:00:00Z", "u2", "service", "anthropic", "operation", "chapter",
			"model", "claude-haiku-4-5", "input_tokens", 10, "cost_cents", 1.2345),
		ev("e6", "api_call", "2026-01-11T01:00:00Z", "u2", "service", "anthropic", "operation", "chapter",
			"model", "claude-unknown-9", "input_tokens", 10, "status", "error"),
		ev("e7", "payment", "2026-01-11T02:00:00Z", "u1", "amount_cents", 999),
		ev("e8", "refund", "2026-01-11T03:00:00Z", "u1", "amount_cents", 199),
		ev("e9", "story_created", "2026-01-10T10:00:00Z", "u1", "story_id", "s1"),
		ev("e10", "story_completed", "2026-01-10T11:00:00Z", "u1", "story_id", "s1", "chapters", 4, "audio_seconds", 90.5),
		ev("e11", "user_churned", "2026-01-11T05:00:00Z", "u2"),
		ev("e3", "api_call", "2026-01-10T10:00:00Z", "u1", "service", "anthropic", "operation", "chapter", "model", "claude-sonnet-4-5", "input_tokens", 1), // duplicate id
		ev("bad", "api_call", "2026-01-10T10:00:00Z", "u1", "service", "openai", "operation", "x", "model", "gpt"),
	)
	if res.Status != 200 {
		t.Fatalf("ingest: %d %s", res.Status, res.Body)
	}
	var ir struct {
		Accepted, Duplicates int
		Rejected             []struct {
			Index int
			ID    string
			Error string
		}
	}
	res.json(t, &ir)
	if ir.Accepted != 11 || ir.Duplicates != 1 || len(ir.Rejected) != 1 || ir.Rejected[0].Index != 12 || ir.Rejected[0].ID != "bad" ||
		!strings.Contains(ir.Rejected[0].Error, `unknown service "openai"`) {
		t.Fatalf("ingest result = %s", res.Body)
	}

	res = ts.do("GET", "/admin/analytics/dashboard?start_date=2026-01-10&end_date=2026-01-12", owner, nil)
	if res.Status != 200 {
		t.Fatalf("dashboard: %d %s", res.Status, res.Body)
	}
	var got map[string]any
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	totals := got["totals"].(map[string]any)
	want := map[string]string{
		"new_users": "2", "active_users": "2", "churned_users": "1", "stories_created": "1", "stories_completed": "1",
		"total_chapters": "4", "api_requests": "4", "api_errors": "1", "unpriced_calls": "1",
		// $0.0105 + $0.20 + $0.012345 = $0.222845 = 22.2845 cents
		"total_cost_cents": "22.2845",
		"revenue_cents":    "800",
	}
	for k, v := range want {
		if fmt.Sprint(totals[k]) != v {
			t.Errorf("totals.%s = %v, want %s", k, totals[k], v)
		}
	}
	if m := fmt.Sprint(totals["total_audio_minutes"]); !strings.HasPrefix(m, "1.508333") {
		t.Errorf("total_audio_minutes = %s, want 90.5/60", m)
	}
	daily := got["daily"].([]any)
	if len(daily) != 3 {
		t.Fatalf("daily has %d days, want 3 (zero-filled)", len(daily))
	}
	d0, d2 := daily[0].(map[string]any), daily[2].(map[string]any)
	if fmt.Sprint(d0["cost"]) != "0.2105" || fmt.Sprint(d0["date"]) != "2026-01-10" || fmt.Sprint(d2["stories"]) != "0" {
		t.Errorf("daily = %v", daily)
	}

	// The same figures from the CLI's query command.
	out := ts.mustCLI("", "query", "costs", "--start", "2026-01-10", "--end", "2026-01-11")
	if !strings.Contains(out, `"cost_cents": 22.2845`) || !strings.Contains(out, `"unpriced_calls": 1`) {
		t.Errorf("query costs output lacks the totals:\n%s", out)
	}
	if out := ts.mustCLI("", "verify"); !strings.Contains(out, "ok: rollups equal a fresh aggregate of 11 events") {
		t.Errorf("verify: %s", out)
	}
}

func TestIngestRefusals(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	owner := ts.adminToken("o@example.com", "owner")
	good := `{"events":[{"id":"x1","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}]}`
	for _, tc := range []struct {
		name, token, ctype, body string
		status                   int
		reason                   string
	}{
		{"no key", "", "application/json", good, 401, "missing bearer ingest key"},
		{"garbage key", "csk_ingest_nope", "application/json", good, 401, "invalid or revoked ingest key"},
		{"admin token", owner, "application/json", good, 403, "needs an ingest key"},
		{"not JSON", key, "application/json", `{"events": [`, 400, "not valid JSON"},
		{"no events array", key, "application/json", `{"evts": []}`, 400, `"events" array`},
		{"wrong content type", key, "text/plain", good, 415, "Content-Type"},
		{"too large", key, "application/json", `{"events":[` + strings.Repeat(" ", 33<<20) + `]}`, 413, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.do("POST", "/v1/events", tc.token, strings.NewReader(tc.body), "Content-Type", tc.ctype)
			if res.Status != tc.status || !strings.Contains(res.errorText(t), tc.reason) {
				t.Errorf("got %d %s; want %d containing %q", res.Status, res.Body, tc.status, tc.reason)
			}
		})
	}
	if n := ts.mustCLI("", "verify"); !strings.Contains(n, "of 0 events") {
		t.Errorf("refused bodies stored something: %s", n)
	}
	// NDJSON works, and a bad line is rejected alone.
	nd := "{\"id\":\"n1\",\"type\":\"user_signup\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"user_id\":\"u\"}\n" +
		"{\"id\":\"n2\",\"type\":\"payment\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"user_id\":\"u\",\"amount_cents\":-5}\n"
	res := ts.do("POST", "/v1/events", key, strings.NewReader(nd), "Content-Type", "application/x-ndjson")
	if res.Status != 200 || !strings.Contains(string(res.Body), `"accepted":1`) || !strings.Contains(string(res.Body), "amount_cents must be a positive integer") {
		t.Errorf("ndjson: %d %s", res.Status, res.Body)
	}
}

// Gate 1: the 31st analytics call in a minute is refused with "Rate limit".
func TestGate1RateLimit(t *testing.T) {
	ts := startServer(t, "")
	a := ts.adminToken("a@example.com", "analyst")
	b := ts.adminToken("b@example.com", "viewer")
	paths := []string{"/admin/analytics/dashboard", "/admin/analytics/costs", "/admin/analytics/users/growth",
		"/admin/analytics/users/top", "/admin/analytics/export?format=json"}
	for i := 0; i < 30; i++ {
		if res := ts.do("GET", paths[i%len(paths)], a, nil); res.Status != 200 {
			t.Fatalf("call %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	res := ts.do("GET", "/admin/analytics/dashboard", a, nil)
	if res.Status != 429 || !strings.Contains(res.errorText(t), "Rate limit exceeded: 30 analytics requests per minute") {
		t.Fatalf("31st call: %d %s", res.Status, res.Body)
	}
	if ra := res.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After = %q, want 2 (one call every 2 s refills)", ra)
	}
	if res := ts.do("GET", "/admin/analytics/dashboard", b, nil); res.Status != 200 {
		t.Errorf("another admin is limited independently: %d", res.Status)
	}
}

// Gate 2: more than 365 days is refused with the seed's message; so are the
// other validation errors.
func TestGate2Validation(t *testing.T) {
	ts := startServer(t, "")
	tok := ts.adminToken("a@example.com", "owner")
	for _, tc := range []struct{ query, reason string }{
		{"/admin/analytics/dashboard?start_date=2023-01-01&end_date=2024-12-31", "Date range cannot exceed 365 days"},
		{"/admin/analytics/costs?start_date=2024-02-01&end_date=2024-01-01", "End date must be after start date"},
		{"/admin/analytics/users/growth?start_date=2024-1-01&end_date=2024-01-31", "Invalid date format (expected YYYY-MM-DD)"},
		{"/admin/analytics/users/top?limit=101", "limit must be between 1 and 100"},
		{"/admin/analytics/users/top?limit=ten", "limit must be an integer"},
		{"/admin/analytics/users/top?sort_by=email", "sort_by must be one of cost, stories, api_calls"},
		{"/admin/analytics/export?format=xml", "format must be csv or json"},
		{"/admin/analytics/users/economics?sort_by=profit", "sort_by must be one of margin, cost, revenue, stories"},
		{"/admin/analytics/users/economics?order=up", "order must be asc or desc"},
		{"/admin/analytics/users/economics?limit=501", "limit must be between 1 and 500"},
		{"/admin/analytics/users/economics?limit=0", "limit must be between 1 and 500"},
		{"/admin/analytics/users/economics?cursor=%21%21", "cursor is not a next_cursor"},
		{"/admin/analytics/users/economics?start_date=2023-01-01&end_date=2024-12-31", "Date range cannot exceed 365 days"},
		{"/admin/analytics/stories?limit=101", "limit must be between 1 and 100"},
		{"/admin/analytics/stories?start_date=2024-02-01&end_date=2024-02-30", "does not exist"},
		{"/admin/analytics/cohorts?period=day", "period must be week or month"},
		{"/admin/analytics/export?table=events", "table must be one of daily, users, stories, cohorts"},
		{"/admin/analytics/export?table=cohorts&period=year", "period must be week or month"},
	} {
		res := ts.do("GET", tc.query, tok, nil)
		if res.Status != 400 || !strings.Contains(res.errorText(t), tc.reason) {
			t.Errorf("%s: %d %s; want 400 %q", tc.query, res.Status, res.Body, tc.reason)
		}
	}
	// 2024 is a leap year: 2024-01-01..2024-12-31 is end − start = 365 days, allowed.
	if res := ts.do("GET", "/admin/analytics/dashboard?start_date=2024-01-01&end_date=2024-12-31", tok, nil); res.Status != 200 {
		t.Errorf("365-day range: %d %s", res.Status, res.Body)
	}
}

type auditPage struct {
	Entries []struct {
		ID         int64
		AdminEmail string `json:"admin_email"`
		Door       string
		Action     string
		Outcome    string
		Reason     string
		Details    map[string]any
	}
}

// Gate 3: an export leaves an audit entry with alert DATA_EXPORT; denials
// are audited too.
func TestGate3Audit(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")
	viewer := ts.adminToken("viewer@example.com", "viewer")
	res := ts.do("GET", "/admin/analytics/export?start_date=2024-01-01&end_date=2024-01-31&format=csv", owner, nil)
	if res.Status != 200 || res.Header.Get("Content-Disposition") != `attachment; filename="analytics_2024-01-01_2024-01-31.csv"` {
		t.Fatalf("export: %d %v", res.Status, res.Header)
	}
	if lines := strings.Split(strings.TrimSpace(string(res.Body)), "\n"); len(lines) != 32 || lines[0] != "Date,New Users,Active Users,Stories,Cost,Revenue" {
		t.Errorf("CSV has %d lines, header %q", len(lines), lines[0])
	}
	if res := ts.do("GET", "/admin/analytics/export", viewer, nil); res.Status != 403 {
		t.Errorf("viewer export: %d", res.Status)
	}
	res = ts.do("GET", "/admin/audit?action=analytics_data_exported", owner, nil)
	var page auditPage
	res.json(t, &page)
	if len(page.Entries) != 2 {
		t.Fatalf("want 2 export entries (allowed and denied), got %s", res.Body)
	}
	denied, allowed := page.Entries[0], page.Entries[1] // newest first
	if allowed.Outcome != "allowed" || allowed.Details["alert"] != "DATA_EXPORT" || allowed.Details["export_format"] != "csv" ||
		allowed.AdminEmail != "owner@example.com" || allowed.Door != "rest" {
		t.Errorf("allowed export entry = %+v", allowed)
	}
	if dr, _ := allowed.Details["date_range"].(map[string]any); dr["start"] != "2024-01-01" || dr["end"] != "2024-01-31" {
		t.Errorf("date_range = %v", allowed.Details["date_range"])
	}
	if denied.Outcome != "denied" || denied.AdminEmail != "viewer@example.com" || !strings.Contains(denied.Reason, "EXPORT_DATA") {
		t.Errorf("denied export entry = %+v", denied)
	}
	if out := ts.mustCLI("", "audit", "verify"); !strings.Contains(out, "ok: audit chain") {
		t.Errorf("audit verify: %s", out)
	}
}

// Gate 4: the dashboard answers with totals and daily.
func TestGate4Dashboard(t *testing.T) {
	ts := startServer(t, "")
	tok := ts.adminToken("a@example.com", "viewer")
	res := ts.do("GET", "/admin/analytics/dashboard?start_date=2024-01-01&end_date=2024-01-31", tok, nil)
	if res.Status != 200 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	var data struct {
		Totals map[string]any
		Daily  []map[string]any
	}
	res.json(t, &data)
	for _, k := range []string{"new_users", "total_cost_cents"} {
		if _, ok := data.Totals[k]; !ok {
			t.Errorf("totals has no %s", k)
		}
	}
	if len(data.Daily) != 31 {
		t.Errorf("daily has %d days, want 31", len(data.Daily))
	}
}

// TestPermissionMatrix checks every endpoint against every kind of caller,
// from one table so a new endpoint cannot be forgotten.
func TestPermissionMatrix(t *testing.T) {
	ts := startServer(t, "")
	viewer := ts.adminToken("viewer@example.com", "viewer")
	analyst := ts.adminToken("analyst@example.com", "analyst")
	owner := ts.adminToken("owner@example.com", "owner")
	revoked := ts.adminToken("gone@example.com", "owner")
	ts.mustCLI("", "token", "revoke", "4")
	key := ts.ingestKey()
	// An expired session: log in, then let the server's clock pass its end
	// is not possible from outside, so use a session cookie that was
	// logged out (deleted) — the store treats both as unknown.
	c, csrf, lres := ts.login("owner@example.com", "a-long-enough-password")
	if lres.Status != 200 {
		t.Fatalf("login: %d %s", lres.Status, lres.Body)
	}
	u := ts.URL + "/"
	cookies := c.Jar.Cookies(mustURL(t, u))
	if r := doWith(t, c, "POST", ts.URL+"/logout", "", nil, "X-CSRF-Token", csrf); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	expiredCookie := "codestory_session=" + cookies[0].Value

	callers := []struct {
		name   string
		header []string
	}{
		{"none", nil},
		{"garbage", []string{"Authorization", "Bearer csa_garbage"}},
		{"revoked", []string{"Authorization", "Bearer " + revoked}},
		{"ingest", []string{"Authorization", "Bearer " + key}},
		{"viewer", []string{"Authorization", "Bearer " + viewer}},
		{"analyst", []string{"Authorization", "Bearer " + analyst}},
		{"owner", []string{"Authorization", "Bearer " + owner}},
		{"expired-session", []string{"Cookie", expiredCookie}},
	}
	// Expected status per caller, in the order above.
	endpoints := map[string][8]int{
		"GET /admin/analytics/dashboard":    {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/costs":        {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/users/growth": {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/engagement":   {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/users/top":    {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/export":       {401, 401, 401, 403, 403, 200, 200, 401},
		// Unit economics: VIEW_ANALYTICS; the export's tables need EXPORT_DATA.
		"GET /admin/analytics/users/economics":    {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/stories":            {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/cohorts":            {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/analytics/export?table=users": {401, 401, 401, 403, 403, 200, 200, 401},
		"GET /admin/audit":                        {401, 401, 401, 403, 403, 403, 200, 401},
		// get_audit_log is a guarded tool: authorization before validation.
		"GET /admin/audit?limit=0&before=5": {401, 401, 401, 403, 403, 403, 400, 401},
		"GET /api/session":                  {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/prices":                 {401, 401, 401, 403, 200, 200, 200, 401},
		"POST /admin/prices":                {401, 401, 401, 403, 403, 403, 400, 401},
		"DELETE /admin/prices":              {401, 401, 401, 403, 403, 403, 400, 401},
		"POST /admin/prices/reprice":        {401, 401, 401, 403, 403, 403, 200, 401},
		// The credential lifecycle (owners only); {id} is sent literally, so
		// an owner gets the tool's 400 for a non-numeric id, after the guard.
		"GET /admin/admins":                      {401, 401, 401, 403, 403, 403, 200, 401},
		"PATCH /admin/admins/{id}":               {401, 401, 401, 403, 403, 403, 400, 401},
		"DELETE /admin/admins/{id}":              {401, 401, 401, 403, 403, 403, 400, 401},
		"POST /admin/admins/{id}/reset-password": {401, 401, 401, 403, 403, 403, 400, 401},
		"GET /admin/tokens":                      {401, 401, 401, 403, 403, 403, 200, 401},
		"DELETE /admin/tokens/{id}":              {401, 401, 401, 403, 403, 403, 400, 401},
		"GET /admin/ingest-keys":                 {401, 401, 401, 403, 403, 403, 200, 401},
		"DELETE /admin/ingest-keys/{id}":         {401, 401, 401, 403, 403, 403, 400, 401},

		// Budgets: every admin role reads, owners change; {id} is sent
		// literally, so the tool's 400 comes after the guard.
		"POST /admin/budgets":            {401, 401, 401, 403, 403, 403, 400, 401},
		"GET /admin/budgets":             {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/budgets/{id}":        {401, 401, 401, 403, 400, 400, 400, 401},
		"PATCH /admin/budgets/{id}":      {401, 401, 401, 403, 403, 403, 400, 401},
		"DELETE /admin/budgets/{id}":     {401, 401, 401, 403, 403, 403, 400, 401},
		"GET /admin/budgets/{id}/status": {401, 401, 401, 403, 400, 400, 400, 401},
		"GET /admin/alerts":              {401, 401, 401, 403, 200, 200, 200, 401},
		"GET /admin/anomalies":           {401, 401, 401, 403, 200, 200, 200, 401},
	}
	srv := (&app{}).handlerRoutesForTest()
	for _, r := range srv {
		key := r.Method + " " + r.Pattern
		if strings.HasPrefix(r.Pattern, "/admin/") && r.Pattern != "/admin/analytics" {
			if _, ok := endpoints[key]; !ok && !strings.Contains(key, "/ask") {
				t.Errorf("admin endpoint %s is missing from the permission matrix", key)
			}
		}
	}
	eps := make([]string, 0, len(endpoints))
	for ep := range endpoints {
		eps = append(eps, ep)
	}
	slices.Sort(eps)
	for n, ep := range eps {
		// Each admin may make 30 guarded calls a minute: fresh admins for
		// every 20 endpoints keep the matrix below the limit.
		if n > 0 && n%20 == 0 {
			for i, role := range map[int]string{4: "viewer", 5: "analyst", 6: "owner"} {
				tok := ts.adminToken(fmt.Sprintf("%s%d@example.com", role, n), role)
				callers[i].header = []string{"Authorization", "Bearer " + tok}
			}
		}
		want := endpoints[ep]
		method, path, _ := strings.Cut(ep, " ")
		for i, c := range callers {
			res := ts.do(method, path, "", nil, c.header...)
			if res.Status != want[i] {
				t.Errorf("%s as %s: %d %s; want %d", ep, c.name, res.Status, res.Body, want[i])
			}
		}
	}
}

func TestSessionLoginCSRFAndThrottle(t *testing.T) {
	ts := startServer(t, "", "--demo")
	if !strings.Contains(ts.stdout.String(), "password: demo-password-123") {
		t.Fatalf("serve --demo did not print the demo login:\n%s", ts.stdout.String())
	}
	c, csrf, res := ts.login("demo@codestory.local", "demo-password-123")
	if res.Status != 200 || csrf == "" {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	setCookie := res.Header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("session cookie lacks %s: %s", attr, setCookie)
		}
	}
	if r := doWith(t, c, "GET", ts.URL+"/admin/analytics/dashboard", "", nil); r.Status != 200 {
		t.Errorf("dashboard with cookie: %d", r.Status)
	}
	var si struct {
		Email       string
		Role        string
		Permissions []string
	}
	doWith(t, c, "GET", ts.URL+"/api/session", "", nil).json(t, &si)
	if d := cmp.Diff([]string{"VIEW_ANALYTICS", "EXPORT_DATA", "MANAGE_ADMINS", "VIEW_AUDIT", "MANAGE_PRICES", "MANAGE_BUDGETS"}, si.Permissions); d != "" || si.Role != "owner" {
		t.Errorf("session: %+v", si)
	}
	if r := doWith(t, c, "POST", ts.URL+"/logout", "", nil); r.Status != 403 {
		t.Errorf("logout without CSRF header: %d, want 403", r.Status)
	}
	if r := doWith(t, c, "POST", ts.URL+"/logout", "", nil, "X-CSRF-Token", "wrong"); r.Status != 403 {
		t.Errorf("logout with a wrong CSRF token: %d, want 403", r.Status)
	}
	// Wrong passwords: five are answered 401, then the account is throttled.
	for i := 0; i < 5; i++ {
		if _, _, r := ts.login("demo@codestory.local", "wrong-password-x"); r.Status != 401 || r.errorText(t) != "invalid email or password" {
			t.Fatalf("wrong password %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	_, _, r := ts.login("demo@codestory.local", "demo-password-123")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("after 5 failures even the right password waits: %d %s", r.Status, r.Body)
	}
	owner := ts.adminToken("owner2@example.com", "owner")
	var page auditPage
	ts.do("GET", "/admin/audit?action=login_failed&limit=100", owner, nil).json(t, &page)
	if len(page.Entries) != 6 {
		t.Errorf("login_failed entries = %d, want 6 (5 wrong + 1 throttled)", len(page.Entries))
	}
	// The quick start lands on a working dashboard: demo data is there.
	var dash struct {
		Totals struct {
			APIRequests int64 `json:"api_requests"`
		}
	}
	ts.do("GET", "/admin/analytics/dashboard", owner, nil).json(t, &dash)
	if dash.Totals.APIRequests == 0 {
		t.Error("serve --demo: the last 30 days have no API calls")
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	ts := startServer(t, "")
	var doc struct {
		Paths map[string]map[string]any
	}
	ts.do("GET", "/openapi.json", "", nil).json(t, &doc)
	routes := (&app{}).handlerRoutesForTest()
	if len(routes) < 15 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, r := range routes {
		p := strings.TrimSuffix(r.Pattern, "{$}")
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in /openapi.json", r.Method, r.Pattern)
		}
	}
}

func TestHealthAndShutdown(t *testing.T) {
	ts := startServer(t, "")
	for _, p := range []string{"/healthz", "/readyz"} {
		if res := ts.do("GET", p, "", nil); res.Status != 200 {
			t.Errorf("%s: %d %s", p, res.Status, res.Body)
		}
	}
	res := ts.do("GET", "/admin/analytics", "", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("dashboard CSP = %q", csp)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
		t.Errorf("security headers missing: %v", res.Header)
	}
	// A slow request in flight when the server is told to stop still completes.
	key := ts.ingestKey()
	done := make(chan response, 1)
	go func() {
		b, _ := json.Marshal(map[string]any{"events": []any{ev("g1", "user_signup", "2026-01-01T00:00:00Z", "u")}})
		done <- ts.ingest(key, ev("g1", "user_signup", "2026-01-01T00:00:00Z", "u"))
		_ = b
	}()
	time.Sleep(50 * time.Millisecond)
	ts.stop()
	if r := <-done; r.Status != 200 {
		t.Errorf("in-flight ingest during shutdown: %d %s", r.Status, r.Body)
	}
	_ = http.StatusOK
}
