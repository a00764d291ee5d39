// Package metrics exports the service's Prometheus metrics. Each server has
// its own registry, so several can run in one process (tests).
package metrics

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the service's counters and histograms.
type Metrics struct {
	Registry         *prometheus.Registry
	IngestEvents     *prometheus.CounterVec   // result: accepted, duplicate, rejected
	IngestRejected   *prometheus.CounterVec   // reason
	IngestBatch      *prometheus.HistogramVec // outcome: ok, error
	GuardDecisions   *prometheus.CounterVec   // tool, door, outcome
	LimiterFallbacks prometheus.Counter
	IngestRequests   *prometheus.CounterVec // status
	OTLPSpans        *prometheus.CounterVec // result: mapped, ignored, rejected
	OTLPConventions  *prometheus.CounterVec // convention: inclusive, exclusive, exclusive_inferred
	OTLPRequests     *prometheus.CounterVec // status
}

// New registers every metric on a fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: r,
		IngestEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_ingest_events_total",
			Help: "Events received by POST /v1/events, by result."}, []string{"result"}),
		IngestRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_ingest_rejected_total",
			Help: "Rejected events by reason (values removed from the message)."}, []string{"reason"}),
		IngestBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "analytics_ingest_batch_seconds",
			Help: "Time to validate, price and commit one batch.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"outcome"}),
		GuardDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_guard_decisions_total",
			Help: "Tool calls through the guard, by tool, door and outcome."}, []string{"tool", "door", "outcome"}),
		LimiterFallbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "analytics_rate_limiter_fallbacks_total",
			Help: "Rate-limit decisions made by the in-process fallback because Redis did not answer."}),
		IngestRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_ingest_requests_total",
			Help: "POST /v1/events requests by HTTP status."}, []string{"status"}),
	}
	r.MustRegister(m.IngestEvents, m.IngestRejected, m.IngestBatch, m.GuardDecisions, m.LimiterFallbacks, m.IngestRequests)
	m.OTLPSpans = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_otlp_spans_total",
		Help: "Spans received by POST /v1/traces: mapped to api_call, ignored (no GenAI usage) or rejected."}, []string{"result"})
	m.OTLPConventions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_otlp_input_convention_total",
		Help: "Mapped spans by how gen_ai.usage.input_tokens was read (see docs/instrumenting.md)."}, []string{"convention"})
	m.OTLPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "analytics_otlp_requests_total",
		Help: "POST /v1/traces requests by HTTP status."}, []string{"status"})
	r.MustRegister(m.OTLPSpans, m.OTLPConventions, m.OTLPRequests)
	return m
}

// Handler serves the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

var (
	quoted = regexp.MustCompile(`"[^"]*"`)
	paren  = regexp.MustCompile(`\s*\([^)]*\)`)
	digits = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)
)

// Reason turns a rejection message into a label of bounded cardinality by
// removing the values in it: `unknown service "x" (expected …)` becomes
// `unknown service X`.
func Reason(msg string) string {
	s := paren.ReplaceAllString(msg, "")
	s = quoted.ReplaceAllString(s, "X")
	s = digits.ReplaceAllString(s, "N")
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.TrimSpace(s)
}
