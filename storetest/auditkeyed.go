package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
	auditT0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func appendN(t *testing.T, log *audit.Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		id := int64(i)
		if _, err := log.Append(ctx, analytics.AuditEntry{AdminID: &id, AdminEmail: fmt.Sprintf("a%d@x", i), Door: analytics.DoorREST,
			Action: "analytics_data_exported", Outcome: analytics.OutcomeAllowed, Details: audit.Details(map[string]any{"alert": "DATA_EXPORT", "n": i})}); err != nil {
			t.Fatal(err)
		}
	}
}

// rewrite changes entry id's reason and recomputes every later SHA-256
// link, as an attacker with write access to the database but without the
// audit key can; keepMAC false also strips the MACs.
func rewrite(t *testing.T, h Harness, s adminStore, id int64, keepMAC bool) {
	t.Helper()
	var all []analytics.AuditEntry
	if err := s.ScanAudit(ctx, func(e analytics.AuditEntry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i := range all {
		e := &all[i]
		if e.ID == id {
			e.Reason = "nothing to see here"
		}
		if e.ID >= id {
			e.PrevHash = prev
			e.Hash = audit.Hash(prev, e)
			mac := e.MAC
			if !keepMAC {
				mac = ""
			}
			h.Exec(t, s, fmt.Sprintf(`UPDATE audit_log SET reason = '%s', prev_hash = '%s', hash = '%s', mac = '%s' WHERE id = %d`,
				e.Reason, e.PrevHash, e.Hash, mac, e.ID))
		}
		prev = e.Hash
	}
}

func wantBroken(t *testing.T, err error, id int64, text string) {
	t.Helper()
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.ID != id || !strings.Contains(be.Reason, text) {
		t.Errorf("VerifyKeyed = %v; want broken at entry %d (%q)", err, id, text)
	}
}

// testAuditKeyed: an entry rewritten with every later SHA-256 link
// recomputed verifies without the key (the old chain's weakness) and fails
// under it; stripping the MACs fails too; entries removed from the end
// pass the chain but fail against a checkpoint, which names the gap.
func testAuditKeyed(t *testing.T, h Harness) {
	t.Run("RewriteAndRecompute", func(t *testing.T) {
		s := openAdmin(t, h)
		log := &audit.Log{Store: s, Key: testKey, Now: func() time.Time { return auditT0 }}
		appendN(t, log, 1, 8)
		if rep, err := audit.VerifyKeyed(ctx, s, testKey, nil); err != nil || rep.Keyed != 8 || rep.Unkeyed != 0 {
			t.Fatalf("clean keyed chain: %+v, %v", rep, err)
		}
		rewrite(t, h, s, 3, true)
		if _, err := audit.Verify(ctx, s); err != nil {
			t.Fatalf("the SHA-256 chain alone should be fooled by recomputed links: %v", err)
		}
		_, err := audit.VerifyKeyed(ctx, s, testKey, nil)
		wantBroken(t, err, 3, "MAC does not match")
	})
	t.Run("StripMACs", func(t *testing.T) {
		s := openAdmin(t, h)
		log := &audit.Log{Store: s, Key: testKey}
		appendN(t, log, 1, 5)
		rewrite(t, h, s, 1, false)
		_, err := audit.VerifyKeyed(ctx, s, testKey, nil)
		wantBroken(t, err, 5, "none of the 5 entries is keyed")
	})
	t.Run("TruncatedTail", func(t *testing.T) {
		s := openAdmin(t, h)
		log := &audit.Log{Store: s, Key: testKey}
		appendN(t, log, 1, 10)
		cp, ok, err := audit.Head(ctx, s)
		if err != nil || !ok || cp.Seq != 10 || cp.MAC == "" {
			t.Fatalf("Head = %+v %v %v", cp, ok, err)
		}
		parsed, err := audit.ParseCheckpoint(cp.String())
		if err != nil || parsed != cp {
			t.Fatalf("checkpoint line %q parses to %+v, %v", cp.String(), parsed, err)
		}
		if _, err := audit.VerifyKeyed(ctx, s, testKey, &parsed); err != nil {
			t.Fatalf("intact log vs its checkpoint: %v", err)
		}
		h.Exec(t, s, `DELETE FROM audit_log WHERE id > 7`)
		if _, err := audit.VerifyKeyed(ctx, s, testKey, nil); err != nil {
			t.Fatalf("a cut tail is a valid chain; only the checkpoint shows it: %v", err)
		}
		_, err = audit.VerifyKeyed(ctx, s, testKey, &parsed)
		wantBroken(t, err, 8, "entries 8 to 10 are missing")
		// New entries after the cut reuse the ids: entry 10 no longer
		// matches the checkpoint.
		appendN(t, log, 8, 11)
		_, err = audit.VerifyKeyed(ctx, s, testKey, &parsed)
		wantBroken(t, err, 10, "does not match the checkpoint")
	})
	t.Run("MigrateUnkeyedChain", func(t *testing.T) {
		s := openAdmin(t, h)
		old := &audit.Log{Store: s} // a log written before audit keys
		appendN(t, old, 1, 5)
		log := &audit.Log{Store: s, Key: testKey}
		if _, err := audit.VerifyKeyed(ctx, s, testKey, nil); err == nil {
			t.Error("an unanchored log verified under a key")
		}
		if err := log.Anchor(ctx); err != nil {
			t.Fatal(err)
		}
		if err := log.Anchor(ctx); err != nil { // idempotent: no second anchor
			t.Fatal(err)
		}
		appendN(t, log, 7, 9)
		rep, err := audit.VerifyKeyed(ctx, s, testKey, nil)
		if err != nil || rep.Unkeyed != 5 || rep.Keyed != 4 || rep.Entries != 9 {
			t.Fatalf("migrated chain: %+v, %v", rep, err)
		}
		page, _ := s.ListAudit(ctx, analytics.AuditFilter{Action: audit.ActionKeyed, Limit: 5})
		if len(page) != 1 || page[0].ID != 6 || page[0].PrevHash == "" {
			t.Fatalf("anchor entries: %+v", page)
		}
		if err := (&audit.Log{Store: s, Key: otherKey}).Anchor(ctx); err == nil || !strings.Contains(err.Error(), "not the key") {
			t.Errorf("a wrong key was accepted: %v", err)
		}
		// An old entry rewritten, every later SHA-256 link recomputed: the
		// anchor's MAC, which covers the last old hash, gives it away.
		rewrite(t, h, s, 2, true)
		_, err = audit.VerifyKeyed(ctx, s, testKey, nil)
		wantBroken(t, err, 6, "MAC does not match")
	})
}

// testAuditSuppress: unauthenticated denials from one address through two
// stores on one database (replicas) are written a few per window, the rest
// counted once, and reported by one "N similar suppressed" entry however
// many replicas flush at once.
func testAuditSuppress(t *testing.T, h Harness) {
	s1 := openAdmin(t, h)
	r, err := h.Reopen(t, s1, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2 := r.(adminStore)
	now := auditT0.Add(10 * time.Second)
	logs := make([]*audit.Log, 2)
	for i, s := range []adminStore{s1, s2} {
		ss, ok := s.(analytics.AuditSuppressStore)
		if !ok {
			t.Fatal("the store does not implement AuditSuppressStore")
		}
		logs[i] = &audit.Log{Store: s, Suppress: ss, Key: testKey, PerWindow: 3, Window: time.Minute, Now: func() time.Time { return now }}
	}
	deny := func(log *audit.Log, ip string) {
		if _, err := log.Append(ctx, analytics.AuditEntry{Door: analytics.DoorREST, Action: "analytics_dashboard_viewed",
			Outcome: analytics.OutcomeDenied, Reason: "Analytics access requires admin authentication",
			Details: audit.Details(map[string]any{"ip_address": ip, "date_range": map[string]string{"start": strings.Repeat("x", 5000)}})}); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			deny(logs[i%2], "203.0.113.7")
		}(i)
	}
	wg.Wait()
	deny(logs[0], "2001:db8::1")
	deny(logs[1], "2001:db8::2") // same /64: the same source
	count := func(action string) []analytics.AuditEntry {
		es, err := s1.ListAudit(ctx, analytics.AuditFilter{Action: action, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	if n := len(count("analytics_dashboard_viewed")); n != 3+2 {
		t.Errorf("written denials = %d, want 3 from 203.0.113.7 and 2 from 2001:db8::/64", n)
	}
	// Both replicas flush the closed window at once: one report.
	now = now.Add(time.Minute)
	var flushed [2]int
	for i := range logs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, err := logs[i].Flush(ctx, now.Truncate(time.Minute))
			if err != nil {
				t.Error(err)
			}
			flushed[i] = n
		}(i)
	}
	wg.Wait()
	sup := count(audit.ActionSuppressed)
	if flushed[0]+flushed[1] != 1 || len(sup) != 1 || sup[0].Reason != "37 similar suppressed" {
		t.Fatalf("flushed %v; suppressed entries %+v", flushed, sup)
	}
	if !strings.Contains(string(sup[0].Details), `"source":"203.0.113.7"`) {
		t.Errorf("suppressed entry details: %s", sup[0].Details)
	}
	// A late denial of the reported window (another replica's clock) is
	// reported on its own, not lost and not counted twice.
	late := &audit.Log{Store: s2, Suppress: s2.(analytics.AuditSuppressStore), Key: testKey, PerWindow: 3, Window: time.Minute,
		Now: func() time.Time { return auditT0.Add(50 * time.Second) }}
	deny(late, "203.0.113.7")
	if _, err := logs[0].Flush(ctx, now.Truncate(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if sup := count(audit.ActionSuppressed); len(sup) != 2 || sup[0].Reason != "1 similar suppressed" {
		t.Errorf("after a late denial: %+v", sup)
	}
	for _, e := range count("analytics_dashboard_viewed") {
		if len(e.Details) > audit.MaxDetails || !strings.Contains(string(e.Details), `"details.date_range.start":5000`) {
			t.Errorf("entry %d details not bounded with the original length: %s", e.ID, e.Details)
		}
	}
	if rep, err := audit.VerifyKeyed(ctx, s1, testKey, nil); err != nil || rep.Keyed != rep.Entries {
		t.Errorf("chain: %+v %v", rep, err)
	}
}
