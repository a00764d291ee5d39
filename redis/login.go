package redis

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/codestory/analytics/auth"
	goredis "github.com/redis/go-redis/v9"
)

// reserveScript counts one attempt against every key, or against none when
// any key must still wait (returned in milliseconds with the key's index).
// Each key is a hash {n: attempts, t: last attempt in ms}. One script is
// one atomic step, so parallel attempts on any replica are counted exactly.
var reserveScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local wait, blocked = 0, -1
for i, k in ipairs(KEYS) do
  local o = 1 + (i - 1) * 4
  local free, base, maxd = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
  local v = redis.call('HMGET', k, 'n', 't')
  local n, t = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if n >= free then
    local d = base * math.pow(2, math.min(n - free, 30))
    if d > maxd then d = maxd end
    local w = t + d - now
    if w > wait then wait, blocked = w, i - 1 end
  end
end
if wait > 0 then return {wait, blocked} end
for i, k in ipairs(KEYS) do
  local o = 1 + (i - 1) * 4
  redis.call('HINCRBY', k, 'n', 1)
  redis.call('HSET', k, 't', now)
  redis.call('PEXPIRE', k, tonumber(ARGV[o + 4]))
end
return {0, -1}
`)

// refundScript takes one attempt back from every key.
var refundScript = goredis.NewScript(`
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 and redis.call('HINCRBY', k, 'n', -1) <= 0 then redis.call('DEL', k) end
end
return 0
`)

// LoginCounter keeps the login throttle's counts in Redis, shared by every
// replica. When Redis does not answer it counts in process (per replica)
// until Redis is back, so the throttle never silently disappears.
type LoginCounter struct {
	Client   *goredis.Client
	Prefix   string
	Fallback auth.LoginCounter
	Log      *slog.Logger
	// OnFallback is called each time a count is made without Redis.
	OnFallback func()

	mu        sync.Mutex
	downUntil time.Time
}

// LoginTimeout bounds a login counter's Redis call. It is longer than the
// rate limiter's Timeout: a login can wait a moment, and a count that fell
// back to this replica under load would no longer be exact across replicas.
const LoginTimeout = 2 * time.Second

// NewLoginCounter returns a Redis login counter with an in-process fallback.
// It has its own connections to c's Redis, with LoginTimeout; Close them.
func NewLoginCounter(c *goredis.Client, prefix string, log *slog.Logger) *LoginCounter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt := *c.Options()
	opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = LoginTimeout, LoginTimeout, LoginTimeout
	return &LoginCounter{Client: goredis.NewClient(&opt), Prefix: prefix, Fallback: &auth.MemoryCounter{}, Log: log}
}

// Close closes the counter's connections.
func (l *LoginCounter) Close() error { return l.Client.Close() }

func (l *LoginCounter) keys(ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = l.Prefix + "login:" + k
	}
	return out
}

func (l *LoginCounter) down() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.downUntil)
}

func (l *LoginCounter) failed(err error) {
	l.mu.Lock()
	first := !time.Now().Before(l.downUntil)
	l.downUntil = time.Now().Add(RetryAfterFailure)
	l.mu.Unlock()
	if first {
		l.Log.Warn("Redis unreachable: login throttle counts on this replica only", "err", err)
	}
	if l.OnFallback != nil {
		l.OnFallback()
	}
}

// Reserve implements auth.LoginCounter.
func (l *LoginCounter) Reserve(ctx context.Context, keys []auth.CountedKey, now time.Time) (time.Duration, int, error) {
	if l.down() {
		return l.Fallback.Reserve(ctx, keys, now)
	}
	names := make([]string, len(keys))
	args := []any{now.UnixMilli()}
	for i, k := range keys {
		names[i] = k.Key
		args = append(args, k.Policy.Free, k.Policy.Base.Milliseconds(), k.Policy.Max.Milliseconds(), k.Policy.Idle.Milliseconds())
	}
	cctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	res, err := reserveScript.Run(cctx, l.Client, l.keys(names), args...).Int64Slice()
	if err != nil || len(res) != 2 {
		l.failed(err)
		return l.Fallback.Reserve(ctx, keys, now)
	}
	return time.Duration(res[0]) * time.Millisecond, int(res[1]), nil
}

// Refund implements auth.LoginCounter.
func (l *LoginCounter) Refund(ctx context.Context, keys ...string) error {
	if l.down() {
		return l.Fallback.Refund(ctx, keys...)
	}
	cctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	if err := refundScript.Run(cctx, l.Client, l.keys(keys)).Err(); err != nil {
		l.failed(err)
		return l.Fallback.Refund(ctx, keys...)
	}
	return nil
}

// Reset implements auth.LoginCounter.
func (l *LoginCounter) Reset(ctx context.Context, keys ...string) error {
	if l.down() {
		return l.Fallback.Reset(ctx, keys...)
	}
	cctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	if err := l.Client.Del(cctx, l.keys(keys)...).Err(); err != nil {
		l.failed(err)
		return l.Fallback.Reset(ctx, keys...)
	}
	return nil
}
