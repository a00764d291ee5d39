package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/sqlite"
)

// servedProcess is `serve` run in process with the exact arguments given
// (no --addr added), its stdout and stderr kept.
type servedProcess struct {
	URL            string
	stdout, stderr *syncBuffer
	stop           func() error
}

func runServe(t *testing.T, env map[string]string, args ...string) *servedProcess {
	t.Helper()
	sp := &servedProcess{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, strings.NewReader(""),
			io.MultiWriter(pw, sp.stdout), sp.stderr)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- u
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case sp.URL = <-found:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v\n%s%s", err, sp.stdout.String(), sp.stderr.String())
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("serve did not start in 2 minutes")
	}
	var once sync.Once
	var stopErr error
	sp.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(time.Minute):
				stopErr = fmt.Errorf("serve did not stop within a minute")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { sp.stop() })
	return sp
}

// fileSize is the size of a SQLite database with its WAL, if any.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	// The database and its audit file (sqlite.AuditPath), each with its WAL.
	for _, p := range []string{path, path + "-wal", sqlite.AuditPath(path), sqlite.AuditPath(path) + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestAuditFloodIsBounded is issue 11's goal for the bounded audit: 1,000
// unauthenticated requests carrying 1 MB query strings and 1,000 logins
// with 60 KB emails grow the SQLite database by less than 1 MB, and the
// first audit page stays under 100 KB. Every denial is still accounted for:
// written in full, or counted in a "N similar suppressed" entry.
func TestAuditFloodIsBounded(t *testing.T) {
	const requests, logins = 1000, 1000
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "analytics.db")
	path := filepath.Join(dir, "analytics.db")

	ts := startServer(t, db)
	owner := ts.adminToken("owner@example.com", "owner")
	ts.stop()
	before := fileSize(t, path)

	ts = startServer(t, db)
	big := strings.Repeat("9", 1_000_000)
	email := strings.Repeat("a", 60_000) + "@example.com"
	loginBody, _ := json.Marshal(map[string]string{"email": email, "password": "wrong-password-123"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	work := make(chan int)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var res response
				if i < requests {
					res = ts.do("GET", "/admin/analytics/dashboard?start_date="+big+"&end_date=2026-01-01", "", nil)
				} else {
					res = ts.do("POST", "/login", "", bytes.NewReader(loginBody), "Content-Type", "application/json")
				}
				mu.Lock()
				statuses[fmt.Sprintf("%v %d", i < requests, res.Status)]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < requests+logins; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if statuses["true 401"] != requests {
		t.Fatalf("the large unauthenticated requests must reach the guard and get 401: %v", statuses)
	}
	if statuses["false 401"]+statuses["false 429"] != logins {
		t.Fatalf("logins: %v", statuses)
	}
	if err := ts.stop2(); err != nil { // flushes the suppressed counts
		t.Fatal(err)
	}
	after := fileSize(t, path)
	growth := after - before
	t.Logf("database %d → %d bytes: grew %d bytes (%.1f KiB) for %d requests of 1 MB and %d logins with 60 KB emails", before, after, growth, float64(growth)/1024, requests, logins)
	if growth >= 1<<20 {
		t.Errorf("the database grew by %d bytes, want < 1 MiB", growth)
	}

	ts = startServer(t, db)
	res := ts.do("GET", "/admin/audit", owner, nil)
	t.Logf("first audit page: %d bytes", len(res.Body))
	if res.Status != 200 || len(res.Body) >= 100_000 {
		t.Fatalf("first audit page: %d, %d bytes; want 200 and < 100 KB", res.Status, len(res.Body))
	}
	// Every denial is accounted for: written in full or counted.
	var full, suppressed int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 25 {
			t.Fatal("too many pages")
		}
		var page struct {
			Entries []struct {
				Action, Outcome, Reason string
				AdminEmail              string `json:"admin_email"`
				AdminID                 *int64 `json:"admin_id"`
			}
			NextBefore *int64 `json:"next_before"`
		}
		ts.do("GET", "/admin/audit?limit=500"+cursor, owner, nil).json(t, &page)
		for _, e := range page.Entries {
			switch {
			case e.Action == "denials_suppressed":
				var n int64
				fmt.Sscanf(e.Reason, "%d similar suppressed", &n)
				suppressed += n
			case e.Outcome == "denied" && e.AdminID == nil:
				full++
				if len(e.AdminEmail) > 256 {
					t.Errorf("admin_email stored with %d bytes", len(e.AdminEmail))
				}
			}
		}
		if page.NextBefore == nil {
			break
		}
		cursor = fmt.Sprintf("&before=%d", *page.NextBefore)
	}
	t.Logf("%d denials written in full, %d counted in suppressed entries", full, suppressed)
	if full+suppressed != requests+logins || full > 200 {
		t.Errorf("denials: %d in full + %d suppressed, want %d in all and few in full", full, suppressed, requests+logins)
	}
	if out := ts.mustCLI("", "audit", "verify"); !strings.Contains(out, "ok: audit chain") {
		t.Errorf("audit verify: %s", out)
	}
}

// stop2 stops a test server and returns its error instead of reporting it.
func (ts *testServer) stop2() error {
	if ts.cancel == nil {
		return nil
	}
	ts.cancel()
	ts.cancel = nil
	select {
	case err := <-ts.done:
		return err
	case <-time.After(time.Minute):
		return fmt.Errorf("server did not stop within a minute")
	}
}

// tamperSQLite opens the server's SQLite file directly, as an attacker with
// write access to it would.
func tamperSQLite(t *testing.T, db string, queries ...string) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), strings.TrimPrefix(db, "sqlite:"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range queries {
		if err := s.ExecRaw(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditKeyAndCheckpoints: the SQLite key file is generated next to the
// database (mode 0600); `audit head` prints a checkpoint and the server
// logs one at shutdown; `audit verify --checkpoint` names the removed
// entries; PostgreSQL refuses to run without a key and works with one.
func TestAuditKeyAndCheckpoints(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "analytics.db")
	sp := runServe(t, map[string]string{}, "--addr", "127.0.0.1:0", "--db", db, "--log-level", "info")
	keyPath := filepath.Join(dir, "analytics.db.audit-key")
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, mode %v; want mode 0600", keyPath, err, st)
	}
	ts := &testServer{t: t, URL: sp.URL, DB: db, Env: map[string]string{}}
	owner := ts.adminToken("owner@example.com", "owner")
	for i := 0; i < 3; i++ {
		ts.do("GET", "/admin/analytics/dashboard", owner, nil)
	}
	if err := sp.stop(); err != nil {
		t.Fatal(err)
	}
	var logged string
	for _, line := range strings.Split(sp.stderr.String(), "\n") {
		if strings.Contains(line, "when=shutdown") {
			_, logged, _ = strings.Cut(line, "checkpoint=")
			logged = strings.Trim(logged, `"`)
		}
	}
	head := strings.TrimSpace(ts.mustCLI("", "audit", "head"))
	if logged == "" || logged != head || !strings.HasPrefix(head, "audit-checkpoint seq=") || strings.Contains(head, "mac=-") {
		t.Fatalf("shutdown checkpoint %q, audit head %q", logged, head)
	}
	if out := ts.mustCLI("", "audit", "verify", "--checkpoint", head); !strings.Contains(out, "exactly as the checkpoint vouches") {
		t.Errorf("verify against its own head: %s", out)
	}
	var seq int
	fmt.Sscanf(head, "audit-checkpoint seq=%d", &seq)
	tamperSQLite(t, db, fmt.Sprintf("DELETE FROM audit_log WHERE id > %d", seq-2))
	out, err := ts.cli("", "audit", "verify", "--checkpoint", head)
	if want := fmt.Sprintf("entries %d to %d are missing", seq-1, seq); err == nil || !strings.Contains(out+err.Error(), want) {
		t.Errorf("verify after removing the last 2 entries: %v %s; want %q", err, out, want)
	}
	// An edit whose hash is recomputed by someone without the key.
	tamperSQLite(t, db, `UPDATE audit_log SET reason = 'x', hash = 'beef' WHERE id = 2`)
	if out, err := ts.cli("", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("verify after an edit: %v %s", err, out)
	}
	// A new key file would break the keyed chain: refused.
	os.Rename(keyPath, keyPath+".bak")
	if out, err := ts.cli("", "admin", "list"); err == nil || !strings.Contains(err.Error(), "key file "+keyPath+" is missing") {
		t.Errorf("with the key file gone: %v %s", err, out)
	}

	pg := pgtest.NewDatabase(t)
	out, err = (&testServer{t: t, DB: pg, Env: map[string]string{}}).cli("", "migrate")
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL needs an audit key") {
		t.Errorf("PostgreSQL without a key: %v %s", err, out)
	}
	keyFile := filepath.Join(dir, "pg.key")
	os.WriteFile(keyFile, []byte(testAuditKey+"\n"), 0o600)
	pgs := startServer(t, pg, "--audit-key-file", keyFile)
	pgs.Env = map[string]string{"ANALYTICS_AUDIT_KEY": testAuditKey}
	pgOwner := pgs.adminToken("owner@example.com", "owner")
	pgs.do("GET", "/admin/analytics/costs", pgOwner, nil)
	if out := pgs.mustCLI("", "audit", "verify"); !strings.Contains(out, "0 before the key") || !strings.Contains(out, "keyed (HMAC-SHA256") {
		t.Errorf("PostgreSQL verify: %s", out)
	}
}

