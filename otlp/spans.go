package otlp

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Span attributes read by the mapping. The gen_ai.* names are the OpenTelemetry
// GenAI semantic conventions; codestory.* cover what they do not.
const (
	AttrProviderName   = "gen_ai.provider.name"
	AttrSystem         = "gen_ai.system" // older name of gen_ai.provider.name
	AttrOperationName  = "gen_ai.operation.name"
	AttrRequestModel   = "gen_ai.request.model"
	AttrResponseModel  = "gen_ai.response.model"
	AttrInputTokens    = "gen_ai.usage.input_tokens"
	AttrOutputTokens   = "gen_ai.usage.output_tokens"
	AttrCacheRead      = "gen_ai.usage.cache_read.input_tokens"
	AttrCacheCreation  = "gen_ai.usage.cache_creation.input_tokens"
	AttrUserID         = "user.id"
	AttrEndUserID      = "enduser.id" // older name of user.id
	AttrStoryID        = "codestory.story_id"
	AttrService        = "codestory.service"
	AttrCharacters     = "codestory.characters"
	AttrBytes          = "codestory.bytes_transferred"
	AttrRequests       = "codestory.requests"
	AttrCostCents      = "codestory.cost_cents"
	AttrCacheCreate1h  = "codestory.cache_creation_1h.input_tokens"
	AttrInputIncludes  = "codestory.input_tokens_includes_cache"
	attrPromptTokens   = "gen_ai.usage.prompt_tokens"     // deprecated input_tokens
	attrCompletionToks = "gen_ai.usage.completion_tokens" // deprecated output_tokens
	attrCacheReadOld   = "gen_ai.usage.cache_read_input_tokens"
	attrCacheCreateOld = "gen_ai.usage.cache_creation_input_tokens"
)

// usageAttrs are the attributes that make a span a billable call.
var usageAttrs = []string{AttrInputTokens, AttrOutputTokens, AttrCacheRead, AttrCacheCreation,
	attrPromptTokens, attrCompletionToks, attrCacheReadOld, attrCacheCreateOld,
	AttrService, AttrCharacters, AttrBytes, AttrRequests, AttrCostCents}

// aggregateOps are GenAI operations whose usage, when present, totals the
// model calls made inside them; counting them too would charge twice.
var aggregateOps = map[string]bool{"invoke_agent": true, "create_agent": true, "execute_tool": true, "invoke_workflow": true}

// Input-token conventions, as reported by Batch.Conventions.
const (
	ConventionInclusive = "inclusive"          // semconv: input_tokens includes cached tokens
	ConventionExclusive = "exclusive"          // the sender said input_tokens is uncached only
	ConventionInferred  = "exclusive_inferred" // input < cache read + creation: cannot be inclusive
)

// SpanRef names a span for messages: trace id + span id in hex (the event id).
type SpanRef string

// Rejection is a span that could not be mapped, with the reason.
type Rejection struct {
	Span  SpanRef
	Error string
}

// Batch is what one export request maps to.
type Batch struct {
	Events      []json.RawMessage // api_call events, in span order
	Spans       []SpanRef         // Spans[i] made Events[i]
	Ignored     int               // spans without GenAI usage
	Rejected    []Rejection       // spans refused before ingest
	Conventions map[string]int    // input-token convention used, per mapped span
}

// Map turns every span with GenAI usage into an api_call event (JSON, as
// POST /v1/events takes it). The event id is the trace id and span id in hex,
// so a re-export is a duplicate.
func Map(req *coltracepb.ExportTraceServiceRequest) Batch {
	b := Batch{Conventions: map[string]int{}}
	for _, rs := range req.GetResourceSpans() {
		res := rs.GetResource().GetAttributes()
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				a := attrs{span: sp.GetAttributes(), resource: res}
				if !a.hasAny(usageAttrs) || aggregateOps[a.str(AttrOperationName)] {
					b.Ignored++
					continue
				}
				ref := SpanRef(hex.EncodeToString(sp.GetTraceId()) + hex.EncodeToString(sp.GetSpanId()))
				ev, conv, err := mapSpan(sp, a)
				if err != nil {
					b.Rejected = append(b.Rejected, Rejection{Span: ref, Error: err.Error()})
					continue
				}
				raw, err := json.Marshal(ev)
				if err != nil {
					b.Rejected = append(b.Rejected, Rejection{Span: ref, Error: err.Error()})
					continue
				}
				b.Events = append(b.Events, raw)
				b.Spans = append(b.Spans, ref)
				if conv != "" {
					b.Conventions[conv]++
				}
			}
		}
	}
	return b
}

