package audit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/sqlite"
)

func TestChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper []string
		badID  int64
	}{
		{"edited", []string{`UPDATE audit_log SET details = '{"alert":"none"}' WHERE id = 3`}, 3},
		{"edited outcome", []string{`UPDATE audit_log SET outcome = 'allowed' WHERE id = 4`}, 4},
		{"deleted", []string{`DELETE FROM audit_log WHERE id = 2`}, 3},
		{"swapped", []string{
			`UPDATE audit_log SET id = -2 WHERE id = 2`, `UPDATE audit_log SET id = 2 WHERE id = 3`, `UPDATE audit_log SET id = 3 WHERE id = -2`}, 2},
		{"hash recomputed for an edit", []string{`UPDATE audit_log SET reason = 'x', hash = 'beef' WHERE id = 4`}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			log := &audit.Log{Store: s, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
			for i := 1; i <= 5; i++ {
				id := int64(i)
				if _, err := log.Append(ctx, analytics.AuditEntry{AdminID: &id, AdminEmail: fmt.Sprintf("a%d@x", i), Door: analytics.DoorREST,
					Action: "analytics_data_exported", Outcome: analytics.OutcomeDenied, Details: audit.Details(map[string]any{"alert": "DATA_EXPORT", "n": i})}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := audit.Verify(ctx, s); err != nil || n != 5 {
				t.Fatalf("clean chain: %d, %v", n, err)
			}
			for _, q := range tc.tamper {
				if err := s.ExecRaw(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			_, err = audit.Verify(ctx, s)
			var be *audit.BrokenError
			if !errors.As(err, &be) || be.ID != tc.badID {
				t.Errorf("Verify = %v, want broken at entry %d", err, tc.badID)
			}
		})
	}
}
