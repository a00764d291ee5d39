package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// privatePostgres is a PostgreSQL cluster of the test's own (initdb into a
// temporary directory, its own port), so restarting it never disturbs the
// shared server.
type privatePostgres struct {
	t         *testing.T
	bin, data string
	port      string
}

func pgBinDir(t *testing.T) string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("initdb not found")
		}
		t.Skip("initdb not found")
	}
	return filepath.Dir(matches[len(matches)-1])
}

// asPostgres runs a PostgreSQL tool as the postgres user when we are root
// (initdb and postgres refuse to run as root).
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	bin := pgBinDir(t)
	dir, err := os.MkdirTemp("", "csa-pg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &privatePostgres{t: t, bin: bin, data: filepath.Join(dir, "data")}
	addr := freePort(t)
	p.port = addr[strings.LastIndex(addr, ":")+1:]
	if out, err := asPostgres(filepath.Join(bin, "initdb"), "-D", p.data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start()
	t.Cleanup(func() { p.stop("immediate") })
	return p
}

func (p *privatePostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", p.port)
}

func (p *privatePostgres) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %s -c listen_addresses=127.0.0.1 -k %s -c fsync=off", p.port, filepath.Dir(p.data))
	if out, err := asPostgres(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-o", opts, "-w", "-l", filepath.Join(filepath.Dir(p.data), "log"), "start").CombinedOutput(); err != nil {
		p.t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

func (p *privatePostgres) stop(mode string) {
	asPostgres(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-m", mode, "-w", "stop").Run()
}

// TestPostgresRestartMidIngest restarts PostgreSQL (an immediate stop, as
// in a crash) while a client ingests with retries: the server recovers by
// itself, the retries complete, and the totals are exact.
func TestPostgresRestartMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	pg := startPrivatePostgres(t)
	batches, want := faultEvents(t, 2000)
	p := &process{t: t, bin: binary(t), db: pg.URL(), addr: freePort(t)}
	p.cli("migrate") // only serve, migrate and demo create a database
	p.cli("admin", "create", "--email", "owner@example.com", "--role", "owner", "--password-stdin")
	key := p.cli("ingest-key", "create", "--name", "faults")
	p.start()
	defer p.kill()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	progress := make(chan int, len(batches))
	go func() {
		for i, b := range batches {
			if _, err := postRetrying(ctx, "http://"+p.addr, key, b); err != nil {
				done <- err
				return
			}
			progress <- i
		}
		done <- nil
	}()
	restarts := 0
	for i := range progress {
		if i == len(batches)/3 || i == 2*len(batches)/3 {
			pg.stop("immediate")
			time.Sleep(500 * time.Millisecond) // the client's batches fail meanwhile
			pg.start()
			restarts++
		}
		if i == len(batches)-1 {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if restarts != 2 {
		t.Fatalf("%d restarts", restarts)
	}
	res := doWith(t, nil, "GET", "http://"+p.addr+"/readyz", "", nil)
	if res.Status != 200 {
		t.Errorf("readyz after the restarts: %d %s", res.Status, res.Body)
	}
	checkTotals(t, p, want)
}
