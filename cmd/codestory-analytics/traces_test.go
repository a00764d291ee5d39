package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// genCall is one paid call, written once and sent both as an OpenTelemetry
// span and as a hand-written /v1/events event.
type genCall struct {
	service, op, model, user, story string
	input                           int64 // uncached input, as Anthropic's API counts it
	output, cacheRead, cacheCreate  int64
	cache1h                         int64 // the part of cacheCreate written with a 1-hour TTL
	chars, bytes, requests          int64
	cost                            string
	err                             bool
	end                             time.Time
	// how the span says it (variety the mapping must handle)
	legacyNames bool // gen_ai.system and enduser.id instead of the current names
	exclusive   bool // codestory.input_tokens_includes_cache=false: input_tokens is uncached only
}

// testCalls is a mixed workload over the last five days.
func testCalls(now time.Time) []genCall {
	models := []string{"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "claude-unknown-x"}
	var cs []genCall
	for i := 0; i < 40; i++ {
		end := now.Add(-time.Duration(i%5)*24*time.Hour - time.Duration(i)*time.Minute).Truncate(time.Microsecond)
		user := fmt.Sprintf("u%d", i%6)
		if i%13 == 12 {
			user = "" // a platform-internal call
		}
		c := genCall{user: user, end: end, story: fmt.Sprintf("s%d", i%4)}
		switch i % 5 {
		case 0, 1, 2:
			c.service, c.op, c.model = "anthropic", "chat", models[i%len(models)]
			c.input, c.output = int64(100+i*37), int64(50+i*11)
			if i%2 == 0 {
				c.cacheRead = int64(1000 + i*5)
			}
			if i%3 == 0 {
				c.cacheCreate = int64(400 + i)
				if i%6 == 0 {
					c.cache1h = 150
				}
			}
			c.legacyNames = i%4 == 1
			c.exclusive = i%7 == 3
			c.err = i%11 == 10
		case 3:
			c.service, c.op, c.model, c.chars = "elevenlabs", "text_to_speech", "eleven_multilingual_v2", int64(500+i*20)
		case 4:
			c.service, c.op, c.bytes, c.requests = "s3", "PutObject", int64(1_000_000*(i+1)), 1
			if i%10 == 9 {
				c.cost = "0.0125"
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// spanAttrs is the call as GenAI semantic-convention (and codestory.*)
// attributes.
func (c genCall) spanAttrs() []attribute.KeyValue {
	var a []attribute.KeyValue
	if c.service == "anthropic" {
		prov := "gen_ai.provider.name"
		if c.legacyNames {
			prov = "gen_ai.system"
		}
		in := c.input + c.cacheRead + c.cacheCreate // semconv: input includes cached tokens
		if c.exclusive {
			in = c.input
			a = append(a, attribute.Bool("codestory.input_tokens_includes_cache", false))
		}
		a = append(a, attribute.String(prov, "anthropic"), attribute.String("gen_ai.operation.name", c.op),
			attribute.String("gen_ai.request.model", c.model), attribute.String("gen_ai.response.model", c.model),
			attribute.Int64("gen_ai.usage.input_tokens", in), attribute.Int64("gen_ai.usage.output_tokens", c.output))
		if c.cacheRead > 0 {
			a = append(a, attribute.Int64("gen_ai.usage.cache_read.input_tokens", c.cacheRead))
		}
		if c.cacheCreate > 0 {
			a = append(a, attribute.Int64("gen_ai.usage.cache_creation.input_tokens", c.cacheCreate))
		}
		if c.cache1h > 0 {
			a = append(a, attribute.Int64("codestory.cache_creation_1h.input_tokens", c.cache1h))
		}
	} else {
		a = append(a, attribute.String("codestory.service", c.service))
		if c.model != "" {
			a = append(a, attribute.String("gen_ai.request.model", c.model))
		}
	}
	if c.chars > 0 {
		a = append(a, attribute.Int64("codestory.characters", c.chars))
	}
	if c.bytes > 0 {
		a = append(a, attribute.Int64("codestory.bytes_transferred", c.bytes), attribute.Int64("codestory.requests", c.requests))
	}
	if c.cost != "" {
		f, _ := strconv.ParseFloat(c.cost, 64)
		a = append(a, attribute.Float64("codestory.cost_cents", f))
	}
	if c.user != "" {
		if c.legacyNames {
			a = append(a, attribute.String("enduser.id", c.user))
		} else {
			a = append(a, attribute.String("user.id", c.user))
		}
	}
	a = append(a, attribute.String("codestory.story_id", c.story))
	return a
}

// spanName is the span's name; non-Anthropic spans carry their operation
// only there (no gen_ai.operation.name).
func (c genCall) spanName() string {
	if c.service == "anthropic" {
		return c.op + " " + c.model
	}
	return c.op
}

// asEvent is the call as a validated event (for building spans directly).
func (c genCall) asEvent() analytics.Event {
	return analytics.Event{Type: analytics.EventAPICall, Timestamp: c.end, UserID: c.user, Service: analytics.Service(c.service),
		Operation: c.op, Model: c.model, InputTokens: c.input, OutputTokens: c.output, CacheReadInputTokens: c.cacheRead,
		CacheCreationInputTokens: c.cacheCreate, CacheCreation1hTokens: c.cache1h, Characters: c.chars,
		BytesTransferred: c.bytes, Requests: c.requests, StoryID: c.story}
}

// event is the same call as the event contract writes it.
func (c genCall) event(id string) map[string]any {
	e := map[string]any{"id": id, "type": "api_call", "timestamp": c.end.UTC().Format(time.RFC3339Nano),
		"service": c.service, "operation": c.op, "story_id": c.story, "status": "ok"}
	if c.err {
		e["status"] = "error"
	}
	set := func(k string, v int64) {
		if v > 0 {
			e[k] = v
		}
	}
	if c.model != "" {
		e["model"] = c.model
	}
	if c.user != "" {
		e["user_id"] = c.user
	}
	if c.service == "anthropic" {
		e["input_tokens"], e["output_tokens"] = c.input, c.output
	}
	set("cache_read_input_tokens", c.cacheRead)
	set("cache_creation_input_tokens", c.cacheCreate)
	if c.cache1h > 0 {
		e["cache_creation"] = map[string]int64{"ephemeral_5m_input_tokens": c.cacheCreate - c.cache1h, "ephemeral_1h_input_tokens": c.cache1h}
	}
	set("characters", c.chars)
	set("bytes_transferred", c.bytes)
	set("requests", c.requests)
	if c.cost != "" {
		e["cost_cents"] = json.Number(c.cost)
	}
	return e
}

// figures reads every admin figure for the last week: dashboard, costs,
// growth, top users (each sort) and the JSON export.
func figures(t *testing.T, ts *testServer, token string, now time.Time) map[string]json.RawMessage {
	t.Helper()
	q := fmt.Sprintf("start_date=%s&end_date=%s", now.AddDate(0, 0, -6).UTC().Format("2006-01-02"), now.UTC().Format("2006-01-02"))
	out := map[string]json.RawMessage{}
	for _, p := range []string{"/admin/analytics/dashboard?", "/admin/analytics/costs?", "/admin/analytics/users/growth?",
		"/admin/analytics/users/top?sort_by=cost&", "/admin/analytics/users/top?sort_by=api_calls&", "/admin/analytics/export?format=json&"} {
		res := ts.do("GET", p+q, token, nil)
		if res.Status != 200 {
			t.Fatalf("GET %s: %d %s", p, res.Status, res.Body)
		}
		out[p] = res.Body
	}
	return out
}

// compareFigures fails when any figure differs between the two servers.
func compareFigures(t *testing.T, got, want map[string]json.RawMessage) {
	t.Helper()
	for p := range want {
		var g, w any
		if err := json.Unmarshal(got[p], &g); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := json.Unmarshal(want[p], &w); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("%s differs between /v1/traces and /v1/events (-events +traces):\n%s", p, d)
		}
	}
}

// metricValue reads one sample from /metrics.
func metricValue(t *testing.T, ts *testServer, series string) float64 {
	t.Helper()
	res := ts.do("GET", "/metrics", "", nil)
	re := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(series) + ` ([0-9.e+]+)$`)
	m := re.FindSubmatch(res.Body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// errorCatcher collects what the OpenTelemetry SDK reports through
// otel.Handle (partial_success arrives there).
type errorCatcher struct {
	mu   sync.Mutex
	errs []string
}

func (c *errorCatcher) Handle(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err.Error())
}

func (c *errorCatcher) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.errs, "\n")
}

// TestTracesViaOTelExporter sends spans through the OpenTelemetry Go SDK's
// otlptracehttp exporter, configured only by OTEL_EXPORTER_OTLP_* variables,
// and checks that every figure equals the same calls sent to /v1/events; a
// re-export changes nothing.
// It runs on SQLite and on PostgreSQL.
func TestTracesViaOTelExporter(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testTracesViaOTelExporter(t, func(*testing.T) string { return "" }) })
	t.Run("postgres", func(t *testing.T) {
		testTracesViaOTelExporter(t, func(t *testing.T) string { return pgtest.NewDatabase(t) })
	})
}