// event is the api_call of the event contract; absent counts stay absent so
// that the decoder sees exactly what a hand-written event would carry.
type event struct {
	ID            string      `json:"id"`
	Type          string      `json:"type"`
	Timestamp     string      `json:"timestamp"`
	UserID        string      `json:"user_id,omitempty"`
	Service       string      `json:"service"`
	Operation     string      `json:"operation"`
	Model         string      `json:"model,omitempty"`
	Input         *int64      `json:"input_tokens,omitempty"`
	Output        *int64      `json:"output_tokens,omitempty"`
	CacheCreation *int64      `json:"cache_creation_input_tokens,omitempty"`
	CacheSplit    *cacheSplit `json:"cache_creation,omitempty"`
	CacheRead     *int64      `json:"cache_read_input_tokens,omitempty"`
	Characters    *int64      `json:"characters,omitempty"`
	Bytes         *int64      `json:"bytes_transferred,omitempty"`
	Requests      *int64      `json:"requests,omitempty"`
	StoryID       string      `json:"story_id,omitempty"`
	Status        string      `json:"status"`
	CostCents     json.Number `json:"cost_cents,omitempty"`
}

type cacheSplit struct {
	M5 int64 `json:"ephemeral_5m_input_tokens"`
	H1 int64 `json:"ephemeral_1h_input_tokens"`
}

func mapSpan(sp *tracepb.Span, a attrs) (event, string, error) {
	var e event
	if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
		return e, "", fmt.Errorf("span has no valid trace_id (16 bytes) and span_id (8 bytes)")
	}
	e.ID = hex.EncodeToString(sp.GetTraceId()) + hex.EncodeToString(sp.GetSpanId())
	e.Type = "api_call"
	end := sp.GetEndTimeUnixNano()
	if end == 0 {
		return e, "", fmt.Errorf("span has no end time")
	}
	if end > math.MaxInt64 {
		return e, "", fmt.Errorf("span end time %d is out of range", end)
	}
	e.Timestamp = time.Unix(0, int64(end)).UTC().Format(time.RFC3339Nano)
	e.Service = strings.ToLower(a.first(AttrService, AttrProviderName, AttrSystem))
	if e.Service == "" {
		return e, "", fmt.Errorf("span has usage but no %s (or %s, or %s)", AttrProviderName, AttrSystem, AttrService)
	}
	e.Operation = a.first(AttrOperationName)
	if e.Operation == "" {
		e.Operation = sp.GetName()
	}
	e.Model = a.first(AttrResponseModel, AttrRequestModel)
	e.UserID = a.first(AttrUserID, AttrEndUserID)
	e.StoryID = a.first(AttrStoryID)
	e.Status = "ok"
	if sp.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		e.Status = "error"
	}

	var err error
	ints := []struct {
		dst   **int64
		names []string
	}{
		{&e.Output, []string{AttrOutputTokens, attrCompletionToks}},
		{&e.CacheRead, []string{AttrCacheRead, attrCacheReadOld}},
		{&e.CacheCreation, []string{AttrCacheCreation, attrCacheCreateOld}},
		{&e.Characters, []string{AttrCharacters}},
		{&e.Bytes, []string{AttrBytes}},
		{&e.Requests, []string{AttrRequests}},
	}
	for _, c := range ints {
		if *c.dst, err = a.int(c.names...); err != nil {
			return e, "", err
		}
	}
	input, err := a.int(AttrInputTokens, attrPromptTokens)
	if err != nil {
		return e, "", err
	}
	h1, err := a.int(AttrCacheCreate1h)
	if err != nil {
		return e, "", err
	}
	if h1 != nil {
		if e.CacheCreation == nil || *h1 > *e.CacheCreation || *h1 < 0 {
			return e, "", fmt.Errorf("%s must be between 0 and %s", AttrCacheCreate1h, AttrCacheCreation)
		}
		e.CacheSplit = &cacheSplit{M5: *e.CacheCreation - *h1, H1: *h1}
	}
	conv := ""
	if input != nil {
		includes, set, err := a.bool(AttrInputIncludes)
		if err != nil {
			return e, "", err
		}
		cached := deref(e.CacheRead) + deref(e.CacheCreation)
		uncached := *input - cached
		switch {
		case set && !includes:
			uncached, conv = *input, ConventionExclusive
		case uncached >= 0:
			conv = ConventionInclusive
		case set:
			return e, "", fmt.Errorf("%s (%d) is less than cache read + cache creation (%d), but %s is true",
				AttrInputTokens, *input, cached, AttrInputIncludes)
		default:
			// Under the semantic conventions input_tokens includes the cached
			// tokens, so it cannot be smaller than them: the sender followed
			// Anthropic's API, where input_tokens counts only uncached input.
			uncached, conv = *input, ConventionInferred
		}
		e.Input = &uncached
	}
	if v, ok := a.value(AttrCostCents); ok {
		n, err := number(v)
		if err != nil {
			return e, "", fmt.Errorf("%s: %v", AttrCostCents, err)
		}
		e.CostCents = n
	}
	return e, conv, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// attrs looks a key up on the span first, then on its resource.
