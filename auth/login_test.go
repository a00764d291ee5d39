package auth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/internal/redistest"
	"github.com/codestory/analytics/redis"
	"github.com/codestory/analytics/sqlite"
)

var ctx = context.Background()

// countingAdmins counts password checks: each one looks its email up once.
type countingAdmins struct {
	*sqlite.Store
	checks atomic.Int64
}

func (c *countingAdmins) AdminByEmail(ctx context.Context, email string) (analytics.Admin, error) {
	c.checks.Add(1)
	return c.Store.AdminByEmail(ctx, email)
}

type gateEnv struct {
	gate   *auth.LoginGate
	admins *countingAdmins
	now    time.Time
}

const goodPassword = "correct horse battery staple"

// counters runs fn with a fresh store and each LoginCounter: in process and
// in Redis (two counters on one Redis stand for two replicas).
func counters(t *testing.T, fn func(t *testing.T, e *gateEnv, replica func() auth.LoginCounter)) {
	for _, kind := range []string{"memory", "redis"} {
		t.Run(kind, func(t *testing.T) {
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			hash, _ := auth.HashPassword(goodPassword)
			if _, err := s.CreateAdmin(ctx, "owner@example.com", analytics.RoleOwner, hash); err != nil {
				t.Fatal(err)
			}
			var replica func() auth.LoginCounter
			if kind == "memory" {
				c := &auth.MemoryCounter{}
				replica = func() auth.LoginCounter { return c }
			} else {
				rc, prefix := redistest.Require(t)
				replica = func() auth.LoginCounter {
					lc := redis.NewLoginCounter(rc, prefix, nil)
					lc.OnFallback = func() { t.Error("the login counter fell back to counting in process") }
					t.Cleanup(func() { lc.Close() })
					return lc
				}
			}
			e := &gateEnv{admins: &countingAdmins{Store: s}, now: time.Now()}
			e.gate = &auth.LoginGate{Auth: &auth.Authenticator{Admins: e.admins, Keys: s}, Devices: s, Counter: replica(),
				Now: func() time.Time { return e.now }}
			fn(t, e, replica)
		})
	}
}

func (e *gateEnv) try(email, pw, addr, device string) (auth.LoginResult, error) {
	return e.gate.Login(ctx, auth.LoginAttempt{Email: email, Password: pw, Address: addr, Device: device})
}

// TestLoginCountsExactlyInParallel: 100 wrong passwords at once on one
// account from one address get exactly 5 password checks, across two
// replicas sharing Redis too.
func TestLoginCountsExactlyInParallel(t *testing.T) {
	counters(t, func(t *testing.T, e *gateEnv, replica func() auth.LoginCounter) {
		gates := []*auth.LoginGate{e.gate, {Auth: e.gate.Auth, Devices: e.gate.Devices, Counter: replica(), Now: e.gate.Now}}
		var wg sync.WaitGroup
		var throttled atomic.Int64
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func(g *auth.LoginGate) {
				defer wg.Done()
				_, err := g.Login(ctx, auth.LoginAttempt{Email: "owner@example.com", Password: "wrong password!", Address: "203.0.113.9"})
				var te *auth.ThrottledError
				if errors.As(err, &te) {
					throttled.Add(1)
				} else if !errors.Is(err, auth.ErrBadLogin) {
					t.Errorf("attempt: %v", err)
				}
			}(gates[i%2])
		}
		wg.Wait()
		if n := e.admins.checks.Load(); n != 5 || throttled.Load() != 95 {
			t.Errorf("100 parallel attempts: %d password checks and %d throttled, want 5 and 95", n, throttled.Load())
		}
		// After the backoff (1 s after the 5th), one more attempt goes.
		e.now = e.now.Add(1100 * time.Millisecond)
		if _, err := e.try("owner@example.com", goodPassword, "203.0.113.9", ""); err != nil {
			t.Errorf("correct password after the wait: %v", err)
		}
	})
}

