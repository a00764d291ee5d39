package postgres_test

import (
	"testing"

	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/postgres"
	"github.com/codestory/analytics/storetest"
)

// BenchmarkBudgetCheck: go test -run '^$' -bench BudgetCheck -benchtime 20000x ./postgres
func BenchmarkBudgetCheck(b *testing.B) {
	storetest.BenchBudgetCheck(b, open(b, pgtest.NewDatabase(b), postgres.Options{}))
}

// BenchmarkIngestBudgets: go test -run '^$' -bench IngestBudgets -benchtime 100x ./postgres
func BenchmarkIngestBudgets(b *testing.B) {
	b.Run("none", func(b *testing.B) {
		storetest.BenchIngestWithBudgets(b, open(b, pgtest.NewDatabase(b), postgres.Options{}), false)
	})
	b.Run("budgets", func(b *testing.B) {
		storetest.BenchIngestWithBudgets(b, open(b, pgtest.NewDatabase(b), postgres.Options{}), true)
	})
}