type attrs struct {
	span, resource []*commonpb.KeyValue
}

func (a attrs) value(key string) (*commonpb.AnyValue, bool) {
	for _, kvs := range [][]*commonpb.KeyValue{a.span, a.resource} {
		for _, kv := range kvs {
			if kv.GetKey() == key && kv.GetValue() != nil && kv.GetValue().GetValue() != nil {
				return kv.GetValue(), true
			}
		}
	}
	return nil, false
}

func (a attrs) hasAny(keys []string) bool {
	for _, k := range keys {
		if _, ok := a.value(k); ok {
			return true
		}
	}
	return false
}

func (a attrs) str(key string) string {
	v, ok := a.value(key)
	if !ok {
		return ""
	}
	return v.GetStringValue()
}

// first returns the first of keys that is set, as a string.
func (a attrs) first(keys ...string) string {
	for _, k := range keys {
		v, ok := a.value(k)
		if !ok {
			continue
		}
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			if x.StringValue != "" {
				return x.StringValue
			}
		case *commonpb.AnyValue_IntValue:
			return strconv.FormatInt(x.IntValue, 10)
		}
	}
	return ""
}

// int reads the first of keys that is set as an integer count; an integral
// double or a decimal string is accepted, as some SDKs send those.
func (a attrs) int(keys ...string) (*int64, error) {
	for _, k := range keys {
		v, ok := a.value(k)
		if !ok {
			continue
		}
		var n int64
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_IntValue:
			n = x.IntValue
		case *commonpb.AnyValue_DoubleValue:
			if x.DoubleValue != math.Trunc(x.DoubleValue) || math.Abs(x.DoubleValue) > 1<<53 {
				return nil, fmt.Errorf("%s must be an integer (got %v)", k, x.DoubleValue)
			}
			n = int64(x.DoubleValue)
		case *commonpb.AnyValue_StringValue:
			var err error
			if n, err = strconv.ParseInt(x.StringValue, 10, 64); err != nil {
				return nil, fmt.Errorf("%s must be an integer (got %q)", k, x.StringValue)
			}
		default:
			return nil, fmt.Errorf("%s must be an integer", k)
		}
		if n < 0 {
			return nil, fmt.Errorf("%s must not be negative (got %d)", k, n)
		}
		return &n, nil
	}
	return nil, nil
}

func (a attrs) bool(key string) (value, set bool, err error) {
	v, ok := a.value(key)
	if !ok {
		return false, false, nil
	}
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue, true, nil
	case *commonpb.AnyValue_StringValue:
		if b, err := strconv.ParseBool(x.StringValue); err == nil {
			return b, true, nil
		}
	}
	return false, false, fmt.Errorf("%s must be a boolean", key)
}

// number renders a cost attribute as a JSON number; the event decoder checks
// its precision and sign.
func number(v *commonpb.AnyValue) (json.Number, error) {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_IntValue:
		return json.Number(strconv.FormatInt(x.IntValue, 10)), nil
	case *commonpb.AnyValue_DoubleValue:
		if math.IsNaN(x.DoubleValue) || math.IsInf(x.DoubleValue, 0) {
			return "", fmt.Errorf("must be a finite number")
		}
		return json.Number(strconv.FormatFloat(x.DoubleValue, 'f', -1, 64)), nil
	case *commonpb.AnyValue_StringValue:
		s := strings.TrimSpace(x.StringValue)
		if !json.Valid([]byte(s)) || s == "" || strings.ContainsAny(s, "\"[{tfn") {
			return "", fmt.Errorf("must be a number (got %q)", x.StringValue)
		}
		return json.Number(s), nil
	}
	return "", fmt.Errorf("must be a number")
}