// TestLoginOthersCannotLockOut: wrong passwords from other addresses never
// stop a correct login from this one, and a device cookie gets through even
// a throttle on its own address and a flood on its account, where nothing
// else does.
func TestLoginOthersCannotLockOut(t *testing.T) {
	counters(t, func(t *testing.T, e *gateEnv, _ func() auth.LoginCounter) {
		// An earlier successful login gave the owner's browser a device cookie.
		first, err := e.try("owner@example.com", goodPassword, "198.51.100.1", "")
		if err != nil || first.Device == "" {
			t.Fatalf("first login: %+v %v", first, err)
		}
		// 60 wrong passwords from 12 other addresses (5 each).
		for i := 0; i < 60; i++ {
			if _, err := e.try("owner@example.com", "guess", fmt.Sprintf("192.0.2.%d", i/5), ""); !errors.Is(err, auth.ErrBadLogin) {
				t.Fatalf("attack %d: %v", i, err)
			}
		}
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.7", ""); err != nil {
			t.Errorf("correct login from a fresh address after 60 failures elsewhere: %v", err)
		}
		// The attacker shares the owner's address (one proxy, no --trusted-proxies).
		for i := 0; i < 12; i++ {
			e.try("owner@example.com", "guess", "198.51.100.1", "")
		}
		var te *auth.ThrottledError
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.1", ""); !errors.As(err, &te) {
			t.Errorf("correct login without a device cookie from the throttled address: %v, want throttled", err)
		}
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.1", first.Device); err != nil {
			t.Errorf("correct login with a device cookie from the throttled address: %v", err)
		}
		// A flood: past 100 failures in the hour only device-cookie holders get in.
		for i := 0; e.admins.checks.Load() < 200 && i < 400; i++ {
			e.try("owner@example.com", "guess", fmt.Sprintf("10.0.%d.%d", i/250, i%250), "")
		}
		checks := e.admins.checks.Load()
		_, err = e.try("owner@example.com", goodPassword, "198.51.100.9", "")
		if !errors.As(err, &te) || !te.Flood {
			t.Errorf("correct login from a fresh address during a flood: %v, want a flood refusal", err)
		}
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.9", first.Device); err != nil {
			t.Errorf("correct login with a device cookie during a flood: %v", err)
		}
		if got := e.admins.checks.Load() - checks; got != 2 {
			t.Errorf("%d lookups for the two logins during the flood, want 2 (the device check only)", got)
		}
		// A device cookie of another account is no help; a made-up one neither.
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.9", "csd_made-up"); !errors.As(err, &te) {
			t.Errorf("made-up device cookie during a flood: %v", err)
		}
		// The flood ends an hour after its last counted failure.
		e.now = e.now.Add(61 * time.Minute)
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.9", ""); err != nil {
			t.Errorf("after the flood: %v", err)
		}
	})
}

// TestLoginDeviceCookieLockout: guessing with a stolen device cookie locks
// out that cookie only.
func TestLoginDeviceCookieLockout(t *testing.T) {
	counters(t, func(t *testing.T, e *gateEnv, _ func() auth.LoginCounter) {
		first, err := e.try("owner@example.com", goodPassword, "198.51.100.1", "")
		if err != nil {
			t.Fatal(err)
		}
		second, _ := e.try("owner@example.com", goodPassword, "198.51.100.2", "")
		for i := 0; i < 5; i++ {
			e.try("owner@example.com", "guess", "192.0.2.1", first.Device)
		}
		var te *auth.ThrottledError
		if _, err := e.try("owner@example.com", goodPassword, "192.0.2.1", first.Device); !errors.As(err, &te) {
			t.Errorf("6th attempt with a guessed-on device cookie: %v, want throttled", err)
		}
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.2", second.Device); err != nil {
			t.Errorf("another device of the same account: %v", err)
		}
	})
}

// TestPasswordChecksBounded: wrong passwords sent at once from many
// addresses queue for a bounded number of argon2id slots instead of taking
// the server's memory; an attempt that found every slot busy is refused as
// "busy", is not a failure of its account or address, and checked nothing.
func TestPasswordChecksBounded(t *testing.T) {
	counters(t, func(t *testing.T, e *gateEnv, _ func() auth.LoginCounter) {
		restore := auth.SetPasswordWait(30 * time.Millisecond)
		defer restore()
		release := auth.HoldPasswordSlots()
		for i := 0; i < 12; i++ {
			_, err := e.try("owner@example.com", "wrong password!", "198.51.100.20", "")
			if !errors.Is(err, auth.ErrLoginBusy) {
				release()
				t.Fatalf("attempt %d with every slot busy: %v, want ErrLoginBusy", i, err)
			}
		}
		release()
		// None of the 12 counted: the owner's correct password from the
		// same address goes through at once.
		if _, err := e.try("owner@example.com", goodPassword, "198.51.100.20", ""); err != nil {
			t.Fatalf("correct password after busy refusals: %v", err)
		}
	})
}
