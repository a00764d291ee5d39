package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	analytics "github.com/codestory/analytics"
)

// Login throttling after OWASP's device-cookie scheme
// (https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies):
//
//   - A browser that logged in successfully gets a device cookie. Its login
//     attempts are counted against that cookie alone, so failures caused by
//     anyone else never lock it out; too many failures with the cookie lock
//     out that cookie only.
//   - Attempts without a (valid) device cookie are counted per account and
//     address, per address and per account. Failures from other addresses
//     never slow a correct login from this one, until the account sees a
//     flood (FloodPolicy: more than 100 failures in an hour): then only
//     device-cookie holders get through.
//
// Each attempt is counted before the password is checked, atomically over
// all of its keys (in Redis when replicas share it), and a successful one is
// given back: "5 allowed" means 5 password checks, even when 100 attempts
// arrive at once.

// Policy is how one key slows attempts down: Free attempts go at once; then
// each needs Base after the previous one, doubling per attempt up to Max.
// A key idle for Idle is forgotten.
type Policy struct {
	Free int
	Base time.Duration
	Max  time.Duration
	Idle time.Duration
}

// wait is how long after its last counted attempt a key with n counted
// attempts must wait.
func (p Policy) wait(n int) time.Duration {
	if n < p.Free {
		return 0
	}
	d := p.Base << min(n-p.Free, 30)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	return d
}

// The login policies.
var (
	// AccountAddressPolicy: 5 attempts on one account from one address, then 1 s, 2 s, 4 s… up to 15 minutes.
	AccountAddressPolicy = Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Idle: 24 * time.Hour}
	// AddressPolicy: 10 attempts from one address over any accounts, then the same backoff.
	AddressPolicy = Policy{Free: 10, Base: time.Second, Max: 15 * time.Minute, Idle: 24 * time.Hour}
	// FloodPolicy: 100 failures on one account within an hour lock untrusted clients out for an hour.
	FloodPolicy = Policy{Free: 100, Base: time.Hour, Max: time.Hour, Idle: time.Hour}
	// DevicePolicy: 5 attempts with one device cookie, then the same backoff as an address.
	DevicePolicy = Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Idle: 24 * time.Hour}
)

// CountedKey is one key an attempt is counted against.
type CountedKey struct {
	Key    string
	Policy Policy
}

// LoginCounter counts login attempts. Reserve counts an attempt against
// every key at once, or against none and returns how long to wait and the
// index of the key that waits longest; Refund takes one attempt back; Reset
// forgets a key.
type LoginCounter interface {
	Reserve(ctx context.Context, keys []CountedKey, now time.Time) (wait time.Duration, blocked int, err error)
	Refund(ctx context.Context, keys ...string) error
	Reset(ctx context.Context, keys ...string) error
}

// MemoryCounter is a LoginCounter for one process.
type MemoryCounter struct {
	mu    sync.Mutex
	keys  map[string]*counted
	calls int
}

type counted struct {
	n    int
	last time.Time
	idle time.Duration
}

// Reserve implements LoginCounter.
func (m *MemoryCounter) Reserve(_ context.Context, keys []CountedKey, now time.Time) (time.Duration, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]*counted{}
	}
	if m.calls++; m.calls%1024 == 0 {
		for k, c := range m.keys {
			if now.Sub(c.last) > c.idle {
				delete(m.keys, k)
			}
		}
	}
	var wait time.Duration
	blocked := -1
	for i, k := range keys {
		c := m.keys[k.Key]
		if c == nil || now.Sub(c.last) > k.Policy.Idle {
			continue
		}
		if w := c.last.Add(k.Policy.wait(c.n)).Sub(now); w > wait {
			wait, blocked = w, i
		}
	}
	if wait > 0 {
		return wait, blocked, nil
	}
	for _, k := range keys {
		c := m.keys[k.Key]
		if c == nil || now.Sub(c.last) > k.Policy.Idle {
			c = &counted{}
			m.keys[k.Key] = c
		}
		c.n++
		c.last, c.idle = now, k.Policy.Idle
	}
	return 0, -1, nil
}

// Refund implements LoginCounter.
func (m *MemoryCounter) Refund(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if c := m.keys[k]; c != nil {
			if c.n--; c.n <= 0 {
				delete(m.keys, k)
			}
		}
	}
	return nil
}

// Reset implements LoginCounter.
func (m *MemoryCounter) Reset(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.keys, k)
	}
	return nil
}

// DeviceStore keeps device cookies.
type DeviceStore interface {
	CreateDevice(ctx context.Context, hash []byte, adminID int64, created, expires time.Time) error
	DeviceAdmin(ctx context.Context, hash []byte, now time.Time) (int64, error)
	RecordLogin(ctx context.Context, id int64, at time.Time) error
}

