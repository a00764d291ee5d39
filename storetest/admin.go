package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
)

type adminStore interface {
	analytics.Store
	analytics.AdminStore
	analytics.AuditStore
}

func openAdmin(t *testing.T, h Harness) adminStore {
	s, ok := h.Open(t, time.UTC).(adminStore)
	if !ok {
		t.Fatal("the store does not implement AdminStore and AuditStore")
	}
	return s
}

func testAdmins(t *testing.T, h Harness) {
	s := openAdmin(t, h)
	a, err := s.CreateAdmin(ctx, "ana@example.com", analytics.RoleOwner, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAdmin(ctx, "ANA@example.com", analytics.RoleViewer, "x"); analytics.ErrorKind(err) != analytics.KindConflict {
		t.Errorf("duplicate email (other case): %v, want conflict", err)
	}
	got, err := s.AdminByEmail(ctx, "Ana@Example.com")
	if err != nil || got.ID != a.ID || got.Role != analytics.RoleOwner || got.PasswordHash != "hash" {
		t.Errorf("AdminByEmail = %+v, %v", got, err)
	}
	if _, err := s.AdminByEmail(ctx, "nobody@example.com"); analytics.ErrorKind(err) != analytics.KindNotFound {
		t.Errorf("unknown admin: %v", err)
	}
	tok, err := s.CreateToken(ctx, a.ID, "ci", []byte("token-hash"))
	if err != nil {
		t.Fatal(err)
	}
	adm, tk, err := s.AdminByTokenHash(ctx, []byte("token-hash"))
	if err != nil || adm.ID != a.ID || tk.ID != tok.ID || tk.Name != "ci" {
		t.Errorf("AdminByTokenHash = %+v %+v %v", adm, tk, err)
	}
	if _, err := s.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeToken(ctx, tok.ID); analytics.ErrorKind(err) != analytics.KindNotFound {
		t.Errorf("revoking twice: %v", err)
	}
	if _, _, err := s.AdminByTokenHash(ctx, []byte("token-hash")); analytics.ErrorKind(err) != analytics.KindUnauthenticated {
		t.Errorf("revoked token still works: %v", err)
	}
	toks, _ := s.ListTokens(ctx, a.ID)
	if len(toks) != 1 || toks[0].RevokedAt == nil || toks[0].AdminEmail != "ana@example.com" {
		t.Errorf("ListTokens = %+v", toks)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := s.CreateSession(ctx, []byte("sess"), analytics.Session{AdminID: a.ID, CSRFToken: "csrf", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, se, err := s.SessionByHash(ctx, []byte("sess"), now.Add(59*time.Minute)); err != nil || se.CSRFToken != "csrf" {
		t.Errorf("live session: %+v %v", se, err)
	}
	if _, _, err := s.SessionByHash(ctx, []byte("sess"), now.Add(61*time.Minute)); analytics.ErrorKind(err) != analytics.KindUnauthenticated {
		t.Errorf("expired session accepted: %v", err)
	}
	if err := s.DeleteSession(ctx, []byte("sess")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionByHash(ctx, []byte("sess"), now); analytics.ErrorKind(err) != analytics.KindUnauthenticated {
		t.Errorf("deleted session accepted: %v", err)
	}
}

// testAuditChain appends from many goroutines at once: the chain must stay
// one line, then detect an edited row.
func testAuditChain(t *testing.T, h Harness) {
	s := openAdmin(t, h)
	log := &audit.Log{Store: s}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				id := int64(w)
				if _, err := log.Append(ctx, analytics.AuditEntry{AdminID: &id, AdminEmail: fmt.Sprintf("w%d@x", w), Door: analytics.DoorMCP,
					Action: "analytics_costs_viewed", Outcome: analytics.OutcomeAllowed, Details: audit.Details(map[string]any{"i": i})}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	n, err := audit.Verify(ctx, s)
	if err != nil || n != 80 {
		t.Fatalf("chain after concurrent appends: %d entries, %v", n, err)
	}
	page, err := s.ListAudit(ctx, analytics.AuditFilter{AdminEmail: "W3@x", Limit: 5})
	if err != nil || len(page) != 5 || page[0].ID < page[4].ID {
		t.Errorf("ListAudit by admin: %d entries, %v", len(page), err)
	}
	next, _ := s.ListAudit(ctx, analytics.AuditFilter{AdminEmail: "w3@x", Limit: 10, BeforeID: page[4].ID})
	if len(next) != 5 {
		t.Errorf("second page: %d entries, want 5", len(next))
	}
	h.Exec(t, s, `UPDATE audit_log SET outcome = 'denied' WHERE id = 40`)
	_, err = audit.Verify(ctx, s)
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.ID != 40 {
		t.Errorf("edited entry 40: Verify = %v", err)
	}
}
