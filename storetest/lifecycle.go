package storetest

import (
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
)

type lifecycleStore interface {
	adminStore
	analytics.LifecycleStore
}

func openLifecycle(t *testing.T, h Harness) lifecycleStore {
	s, ok := h.Open(t, time.UTC).(lifecycleStore)
	if !ok {
		t.Fatal("the store does not implement LifecycleStore")
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func wantKind(t *testing.T, what string, err error, k analytics.Kind) {
	t.Helper()
	if analytics.ErrorKind(err) != k {
		t.Errorf("%s: err = %v (kind %d), want kind %d", what, err, analytics.ErrorKind(err), k)
	}
}

// testLifecycle: disabling, demoting, deleting and resetting admins; the
// last enabled owner is kept; expiring credentials; last use; device cookies.
func testLifecycle(t *testing.T, h Harness) {
	s := openLifecycle(t, h)
	owner, _ := s.CreateAdmin(ctx, "owner@x", analytics.RoleOwner, "h1")
	viewer, _ := s.CreateAdmin(ctx, "viewer@x", analytics.RoleViewer, "h2")
	now := time.Now()

	// The last enabled owner cannot be demoted, disabled or deleted.
	_, err := s.UpdateAdmin(ctx, owner.ID, analytics.AdminChange{Role: ptr(analytics.RoleAnalyst)})
	wantKind(t, "demote last owner", err, analytics.KindConflict)
	_, err = s.UpdateAdmin(ctx, owner.ID, analytics.AdminChange{Disabled: ptr(true)})
	wantKind(t, "disable last owner", err, analytics.KindConflict)
	_, err = s.DeleteAdmin(ctx, owner.ID)
	wantKind(t, "delete last owner", err, analytics.KindConflict)
	_, err = s.UpdateAdmin(ctx, 9999, analytics.AdminChange{Disabled: ptr(true)})
	wantKind(t, "unknown admin", err, analytics.KindNotFound)

	// A disabled admin's tokens and sessions stop working; enabling restores tokens.
	tok, err := s.CreateToken(ctx, viewer.ID, "ci", []byte("viewer-token"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, []byte("viewer-sess"), analytics.Session{AdminID: viewer.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	v, err := s.UpdateAdmin(ctx, viewer.ID, analytics.AdminChange{Disabled: ptr(true)})
	if err != nil || v.DisabledAt == nil {
		t.Fatalf("disable viewer: %+v %v", v, err)
	}
	_, _, err = s.AdminByTokenHash(ctx, []byte("viewer-token"))
	wantKind(t, "token of a disabled admin", err, analytics.KindUnauthenticated)
	_, _, err = s.SessionByHash(ctx, []byte("viewer-sess"), now)
	wantKind(t, "session of a disabled admin", err, analytics.KindUnauthenticated)
	cred := analytics.Credential{AdminID: viewer.ID, TokenID: tok.ID}
	wantKind(t, "CheckCredential of a disabled admin", s.CheckCredential(ctx, cred), analytics.KindUnauthenticated)
	if _, err := s.UpdateAdmin(ctx, viewer.ID, analytics.AdminChange{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AdminByTokenHash(ctx, []byte("viewer-token")); err != nil {
		t.Errorf("token after enabling its admin: %v", err)
	}
	if err := s.CheckCredential(ctx, cred); err != nil {
		t.Errorf("CheckCredential after enabling: %v", err)
	}
	_, _, err = s.SessionByHash(ctx, []byte("viewer-sess"), now)
	wantKind(t, "a session ended by disabling, after enabling", err, analytics.KindUnauthenticated)

	// With a second owner, the first may be demoted; then the second is the last.
	v, err = s.UpdateAdmin(ctx, viewer.ID, analytics.AdminChange{Role: ptr(analytics.RoleOwner)})
	if err != nil || v.Role != analytics.RoleOwner {
		t.Fatalf("promote: %+v %v", v, err)
	}
	o, err := s.UpdateAdmin(ctx, owner.ID, analytics.AdminChange{Role: ptr(analytics.RoleAnalyst)})
	if err != nil || o.Role != analytics.RoleAnalyst {
		t.Fatalf("demote with another owner: %+v %v", o, err)
	}
	_, err = s.DeleteAdmin(ctx, viewer.ID)
	wantKind(t, "delete the now last owner", err, analytics.KindConflict)

	// A disabled owner does not count: two owners, one disabled, the other is the last.
	third, _ := s.CreateAdmin(ctx, "third@x", analytics.RoleOwner, "h3")
	if _, err := s.UpdateAdmin(ctx, third.ID, analytics.AdminChange{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateAdmin(ctx, viewer.ID, analytics.AdminChange{Disabled: ptr(true)})
	wantKind(t, "disable the last enabled owner", err, analytics.KindConflict)

	// Racing: two owners demote each other at once; one must stay owner.
	if _, err := s.UpdateAdmin(ctx, third.ID, analytics.AdminChange{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, id := range []int64{viewer.ID, third.ID} {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			_, _ = s.UpdateAdmin(ctx, id, analytics.AdminChange{Role: ptr(analytics.RoleViewer)})
		}(id)
	}
	wg.Wait()
	admins, _ := s.ListAdmins(ctx)
	owners := 0
	for _, a := range admins {
		if a.Role == analytics.RoleOwner && a.DisabledAt == nil {
			owners++
		}
	}
	if owners != 1 {
		t.Errorf("after two concurrent demotions: %d enabled owners, want 1", owners)
	}

	// Reset password: new hash, sessions and tokens revoked.
	if err := s.CreateSession(ctx, []byte("o-sess"), analytics.Session{AdminID: owner.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	otok, _ := s.CreateToken(ctx, owner.ID, "o", []byte("owner-token"))
	o, err = s.SetPassword(ctx, owner.ID, "new-hash")
	if err != nil || o.PasswordHash != "new-hash" {
		t.Fatalf("SetPassword: %+v %v", o, err)
	}
	_, _, err = s.SessionByHash(ctx, []byte("o-sess"), now)
	wantKind(t, "session after password reset", err, analytics.KindUnauthenticated)
	_, _, err = s.AdminByTokenHash(ctx, []byte("owner-token"))
	wantKind(t, "token after password reset", err, analytics.KindUnauthenticated)
	wantKind(t, "CheckCredential after reset", s.CheckCredential(ctx, analytics.Credential{AdminID: owner.ID, TokenID: otok.ID}), analytics.KindUnauthenticated)

	// Delete: the admin, their tokens and devices are gone.
	if err := s.CreateDevice(ctx, []byte("dev"), owner.ID, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if id, err := s.DeviceAdmin(ctx, []byte("dev"), now); err != nil || id != owner.ID {
		t.Errorf("DeviceAdmin = %d, %v; want %d", id, err, owner.ID)
	}
	_, err = s.DeviceAdmin(ctx, []byte("dev"), now.Add(2*time.Hour))
	wantKind(t, "expired device", err, analytics.KindNotFound)
	if _, err := s.DeleteAdmin(ctx, owner.ID); err != nil {
		t.Fatalf("delete a non-owner: %v", err)
	}
	_, err = s.AdminByID(ctx, owner.ID)
	wantKind(t, "deleted admin", err, analytics.KindNotFound)
	_, err = s.DeviceAdmin(ctx, []byte("dev"), now)
	wantKind(t, "device of a deleted admin", err, analytics.KindNotFound)
	wantKind(t, "CheckCredential of a deleted admin", s.CheckCredential(ctx, analytics.Credential{AdminID: owner.ID, TokenID: otok.ID}), analytics.KindUnauthenticated)
	if toks, _ := s.ListTokens(ctx, owner.ID); len(toks) != 0 {
		t.Errorf("tokens of a deleted admin: %+v", toks)
	}

	// Expiring tokens and keys, and their last use.
	exp, err := s.CreateTokenExpiring(ctx, viewer.ID, "old", []byte("expired-token"), now.Add(-time.Second))
	if err != nil || exp.ExpiresAt == nil {
		t.Fatalf("CreateTokenExpiring: %+v %v", exp, err)
	}
	_, _, err = s.AdminByTokenHash(ctx, []byte("expired-token"))
	wantKind(t, "expired token", err, analytics.KindUnauthenticated)
	wantKind(t, "CheckCredential of an expired token", s.CheckCredential(ctx, analytics.Credential{AdminID: viewer.ID, TokenID: exp.ID}), analytics.KindUnauthenticated)
	live, _ := s.CreateTokenExpiring(ctx, viewer.ID, "live", []byte("live-token"), now.Add(time.Hour))
	if _, _, err := s.AdminByTokenHash(ctx, []byte("live-token")); err != nil {
		t.Errorf("unexpired token: %v", err)
	}
	toks, _ := s.ListTokens(ctx, viewer.ID)
	for _, tk := range toks {
		switch tk.ID {
		case live.ID:
			if tk.LastUsedAt == nil || tk.ExpiresAt == nil || tk.ExpiresAt.Sub(now.Add(time.Hour)).Abs() > time.Millisecond {
				t.Errorf("live token after use: last used %v, expires %v", tk.LastUsedAt, tk.ExpiresAt)
			}
		case exp.ID:
			if tk.LastUsedAt != nil {
				t.Errorf("an expired token's refused use was recorded as a use")
			}
		}
	}

	k1, _ := s.CreateIngestKeyExpiring(ctx, "backend", []byte("key-1"), time.Time{})
	k2, _ := s.CreateIngestKeyExpiring(ctx, "old", []byte("key-2"), now.Add(-time.Second))
	if _, err := s.IngestKeyByHash(ctx, []byte("key-1")); err != nil {
		t.Fatal(err)
	}
	_, err = s.IngestKeyByHash(ctx, []byte("key-2"))
	wantKind(t, "expired ingest key", err, analytics.KindUnauthenticated)
	keys, err := s.ListIngestKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != k1.ID || keys[0].LastUsedAt == nil || keys[0].ExpiresAt != nil ||
		keys[1].ID != k2.ID || keys[1].LastUsedAt != nil || keys[1].ExpiresAt == nil {
		t.Errorf("ListIngestKeys = %+v, %v", keys, err)
	}
	if _, err := s.RevokeIngestKey(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.RevokeIngestKey(ctx, k1.ID)
	wantKind(t, "revoke a key twice", err, analytics.KindNotFound)
	_, err = s.IngestKeyByHash(ctx, []byte("key-1"))
	wantKind(t, "revoked ingest key", err, analytics.KindUnauthenticated)
	wantKind(t, "CheckCredential of a revoked key", s.CheckCredential(ctx, analytics.Credential{IngestKeyID: k1.ID}), analytics.KindUnauthenticated)

	if err := s.RecordLogin(ctx, viewer.ID, now); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.AdminByID(ctx, viewer.ID); v.LastLoginAt == nil || v.LastLoginAt.Sub(now).Abs() > time.Millisecond {
		t.Errorf("last login = %v, want %v", v.LastLoginAt, now)
	}
}