func testTracesViaOTelExporter(t *testing.T, newDB func(*testing.T) string) {
	now := time.Now().UTC()
	tracesSrv := startServer(t, newDB(t))
	eventsSrv := startServer(t, newDB(t))
	tracesKey, eventsKey := tracesSrv.ingestKey(), eventsSrv.ingestKey()
	tracesAdmin := tracesSrv.adminToken("a@example.com", "analyst")
	eventsAdmin := eventsSrv.adminToken("a@example.com", "analyst")

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tracesSrv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization="+url.PathEscape("Bearer "+tracesKey))
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	catcher := &errorCatcher{}
	otel.SetErrorHandler(catcher)

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recorder := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSyncer(recorder))
	tracer := tp.Tracer("codestory/backend")

	calls := testCalls(now)
	// The platform's request span, parent of each call, has no GenAI usage.
	for _, c := range calls {
		pctx, parent := tracer.Start(ctx, "POST /stories", trace.WithTimestamp(c.end.Add(-2*time.Second)))
		_, sp := tracer.Start(pctx, c.spanName(), trace.WithTimestamp(c.end.Add(-time.Second)), trace.WithAttributes(c.spanAttrs()...))
		if c.err {
			sp.SetStatus(codes.Error, "overloaded")
		}
		sp.End(trace.WithTimestamp(c.end))
		parent.End(trace.WithTimestamp(c.end))
	}
	// An agent span whose usage totals its model calls: ignored, not charged twice.
	_, agent := tracer.Start(ctx, "invoke_agent writer", trace.WithAttributes(attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.provider.name", "anthropic"), attribute.Int64("gen_ai.usage.input_tokens", 99999)))
	agent.End()
	// Two bad spans: an unknown provider and a negative count.
	_, bad1 := tracer.Start(ctx, "chat gpt", trace.WithAttributes(attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "gpt-x"), attribute.Int64("gen_ai.usage.input_tokens", 10)))
	bad1.End()
	_, bad2 := tracer.Start(ctx, "chat", trace.WithAttributes(attribute.String("gen_ai.provider.name", "anthropic"),
		attribute.String("gen_ai.request.model", "claude-haiku-4-5"), attribute.Int64("gen_ai.usage.output_tokens", -5)))
	bad2.End()
	// The exporter reports partial_success as the export's error.
	flushErr := ""
	if err := tp.ForceFlush(ctx); err != nil {
		flushErr = err.Error()
	}

	// The same calls, hand-written, with the span ids as event ids.
	byName := map[string][]string{}
	for _, s := range recorder.GetSpans() {
		if s.Name != "POST /stories" {
			byName[s.Name] = append(byName[s.Name], s.SpanContext.TraceID().String()+s.SpanContext.SpanID().String())
		}
	}
	var events []map[string]any
	for _, c := range calls {
		ids := byName[c.spanName()]
		events = append(events, c.event(ids[0]))
		byName[c.spanName()] = ids[1:]
	}
	if res := eventsSrv.ingest(eventsKey, events...); res.Status != 200 || !strings.Contains(string(res.Body), `"accepted":40,`) {
		t.Fatalf("/v1/events: %d %s", res.Status, res.Body)
	}

	want := figures(t, eventsSrv, eventsAdmin, now)
	got := figures(t, tracesSrv, tracesAdmin, now)
	compareFigures(t, got, want)
	var dash struct {
		Totals map[string]any `json:"totals"`
	}
	if err := json.Unmarshal(got["/admin/analytics/dashboard?"], &dash); err == nil {
		t.Logf("dashboard totals via /v1/traces: %v", dash.Totals)
	}
	if !strings.Contains(string(got["/admin/analytics/dashboard?"]), `"api_requests":40`) {
		t.Errorf("dashboard should count 40 api requests: %s", got["/admin/analytics/dashboard?"])
	}

	for series, want := range map[string]float64{
		`analytics_otlp_spans_total{result="mapped"}`:                            40,
		`analytics_otlp_spans_total{result="ignored"}`:                           41, // 40 parents + the agent span
		`analytics_otlp_spans_total{result="rejected"}`:                          2,
		`analytics_otlp_input_convention_total{convention="exclusive"}`:          float64(countCalls(calls, func(c genCall) bool { return c.exclusive && c.service == "anthropic" })),
		`analytics_ingest_events_total{result="accepted"}`:                       40,
		`analytics_ingest_rejected_total{reason="unknown service X"}`:            1,
		`analytics_otlp_input_convention_total{convention="exclusive_inferred"}`: 0,
		`analytics_otlp_input_convention_total{convention="inclusive"}`:          float64(countCalls(calls, func(c genCall) bool { return !c.exclusive && c.service == "anthropic" }) + 1), // + the openai span, refused later
		`analytics_ingest_events_total{result="duplicate"}`:                      0,
	} {
		if got := metricValue(t, tracesSrv, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if msg := flushErr + catcher.all(); !strings.Contains(msg, "2 spans rejected") || !strings.Contains(msg, `unknown service "openai"`) ||
		!strings.Contains(msg, "gen_ai.usage.output_tokens must not be negative") {
		t.Errorf("the exporter should have been told of 2 rejected spans with their reasons; it reported:\n%s", msg)
	}

	// Re-export the very same spans: duplicates, nothing changes.
	if err := exp.ExportSpans(ctx, recorder.GetSpans().Snapshots()); err == nil || !strings.Contains(err.Error(), "(2 spans rejected)") {
		t.Fatalf("re-export: %v, want the same 2 spans rejected", err)
	}
	if d := metricValue(t, tracesSrv, `analytics_ingest_events_total{result="duplicate"}`); d != 40 {
		t.Errorf("re-export: %v duplicates, want 40", d)
	}
	compareFigures(t, figures(t, tracesSrv, tracesAdmin, now), want)
	if out := tracesSrv.mustCLI("", "verify"); !strings.Contains(strings.ToLower(out), "ok") {
		t.Errorf("verify: %s", out)
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func countCalls(cs []genCall, f func(genCall) bool) int {
	n := 0
	for _, c := range cs {
		if f(c) {
			n++
		}
	}
	return n
}

// otlpJSON writes calls as an OTLP/JSON export (ids in hex, as the OTLP
// JSON encoding has them) and returns the ids used.
func otlpJSON(calls []genCall) ([]byte, []string) {
	var spans []map[string]any
	var ids []string
	for i, c := range calls {
		trace := fmt.Sprintf("%032x", 0xabc000+i)
		span := fmt.Sprintf("%016x", 0x5000+i)
		ids = append(ids, trace+span)
		var attrs []map[string]any
		for _, kv := range c.spanAttrs() {
			v := map[string]any{}
			switch kv.Value.Type() {
			case attribute.INT64:
				v["intValue"] = strconv.FormatInt(kv.Value.AsInt64(), 10) // int64 as a string, as OTLP/JSON allows
			case attribute.FLOAT64:
				v["doubleValue"] = kv.Value.AsFloat64()
			case attribute.BOOL:
				v["boolValue"] = kv.Value.AsBool()
			default:
				v["stringValue"] = kv.Value.AsString()
			}
			attrs = append(attrs, map[string]any{"key": string(kv.Key), "value": v})
		}
		sp := map[string]any{"traceId": trace, "spanId": span, "name": c.spanName(), "kind": 3,
			"startTimeUnixNano": strconv.FormatInt(c.end.Add(-time.Second).UnixNano(), 10),
			"endTimeUnixNano":   strconv.FormatInt(c.end.UnixNano(), 10), "attributes": attrs}
		if c.err {
			sp["status"] = map[string]any{"code": 2, "message": "overloaded"}
		}
		spans = append(spans, sp)
	}
	body, _ := json.Marshal(map[string]any{"resourceSpans": []any{map[string]any{
		"resource":   map[string]any{"attributes": []any{map[string]any{"key": "service.name", "value": map[string]any{"stringValue": "backend"}}}},
		"scopeSpans": []any{map[string]any{"scope": map[string]any{"name": "manual"}, "spans": spans}},
	}}})
	return body, ids
}

// TestTracesJSONBody sends an OTLP/JSON body (gzip-compressed) and compares
// every figure with the same calls sent to /v1/events.
func TestTracesJSONBody(t *testing.T) {
	now := time.Now().UTC()
	tracesSrv := startServer(t, "")
	eventsSrv := startServer(t, "")
	tracesKey, eventsKey := tracesSrv.ingestKey(), eventsSrv.ingestKey()
	tracesAdmin := tracesSrv.adminToken("a@example.com", "analyst")
	eventsAdmin := eventsSrv.adminToken("a@example.com", "analyst")

	calls := testCalls(now)
	body, ids := otlpJSON(calls)
	var events []map[string]any
	for i, c := range calls {
		events = append(events, c.event(ids[i]))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	res := tracesSrv.do("POST", "/v1/traces", tracesKey, bytes.NewReader(gz.Bytes()), "Content-Type", "application/json", "Content-Encoding", "gzip")
	if res.Status != 200 || res.Header.Get("Content-Type") != "application/json" || strings.Contains(string(res.Body), "partialSuccess") {
		t.Fatalf("/v1/traces JSON: %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	if res := eventsSrv.ingest(eventsKey, events...); res.Status != 200 || !strings.Contains(string(res.Body), `"accepted":40,`) {
		t.Fatalf("/v1/events: %d %s", res.Status, res.Body)
	}
	want := figures(t, eventsSrv, eventsAdmin, now)
	compareFigures(t, figures(t, tracesSrv, tracesAdmin, now), want)

	// The same body again (uncompressed this time) is all duplicates.
	res = tracesSrv.do("POST", "/v1/traces", tracesKey, bytes.NewReader(body), "Content-Type", "application/json")
	if res.Status != 200 {
		t.Fatalf("re-export: %d %s", res.Status, res.Body)
	}
	if d := metricValue(t, tracesSrv, `analytics_ingest_events_total{result="duplicate"}`); d != 40 {
		t.Errorf("re-export: %v duplicates, want 40", d)
	}
	compareFigures(t, figures(t, tracesSrv, tracesAdmin, now), want)
}

// TestTracesRequests covers what is refused whole and what is reported per
// span: auth, media type, bad JSON, hex ids, body limits and partial_success.
func TestTracesRequests(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	admin := ts.adminToken("a@example.com", "owner")
	now := time.Now().UTC()
	good, _ := otlpJSON(testCalls(now)[:1])
	cases := []struct {
		name, token, ctype, encoding string
		body                         []byte
		status                       int
		want                         string
	}{
		{"no key", "", "application/json", "", good, 401, "missing bearer ingest key"},
		{"admin token", admin, "application/json", "", good, 403, "needs an ingest key"},
		{"wrong media type", key, "text/plain", "", good, 415, "application/x-protobuf or application/json"},
		{"not JSON", key, "application/json", "", []byte("{"), 400, "not valid JSON"},
		{"not protobuf", key, "application/x-protobuf", "", []byte("\xff\xff\xff"), 400, "protobuf"},
		{"bad hex id", key, "application/json", "", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"00"}]}]}]}`), 400, "is not hex"},
		{"bad gzip", key, "application/json", "gzip", []byte("not gzip"), 400, "gzip"},
		{"unknown encoding", key, "application/json", "br", good, 400, "Content-Encoding"},
		{"empty export", key, "application/x-protobuf", "", nil, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"Content-Type", tc.ctype}
			if tc.encoding != "" {
				h = append(h, "Content-Encoding", tc.encoding)
			}
			res := ts.do("POST", "/v1/traces", tc.token, bytes.NewReader(tc.body), h...)
			if res.Status != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Errorf("got %d %s, want %d containing %q", res.Status, res.Body, tc.status, tc.want)
			}
		})
	}

	// partial_success: one good span, one with usage but no provider, one
	// whose input is smaller than its cache reads while it claims to
	// include them; the good one is stored.
	body := []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[
	 {"traceId":"000000000000000000000000000000aa","spanId":"00000000000000a1","name":"chat","endTimeUnixNano":"` + strconv.FormatInt(now.UnixNano(), 10) + `",
	  "attributes":[{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},{"key":"gen_ai.request.model","value":{"stringValue":"claude-haiku-4-5"}},
	   {"key":"gen_ai.usage.input_tokens","value":{"intValue":10}},{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":4000}},{"key":"user.id","value":{"stringValue":"u1"}}]},
	 {"traceId":"000000000000000000000000000000aa","spanId":"00000000000000a2","name":"chat","endTimeUnixNano":"` + strconv.FormatInt(now.UnixNano(), 10) + `",
	  "attributes":[{"key":"gen_ai.usage.input_tokens","value":{"intValue":10}}]},
	 {"traceId":"000000000000000000000000000000aa","spanId":"00000000000000a3","name":"chat","endTimeUnixNano":"` + strconv.FormatInt(now.UnixNano(), 10) + `",
	  "attributes":[{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},{"key":"gen_ai.request.model","value":{"stringValue":"claude-haiku-4-5"}},
	   {"key":"codestory.input_tokens_includes_cache","value":{"boolValue":true}},
	   {"key":"gen_ai.usage.input_tokens","value":{"intValue":10}},{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":4000}}]}
	]}]}]}`)
	res := ts.do("POST", "/v1/traces", key, bytes.NewReader(body), "Content-Type", "application/json")
	var out struct {
		PartialSuccess struct {
			RejectedSpans string `json:"rejectedSpans"`
			ErrorMessage  string `json:"errorMessage"`
		} `json:"partialSuccess"`
	}
	res.json(t, &out)
	if res.Status != 200 || out.PartialSuccess.RejectedSpans != "2" ||
		!strings.Contains(out.PartialSuccess.ErrorMessage, "span 000000000000000000000000000000aa00000000000000a2: span has usage but no gen_ai.provider.name") ||
		!strings.Contains(out.PartialSuccess.ErrorMessage, "00000000000000a3: gen_ai.usage.input_tokens (10) is less than cache read + cache creation (4000)") {
		t.Errorf("partial success: %d %s", res.Status, res.Body)
	}
	// The first span read input_tokens as uncached (10 < 4000 cannot include
	// the cache): counted as such, never negative.
	if v := metricValue(t, ts, `analytics_otlp_input_convention_total{convention="exclusive_inferred"}`); v != 1 {
		t.Errorf("exclusive_inferred = %v, want 1", v)
	}
	if v := metricValue(t, ts, `analytics_ingest_events_total{result="accepted"}`); v != 1 {
		t.Errorf("accepted = %v, want 1 (the first span here; every earlier request was refused whole)", v)
	}

	// At most 10,000 spans with usage in one export, as events in one batch.
	many := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{}}}}}
	for i := 0; i <= 10_000; i++ {
		c := testCalls(now)[0]
		many.ResourceSpans[0].ScopeSpans[0].Spans = append(many.ResourceSpans[0].ScopeSpans[0].Spans, otlpSpan(c.asEvent(), 1_000_000+i))
	}
	pb, _ := proto.Marshal(many)
	res = ts.do("POST", "/v1/traces", key, bytes.NewReader(pb), "Content-Type", "application/x-protobuf")
	if res.Status != 413 || res.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("10,001 spans: %d %s", res.Status, res.Body)
	}
	var st statuspb.Status
	if err := proto.Unmarshal(res.Body, &st); err != nil || !strings.Contains(st.Message, "more than 10000 spans") {
		t.Errorf("the refusal should be a google.rpc.Status with the reason: %v %v", err, st.Message)
	}
	if v := metricValue(t, ts, `analytics_ingest_events_total{result="accepted"}`); v != 1 {
		t.Errorf("accepted = %v after the refused export, want still 1", v)
	}

	// Body limits as /v1/events: the compressed and the decompressed size.
	var big bytes.Buffer
	zw := gzip.NewWriter(&big)
	zw.Write(bytes.Repeat([]byte(" "), 40<<20))
	zw.Write(good)
	zw.Close()
	res = ts.do("POST", "/v1/traces", key, bytes.NewReader(big.Bytes()), "Content-Type", "application/json", "Content-Encoding", "gzip")
	if res.Status != 413 {
		t.Errorf("gzip bomb: %d %s", res.Status, res.Body)
	}
	res = ts.do("POST", "/v1/traces", key, bytes.NewReader(bytes.Repeat([]byte(" "), 33<<20)), "Content-Type", "application/json")
	if res.Status != 413 {
		t.Errorf("oversized body: %d %s", res.Status, res.Body)
	}
}
