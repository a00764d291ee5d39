// Package pgtest gives each test its own PostgreSQL database on the server
// named by ANALYTICS_TEST_POSTGRES (default: local, trust auth), so tests run
// in parallel and never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server used when ANALYTICS_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the maintenance database URL from ANALYTICS_TEST_POSTGRES, or
// DefaultURL.
func ServerURL() string {
	if u := os.Getenv("ANALYTICS_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates an empty database named analytics_test_<random> and
// returns its URL; it is dropped (WITH (FORCE), so leftover connections do
// not keep it alive) when the test ends. An unreachable server skips the
// test, or fails it when CI=true, where PostgreSQL must be there.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := ServerURL()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("ANALYTICS_TEST_POSTGRES must be a postgres:// URL, got %q", admin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable: %v", u.Redacted(), err)
		}
		t.Skipf("PostgreSQL at %s is unreachable (set ANALYTICS_TEST_POSTGRES): %v", u.Redacted(), err)
	}
	defer conn.Close(ctx)

	b := make([]byte, 8)
	rand.Read(b)
	name := "analytics_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, url)
}
