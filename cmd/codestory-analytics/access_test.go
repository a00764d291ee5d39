package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/codestory/analytics/internal/poll"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// adminID finds an admin's id through GET /admin/admins as owner.
func (ts *testServer) adminID(owner, email string) int64 {
	ts.t.Helper()
	var list struct {
		Admins []struct {
			ID    int64
			Email string
		}
	}
	ts.do("GET", "/admin/admins", owner, nil).json(ts.t, &list)
	for _, a := range list.Admins {
		if a.Email == email {
			return a.ID
		}
	}
	ts.t.Fatalf("no admin %s in %+v", email, list)
	return 0
}

// stdioMCP runs `mcp` on pipes as token and returns a connected client.
func (ts *testServer) stdioMCP(token string) *mcp.ClientSession {
	ts.t.Helper()
	sr, cw := io.Pipe()
	cr, sw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"mcp", "--db", ts.DB},
			func(k string) string { return map[string]string{"ANALYTICS_TOKEN": token}[k] }, sr, sw, io.Discard)
		sw.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(context.Background(), &mcp.IOTransport{Reader: cr, Writer: cw}, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() {
		cs.Close()
		cw.Close()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			ts.t.Error("mcp did not exit on EOF")
		}
	})
	return cs
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return strings.NewReader(string(b))
}

