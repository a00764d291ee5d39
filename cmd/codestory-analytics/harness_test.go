package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is the real program started as `serve` on a free port with a
// temporary database, exactly as in production.
type testServer struct {
	t      *testing.T
	URL    string
	DB     string
	Env    map[string]string
	cancel context.CancelFunc
	done   chan error
	stdout *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (ts *testServer) getenv(k string) string { return ts.Env[k] }

// testAuditKey is the audit key of test servers on PostgreSQL.
const testAuditKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

// defaultEnv is the environment of servers the tests start.
var defaultEnv = map[string]string{"ANALYTICS_DEMO_PASSWORD": "demo-password-123"}

// startServer runs `serve` with extra args; db "" means a fresh SQLite file.
func startServer(t *testing.T, db string, extra ...string) *testServer {
	t.Helper()
	if db == "" {
		db = "sqlite:" + filepath.Join(t.TempDir(), "analytics.db")
	}
	env := map[string]string{}
	for k, v := range defaultEnv {
		env[k] = v
	}
	if strings.HasPrefix(db, "postgres") && env["ANALYTICS_AUDIT_KEY"] == "" {
		env["ANALYTICS_AUDIT_KEY"] = testAuditKey // PostgreSQL requires one, shared by replicas
	}
	ts := &testServer{t: t, DB: db, Env: env, done: make(chan error, 1), stdout: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	pr, pw := io.Pipe()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--log-level", "warn"}, extra...)
	go func() {
		err := run(ctx, args, ts.getenv, strings.NewReader(""), io.MultiWriter(pw, ts.stdout), io.Discard)
		pw.CloseWithError(io.EOF)
		ts.done <- err
	}()
	sc := bufio.NewScanner(pr)
	deadline := time.After(2 * time.Minute)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- u
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case ts.URL = <-found:
	case err := <-ts.done:
		t.Fatalf("server exited before listening: %v\n%s", err, ts.stdout.String())
	case <-deadline:
		t.Fatal("server did not start in 2 minutes")
	}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	select {
	case err := <-ts.done:
		if err != nil {
			ts.t.Errorf("server stopped with error: %v", err)
		}
	case <-time.After(time.Minute):
		ts.t.Error("server did not stop within a minute")
	}
}

// cli runs another command against the server's database.
func (ts *testServer) cli(stdin string, args ...string) (string, error) {
	ts.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--db", ts.DB)
	err := run(context.Background(), args, ts.getenv, strings.NewReader(stdin), &out, &errb)
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

func (ts *testServer) mustCLI(stdin string, args ...string) string {
	ts.t.Helper()
	out, err := ts.cli(stdin, args...)
	if err != nil {
		ts.t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return out
}

// adminToken creates an admin with role and returns a bearer token for it.
func (ts *testServer) adminToken(email, role string) string {
	ts.t.Helper()
	ts.mustCLI("a-long-enough-password\n", "admin", "create", "--email", email, "--role", role, "--password-stdin")
	return strings.TrimSpace(ts.mustCLI("", "token", "create", "--email", email, "--name", "test"))
}

func (ts *testServer) ingestKey() string {
	ts.t.Helper()
	return strings.TrimSpace(ts.mustCLI("", "ingest-key", "create", "--name", "test"))
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) errorText(t *testing.T) string {
	var e struct{ Error string }
	r.json(t, &e)
	return e.Error
}

// do sends a request; token may be "" (no credential).
func (ts *testServer) do(method, path, token string, body io.Reader, header ...string) response {
	ts.t.Helper()
	return doWith(ts.t, http.DefaultClient, method, ts.URL+path, token, body, header...)
}

func doWith(t *testing.T, c *http.Client, method, url, token string, body io.Reader, header ...string) response {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// login returns a client holding a session cookie and its CSRF token.
func (ts *testServer) login(email, password string) (*http.Client, string, response) {
	ts.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res := doWith(ts.t, c, "POST", ts.URL+"/login", "", bytes.NewReader(body), "Content-Type", "application/json")
	var si struct {
		CSRF string `json:"csrf_token"`
	}
	if res.Status == 200 {
		res.json(ts.t, &si)
	}
	return c, si.CSRF, res
}

// ingest posts events as JSON with an ingest key.
func (ts *testServer) ingest(key string, events ...map[string]any) response {
	ts.t.Helper()
	b, _ := json.Marshal(map[string]any{"events": events})
	return ts.do("POST", "/v1/events", key, bytes.NewReader(b), "Content-Type", "application/json")
}
