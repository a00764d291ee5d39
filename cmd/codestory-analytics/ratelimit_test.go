package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestRateLimitFlag: --rate-limit sets each admin's analytics calls per
// minute, the refusal names that rate, and a value that is not a whole
// number of at least 1 is refused before anything starts.
func TestRateLimitFlag(t *testing.T) {
	ts := startServer(t, "", "--rate-limit", "3")
	analyst := ts.adminToken("analyst@example.com", "analyst")
	other := ts.adminToken("other@example.com", "analyst")
	for i := range 3 {
		if r := ts.do("GET", "/admin/analytics/costs", analyst, nil); r.Status != 200 {
			t.Fatalf("call %d of 3: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := ts.do("GET", "/admin/analytics/costs", analyst, nil)
	if r.Status != 429 || r.errorText(t) != "Rate limit exceeded: 3 analytics requests per minute" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th call at 3 per minute: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := ts.do("GET", "/admin/analytics/costs", other, nil); r.Status != 200 {
		t.Fatalf("another admin's first call: %d %s", r.Status, r.Body)
	}

	for _, bad := range []string{"0", "-5", "ten", "2.5"} {
		err := run(context.Background(), []string{"serve", "--rate-limit", bad, "--db", "sqlite:" + t.TempDir() + "/x.db"},
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--rate-limit: \""+bad+"\" is not a number of calls per minute") {
			t.Errorf("--rate-limit %s: %v", bad, err)
		}
	}
}
