package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/codestory/analytics/auth"
)

func TestPasswords(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash format: %s", h)
	}
	if !auth.CheckPassword(h, "correct horse battery") || auth.CheckPassword(h, "correct horse battery!") {
		t.Error("CheckPassword accepts the wrong password or refuses the right one")
	}
	h2, _ := auth.HashPassword("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if _, err := auth.HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=x$a$b", "$bcrypt$..."} {
		if auth.CheckPassword(bad, "x") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := auth.NewThrottle(func() time.Time { return now })
	for i := 0; i < 4; i++ {
		th.Fail("account:a", "ip:1")
	}
	if w := th.Wait("account:a", "ip:1"); w != 0 {
		t.Fatalf("after 4 failures: wait %s, want 0", w)
	}
	th.Fail("account:a", "ip:1")
	if w := th.Wait("account:a"); w != time.Second {
		t.Errorf("after 5 failures: wait %s, want 1s", w)
	}
	th.Fail("account:a")
	th.Fail("account:a")
	if w := th.Wait("account:a"); w != 4*time.Second {
		t.Errorf("after 7 failures: wait %s, want 4s (doubling)", w)
	}
	if w := th.Wait("ip:2", "account:b"); w != 0 {
		t.Errorf("other keys throttled: %s", w)
	}
	for i := 0; i < 40; i++ {
		th.Fail("account:a")
	}
	if w := th.Wait("account:a"); w != 15*time.Minute {
		t.Errorf("cap: %s, want 15m", w)
	}
	th.Succeed("account:a")
	if w := th.Wait("account:a"); w != 0 {
		t.Errorf("after success: %s", w)
	}
	now = now.Add(2 * time.Second)
	if w := th.Wait("ip:1"); w != 0 {
		t.Errorf("the address's 1 s wait should have passed: %s", w)
	}
}

func TestSecrets(t *testing.T) {
	a, b := auth.NewSecret(auth.AdminTokenPrefix), auth.NewSecret(auth.AdminTokenPrefix)
	if a == b || !strings.HasPrefix(a, "csa_") || len(a) != 4+43 {
		t.Errorf("secrets %q %q", a, b)
	}
	if string(auth.HashSecret(a)) == string(auth.HashSecret(b)) || len(auth.HashSecret(a)) != 32 {
		t.Error("hashes")
	}
}
