package otlp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

func kv(k string, v any) *commonpb.KeyValue {
	var av commonpb.AnyValue
	switch x := v.(type) {
	case string:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: x}
	case int:
		av.Value = &commonpb.AnyValue_IntValue{IntValue: int64(x)}
	case float64:
		av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: x}
	case bool:
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: x}
	}
	return &commonpb.KeyValue{Key: k, Value: &av}
}

var end = time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)

func span(attrs ...*commonpb.KeyValue) *tracepb.Span {
	return &tracepb.Span{TraceId: []byte("0123456789abcdef"), SpanId: []byte("spanid01"), Name: "chat claude",
		EndTimeUnixNano: uint64(end.UnixNano()), Attributes: attrs}
}

func export(spans ...*tracepb.Span) *coltracepb.ExportTraceServiceRequest {
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}},
	}}}
}

const id = "30313233343536373839616263646566" + "7370616e69643031"

func TestMap(t *testing.T) {
	anth := []*commonpb.KeyValue{kv(AttrProviderName, "anthropic"), kv(AttrRequestModel, "claude-haiku-4-5")}
	cases := []struct {
		name  string
		attrs []*commonpb.KeyValue
		want  map[string]any // nil: ignored
		err   string
		conv  string
	}{
		{"semconv: input includes the cache", append(anth, kv(AttrInputTokens, 1500), kv(AttrOutputTokens, 20),
			kv(AttrCacheRead, 1000), kv(AttrCacheCreation, 300), kv(AttrCacheCreate1h, 100), kv(AttrUserID, "u1"), kv(AttrStoryID, "s1")),
			map[string]any{"input_tokens": 200.0, "output_tokens": 20.0, "cache_read_input_tokens": 1000.0, "cache_creation_input_tokens": 300.0,
				"cache_creation": map[string]any{"ephemeral_5m_input_tokens": 200.0, "ephemeral_1h_input_tokens": 100.0},
				"user_id":        "u1", "story_id": "s1", "operation": "chat claude", "model": "claude-haiku-4-5"}, "", ConventionInclusive},
		{"exclusive when the sender says so", append(anth, kv(AttrInputTokens, 1500), kv(AttrCacheRead, 1000), kv(AttrInputIncludes, false)),
			map[string]any{"input_tokens": 1500.0, "cache_read_input_tokens": 1000.0, "operation": "chat claude", "model": "claude-haiku-4-5"}, "", ConventionExclusive},
		{"inferred exclusive when input < cache", append(anth, kv(AttrInputTokens, 10), kv(AttrCacheRead, 1000)),
			map[string]any{"input_tokens": 10.0, "cache_read_input_tokens": 1000.0, "operation": "chat claude", "model": "claude-haiku-4-5"}, "", ConventionInferred},
		{"contradiction is rejected", append(anth, kv(AttrInputTokens, 10), kv(AttrCacheRead, 1000), kv(AttrInputIncludes, "true")),
			nil, "is less than cache read + cache creation", ""},
		{"legacy names, response model wins, operation attribute", []*commonpb.KeyValue{kv(AttrSystem, "Anthropic"), kv(AttrRequestModel, "claude-x"),
			kv(AttrResponseModel, "claude-x-2026"), kv(AttrOperationName, "chat"), kv("gen_ai.usage.prompt_tokens", 7), kv(AttrEndUserID, "u9")},
			map[string]any{"input_tokens": 7.0, "model": "claude-x-2026", "operation": "chat", "user_id": "u9"}, "", ConventionInclusive},
		{"ints as doubles and strings", append(anth, kv(AttrInputTokens, "12"), kv(AttrOutputTokens, 3.0)),
			map[string]any{"input_tokens": 12.0, "output_tokens": 3.0, "operation": "chat claude", "model": "claude-haiku-4-5"}, "", ConventionInclusive},
		{"codestory service with cost", []*commonpb.KeyValue{kv(AttrService, "s3"), kv(AttrBytes, 2048), kv(AttrRequests, 2), kv(AttrCostCents, 0.0125)},
			map[string]any{"bytes_transferred": 2048.0, "requests": 2.0, "cost_cents": 0.0125, "operation": "chat claude"}, "", ""},
		{"no usage: ignored", append(anth, kv(AttrOperationName, "chat")), nil, "", ""},
		{"agent span: ignored", append(anth, kv(AttrOperationName, "invoke_agent"), kv(AttrInputTokens, 9999)), nil, "", ""},
		{"fractional count", append(anth, kv(AttrOutputTokens, 2.5)), nil, "must be an integer", ""},
		{"no provider", []*commonpb.KeyValue{kv(AttrInputTokens, 5)}, nil, "no gen_ai.provider.name", ""},
		{"1h larger than all writes", append(anth, kv(AttrCacheCreation, 10), kv(AttrCacheCreate1h, 11)), nil, "must be between 0 and", ""},
		{"bad cost", []*commonpb.KeyValue{kv(AttrService, "s3"), kv(AttrCostCents, "free")}, nil, "codestory.cost_cents: must be a number", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := Map(export(span(tc.attrs...)))
			switch {
			case tc.err != "":
				if len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Error, tc.err) || b.Rejected[0].Span != id {
					t.Fatalf("rejected %+v, want one with %q", b.Rejected, tc.err)
				}
				return
			case tc.want == nil:
				if b.Ignored != 1 || len(b.Events) != 0 || len(b.Rejected) != 0 {
					t.Fatalf("%+v, want the span ignored", b)
				}
				return
			}
			if len(b.Events) != 1 || len(b.Rejected) != 0 {
				t.Fatalf("%+v, want one event", b)
			}
			var got map[string]any
			json.Unmarshal(b.Events[0], &got)
			want := map[string]any{"id": id, "type": "api_call", "timestamp": "2026-11-20T10:00:00.123456789Z", "status": "ok"}
			if tc.attrs[0].Key == AttrService {
				want["service"] = "s3"
			} else {
				want["service"] = "anthropic"
			}
			for k, v := range tc.want {
				want[k] = v
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("event (-want +got):\n%s", d)
			}
			if tc.conv != "" && b.Conventions[tc.conv] != 1 {
				t.Errorf("conventions %v, want %s", b.Conventions, tc.conv)
			}
		})
	}
}

func TestMapErrorStatusAndResourceAttributes(t *testing.T) {
	sp := span(kv(AttrInputTokens, 5))
	sp.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}
	req := export(sp)
	req.ResourceSpans[0].Resource = resource(kv(AttrProviderName, "anthropic"), kv(AttrRequestModel, "claude-haiku-4-5"))
	b := Map(req)
	if len(b.Events) != 1 || !strings.Contains(string(b.Events[0]), `"status":"error"`) || !strings.Contains(string(b.Events[0]), `"model":"claude-haiku-4-5"`) {
		t.Fatalf("%+v %s", b.Rejected, b.Events)
	}
}

func TestDecodeJSONHexIDs(t *testing.T) {
	body := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"30313233343536373839616263646566","spanId":"7370616e69643031",
		"name":"x","endTimeUnixNano":"1","attributes":[{"key":"a","value":{"intValue":"3"}}]}]}]}]}`
	req, err := Decode([]byte(body), FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	sp := req.ResourceSpans[0].ScopeSpans[0].Spans[0]
	if string(sp.TraceId) != "0123456789abcdef" || string(sp.SpanId) != "spanid01" || sp.Attributes[0].Value.GetIntValue() != 3 {
		t.Errorf("decoded %v", sp)
	}
}

func resource(attrs ...*commonpb.KeyValue) *resourcepb.Resource {
	return &resourcepb.Resource{Attributes: attrs}
}
