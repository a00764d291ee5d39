package guard

import (
	"context"
	"fmt"
	"sync"
	"time"

	analytics "github.com/codestory/analytics"
)

// Rate is a limit: Burst calls at once, refilled evenly over Period.
type Rate struct {
	Burst  int
	Period time.Duration
}

// AnalyticsRate is the seed's limit: 30 analytics calls per minute per admin.
var AnalyticsRate = Rate{Burst: 30, Period: time.Minute}

// Message is the refusal a caller over the limit gets: the seed's words
// for the seed's rate.
func (r Rate) Message() string {
	if r == AnalyticsRate || r.Burst <= 0 {
		return analytics.ErrRateLimited.Message
	}
	per := "minute"
	if r.Period != time.Minute {
		per = r.Period.String()
	}
	return fmt.Sprintf("Rate limit exceeded: %d analytics requests per %s", r.Burst, per)
}

// Limited is a Limiter that can say its rate.
type Limited interface{ Limit() Rate }

// Limit is m's rate.
func (m *Memory) Limit() Rate { return m.Rate }

// LimitResult is a limiter's answer.
type LimitResult struct {
	Allowed    bool
	RetryAfter time.Duration // when denied: until the next call would be allowed
	Remaining  int
}

// Limiter decides whether one more call under key is allowed. The Redis
// implementation shares the limit across replicas; Memory keeps it in
// process.
type Limiter interface {
	Allow(ctx context.Context, key string) (LimitResult, error)
	// Reset forgets key (tests, and an owner lifting a limit).
	Reset(ctx context.Context, key string) error
}

// Memory is an in-process GCRA limiter (the generic cell rate algorithm):
// each call pushes a theoretical arrival time forward by Period/Burst, and a
// call is refused while that time is more than Period ahead of now. Unlike a
// fixed window it never lets 2×Burst through across a window boundary.
type Memory struct {
	Rate Rate
	Now  func() time.Time

	mu  sync.Mutex
	tat map[string]time.Time
}

// NewMemory returns an in-process limiter.
func NewMemory(r Rate, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{Rate: r, Now: now, tat: map[string]time.Time{}}
}

// Allow applies GCRA to key.
func (m *Memory) Allow(_ context.Context, key string) (LimitResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.Now()
	interval := m.Rate.Period / time.Duration(m.Rate.Burst)
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(interval)
	if ahead := newTAT.Sub(now); ahead > m.Rate.Period {
		return LimitResult{Allowed: false, RetryAfter: ahead - m.Rate.Period}, nil
	}
	m.tat[key] = newTAT
	if len(m.tat) > 10_000 {
		for k, t := range m.tat {
			if t.Before(now) {
				delete(m.tat, k)
			}
		}
	}
	remaining := int((m.Rate.Period - newTAT.Sub(now)) / interval)
	return LimitResult{Allowed: true, Remaining: remaining}, nil
}

// Reset forgets key.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tat, key)
	return nil
}
