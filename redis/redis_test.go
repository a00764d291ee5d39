package redis_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/internal/redistest"
	"github.com/codestory/analytics/redis"
)

var ctx = context.Background()

func TestSharedLimit(t *testing.T) {
	c, prefix := redistest.Require(t)
	// Two limiters on one Redis stand for two replicas.
	a := redis.NewLimiter(c, guard.AnalyticsRate, prefix, nil)
	b := redis.NewLimiter(c, guard.AnalyticsRate, prefix, nil)
	for i := 0; i < 30; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		res, err := l.Allow(ctx, "admin:1")
		if err != nil || !res.Allowed {
			t.Fatalf("call %d: %+v %v", i+1, res, err)
		}
	}
	for _, l := range []*redis.Limiter{a, b} {
		res, err := l.Allow(ctx, "admin:1")
		if err != nil || res.Allowed {
			t.Fatalf("31st call on a replica: %+v %v", res, err)
		}
		if res.RetryAfter <= 0 || res.RetryAfter > 2*time.Second {
			t.Errorf("RetryAfter = %s, want (0, 2s]", res.RetryAfter)
		}
	}
	if res, _ := a.Allow(ctx, "admin:2"); !res.Allowed {
		t.Error("another admin shares the first one's budget")
	}
}

// deadRedis returns a redis:// URL on a port where nothing listens.
func deadRedis(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "redis://" + addr + "/0"
}

func TestFallbackWhenRedisIsDown(t *testing.T) {
	c, err := redis.Open(ctx, deadRedis(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := redis.NewLimiter(c, guard.AnalyticsRate, "x:", nil)
	fallbacks := 0
	l.OnFallback = func() { fallbacks++ }
	start := time.Now()
	allowed := 0
	for i := 0; i < 40; i++ {
		res, err := l.Allow(ctx, "admin:1")
		if err != nil {
			t.Fatalf("call %d: %v (a dead Redis must not fail calls)", i+1, err)
		}
		if res.Allowed {
			allowed++
		}
	}
	if allowed != 30 {
		t.Errorf("with Redis down %d of 40 calls were allowed, want 30: the limit must still hold per replica", allowed)
	}
	if fallbacks != 40 {
		t.Errorf("fallback decisions counted = %d, want 40", fallbacks)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("40 calls with Redis down took %s: the dead Redis is asked too often", d)
	}
}

// privateRedis runs a redis-server of the test's own on a free port, so it
// can be stopped and started without disturbing the shared one.
type privateRedis struct {
	t    *testing.T
	port string
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T, port string) *privateRedis {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not installed")
		}
		t.Skip("redis-server not installed")
	}
	if port == "" {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		ln.Close()
	}
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &privateRedis{t: t, port: port, cmd: cmd}
	t.Cleanup(p.stop)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("private redis-server did not start")
	return nil
}

func (p *privateRedis) stop() {
	if p.cmd != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// TestRedisOutageAndReturn stops Redis mid-run: calls keep being decided
// (by the per-replica fallback, which still limits), and when Redis is back
// the shared limit resumes.
func TestRedisOutageAndReturn(t *testing.T) {
	srv := startPrivateRedis(t, "")
	c, err := redis.Open(ctx, "redis://127.0.0.1:"+srv.port+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := redis.NewLimiter(c, guard.AnalyticsRate, "t:", nil)
	fallbacks := 0
	l.OnFallback = func() { fallbacks++ }
	for i := 0; i < 10; i++ {
		if res, err := l.Allow(ctx, "admin:1"); err != nil || !res.Allowed {
			t.Fatalf("call %d with Redis up: %+v %v", i+1, res, err)
		}
	}
	if fallbacks != 0 {
		t.Fatalf("fallback used while Redis was up")
	}
	srv.stop()
	allowed := 0
	for i := 0; i < 35; i++ {
		res, err := l.Allow(ctx, "admin:1")
		if err != nil {
			t.Fatalf("call with Redis down: %v", err)
		}
		if res.Allowed {
			allowed++
		}
	}
	if allowed != 30 || fallbacks != 35 {
		t.Errorf("Redis down: %d allowed of 35 (want 30, the per-replica limit), %d fallbacks", allowed, fallbacks)
	}
	startPrivateRedis(t, srv.port)
	time.Sleep(redis.RetryAfterFailure + 100*time.Millisecond)
	fallbacks = 0
	allowed = 0
	for i := 0; i < 31; i++ {
		if res, _ := l.Allow(ctx, "admin:2"); res.Allowed {
			allowed++
		}
	}
	if fallbacks != 0 || allowed != 30 {
		t.Errorf("Redis back: %d fallbacks, %d of 31 allowed; want 0 and 30 (the shared limit)", fallbacks, allowed)
	}
	if n, _ := c.Exists(ctx, "rate:t:admin:2").Result(); n != 1 {
		t.Error("after Redis returned, the limit was not kept in Redis")
	}
}

func TestSessionStateDroppedOnStop(t *testing.T) {
	c, prefix := redistest.Require(t)
	s := &redis.Sessions{Client: c, Prefix: prefix}
	in := &guard.HookInput{SessionID: "sess-1", ToolName: guard.ToolName(analytics.ToolDashboardMetrics), Door: analytics.DoorMCP}
	s.Record(ctx, in)
	s.Record(ctx, in)
	key := redis.SessionKey(prefix, "sess-1")
	if n, _ := c.HGet(ctx, key, "calls").Int(); n != 2 {
		t.Fatalf("calls recorded = %d, want 2", n)
	}
	if ttl := c.TTL(ctx, key).Val(); ttl <= 0 || ttl > redis.SessionTTL {
		t.Errorf("session key TTL = %s", ttl)
	}
	s.Stop(ctx, in)
	if n := c.Exists(ctx, key).Val(); n != 0 {
		t.Error("Stop left the session's key in Redis")
	}
}
