package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/sqlite"
	"github.com/codestory/analytics/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, loc *time.Location) analytics.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), sqlite.Options{Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Reopen: func(t *testing.T, s analytics.Store, loc *time.Location) (analytics.Store, error) {
			s2, err := sqlite.Open(context.Background(), s.(*sqlite.Store).Path(), sqlite.Options{Location: loc})
			if err == nil {
				t.Cleanup(func() { s2.Close() })
			}
			return s2, err
		},
		Exec: func(t *testing.T, s analytics.Store, q string) {
			if err := s.(*sqlite.Store).ExecRaw(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
	})
}
