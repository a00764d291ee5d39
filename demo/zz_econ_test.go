package demo

import (
	"fmt"
	"testing"
	"time"

	"github.com/codestory/analytics"
	"github.com/codestory/analytics/pricing"
)

func TestQuickEcon(t *testing.T) {
	end := time.Date(2026, 11, 26, 15, 30, 0, 0, time.UTC)
	cat := pricing.Default()
	cost := map[string]analytics.Micros{}
	var rev int64
	unpriced := 0
	long := 0
	subs := map[string]bool{}
	_ = Generate(Options{End: end}, func(b []analytics.Event) error {
		for i := range b {
			e := &b[i]
			switch e.Type {
			case analytics.EventAPICall:
				c, ok := cat.Cost(e)
				if !ok {
					unpriced++
				}
				cost[string(e.Service)] += c
				cost["total"] += c
				if e.InputTokens+e.CacheReadInputTokens+e.CacheCreationInputTokens > 200000 {
					long++
				}
			case analytics.EventPayment:
				rev += e.AmountCents
				subs[e.UserID] = true
			case analytics.EventRefund:
				rev -= e.AmountCents
			}
		}
		return nil
	})
	fmt.Println(cost, "revenue $", float64(rev)/100, "unpriced", unpriced, "long", long, "payers", len(subs))
}
