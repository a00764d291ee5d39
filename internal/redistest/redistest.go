// Package redistest gives tests the real Redis on this machine, with a key
// prefix of their own. When Redis is unreachable a test skips, except under
// CI=true, where it fails: CI must run these tests.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// URL is the Redis the tests use (ANALYTICS_TEST_REDIS, default 127.0.0.1:6379).
func URL() string {
	if u := os.Getenv("ANALYTICS_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Require returns a client for the test Redis and a fresh key prefix whose
// keys are deleted when the test ends.
func Require(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	opt, err := goredis.ParseURL(URL())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is unreachable and CI=true: %v", URL(), err)
		}
		t.Skipf("Redis at %s is unreachable: %v", URL(), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		// redis_rate adds its own "rate:" prefix in front of ours.
		iter = c.Scan(ctx, 0, "rate:"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}
