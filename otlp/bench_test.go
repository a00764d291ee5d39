package otlp

import (
	"fmt"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// BenchmarkDecodeAndMap is the work /v1/traces adds before the shared
// ingester: protobuf decoding and mapping 1,000 GenAI spans to events.
func BenchmarkDecodeAndMap(b *testing.B) {
	var spans []*tracepb.Span
	for i := 0; i < 1000; i++ {
		sp := span(kv(AttrProviderName, "anthropic"), kv(AttrOperationName, "chat"), kv(AttrRequestModel, "claude-haiku-4-5"),
			kv(AttrInputTokens, 1500+i), kv(AttrOutputTokens, 200), kv(AttrCacheRead, 1000), kv(AttrCacheCreation, 300),
			kv(AttrUserID, fmt.Sprintf("u%d", i%50)), kv(AttrStoryID, "s1"), kv("http.route", "/stories"), kv("server.address", "api.anthropic.com"))
		sp.SpanId = []byte(fmt.Sprintf("%08d", i))
		spans = append(spans, sp)
	}
	body, err := proto.Marshal(export(spans...))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, err := Decode(body, FormatProtobuf)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(Map(req).Events); n != 1000 {
			b.Fatalf("%d events", n)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "spans/s")
}
