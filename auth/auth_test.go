package auth_test

import (
	"strings"
	"testing"

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

func TestSecrets(t *testing.T) {
	a, b := auth.NewSecret(auth.AdminTokenPrefix), auth.NewSecret(auth.AdminTokenPrefix)
	if a == b || !strings.HasPrefix(a, "csa_") || len(a) != 4+43 {
		t.Errorf("secrets %q %q", a, b)
	}
	if string(auth.HashSecret(a)) == string(auth.HashSecret(b)) || len(auth.HashSecret(a)) != 32 {
		t.Error("hashes")
	}
}
