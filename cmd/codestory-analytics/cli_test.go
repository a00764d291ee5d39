package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the program with args and an environment.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

// TestCLIRefusesMissingDatabase: every command but serve, migrate and demo
// refuses a database that is not there, names the path it looked at and
// how to point at the right one, and creates nothing.
func TestCLIRefusesMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.ndjson")
	os.WriteFile(events, []byte(`{"id":"e1","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`+"\n"), 0o644)
	missing := filepath.Join(dir, "nope", "x.db")
	db := "sqlite:" + missing
	for _, args := range [][]string{
		{"verify"}, {"rebuild"}, {"admin", "list"}, {"admin", "create", "--email", "a@x.com", "--role", "owner"},
		{"admin", "disable", "--email", "a@x.com"}, {"token", "list"}, {"token", "revoke", "28"},
		{"token", "create", "--email", "a@x.com", "--name", "n"}, {"ingest-key", "create", "--name", "n"},
		{"ingest-key", "list"}, {"ingest", events}, {"query", "costs"}, {"audit", "verify"}, {"mcp"},
	} {
		_, _, err := runCLI(t, map[string]string{"ANALYTICS_TOKEN": "csa_x"}, "", append(args, "--db", db)...)
		if err == nil || !strings.Contains(err.Error(), "no database at "+missing) || !strings.Contains(err.Error(), "ANALYTICS_DB") {
			t.Errorf("%v: %v", args, err)
		}
		// The default --db is relative: the message names the absolute path.
		_, _, err = runCLI(t, map[string]string{"ANALYTICS_TOKEN": "csa_x"}, "", args...)
		wd, _ := os.Getwd()
		if err == nil || !strings.Contains(err.Error(), "no database at "+filepath.Join(wd, "data", "analytics.db")) {
			t.Errorf("%v with the default --db: %v", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused command created %s", filepath.Join(dir, "nope"))
	}
	// A creating command refuses a tree of missing directories (a typo)…
	typo := filepath.Join(dir, "nonexistent", "dir", "x.db")
	if _, _, err := runCLI(t, nil, "", "migrate", "--db", "sqlite:"+typo); err == nil || !strings.Contains(err.Error(), "mistyped") {
		t.Errorf("migrate into a missing tree: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("migrate created directories for a mistyped path")
	}
	// …but makes one missing directory, as the default ./data needs.
	if out, _, err := runCLI(t, nil, "", "migrate", "--db", db); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if out, _, err := runCLI(t, nil, "", "verify", "--db", db); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("verify after migrate: %v %s", err, out)
	}
	// PostgreSQL: a database that does not exist is named, not created.
	_, _, err := runCLI(t, nil, "", "verify", "--db", "postgres://postgres@127.0.0.1:5432/codestory_no_such_db?connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), `database "codestory_no_such_db"`) || !strings.Contains(err.Error(), "ANALYTICS_DB") {
		t.Errorf("verify on a missing PostgreSQL database: %v", err)
	}
}

// TestCLIHelpAndVersion: -h, --help and --version work on every command,
// exit 0 and print on stdout.
func TestCLIHelpAndVersion(t *testing.T) {
	cmds := [][]string{{}, {"serve"}, {"migrate"}, {"admin"}, {"admin", "create"}, {"admin", "disable"}, {"token"}, {"token", "create"},
		{"ingest-key"}, {"ingest-key", "list"}, {"ingest"}, {"demo"}, {"query"}, {"query", "costs"}, {"rebuild"}, {"verify"},
		{"audit"}, {"audit", "verify"}, {"mcp"}, {"bench"}}
	for _, cmd := range cmds {
		for _, flag := range []string{"-h", "--help", "--version"} {
			out, errOut, err := runCLI(t, nil, "", append(append([]string{}, cmd...), flag)...)
			want := "usage"
			if flag == "--version" {
				want = "codestory-analytics "
			}
			if err != nil || !strings.Contains(strings.ToLower(out), want) || errOut != "" {
				t.Errorf("%v %s: err %v, stdout %q, stderr %q", cmd, flag, err, out, errOut)
			}
		}
	}
	out, _, _ := runCLI(t, nil, "", "help")
	for _, c := range []string{"bench", "ingest-key", "disable", "version"} {
		if !strings.Contains(out, c) {
			t.Errorf("top-level help lacks %q", c)
		}
	}
	if _, _, err := runCLI(t, nil, "", "verify", "--bogus"); exitCode(err) != 2 {
		t.Errorf("an unknown flag: exit %d, want 2", exitCode(err))
	}
}

// TestIngestExitCode: ingest prints its summary and then fails when any
// line was rejected.
func TestIngestExitCode(t *testing.T) {
	ts := startServer(t, "")
	file := filepath.Join(t.TempDir(), "e.ndjson")
	os.WriteFile(file, []byte(`{"id":"a","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}
{"id":"b","type":"no_such_type","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}
`), 0o644)
	out, err := ts.cli("", "ingest", file)
	if err == nil || exitCode(err) != 1 || !strings.Contains(out, "1 accepted, 0 duplicates, 1 rejected") || !strings.Contains(err.Error(), "1 line(s) rejected") {
		t.Errorf("ingest with a bad line: %v\n%s", err, out)
	}
	os.WriteFile(file, []byte(`{"id":"c","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`+"\n"), 0o644)
	if out, err := ts.cli("", "ingest", file); err != nil {
		t.Errorf("clean ingest: %v %s", err, out)
	}
}

// TestMCPStdioAnswersBeforeEOF: every request read before stdin closed is
// answered, even when stdin closes right after the requests.
func TestMCPStdioAnswersBeforeEOF(t *testing.T) {
	ts := startServer(t, "")
	tok := ts.adminToken("owner@example.com", "owner")
	in := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}
{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"get_user_growth","arguments":{}}}
`
	for i := 0; i < 5; i++ {
		out, _, err := runCLI(t, map[string]string{"ANALYTICS_TOKEN": tok}, in, "mcp", "--db", ts.DB)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var m struct {
				ID     json.RawMessage
				Result json.RawMessage
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Result != nil {
				ids[string(m.ID)] = true
			}
		}
		if !ids["1"] || !ids["2"] || !ids[`"three"`] {
			t.Fatalf("run %d: answers for %v, want 1, 2 and \"three\":\n%s", i+1, ids, out)
		}
	}
}
