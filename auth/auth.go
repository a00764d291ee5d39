// Package auth turns credentials into principals: admin API tokens, ingest
// keys, dashboard sessions and passwords (argon2id), with failed logins
// slowed down per account and per address.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"golang.org/x/crypto/argon2"
)

// Credential prefixes, so a leaked secret is recognisable and a bearer
// token's kind is known before any look-up.
const (
	AdminTokenPrefix = "csa_"
	IngestKeyPrefix  = "csk_ingest_"
	SessionPrefix    = "css_"
)

// NewSecret returns a random credential with a readable prefix.
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how credentials are stored: they are 256-bit random
// strings, so a plain SHA-256 suffices and allows an indexed look-up.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// argon2id parameters (OWASP's recommended minimum is m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// HashPassword hashes pw with argon2id in PHC string format.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPasswordLength {
		return "", analytics.Errorf(analytics.KindInvalid, "password must be at least %d characters", MinPasswordLength)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches a HashPassword hash, in constant
// time with respect to the hash.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when an email is unknown, so a login takes as long
// whether or not the account exists.
var dummyHash, _ = HashPassword("not-a-real-password-at-all")

// KeyStore finds ingest keys.
type KeyStore interface {
	IngestKeyByHash(ctx context.Context, hash []byte) (analytics.IngestKey, error)
}

// Authenticator resolves credentials.
type Authenticator struct {
	Admins analytics.AdminStore
	Keys   KeyStore
	Now    func() time.Time
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// ErrNoCredentials is returned when a request carries no credential at all.
var ErrNoCredentials = analytics.Errorf(analytics.KindUnauthenticated, "Analytics access requires admin authentication")

// Bearer resolves an Authorization bearer token: an admin API token or an
// ingest key.
func (a *Authenticator) Bearer(ctx context.Context, token string) (*analytics.Principal, error) {
	if token == "" {
		return nil, ErrNoCredentials
	}
	if strings.HasPrefix(token, IngestKeyPrefix) {
		k, err := a.Keys.IngestKeyByHash(ctx, HashSecret(token))
		if err != nil {
			return nil, err
		}
		return &analytics.Principal{IngestKey: &k, Via: "ingest_key"}, nil
	}
	adm, tok, err := a.Admins.AdminByTokenHash(ctx, HashSecret(token))
	if err != nil {
		return nil, err
	}
	return &analytics.Principal{Admin: &adm, Via: "token", TokenID: tok.ID}, nil
}

// Session resolves a dashboard session cookie.
func (a *Authenticator) Session(ctx context.Context, cookie string) (*analytics.Principal, analytics.Session, error) {
	if cookie == "" {
		return nil, analytics.Session{}, ErrNoCredentials
	}
	adm, se, err := a.Admins.SessionByHash(ctx, HashSecret(cookie), a.now())
	if err != nil {
		return nil, se, err
	}
	return &analytics.Principal{Admin: &adm, Via: "session"}, se, nil
}

// ErrBadLogin is the one answer to a wrong email or password.
var ErrBadLogin = analytics.Errorf(analytics.KindUnauthenticated, "invalid email or password")

// ErrLoginBusy refuses a login when every password-check slot stayed busy.
var ErrLoginBusy = analytics.Errorf(analytics.KindUnavailable, "too many sign-ins at once; retry in a few seconds")

// passwordSlots bounds concurrent argon2id checks. Each takes 19 MiB and
// tens of milliseconds of CPU, so wrong passwords sent at once from many
// addresses (which the per-address counts do not stop) queue here instead
// of exhausting the server's memory.
var passwordSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// passwordWait is how long a login waits for a slot before ErrLoginBusy.
var passwordWait = 5 * time.Second

// checkPasswordBounded is CheckPassword in one of the bounded slots.
func checkPasswordBounded(ctx context.Context, hash, pw string) (bool, error) {
	t := time.NewTimer(passwordWait)
	defer t.Stop()
	select {
	case passwordSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return false, ErrLoginBusy
	}
	defer func() { <-passwordSlots }()
	return CheckPassword(hash, pw), nil
}

// Password checks an email and password.
func (a *Authenticator) Password(ctx context.Context, email, pw string) (analytics.Admin, error) {
	adm, err := a.Admins.AdminByEmail(ctx, strings.TrimSpace(email))
	if analytics.ErrorKind(err) == analytics.KindNotFound {
		// The same work as a real check, so timing does not tell which
		// emails are admins.
		if _, err := checkPasswordBounded(ctx, dummyHash, pw); err != nil {
			return adm, err
		}
		return adm, ErrBadLogin
	}
	if err != nil {
		return adm, err
	}
	if adm.PasswordHash == "" {
		return adm, ErrBadLogin
	}
	ok, err := checkPasswordBounded(ctx, adm.PasswordHash, pw)
	if err != nil {
		return adm, err
	}
	if !ok || adm.DisabledAt != nil {
		return adm, ErrBadLogin
	}
	return adm, nil
}

// SessionTTL is how long a dashboard login lasts.
const SessionTTL = 12 * time.Hour

// NewSession creates a session for adm and returns its cookie value.
func (a *Authenticator) NewSession(ctx context.Context, adm analytics.Admin) (string, analytics.Session, error) {
	cookie := NewSecret(SessionPrefix)
	now := a.now()
	se := analytics.Session{AdminID: adm.ID, CSRFToken: NewSecret(""), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	return cookie, se, a.Admins.CreateSession(ctx, HashSecret(cookie), se)
}
