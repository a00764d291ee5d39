package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
)

// loginFrom posts a login with X-Forwarded-For set to addr, with client c
// (its cookie jar carries a device cookie after a success).
func (ts *testServer) loginFrom(c *http.Client, email, password, addr string) response {
	ts.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return doWith(ts.t, c, "POST", ts.URL+"/login", "", bytes.NewReader(body), "Content-Type", "application/json", "X-Forwarded-For", addr)
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// TestLoginBehindProxy: behind a trusted proxy, an attacker's wrong
// passwords from another address do not stop the owner's login; without
// --trusted-proxies every client shares the proxy's address and does. The
// owner's browser keeps a device cookie that gets it through anyway.
func TestLoginBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name        string
		args        []string
		ownerStatus int
	}{
		{"trusted proxy", []string{"--trusted-proxies", "127.0.0.1/32"}, 200},
		{"no trusted proxy", nil, 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, "", tc.args...)
			ts.mustCLI("a-long-enough-password\n", "admin", "create", "--email", "owner@example.com", "--role", "owner", "--password-stdin")
			browser := newBrowser()
			res := ts.loginFrom(browser, "owner@example.com", "a-long-enough-password", "198.51.100.7")
			if res.Status != 200 {
				t.Fatalf("first login: %d %s", res.Status, res.Body)
			}
			var device string
			for _, sc := range res.Header.Values("Set-Cookie") {
				if strings.HasPrefix(sc, "codestory_device=csd_") {
					device = sc
				}
			}
			for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/login", "Max-Age=7776000"} {
				if !strings.Contains(device, attr) {
					t.Errorf("device cookie lacks %s: %q", attr, device)
				}
			}
			// The attacker prepends made-up hops to dodge the throttle.
			for i := 0; i < 12; i++ {
				ts.loginFrom(newBrowser(), "owner@example.com", "guess-guess-guess", fmt.Sprintf("6.6.6.%d, 203.0.113.5", i))
			}
			if r := ts.loginFrom(newBrowser(), "owner@example.com", "a-long-enough-password", "198.51.100.8"); r.Status != tc.ownerStatus {
				t.Errorf("owner's login from a new browser: %d %s; want %d", r.Status, r.Body, tc.ownerStatus)
			}
			if r := ts.loginFrom(browser, "owner@example.com", "a-long-enough-password", "198.51.100.7"); r.Status != 200 {
				t.Errorf("owner's login from the browser with a device cookie: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestLoginParallelPasswordChecks: 100 wrong passwords at once from one
// address get exactly 5 password checks (answered 401; the rest 429).
func TestLoginParallelPasswordChecks(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")
	var wg sync.WaitGroup
	statuses := make(chan int, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"email":"owner@example.com","password":"wrong-password-x"}`
			res := doWith(t, nil, "POST", ts.URL+"/login", "", strings.NewReader(body), "Content-Type", "application/json")
			statuses <- res.Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[401] != 5 || count[429] != 95 {
		t.Errorf("100 parallel wrong passwords: %v, want 5×401 and 95×429", count)
	}
	var page auditPage
	ts.do("GET", "/admin/audit?action=login_failed&limit=500", owner, nil).json(t, &page)
	checked := 0
	for _, e := range page.Entries {
		if e.Reason == "invalid email or password" {
			checked++
		}
	}
	// Unauthenticated failures from one address are aggregated (the first
	// 10 a minute in full, the rest counted in a "suppressed" entry), so the
	// audit shows 10 of the 100, at most 5 of them password checks.
	if checked > 5 || len(page.Entries) != 10 {
		t.Errorf("audit: %d password checks in %d login_failed entries, want at most 5 in 10", checked, len(page.Entries))
	}
}
