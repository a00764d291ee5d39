package postgres_test

import (
	"math/rand/v2"
	"testing"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/postgres"
)

// TestMigration060OnExistingData takes a database with voided events back to
// the schema before migrations 060 and 061, then reopens it: the backfill must leave
// every rollup as a fresh aggregate would, and ingests, voids and reprices
// must then keep it so.
func TestMigration060OnExistingData(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, postgres.Options{})
	rng := rand.New(rand.NewPCG(60, 61))
	evs := genEvents(rng, "old", 600, quoteOld)
	if _, err := s.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	evs = voidSome(t, s, rng, evs, 150, "v-", 20)
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE version IN (60, 61)`,
		`DROP TABLE stories, story_daily, story_buckets, cohort_days, unsigned_users`,
		`DROP INDEX events_by_story`,
		`DROP INDEX users_by_signup_day`,
		`ALTER TABLE user_activity DROP COLUMN revenue_cents, DROP COLUMN pay_events`,
		`ALTER TABLE user_month DROP COLUMN revenue_cents, DROP COLUMN pay_events`,
		`ALTER TABLE users DROP COLUMN signup_day`,
	} {
		if err := s.ExecRaw(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s = open(t, url, postgres.Options{})
	checkBruteForce(t, s, evs)

	more := genEvents(rng, "new", 300, quoteOld)
	if _, err := s.IngestEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, more...)
	evs = voidSome(t, s, rng, evs, 100, "v2-", 21)
	if _, err := s.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 50}, quoteNew); err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if evs[i].Type == analytics.EventAPICall && evs[i].ExplicitCost == nil {
			quoteNew(&evs[i])
		}
	}
	checkBruteForce(t, s, evs)
}