// TestHTTPHygiene covers finding 6: cache and sniffing headers, no
// directory listing, contract-speaking decode errors, gzip bodies bounded
// after decompression, other encodings refused, rejected ids echoed cut.
func TestHTTPHygiene(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	owner := ts.adminToken("owner@example.com", "owner")
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/admin/analytics/dashboard", ""}, {"GET", "/admin/analytics/dashboard", owner}, {"GET", "/admin/audit", owner},
		{"GET", "/api/session", owner}, {"GET", "/healthz", ""}, {"GET", "/readyz", ""}, {"POST", "/v1/events", ""}, {"GET", "/openapi.json", ""},
	} {
		res := ts.do(c.method, c.path, c.token, nil)
		if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: Cache-Control %q, X-Content-Type-Options %q", c.method, c.path, res.Header.Get("Cache-Control"), res.Header.Get("X-Content-Type-Options"))
		}
	}
	// The MCP SDK asks for no-cache on its responses; no-store wins.
	res := ts.do("POST", "/mcp", owner, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`),
		"Content-Type", "application/json", "Accept", "application/json, text/event-stream")
	if cc := res.Header.Get("Cache-Control"); res.Status != 200 || !strings.Contains(cc, "no-store") || strings.Contains(cc, "no-cache") {
		t.Errorf("POST /mcp: %d, Cache-Control %q", res.Status, cc)
	}
	for _, p := range []string{"/static/", "/static/assets/", "/static/assets"} {
		if res := ts.do("GET", p, "", nil); res.Status != 404 || bytes.Contains(res.Body, []byte("<a href")) {
			t.Errorf("GET %s: %d %.200s; want 404, no listing", p, res.Status, res.Body)
		}
	}

	post := func(body []byte, header ...string) response {
		return ts.do("POST", "/v1/events", key, bytes.NewReader(body), append([]string{"Content-Type", "application/json"}, header...)...)
	}
	res = post([]byte(`{"events": {}}`))
	if msg := res.errorText(t); res.Status != 400 || msg != `"events" must be an array (got object)` {
		t.Errorf("events as an object: %d %q", res.Status, msg)
	}
	if res := post([]byte(`[{"id": "x"}]`)); res.Status != 400 || strings.Contains(string(res.Body), "Go") || strings.Contains(string(res.Body), "json.RawMessage") {
		t.Errorf("a bare array: %d %s", res.Status, res.Body)
	}

	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	events := []byte(`{"events": [{"id": "gz1", "type": "user_signup", "timestamp": "2026-01-05T10:00:00Z", "user_id": "u1", "email": "u1@example.com"}]}`)
	if res := post(gz(events), "Content-Encoding", "gzip"); res.Status != 200 || !strings.Contains(string(res.Body), `"accepted":1`) {
		t.Errorf("gzip body: %d %s", res.Status, res.Body)
	}
	// 40 MiB of white space inside valid JSON compresses to ~40 KiB.
	bomb := gz(append(append([]byte(`{"events": [`), bytes.Repeat([]byte(" "), 40<<20)...), []byte(`]}`)...))
	if res := post(bomb, "Content-Encoding", "gzip"); res.Status != 413 {
		t.Errorf("zip bomb (%d bytes compressed): %d %s; want 413", len(bomb), res.Status, res.Body)
	}
	if res := post(events, "Content-Encoding", "br"); res.Status != 415 {
		t.Errorf("Content-Encoding br: %d %s; want 415", res.Status, res.Body)
	}
	if res := post([]byte("not gzip"), "Content-Encoding", "gzip"); res.Status != 400 {
		t.Errorf("bad gzip data: %d %s; want 400", res.Status, res.Body)
	}

	longID := strings.Repeat("i", 1<<20)
	res = ts.ingest(key, ev(longID, "user_signup", "2026-01-05T10:00:00Z", "u2", "email", "u2@example.com"))
	var ir struct {
		Rejected []struct{ ID string }
	}
	res.json(t, &ir)
	if res.Status != 200 || len(ir.Rejected) != 1 || len(ir.Rejected[0].ID) != 128 || len(res.Body) > 2000 {
		t.Errorf("a rejected 1 MB id: %d, %d bytes of response", res.Status, len(res.Body))
	}
}

// TestReadyzHidesErrorText: /readyz names the failing dependency; the
// error text goes to the log.
func TestReadyzHidesErrorText(t *testing.T) {
	sp := runServe(t, map[string]string{}, "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "a.db"),
		"--log-level", "info", "--redis", "redis://127.0.0.1:1/0")
	res := doWith(t, nil, "GET", sp.URL+"/readyz", "", nil)
	var body struct {
		Status string
		Checks map[string]string
	}
	res.json(t, &body)
	if res.Status != 503 || body.Checks["redis"] != "unavailable" || body.Checks["database"] != "ok" || strings.Contains(string(res.Body), "deadline") {
		t.Errorf("readyz: %d %s", res.Status, res.Body)
	}
	if !strings.Contains(sp.stderr.String(), "dependency=redis err=") {
		t.Errorf("the log lacks the failure's detail:\n%s", sp.stderr.String())
	}
}

// TestDemoBindsLoopback: `serve --demo` without --addr listens on
// 127.0.0.1 only; --addr still decides when given.
func TestDemoBindsLoopback(t *testing.T) {
	saved := defaultAddr
	defaultAddr = ":0" // the default port, made free for the test
	defer func() { defaultAddr = saved }()
	env := map[string]string{"ANALYTICS_DEMO_PASSWORD": "demo-password-123"}
	dir := t.TempDir()
	sp := runServe(t, env, "--demo", "--db", "sqlite:"+filepath.Join(dir, "a.db"), "--log-level", "warn")
	u, _ := url.Parse(sp.URL)
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("serve --demo listens on %s; want 127.0.0.1", sp.URL)
	}
	sp.stop()
	sp = runServe(t, env, "--demo", "--addr", ":0", "--db", "sqlite:"+filepath.Join(dir, "a.db"), "--log-level", "warn")
	if u, _ := url.Parse(sp.URL); u.Hostname() != "localhost" { // every interface, shown as localhost
		t.Errorf("serve --demo --addr :0 listens on %s; want every interface", sp.URL)
	}
}