// DevicePrefix starts a device cookie.
const DevicePrefix = "csd_"

// DeviceTTL is how long a device cookie is honoured.
const DeviceTTL = 90 * 24 * time.Hour

// LoginGate checks passwords behind the device-cookie throttle.
type LoginGate struct {
	Auth    *Authenticator
	Devices DeviceStore
	Counter LoginCounter
	Now     func() time.Time
}

// LoginAttempt is one POST /login.
type LoginAttempt struct {
	Email    string
	Password string
	Address  string // the client's address (see --trusted-proxies)
	Device   string // the device cookie sent, or ""
}

// LoginResult is a successful login.
type LoginResult struct {
	Admin analytics.Admin
	// Device is the new device cookie to set on the browser.
	Device string
	// Trusted reports whether the attempt carried a valid device cookie.
	Trusted bool
}

// ThrottledError is a login refused before its password was checked.
type ThrottledError struct {
	Wait  time.Duration
	Flood bool // the account is under a flood; only device-cookie holders get through
}

func (e *ThrottledError) Error() string {
	secs := int(e.Wait.Seconds() + 0.999)
	if e.Flood {
		return fmt.Sprintf("Too many failed logins on this account; log in from a browser that has logged in before, or try again in %d seconds", secs)
	}
	return fmt.Sprintf("Too many failed logins; try again in %d seconds", secs)
}

// keyOf names a counter key without storing the attacker's text: a
// 60 KB email costs 32 bytes.
func keyOf(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return kind + ":" + hex.EncodeToString(h[:16])
}

func (g *LoginGate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Login throttles, then checks an attempt. It returns *ThrottledError when
// the attempt was not even tried, ErrBadLogin for a wrong email or password
// (or a disabled admin), and the admin with a new device cookie otherwise.
func (g *LoginGate) Login(ctx context.Context, at LoginAttempt) (LoginResult, error) {
	now := g.now()
	email := strings.ToLower(strings.TrimSpace(at.Email))
	var keys []CountedKey
	trusted := false
	if at.Device != "" && g.Devices != nil {
		if id, err := g.Devices.DeviceAdmin(ctx, HashSecret(at.Device), now); err == nil {
			adm, err := g.Auth.Admins.AdminByEmail(ctx, email)
			trusted = err == nil && adm.ID == id
		} else if analytics.ErrorKind(err) != analytics.KindNotFound {
			return LoginResult{}, err
		}
	}
	if trusted {
		keys = []CountedKey{{keyOf("device", at.Device), DevicePolicy}}
	} else {
		keys = []CountedKey{
			{keyOf("acctip", email, at.Address), AccountAddressPolicy},
			{keyOf("ip", at.Address), AddressPolicy},
			{keyOf("acct", email), FloodPolicy},
		}
	}
	wait, blocked, err := g.Counter.Reserve(ctx, keys, now)
	if err != nil {
		return LoginResult{}, fmt.Errorf("login throttle: %w", err)
	}
	if wait > 0 {
		return LoginResult{}, &ThrottledError{Wait: wait, Flood: !trusted && blocked == 2}
	}
	adm, err := g.Auth.Password(ctx, email, at.Password)
	if err != nil {
		if !errors.Is(err, ErrBadLogin) {
			// Not a wrong password (the server was busy, the request was
			// cancelled): the attempt was never judged, so it counts against
			// no one.
			ks := make([]string, len(keys))
			for i, k := range keys {
				ks[i] = k.Key
			}
			if rerr := g.Counter.Refund(context.WithoutCancel(ctx), ks...); rerr != nil {
				return LoginResult{}, errors.Join(err, fmt.Errorf("login throttle: %w", rerr))
			}
		}
		return LoginResult{}, err
	}
	// The attempt succeeded: it was not a failure to count.
	if trusted {
		err = g.Counter.Reset(ctx, keys[0].Key)
	} else {
		err = g.Counter.Reset(ctx, keys[0].Key)
		if err == nil {
			err = g.Counter.Refund(ctx, keys[1].Key, keys[2].Key)
		}
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("login throttle: %w", err)
	}
	res := LoginResult{Admin: adm, Trusted: trusted}
	if g.Devices != nil {
		res.Device = NewSecret(DevicePrefix)
		if err := g.Devices.CreateDevice(ctx, HashSecret(res.Device), adm.ID, now, now.Add(DeviceTTL)); err != nil {
			return res, err
		}
		if err := g.Devices.RecordLogin(ctx, adm.ID, now); err != nil {
			return res, err
		}
	}
	return res, nil
}
