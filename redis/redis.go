// Package redis shares the guard's rate limit and per-session state across
// server replicas through one Redis. Every call has a short timeout; when
// Redis does not answer, the limiter falls back to an in-process limit, so a
// limit still holds per replica and never silently disappears.
package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/codestory/analytics/guard"
	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// Timeout bounds every Redis call.
const Timeout = 250 * time.Millisecond

// RetryAfterFailure is how long the limiter uses its fallback before asking
// Redis again, so a dead Redis costs one timeout per interval, not per call.
const RetryAfterFailure = 2 * time.Second

// Open connects to a redis:// URL with short timeouts.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("--redis %q: %w", url, err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = Timeout, Timeout, Timeout
	opt.MaxRetries = 0
	opt.PoolTimeout = Timeout
	return goredis.NewClient(opt), nil
}

// Limiter is a GCRA limiter in Redis (github.com/go-redis/redis_rate) with
// an in-process fallback.
type Limiter struct {
	Client   *goredis.Client
	Rate     guard.Rate
	Prefix   string // key prefix, so tests and tenants do not collide
	Fallback guard.Limiter
	Log      *slog.Logger
	// OnFallback is called each time a decision is made without Redis.
	OnFallback func()
	Now        func() time.Time

	rl        *redis_rate.Limiter
	mu        sync.Mutex
	downUntil time.Time
}

// NewLimiter returns a Redis limiter for rate r.
func NewLimiter(c *goredis.Client, r guard.Rate, prefix string, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{Client: c, Rate: r, Prefix: prefix, Log: log, Fallback: guard.NewMemory(r, nil), rl: redis_rate.NewLimiter(c), Now: time.Now}
}

// Limit is l's rate.
func (l *Limiter) Limit() guard.Rate { return l.Rate }

func (l *Limiter) limit() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Rate.Burst, Burst: l.Rate.Burst, Period: l.Rate.Period}
}

func (l *Limiter) redisDown() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Now().Before(l.downUntil)
}

func (l *Limiter) markDown(err error) {
	l.mu.Lock()
	first := !l.Now().Before(l.downUntil)
	l.downUntil = l.Now().Add(RetryAfterFailure)
	l.mu.Unlock()
	if first {
		l.Log.Warn("Redis unreachable: rate limits fall back to this replica", "err", err)
	}
}

// Allow asks Redis, or the fallback when Redis is down.
func (l *Limiter) Allow(ctx context.Context, key string) (guard.LimitResult, error) {
	if !l.redisDown() {
		cctx, cancel := context.WithTimeout(ctx, Timeout)
		res, err := l.rl.Allow(cctx, l.Prefix+key, l.limit())
		cancel()
		if err == nil {
			out := guard.LimitResult{Allowed: res.Allowed > 0, Remaining: res.Remaining}
			if !out.Allowed {
				out.RetryAfter = res.RetryAfter
			}
			return out, nil
		}
		if ctx.Err() != nil {
			return guard.LimitResult{}, ctx.Err()
		}
		l.markDown(err)
	}
	if l.OnFallback != nil {
		l.OnFallback()
	}
	return l.Fallback.Allow(ctx, key)
}

// Reset forgets key in Redis and in the fallback.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	l.Fallback.Reset(ctx, key)
	return l.rl.Reset(cctx, l.Prefix+key)
}

// SessionKey is where a session's state lives in Redis (the seed's
// analytics_cache:<session>).
func SessionKey(prefix, sessionID string) string { return prefix + "analytics_cache:" + sessionID }

// SessionTTL bounds a session's keys should its Stop never come.
const SessionTTL = time.Hour

// Sessions keeps per-session state in Redis: a PostToolUse hook records each
// call, and the Stop hook deletes the session's keys.
type Sessions struct {
	Client *goredis.Client
	Prefix string
	Log    *slog.Logger
}

// Record is a PostToolUse hook: it counts the session's calls.
func (s *Sessions) Record(ctx context.Context, in *guard.HookInput) (*guard.Decision, error) {
	if in.SessionID == "" {
		return nil, nil
	}
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	key := SessionKey(s.Prefix, in.SessionID)
	p := s.Client.TxPipeline()
	p.HIncrBy(cctx, key, "calls", 1)
	p.HSet(cctx, key, "last_tool", in.ToolName, "door", string(in.Door))
	p.Expire(cctx, key, SessionTTL)
	if _, err := p.Exec(cctx); err != nil && s.Log != nil {
		s.Log.Warn("Redis: session state not recorded", "err", err) // state is a cache: never fail a call for it
	}
	return nil, nil
}

// Stop is the Stop hook: it deletes the session's keys.
func (s *Sessions) Stop(ctx context.Context, in *guard.HookInput) (*guard.Decision, error) {
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := s.Client.Del(cctx, SessionKey(s.Prefix, in.SessionID)).Err(); err != nil && s.Log != nil {
		s.Log.Warn("Redis: session state not deleted (it expires by itself)", "err", err)
	}
	return nil, nil
}
