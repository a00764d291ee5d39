package auth

import (
	"sync"
	"time"
)

// Throttle slows failed logins per key (an account, an address): after
// FreeFailures failures in a row, the next attempt must wait BaseDelay, and
// each further failure doubles the wait, up to MaxDelay. A success clears the key. State is per process.
type Throttle struct {
	FreeFailures int
	BaseDelay    time.Duration
	MaxDelay     time.Duration
	Now          func() time.Time

	mu   sync.Mutex
	keys map[string]*throttleState
}

type throttleState struct {
	failures int
	until    time.Time
	last     time.Time
}

// NewThrottle returns the default login throttle: after 5 failures a wait
// of 1s, then 2s, 4s… up to 15 minutes.
func NewThrottle(now func() time.Time) *Throttle {
	return &Throttle{FreeFailures: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Now: now}
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Wait returns how long the caller must wait before trying key again (0: go).
func (t *Throttle) Wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		if st := t.keys[k]; st != nil && st.until.After(now) {
			wait = max(wait, st.until.Sub(now))
		}
	}
	return wait
}

// Fail records a failed attempt for every key.
func (t *Throttle) Fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = map[string]*throttleState{}
	}
	now := t.now()
	for k, st := range t.keys { // forget keys idle for a day
		if now.Sub(st.last) > 24*time.Hour {
			delete(t.keys, k)
		}
	}
	for _, k := range keys {
		st := t.keys[k]
		if st == nil {
			st = &throttleState{}
			t.keys[k] = st
		}
		st.failures++
		st.last = now
		if over := st.failures - t.FreeFailures + 1; over > 0 {
			d := t.BaseDelay << min(over-1, 30)
			if d > t.MaxDelay || d <= 0 {
				d = t.MaxDelay
			}
			st.until = now.Add(d)
		}
	}
}

// Succeed clears a key after a good login.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}
