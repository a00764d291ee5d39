// Package poll lets tests wait for a state: a condition checked at an
// interval until it holds or a deadline passes, never a bare sleep.
package poll

import (
	"testing"
	"time"
)

// Within checks cond every interval until it holds (true) or within has
// passed (false).
func Within(within, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// Until is Within that fails t, naming what it waited for.
func Until(t testing.TB, within, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(within, interval, cond) {
		t.Fatalf("timed out after %s waiting for %s", within, what)
	}
}