// TestCredentialLifecycle: an owner disables, enables, re-roles, resets and
// deletes admins and revokes tokens and ingest keys over REST; each change
// takes effect at once on every door (REST token and session, MCP over HTTP
// and stdio, ingest) and is audited; the last enabled owner is kept.
func TestCredentialLifecycle(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")
	viewer := ts.adminToken("viewer@example.com", "viewer")
	analyst := ts.adminToken("analyst@example.com", "analyst")
	key := ts.ingestKey()
	viewerID, analystID, ownerID := ts.adminID(owner, "viewer@example.com"), ts.adminID(owner, "analyst@example.com"), ts.adminID(owner, "owner@example.com")

	// The list has the contract's fields; last_login_at is null until a login.
	res := ts.do("GET", "/admin/admins", owner, nil)
	var raw map[string][]map[string]any
	res.json(t, &raw)
	if len(raw["admins"]) != 3 {
		t.Fatalf("admins: %s", res.Body)
	}
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	if got := keys(raw["admins"][0]); !slices.Equal(got, []string{"created_at", "disabled", "email", "id", "last_login_at", "role"}) {
		t.Errorf("admin fields: %v", got)
	}
	if raw["admins"][1]["last_login_at"] != nil || raw["admins"][1]["disabled"] != false {
		t.Errorf("viewer before login: %v", raw["admins"][1])
	}
	vc, _, lres := ts.login("viewer@example.com", "a-long-enough-password")
	if lres.Status != 200 {
		t.Fatalf("viewer login: %d %s", lres.Status, lres.Body)
	}
	ts.do("GET", "/admin/admins", owner, nil).json(t, &raw)
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(raw["admins"][1]["last_login_at"])); err != nil {
		t.Errorf("viewer's last_login_at after login: %v", raw["admins"][1]["last_login_at"])
	}

	// Every door of the viewer works, then stops at once when disabled.
	httpMCP := ts.mcpClient(viewer)
	stdio := ts.stdioMCP(viewer)
	for name, cs := range map[string]*mcp.ClientSession{"http": httpMCP, "stdio": stdio} {
		if r := mcpCall(t, cs, "get_user_growth", nil); r.IsError {
			t.Fatalf("MCP %s before disabling: %s", name, mcpText(r))
		}
	}
	sessionGet := func() int { return doWith(t, vc, "GET", ts.URL+"/api/session", "", nil).Status }
	if st := sessionGet(); st != 200 {
		t.Fatalf("viewer session: %d", st)
	}
	res = ts.do("PATCH", fmt.Sprintf("/admin/admins/%d", viewerID), owner, jsonBody(map[string]any{"disabled": true}), "Content-Type", "application/json")
	if res.Status != 200 || !strings.Contains(string(res.Body), `"disabled":true`) {
		t.Fatalf("disable: %d %s", res.Status, res.Body)
	}
	if r := ts.do("GET", "/admin/analytics/dashboard", viewer, nil); r.Status != 401 {
		t.Errorf("disabled admin's token: %d %s", r.Status, r.Body)
	}
	if st := sessionGet(); st != 401 {
		t.Errorf("disabled admin's session: %d", st)
	}
	if _, err := httpMCP.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_user_growth"}); err == nil {
		t.Error("disabled admin's open MCP HTTP session still works")
	}
	if r := mcpCall(t, stdio, "get_user_growth", nil); !r.IsError || mcpText(r) != "this admin account is disabled" {
		t.Errorf("disabled admin's open MCP stdio session: %v %q", r.IsError, mcpText(r))
	}
	// Enabling brings the token back (sessions stay ended).
	res = ts.do("PATCH", fmt.Sprintf("/admin/admins/%d", viewerID), owner, jsonBody(map[string]any{"disabled": false}))
	if res.Status != 200 || ts.do("GET", "/admin/analytics/dashboard", viewer, nil).Status != 200 || sessionGet() != 401 {
		t.Errorf("enable: %d %s; session %d", res.Status, res.Body, sessionGet())
	}
	if r := mcpCall(t, stdio, "get_user_growth", nil); r.IsError {
		t.Errorf("stdio after enabling: %s", mcpText(r))
	}

	// Role changes apply to the next call.
	res = ts.do("PATCH", fmt.Sprintf("/admin/admins/%d", viewerID), owner, jsonBody(map[string]any{"role": "analyst"}))
	if res.Status != 200 || ts.do("GET", "/admin/analytics/export", viewer, nil).Status != 200 {
		t.Errorf("promote to analyst: %d %s", res.Status, res.Body)
	}

	// The last enabled owner stays.
	for _, tc := range []struct{ method, path, body string }{
		{"PATCH", fmt.Sprintf("/admin/admins/%d", ownerID), `{"role":"viewer"}`},
		{"PATCH", fmt.Sprintf("/admin/admins/%d", ownerID), `{"disabled":true}`},
		{"DELETE", fmt.Sprintf("/admin/admins/%d", ownerID), ``},
	} {
		r := ts.do(tc.method, tc.path, owner, strings.NewReader(tc.body))
		if r.Status != 409 || !strings.Contains(r.errorText(t), "last enabled owner") {
			t.Errorf("%s %s %s: %d %s", tc.method, tc.path, tc.body, r.Status, r.Body)
		}
	}
	for _, tc := range []struct {
		body   string
		status int
		reason string
	}{
		{`{"role":"emperor"}`, 400, "role must be viewer, analyst or owner"},
		{`{}`, 400, "nothing to change"},
		{`{"rolle":"owner"}`, 400, "body must be JSON"},
		{``, 400, "empty body"},
	} {
		r := ts.do("PATCH", fmt.Sprintf("/admin/admins/%d", viewerID), owner, strings.NewReader(tc.body))
		if r.Status != tc.status || !strings.Contains(r.errorText(t), tc.reason) {
			t.Errorf("PATCH %s: %d %s", tc.body, r.Status, r.Body)
		}
	}
	if r := ts.do("PATCH", "/admin/admins/999", owner, jsonBody(map[string]any{"disabled": true})); r.Status != 404 {
		t.Errorf("unknown admin: %d %s", r.Status, r.Body)
	}

	// A cookie session changes state only with the CSRF header.
	oc, csrf, lres := ts.login("owner@example.com", "a-long-enough-password")
	if lres.Status != 200 {
		t.Fatal(lres.Status)
	}
	path := fmt.Sprintf("/admin/admins/%d", viewerID)
	if r := doWith(t, oc, "PATCH", ts.URL+path, "", jsonBody(map[string]any{"role": "viewer"})); r.Status == 200 {
		t.Errorf("PATCH from a session without CSRF header: %d", r.Status)
	}
	if r := doWith(t, oc, "PATCH", ts.URL+path, "", jsonBody(map[string]any{"role": "viewer"}), "X-CSRF-Token", csrf); r.Status != 200 {
		t.Errorf("PATCH from a session with CSRF header: %d %s", r.Status, r.Body)
	}

	// Reset password: a new one, shown once; the old token and sessions are revoked.
	res = ts.do("POST", fmt.Sprintf("/admin/admins/%d/reset-password", analystID), owner, nil)
	var pr struct{ Password string }
	res.json(t, &pr)
	if res.Status != 200 || len(pr.Password) < 12 {
		t.Fatalf("reset-password: %d %s", res.Status, res.Body)
	}
	if r := ts.do("GET", "/admin/analytics/dashboard", analyst, nil); r.Status != 401 {
		t.Errorf("token after password reset: %d", r.Status)
	}
	if _, _, r := ts.login("analyst@example.com", "a-long-enough-password"); r.Status != 401 {
		t.Errorf("old password after reset: %d", r.Status)
	}
	if _, _, r := ts.login("analyst@example.com", pr.Password); r.Status != 200 {
		t.Errorf("new password: %d %s", r.Status, r.Body)
	}

	// Tokens: listed with last use; revoked with DELETE.
	var tl struct {
		Tokens []map[string]any
	}
	ts.do("GET", "/admin/tokens", owner, nil).json(t, &tl)
	if len(tl.Tokens) != 3 {
		t.Fatalf("tokens: %+v", tl)
	}
	if got := keys(tl.Tokens[1]); !slices.Equal(got, []string{"admin_email", "admin_id", "created_at", "expires_at", "id", "last_used_at", "name", "revoked_at"}) {
		t.Errorf("token fields: %v", got)
	}
	viewerTok := tl.Tokens[1]
	if viewerTok["admin_email"] != "viewer@example.com" || viewerTok["last_used_at"] == nil || viewerTok["revoked_at"] != nil {
		t.Errorf("viewer's token: %v", viewerTok)
	}
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(viewerTok["expires_at"]))
	if err != nil || exp.Sub(time.Now().Add(90*24*time.Hour)).Abs() > time.Hour {
		t.Errorf("default expiry %v, want 90 days from now", viewerTok["expires_at"])
	}
	if tl.Tokens[2]["revoked_at"] == nil {
		t.Errorf("the analyst's token is not shown revoked after the password reset: %v", tl.Tokens[2])
	}
	if r := ts.do("DELETE", fmt.Sprintf("/admin/tokens/%v", viewerTok["id"]), owner, nil); r.Status != 204 || len(r.Body) != 0 {
		t.Errorf("DELETE token: %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/admin/analytics/dashboard", viewer, nil); r.Status != 401 {
		t.Errorf("revoked token: %d", r.Status)
	}
	if r := ts.do("DELETE", fmt.Sprintf("/admin/tokens/%v", viewerTok["id"]), owner, nil); r.Status != 404 {
		t.Errorf("DELETE a revoked token again: %d %s", r.Status, r.Body)
	}

	// Ingest keys: listed with last use; a revoked key is refused at once.
	if r := ts.ingest(key, ev("k1", "user_signup", "2026-01-10T09:00:00Z", "u1")); r.Status != 200 {
		t.Fatal(r.Status)
	}
	var kl struct {
		IngestKeys []map[string]any `json:"ingest_keys"`
	}
	ts.do("GET", "/admin/ingest-keys", owner, nil).json(t, &kl)
	if len(kl.IngestKeys) != 1 || kl.IngestKeys[0]["last_used_at"] == nil || kl.IngestKeys[0]["expires_at"] != nil ||
		!slices.Equal(keys(kl.IngestKeys[0]), []string{"created_at", "expires_at", "id", "last_used_at", "name", "revoked_at"}) {
		t.Errorf("ingest keys: %+v", kl)
	}
	if r := ts.do("DELETE", fmt.Sprintf("/admin/ingest-keys/%v", kl.IngestKeys[0]["id"]), owner, nil); r.Status != 204 {
		t.Errorf("DELETE ingest key: %d %s", r.Status, r.Body)
	}
	if r := ts.ingest(key, ev("k2", "user_signup", "2026-01-10T09:00:00Z", "u2")); r.Status != 401 {
		t.Errorf("revoked ingest key: %d %s", r.Status, r.Body)
	}

	// Delete: gone from the list, its token is refused.
	if r := ts.do("DELETE", fmt.Sprintf("/admin/admins/%d", viewerID), owner, nil); r.Status != 204 {
		t.Errorf("DELETE admin: %d %s", r.Status, r.Body)
	}
	ts.do("GET", "/admin/admins", owner, nil).json(t, &raw)
	if len(raw["admins"]) != 2 {
		t.Errorf("after delete: %v", raw)
	}
	if r := mcpCall(t, stdio, "get_user_growth", nil); !r.IsError || !strings.Contains(mcpText(r), "no longer exists") {
		t.Errorf("deleted admin's stdio session: %v %q", r.IsError, mcpText(r))
	}

	// Every change was audited, with the admin it was made to. Reading the
	// audit log is a guarded tool on the owner's 30/min budget, which this
	// test has spent: a second owner reads it.
	owner = ts.adminToken("auditor@example.com", "owner")
	for action, want := range map[string]string{
		"admin_updated":        fmt.Sprintf(`"target_id":"%d"`, viewerID),
		"admin_deleted":        fmt.Sprintf(`"target_id":"%d"`, viewerID),
		"admin_password_reset": fmt.Sprintf(`"target_id":"%d"`, analystID),
		"token_revoked":        `"target_id":"`,
		"ingest_key_revoked":   `"target_id":"`,
	} {
		page := ts.do("GET", "/admin/audit?action="+action, owner, nil)
		if !strings.Contains(string(page.Body), want) || !strings.Contains(string(page.Body), `"outcome":"allowed"`) {
			t.Errorf("audit %s lacks %s: %s", action, want, page.Body)
		}
	}
	page := ts.do("GET", "/admin/audit?action=admin_updated", owner, nil)
	if !strings.Contains(string(page.Body), `"reason":""`) || !strings.Contains(string(page.Body), "last enabled owner") {
		t.Errorf("the refused demotion of the last owner is not in the audit log: %s", page.Body)
	}
}

