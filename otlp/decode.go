// Package otlp reads OTLP/HTTP trace exports (protobuf or JSON) with the
// official OTLP types and maps the spans that carry GenAI usage onto the
// api_call events of the event contract. It does not validate, price or
// store: the events it makes go through the same analytics.Ingester as
// POST /v1/events.
package otlp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Format is the wire encoding of an OTLP/HTTP body.
type Format int

// The two OTLP/HTTP encodings.
const (
	FormatProtobuf Format = iota
	FormatJSON
)

// ContentType is the media type of f, for the response.
func (f Format) ContentType() string {
	if f == FormatJSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// FormatOf returns the Format of a media type (already parsed, no
// parameters); ok is false for anything else.
func FormatOf(mediaType string) (f Format, ok bool) {
	switch mediaType {
	case "application/x-protobuf", "application/protobuf":
		return FormatProtobuf, true
	case "application/json":
		return FormatJSON, true
	}
	return 0, false
}

// Decode parses an export request. The error text is safe to show the
// sender.
func Decode(body []byte, f Format) (*coltracepb.ExportTraceServiceRequest, error) {
	req := &coltracepb.ExportTraceServiceRequest{}
	if f == FormatProtobuf {
		if err := proto.Unmarshal(body, req); err != nil {
			return nil, fmt.Errorf("body is not an OTLP ExportTraceServiceRequest (protobuf): %v", err)
		}
		return req, nil
	}
	fixed, err := hexIDsToBase64(body)
	if err != nil {
		return nil, err
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(fixed, req); err != nil {
		return nil, fmt.Errorf("body is not an OTLP ExportTraceServiceRequest (JSON): %v", err)
	}
	return req, nil
}

// Encode writes a response message in f.
func Encode(m proto.Message, f Format) ([]byte, error) {
	if f == FormatJSON {
		return protojson.Marshal(m)
	}
	return proto.Marshal(m)
}

// hexIDsToBase64 rewrites traceId, spanId and parentSpanId (spans and
// links) from hex, as the OTLP/JSON encoding writes them, to the base64 that
// the standard protobuf JSON mapping expects for bytes fields.
func hexIDsToBase64(body []byte) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON body")
	}
	fix := func(m map[string]any) error {
		for _, k := range []string{"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"} {
			v, ok := m[k].(string)
			if !ok || v == "" {
				continue
			}
			b, err := hex.DecodeString(v)
			if err != nil {
				return fmt.Errorf("%s %q is not hex (OTLP/JSON encodes ids in hex)", k, v)
			}
			m[k] = base64.StdEncoding.EncodeToString(b)
		}
		return nil
	}
	for _, rs := range list(doc, "resourceSpans", "resource_spans") {
		for _, ss := range list(rs, "scopeSpans", "scope_spans") {
			for _, sp := range list(ss, "spans") {
				if err := fix(sp); err != nil {
					return nil, err
				}
				for _, l := range list(sp, "links") {
					if err := fix(l); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return json.Marshal(doc)
}

// list returns the objects in the array m[k] (under either spelling).
func list(m map[string]any, keys ...string) []map[string]any {
	var out []map[string]any
	for _, k := range keys {
		arr, _ := m[k].([]any)
		for _, v := range arr {
			if o, ok := v.(map[string]any); ok {
				out = append(out, o)
			}
		}
	}
	return out
}
