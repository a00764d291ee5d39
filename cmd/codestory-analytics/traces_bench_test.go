package main

import (
	"bytes"
	binenc "encoding/binary"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/demo"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpSpan writes an api_call as the GenAI span an instrumented service
// would export (input_tokens inclusive of the cache, as the conventions say).
func otlpSpan(e analytics.Event, n int) *tracepb.Span {
	str := func(k, v string) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
	}
	num := func(k string, v int64) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
	}
	var a []*commonpb.KeyValue
	if e.Service == analytics.ServiceAnthropic {
		a = append(a, str("gen_ai.provider.name", "anthropic"), str("gen_ai.operation.name", e.Operation),
			num("gen_ai.usage.input_tokens", e.InputTokens+e.CacheReadInputTokens+e.CacheCreationInputTokens),
			num("gen_ai.usage.output_tokens", e.OutputTokens))
		if e.CacheReadInputTokens > 0 {
			a = append(a, num("gen_ai.usage.cache_read.input_tokens", e.CacheReadInputTokens))
		}
		if e.CacheCreationInputTokens > 0 {
			a = append(a, num("gen_ai.usage.cache_creation.input_tokens", e.CacheCreationInputTokens))
		}
		if e.CacheCreation1hTokens > 0 {
			a = append(a, num("codestory.cache_creation_1h.input_tokens", e.CacheCreation1hTokens))
		}
	} else {
		a = append(a, str("codestory.service", string(e.Service)), str("gen_ai.operation.name", e.Operation))
	}
	if e.Model != "" {
		a = append(a, str("gen_ai.request.model", e.Model))
	}
	for k, v := range map[string]int64{"codestory.characters": e.Characters, "codestory.bytes_transferred": e.BytesTransferred, "codestory.requests": e.Requests} {
		if v > 0 {
			a = append(a, num(k, v))
		}
	}
	if e.UserID != "" {
		a = append(a, str("user.id", e.UserID))
	}
	if e.StoryID != "" {
		a = append(a, str("codestory.story_id", e.StoryID))
	}
	tid, sid := make([]byte, 16), make([]byte, 8)
	binenc.BigEndian.PutUint64(tid[8:], uint64(n)+1)
	binenc.BigEndian.PutUint64(sid, uint64(n)+1)
	end := uint64(e.Timestamp.UnixNano())
	sp := &tracepb.Span{TraceId: tid, SpanId: sid, Name: e.Operation, Kind: tracepb.Span_SPAN_KIND_CLIENT,
		StartTimeUnixNano: end - 1e9, EndTimeUnixNano: end, Attributes: a}
	if e.Status == analytics.StatusError {
		sp.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}
	}
	return sp
}

// BenchmarkTracesVsEvents sends the same api_calls, 1,000 per request, as
// OTLP protobuf to /v1/traces and as JSON to /v1/events, each to a fresh
// SQLite server, and reports calls/s.
//
//	go test -run '^$' -bench BenchmarkTracesVsEvents -benchtime 100x ./cmd/codestory-analytics
func BenchmarkTracesVsEvents(b *testing.B) {
	var calls []analytics.Event
	for _, e := range benchEvents(b, 600_000) {
		if e.Type == analytics.EventAPICall {
			calls = append(calls, e)
		}
	}
	const per = 1000
	var eventBodies, traceBodies [][]byte
	for i := 0; i+per <= len(calls); i += per {
		var ev bytes.Buffer
		ev.WriteString(`{"events":[`)
		spans := make([]*tracepb.Span, 0, per)
		for j, e := range calls[i : i+per] {
			if j > 0 {
				ev.WriteByte(',')
			}
			ev.Write(demo.WireJSON(e))
			spans = append(spans, otlpSpan(e, i+j))
		}
		ev.WriteString(`]}`)
		eventBodies = append(eventBodies, ev.Bytes())
		req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
			ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}}
		pb, err := proto.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		traceBodies = append(traceBodies, pb)
	}
	run := func(b *testing.B, path, ctype string, bodies [][]byte) {
		ts := startServer(&testing.T{}, "sqlite:"+filepath.Join(b.TempDir(), "h.db"))
		defer ts.stop()
		key := ts.ingestKey()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i >= len(bodies) {
				b.Fatal("ran out of fresh calls")
			}
			req, _ := http.NewRequest("POST", ts.URL+path, bytes.NewReader(bodies[i]))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", ctype)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("batch %d: %v %v", i, err, res.Status)
			}
			res.Body.Close()
		}
		b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "calls/s")
		b.StopTimer()
		res, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		m, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if want := fmt.Sprintf(`analytics_ingest_events_total{result="accepted"} %d`, b.N*per); !bytes.Contains(m, []byte(want)) {
			b.Fatalf("not every call was stored: want %s", want)
		}
	}
	b.Run("events", func(b *testing.B) { run(b, "/v1/events", "application/json", eventBodies) })
	b.Run("traces", func(b *testing.B) { run(b, "/v1/traces", "application/x-protobuf", traceBodies) })
}
