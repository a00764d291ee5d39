package demo

import (
	"fmt"
	"testing"
	"time"

	"github.com/codestory/analytics"
)

func TestQuickStats(t *testing.T) {
	end := time.Date(2026, 11, 26, 15, 30, 0, 0, time.UTC)
	start := time.Now()
	counts := map[string]int{}
	var n int
	var first, last analytics.Event
	err := Generate(Options{End: end}, func(b []analytics.Event) error {
		for i := range b {
			e := b[i]
			if n == 0 {
				first = e
			}
			last = e
			n++
			k := string(e.Type)
			if e.Type == analytics.EventAPICall {
				k += "/" + string(e.Service) + "/" + e.Operation + "/" + e.Model + "/" + e.Status
			}
			counts[k]++
		}
		return nil
	})
	fmt.Println(n, time.Since(start), err)
	fmt.Println(string(WireJSON(first)))
	fmt.Println(string(WireJSON(last)))
	for k, v := range counts {
		fmt.Printf("%-80s %d\n", k, v)
	}
}
