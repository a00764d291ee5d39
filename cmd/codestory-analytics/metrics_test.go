package main

import (
	"strings"
	"testing"
)

func TestMetricsCountIngestAndGuard(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	tok := ts.adminToken("m@example.com", "viewer")
	ts.ingest(key,
		ev("m1", "user_signup", "2026-01-01T00:00:00Z", "u1"),
		ev("m1", "user_signup", "2026-01-01T00:00:00Z", "u1"),
		ev("m2", "api_call", "2026-01-01T00:00:00Z", "u1", "service", "openai", "operation", "x", "model", "y"),
	)
	ts.do("GET", "/admin/analytics/dashboard", tok, nil)
	ts.do("GET", "/admin/analytics/export", tok, nil) // denied: a viewer may not export
	res := ts.do("GET", "/metrics", "", nil)
	if res.Status != 200 {
		t.Fatalf("/metrics: %d", res.Status)
	}
	body := string(res.Body)
	for _, want := range []string{
		`analytics_ingest_events_total{result="accepted"} 1`,
		`analytics_ingest_events_total{result="duplicate"} 1`,
		`analytics_ingest_events_total{result="rejected"} 1`,
		`analytics_ingest_rejected_total{reason="unknown service X"} 1`,
		`analytics_ingest_requests_total{status="200"} 1`,
		`analytics_guard_decisions_total{door="rest",outcome="allowed",tool="get_dashboard_metrics"} 1`,
		`analytics_guard_decisions_total{door="rest",outcome="denied",tool="export_analytics"} 1`,
		`analytics_ingest_batch_seconds_count{outcome="ok"} 1`,
		`analytics_rate_limiter_fallbacks_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