// TestLifecycleCallersMatrix: disabled and deleted admins' tokens and
// sessions, expired tokens and expired ingest keys get 401 on every admin
// endpoint, on /api/session, /mcp and /v1/events.
func TestLifecycleCallersMatrix(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")
	disabled := ts.adminToken("disabled@example.com", "owner")
	deleted := ts.adminToken("deleted@example.com", "owner")
	dc, _, lres := ts.login("disabled@example.com", "a-long-enough-password")
	if lres.Status != 200 {
		t.Fatal(lres.Status)
	}
	cookies := dc.Jar.Cookies(mustURL(t, ts.URL+"/"))
	var sessionCookie string
	for _, c := range cookies {
		if c.Name == "codestory_session" {
			sessionCookie = c.Name + "=" + c.Value
		}
	}
	expired := strings.TrimSpace(ts.mustCLI("", "token", "create", "--email", "owner@example.com", "--name", "short", "--expires", "1s"))
	expiredKey := strings.TrimSpace(ts.mustCLI("", "ingest-key", "create", "--name", "short", "--expires", "1s"))
	ts.mustCLI("", "admin", "disable", "--email", "disabled@example.com")
	ts.mustCLI("", "admin", "delete", "--email", "deleted@example.com")
	poll.Until(t, 30*time.Second, 50*time.Millisecond, "the 1s token and key to expire", func() bool {
		return ts.do("GET", "/api/session", expired, nil).Status == 401 && ts.ingest(expiredKey).Status == 401
	})
	callers := map[string][]string{
		"disabled-token":   {"Authorization", "Bearer " + disabled},
		"disabled-session": {"Cookie", sessionCookie},
		"deleted-token":    {"Authorization", "Bearer " + deleted},
		"expired-token":    {"Authorization", "Bearer " + expired},
		"expired-key":      {"Authorization", "Bearer " + expiredKey},
	}
	endpoints := []string{"GET /api/session", "POST /mcp", "POST /v1/events"}
	for _, r := range (&app{}).handlerRoutesForTest() {
		if strings.HasPrefix(r.Pattern, "/admin/") && r.Pattern != "/admin/analytics" {
			endpoints = append(endpoints, r.Method+" "+strings.ReplaceAll(r.Pattern, "{id}", "1"))
		}
	}
	if len(endpoints) < 17 {
		t.Fatalf("only %d endpoints: %v", len(endpoints), endpoints)
	}
	for _, ep := range endpoints {
		method, path, _ := strings.Cut(ep, " ")
		for name, h := range callers {
			res := ts.do(method, path, "", strings.NewReader(`{}`), append([]string{"Content-Type", "application/json"}, h...)...)
			if res.Status != http.StatusUnauthorized {
				t.Errorf("%s as %s: %d %s; want 401", ep, name, res.Status, res.Body)
			}
		}
	}
	// The owner is unaffected, and the admins list shows who is disabled.
	var list struct {
		Admins []struct {
			Email    string
			Disabled bool
		}
	}
	ts.do("GET", "/admin/admins", owner, nil).json(t, &list)
	if len(list.Admins) != 2 || list.Admins[1].Email != "disabled@example.com" || !list.Admins[1].Disabled || list.Admins[0].Disabled {
		t.Errorf("admins: %+v", list)
	}
}

