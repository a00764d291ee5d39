package analytics_test

import (
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
)

var now = func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }

func decode(s string) (analytics.Event, string, error) {
	return analytics.EventDecoder{Now: now}.DecodeEvent([]byte(s))
}

func TestDecodeRejections(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"not an object", `[1]`, "an event must be a JSON object, got array"},
		{"malformed", `{"id": "a",`, "unexpected EOF"},
		{"missing id", `{"type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "id is required"},
		{"blank id", `{"id":"  ","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "id is required"},
		{"long id", `{"id":"` + strings.Repeat("x", 129) + `","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "id is longer than 128 bytes"},
		{"control char", `{"id":"a\u0001","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "id contains a control character"},
		{"missing type", `{"id":"a","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "type is required"},
		{"unknown type", `{"id":"a","type":"story_deleted","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, `unknown event type "story_deleted"`},
		{"missing timestamp", `{"id":"a","type":"user_signup","user_id":"u"}`, "timestamp is required"},
		{"no zone", `{"id":"a","type":"user_signup","timestamp":"2026-01-01T00:00:00","user_id":"u"}`, "is not RFC 3339 with a time zone"},
		{"date only", `{"id":"a","type":"user_signup","timestamp":"2026-01-01","user_id":"u"}`, "is not RFC 3339"},
		{"future", `{"id":"a","type":"user_signup","timestamp":"2026-06-03T00:00:00Z","user_id":"u"}`, "more than 24h in the future"},
		{"ancient", `{"id":"a","type":"user_signup","timestamp":"1970-01-01T00:00:00Z","user_id":"u"}`, "before 2000-01-01"},
		{"missing user", `{"id":"a","type":"user_signup","timestamp":"2026-01-01T00:00:00Z"}`, "user_id is required"},
		{"unknown field", `{"id":"a","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u","plan":"pro"}`, `unknown field "plan"`},
		{"foreign field", `{"id":"a","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u","amount_cents":5}`, `field "amount_cents" does not apply to user_signup events`},
		{"bad email", `{"id":"a","type":"user_signup","timestamp":"2026-01-01T00:00:00Z","user_id":"u","email":"nope"}`, "is not an address"},
		{"unknown service", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"openai","operation":"x","model":"m"}`, `unknown service "openai"`},
		{"missing service", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","operation":"x","model":"m"}`, "service is required"},
		{"missing operation", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"s3"}`, "operation is required"},
		{"missing model", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"anthropic","operation":"x"}`, "model is required for anthropic calls"},
		{"negative tokens", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"anthropic","operation":"x","model":"m","input_tokens":-1}`, "input_tokens must not be negative"},
		{"fractional tokens", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"anthropic","operation":"x","model":"m","output_tokens":1.5}`, `field "output_tokens" must be an integer`},
		{"string tokens", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"anthropic","operation":"x","model":"m","output_tokens":"5"}`, `field "output_tokens" must be an integer, got string`},
		{"bad status", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"s3","operation":"x","status":"failed"}`, `status must be "ok" or "error"`},
		{"cost precision", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"s3","operation":"x","cost_cents":0.00001}`, "more than 4 decimal places"},
		{"negative cost", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"s3","operation":"x","cost_cents":-1}`, "cost_cents must not be negative"},
		{"cache split", `{"id":"a","type":"api_call","timestamp":"2026-01-01T00:00:00Z","service":"anthropic","operation":"x","model":"m","cache_creation_input_tokens":10,"cache_creation":{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":4}}`, "does not add up"},
		{"story without id", `{"id":"a","type":"story_created","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "story_id is required"},
		{"negative chapters", `{"id":"a","type":"story_completed","timestamp":"2026-01-01T00:00:00Z","user_id":"u","story_id":"s","chapters":-2}`, "chapters must not be negative"},
		{"audio precision", `{"id":"a","type":"story_completed","timestamp":"2026-01-01T00:00:00Z","user_id":"u","story_id":"s","audio_seconds":1.0001}`, "more than 3 decimal places"},
		{"payment without amount", `{"id":"a","type":"payment","timestamp":"2026-01-01T00:00:00Z","user_id":"u"}`, "amount_cents is required"},
		{"zero refund", `{"id":"a","type":"refund","timestamp":"2026-01-01T00:00:00Z","user_id":"u","amount_cents":0}`, "amount_cents must be a positive integer"},
		{"fractional payment", `{"id":"a","type":"payment","timestamp":"2026-01-01T00:00:00Z","user_id":"u","amount_cents":9.99}`, `field "amount_cents" must be an integer`},
		{"trailing data", `{"id":"a","type":"user_churned","timestamp":"2026-01-01T00:00:00Z","user_id":"u"} {}`, "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := decode(tc.json)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDecodeValid(t *testing.T) {
	e, id, err := decode(`{"id":"c1","type":"api_call","timestamp":"2026-03-01T01:30:00.123456789+02:00","service":"anthropic",
		"operation":"chapter","model":"claude-sonnet-4-5","input_tokens":100,"output_tokens":50,
		"cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":20},"cache_read_input_tokens":7,"cost_cents":1.5}`)
	if err != nil || id != "c1" {
		t.Fatalf("decode: %v", err)
	}
	if want := time.Date(2026, 2, 28, 23, 30, 0, 123456000, time.UTC); !e.Timestamp.Equal(want) || e.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp = %v, want %v (UTC, microseconds)", e.Timestamp, want)
	}
	if e.CacheCreationInputTokens != 50 || e.CacheCreation1hTokens != 20 || e.CacheReadInputTokens != 7 || e.Status != "ok" || e.UserID != "" {
		t.Errorf("event = %+v", e)
	}
	if e.ExplicitCost == nil || *e.ExplicitCost != 15_000 {
		t.Errorf("explicit cost = %v, want 15000 micro-dollars", e.ExplicitCost)
	}
	s3, _, err := decode(`{"id":"s","type":"api_call","timestamp":"2026-03-01T00:00:00Z","service":"s3","operation":"put_object","user_id":"u"}`)
	if err != nil || s3.Requests != 1 {
		t.Errorf("s3 call: requests = %d, %v; want the default 1", s3.Requests, err)
	}
	sc, _, err := decode(`{"id":"x","type":"story_completed","timestamp":"2026-03-01T00:00:00Z","user_id":"u","story_id":"s","chapters":3,"audio_seconds":61.25}`)
	if err != nil || sc.AudioMillis != 61_250 || sc.Chapters != 3 {
		t.Errorf("story_completed = %+v, %v", sc, err)
	}
}

func TestRawEvents(t *testing.T) {
	if _, err := analytics.RawEvents(strings.NewReader(`{"events":[`+strings.Repeat(`{},`, 10_000)+`{}]}`), false); analytics.ErrorKind(err) != analytics.KindTooLarge {
		t.Errorf("10,001 events: %v", err)
	}
	raws, err := analytics.RawEvents(strings.NewReader("{\"a\":1}\n\n  {\"b\":2}  \n"), true)
	if err != nil || len(raws) != 2 {
		t.Errorf("ndjson: %d events, %v", len(raws), err)
	}
	for _, body := range []string{``, `[]`, `{"events": 5}`, `{"events": []} x`} {
		if _, err := analytics.RawEvents(strings.NewReader(body), false); analytics.ErrorKind(err) != analytics.KindInvalid {
			t.Errorf("%q: err = %v, want invalid", body, err)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(`{"id":"c1","type":"api_call","timestamp":"2026-03-01T01:30:00Z","service":"anthropic","operation":"chapter","model":"m","input_tokens":100}`)
	f.Add(`{"id":"p","type":"payment","timestamp":"2026-03-01T00:00:00+05:30","user_id":"u","amount_cents":999}`)
	f.Add(`{"id":"x","type":"story_completed","timestamp":"2026-03-01T00:00:00Z","user_id":"u","story_id":"s","audio_seconds":1e3}`)
	f.Add(`{"cost_cents": 0.0001}`)
	f.Fuzz(func(t *testing.T, s string) {
		e, _, err := decode(s)
		if err != nil {
			return
		}
		// Whatever is accepted is sound.
		if e.ID == "" || e.Timestamp.IsZero() || e.Timestamp.Location() != time.UTC {
			t.Fatalf("accepted an event without id or UTC timestamp: %q → %+v", s, e)
		}
		for _, n := range []int64{e.InputTokens, e.OutputTokens, e.CacheCreationInputTokens, e.CacheReadInputTokens,
			e.Characters, e.BytesTransferred, e.Requests, e.Chapters, e.AudioMillis, e.AmountCents} {
			if n < 0 {
				t.Fatalf("accepted a negative count: %q", s)
			}
		}
		if e.CacheCreation1hTokens > e.CacheCreationInputTokens {
			t.Fatalf("1h split larger than the total: %q", s)
		}
		if (e.Type == analytics.EventPayment || e.Type == analytics.EventRefund) && e.AmountCents <= 0 {
			t.Fatalf("accepted a payment without a positive amount: %q", s)
		}
	})
}
