package demo

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/codestory/analytics"
)

// WireJSON renders e as one JSON event of the ingest contract (DESIGN.md,
// "Event contract"): the form POST /v1/events and NDJSON files carry. Only
// the fields that belong to e's type are written; zero counts of an api_call
// are left out (the decoder reads them as zero), and so is an empty user_id
// of an api_call. analytics.EventDecoder.DecodeEvent of the result gives e
// back (pricing fields aside) for every event Generate produces.
func WireJSON(e analytics.Event) []byte { return AppendWireJSON(nil, &e) }

// AppendWireJSON appends the WireJSON form of *e to dst, for callers that
// render many events into one buffer (NDJSON files, request bodies).
func AppendWireJSON(dst []byte, e *analytics.Event) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, string(e.Type))
	dst = append(dst, `,"timestamp":"`...)
	dst = e.Timestamp.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if e.UserID != "" || e.Type != analytics.EventAPICall {
		dst = append(dst, `,"user_id":`...)
		dst = appendString(dst, e.UserID)
	}
	switch e.Type {
	case analytics.EventAPICall:
		dst = append(dst, `,"service":`...)
		dst = appendString(dst, string(e.Service))
		dst = append(dst, `,"operation":`...)
		dst = appendString(dst, e.Operation)
		if e.Model != "" {
			dst = append(dst, `,"model":`...)
			dst = appendString(dst, e.Model)
		}
		dst = appendCount(dst, "input_tokens", e.InputTokens)
		dst = appendCount(dst, "output_tokens", e.OutputTokens)
		dst = appendCount(dst, "cache_creation_input_tokens", e.CacheCreationInputTokens)
		if e.CacheCreation1hTokens != 0 {
			dst = append(dst, `,"cache_creation":{"ephemeral_5m_input_tokens":`...)
			dst = strconv.AppendInt(dst, e.CacheCreationInputTokens-e.CacheCreation1hTokens, 10)
			dst = append(dst, `,"ephemeral_1h_input_tokens":`...)
			dst = strconv.AppendInt(dst, e.CacheCreation1hTokens, 10)
			dst = append(dst, '}')
		}
		dst = appendCount(dst, "cache_read_input_tokens", e.CacheReadInputTokens)
		dst = appendCount(dst, "characters", e.Characters)
		dst = appendCount(dst, "bytes_transferred", e.BytesTransferred)
		dst = appendCount(dst, "requests", e.Requests)
		if e.StoryID != "" {
			dst = append(dst, `,"story_id":`...)
			dst = appendString(dst, e.StoryID)
		}
		if e.Status != "" {
			dst = append(dst, `,"status":`...)
			dst = appendString(dst, e.Status)
		}
		if e.ExplicitCost != nil {
			dst = append(dst, `,"cost_cents":`...)
			dst = append(dst, analytics.FormatScaled(int64(*e.ExplicitCost), 4)...)
		}
	case analytics.EventUserSignup:
		if e.Email != "" {
			dst = append(dst, `,"email":`...)
			dst = appendString(dst, e.Email)
		}
	case analytics.EventStoryCreated, analytics.EventStoryFailed:
		dst = append(dst, `,"story_id":`...)
		dst = appendString(dst, e.StoryID)
	case analytics.EventStoryCompleted:
		dst = append(dst, `,"story_id":`...)
		dst = appendString(dst, e.StoryID)
		dst = append(dst, `,"chapters":`...)
		dst = strconv.AppendInt(dst, e.Chapters, 10)
		dst = append(dst, `,"audio_seconds":`...)
		dst = append(dst, analytics.FormatScaled(e.AudioMillis, 3)...)
	case analytics.EventPayment, analytics.EventRefund:
		dst = append(dst, `,"amount_cents":`...)
		dst = strconv.AppendInt(dst, e.AmountCents, 10)
	}
	return append(dst, '}')
}

func appendCount(dst []byte, name string, v int64) []byte {
	if v == 0 {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	return strconv.AppendInt(dst, v, 10)
}

// appendString appends s as a JSON string: plain printable ASCII directly,
// anything else through encoding/json.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
