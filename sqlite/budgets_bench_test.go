package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/codestory/analytics/sqlite"
	"github.com/codestory/analytics/storetest"
)

func benchStore(b *testing.B) *sqlite.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkBudgetCheck: go test -run '^$' -bench BudgetCheck -benchtime 20000x ./sqlite
func BenchmarkBudgetCheck(b *testing.B) { storetest.BenchBudgetCheck(b, benchStore(b)) }

// BenchmarkIngestBudgets: go test -run '^$' -bench IngestBudgets -benchtime 100x ./sqlite
func BenchmarkIngestBudgets(b *testing.B) {
	b.Run("none", func(b *testing.B) { storetest.BenchIngestWithBudgets(b, benchStore(b), false) })
	b.Run("budgets", func(b *testing.B) { storetest.BenchIngestWithBudgets(b, benchStore(b), true) })
}
