package otlp

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeAndMap: any body either fails to decode or maps every span to
// exactly one of event, ignored or rejected, and every event is JSON.
func FuzzDecodeAndMap(f *testing.F) {
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"30313233343536373839616263646566","spanId":"7370616e69643031",
		"name":"chat","endTimeUnixNano":"1764411300000000000","attributes":[{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}},
		{"key":"gen_ai.usage.input_tokens","value":{"intValue":"9"}},{"key":"gen_ai.usage.cache_read.input_tokens","value":{"doubleValue":4}}]}]}]}]}`), true)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}, false)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		format := FormatProtobuf
		if isJSON {
			format = FormatJSON
		}
		req, err := Decode(body, format)
		if err != nil {
			return
		}
		total := 0
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				total += len(ss.GetSpans())
			}
		}
		b := Map(req)
		if len(b.Events)+b.Ignored+len(b.Rejected) != total || len(b.Events) != len(b.Spans) {
			t.Fatalf("%d spans became %d events, %d ignored, %d rejected", total, len(b.Events), b.Ignored, len(b.Rejected))
		}
		for _, e := range b.Events {
			if !json.Valid(e) {
				t.Fatalf("invalid event JSON %s", e)
			}
		}
	})
}