// TestLifecycleCLI: the same lifecycle from the command line, audited with
// door cli; the last owner is kept there too.
func TestLifecycleCLI(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")
	ts.adminToken("ana@example.com", "viewer")
	key := ts.ingestKey()
	ts.ingest(key, ev("c1", "user_signup", "2026-01-10T09:00:00Z", "u1"))

	if out, err := ts.cli("", "admin", "set-role", "--email", "owner@example.com", "--role", "viewer"); err == nil || !strings.Contains(out+err.Error(), "last enabled owner") {
		t.Errorf("demote the last owner: %v %s", err, out)
	}
	if out, err := ts.cli("", "admin", "disable", "--email", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "no admin with email nobody@example.com") {
		t.Errorf("disable an unknown admin: %v %s", err, out)
	}
	if out := ts.mustCLI("", "admin", "disable", "--email", "ana@example.com"); !strings.Contains(out, "ana@example.com (id 2) disabled") {
		t.Errorf("disable: %s", out)
	}
	if out := ts.mustCLI("", "admin", "list"); !strings.Contains(out, "LAST LOGIN") || !regexpMatch(`ana@example.com\s+viewer\s+\S+\s+never\s+disabled `, out) {
		t.Errorf("admin list:\n%s", out)
	}
	ts.mustCLI("", "admin", "enable", "--id", "2")
	if out := ts.mustCLI("", "admin", "set-role", "--id", "2", "--role", "analyst"); !strings.Contains(out, "is now analyst (was viewer)") {
		t.Errorf("set-role: %s", out)
	}
	out := ts.mustCLI("", "admin", "reset-password", "--email", "ana@example.com")
	pw, ok := strings.CutPrefix(strings.TrimSpace(out[strings.LastIndex(out, "password: "):]), "password: ")
	if !ok || len(pw) != 20 {
		t.Fatalf("reset-password: %s", out)
	}
	if _, _, r := ts.login("ana@example.com", pw); r.Status != 200 {
		t.Errorf("login with the reset password: %d", r.Status)
	}
	if out := ts.mustCLI("", "token", "list"); !regexpMatch(`ana@example.com\s+test\s+\S+\s+\S+\s+never\s+revoked`, out) || !strings.Contains(out, "EXPIRES") {
		t.Errorf("token list after reset:\n%s", out)
	}
	if out := ts.mustCLI("", "ingest-key", "list"); !regexpMatch(`1\s+test\s+\S+\s+never\s+20\d\d-\S+\s+active`, out) {
		t.Errorf("ingest-key list:\n%s", out)
	}
	ts.mustCLI("", "ingest-key", "revoke", "1")
	if r := ts.ingest(key, ev("c2", "user_signup", "2026-01-10T09:00:00Z", "u2")); r.Status != 401 || r.errorText(t) != "this ingest key has been revoked" {
		t.Errorf("revoked key: %d %s", r.Status, r.Body)
	}
	if out := ts.mustCLI("", "admin", "delete", "--email", "ana@example.com"); !strings.Contains(out, "deleted") {
		t.Errorf("delete: %s", out)
	}
	var page auditPage
	ts.do("GET", "/admin/audit?limit=100", owner, nil).json(t, &page)
	seen := map[string]bool{}
	for _, e := range page.Entries {
		if e.Door == "cli" {
			seen[e.Action] = true
		}
	}
	for _, a := range []string{"admin_updated", "admin_password_reset", "admin_deleted", "ingest_key_created", "ingest_key_revoked", "token_created"} {
		if !seen[a] {
			t.Errorf("no cli audit entry %s (saw %v)", a, seen)
		}
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
