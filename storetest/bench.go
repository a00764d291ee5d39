package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/alerts"
)

// BenchUsers is how many users the budget-check benchmark's store holds.
const BenchUsers = 100_000

// BenchBudgetCheck measures budget-check's answer (the budgets and total
// spend from memory, the user's spend in one indexed read) on a store with
// BenchUsers users who spent this month, under a total, an each_user and a
// user budget. It reports p50 and p99 in milliseconds.
func BenchBudgetCheck(b *testing.B, s analytics.Store) {
	bs := s.(analytics.BudgetStore)
	now := time.Now().UTC()
	var batch []analytics.Event
	for u := range BenchUsers {
		batch = append(batch, Call(fmt.Sprintf("bc%d", u), fmt.Sprintf("user_%06d", u), now.Add(-time.Minute), analytics.ServiceAnthropic, "m", "op", analytics.Micros(1000+u)))
		if len(batch) == 10_000 {
			if _, err := s.IngestEvents(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	svc := &analytics.Budgets{Store: bs, Rollups: s}
	tools := &analytics.Tools{Store: s, Budgets: svc}
	for _, in := range []analytics.BudgetInput{
		budgetIn("all", "total", "", "month", "100000"),
		budgetIn("each", "each_user", "", "month", "0.05"),
		budgetIn("vip", "user", "user_000042", "day", "1"),
	} {
		if _, err := tools.CreateBudget(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		user := fmt.Sprintf("user_%06d", rng.IntN(BenchUsers))
		t0 := time.Now()
		res, err := svc.Check(context.Background(), user)
		lat = append(lat, time.Since(t0))
		if err != nil || len(res.Budgets) < 2 {
			b.Fatalf("Check(%s): %+v, %v", user, res, err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchIngestWithBudgets measures ingest of 1,000-event batches with five
// budgets configured and the evaluator running after every commit (as in
// serve), or with none; it reports events per second.
func BenchIngestWithBudgets(b *testing.B, s analytics.Store, withBudgets bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notify := func() {}
	if withBudgets {
		svc := &analytics.Budgets{Store: s.(analytics.BudgetStore), Rollups: s}
		tools := &analytics.Tools{Store: s, Budgets: svc}
		for _, in := range []analytics.BudgetInput{
			budgetIn("all", "total", "", "month", "1000000", "https://hooks.example.com/a"),
			budgetIn("claude", "service", "anthropic", "day", "1000"),
			budgetIn("sonnet", "model", "claude-sonnet-4-5", "month", "50000"),
			budgetIn("each", "each_user", "", "month", "5"),
			budgetIn("vip", "user", "u7", "day", "2"),
		} {
			if _, err := tools.CreateBudget(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		ev := &alerts.Evaluator{Budgets: svc}
		go ev.Run(ctx)
		notify = ev.Notify
	}
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Now().UTC()
	seq := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]analytics.Event, 1000)
		for j := range batch {
			seq++
			batch[j] = Call(fmt.Sprintf("ib%d", seq), fmt.Sprintf("u%d", rng.IntN(5000)), now.Add(-time.Duration(rng.IntN(3600))*time.Second),
				analytics.ServiceAnthropic, "claude-sonnet-4-5", "chapter", analytics.Micros(rng.IntN(20000)))
		}
		if _, err := s.IngestEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
		notify()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
