package analytics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// EventType is the kind of a platform event.
type EventType string

// Event types of the event contract (DESIGN.md).
const (
	EventAPICall        EventType = "api_call"
	EventUserSignup     EventType = "user_signup"
	EventUserChurned    EventType = "user_churned"
	EventStoryCreated   EventType = "story_created"
	EventStoryCompleted EventType = "story_completed"
	EventStoryFailed    EventType = "story_failed"
	EventPayment        EventType = "payment"
	EventRefund         EventType = "refund"
	// EventVoided takes another event out of every figure (a correction).
	EventVoided EventType = "event_voided"
)

// Service is a paid upstream API.
type Service string

// Services whose calls are priced.
const (
	ServiceAnthropic  Service = "anthropic"
	ServiceElevenLabs Service = "elevenlabs"
	ServiceS3         Service = "s3"
)

// Services lists every service in display order.
var Services = []Service{ServiceAnthropic, ServiceElevenLabs, ServiceS3}

// Call statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// Limits of the event contract.
const (
	MaxBatchEvents = 10_000
	MaxIDLen       = 128
	MaxTextLen     = 256
)

// Bounds of the numeric event fields. Each is far above any real call or
// payment, and low enough that one event's money is at most 10^13
// micro-dollars (a $10M payment): an int64 sum of micro-dollars then needs
// more than 900,000 maximal events to overflow, and every sum is checked
// (an overflow refuses the batch) rather than trusted to these bounds alone.
const (
	MaxAmountCents      = 1_000_000_000          // $10,000,000 per payment or refund
	MaxCostCents        = 100_000_000            // $1,000,000 per call (caller-given cost_cents)
	MaxTokens           = 1_000_000_000          // each token count, characters and requests
	MaxBytesTransferred = 1_000_000_000_000_000  // 1 PB per call
	MaxAudioSeconds     = 10_000_000             // about 115 days of audio per story
	MaxChapters         = 100_000                // chapters per story
	maxAudioMillis      = MaxAudioSeconds * 1000 //
	maxCostMicros       = MaxCostCents * MicrosPerCent
)

// Event is one validated platform event. Timestamps are UTC with microsecond
// precision (the precision both stores keep).
type Event struct {
	ID        string
	Type      EventType
	Timestamp time.Time
	UserID    string

	// api_call
	Service                  Service
	Operation                string
	Model                    string
	InputTokens              int64
	OutputTokens             int64
	CacheCreationInputTokens int64 // all cache writes; 5-minute unless split below
	CacheCreation1hTokens    int64 // the part of CacheCreationInputTokens written with a 1-hour TTL
	CacheReadInputTokens     int64
	Characters               int64
	BytesTransferred         int64
	Requests                 int64
	Status                   string
	ExplicitCost             *Micros // the caller's cost_cents, which wins over the catalog

	// story events
	StoryID     string
	Chapters    int64
	AudioMillis int64

	// payment, refund
	AmountCents int64

	// event_voided
	Voids  string // the id of the event taken out of the figures
	Reason string

	// user_signup
	Email string

	// Set by pricing before storage.
	Cost     Micros
	Priced   bool
	PriceRef PriceRef // which catalog entry priced the call (zero: none)
}

// Rejection is a single event refused by ingest, with its position.
type Rejection struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Error string `json:"error"`
}

// IngestResult is the answer to POST /v1/events.
type IngestResult struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

type cacheCreation struct {
	Ephemeral5m *int64 `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h *int64 `json:"ephemeral_1h_input_tokens"`
}

// wireEvent is the JSON form; pointers tell present from absent so that a
// field that does not belong to the event's type can be refused.
type wireEvent struct {
	ID        *string `json:"id"`
	Type      *string `json:"type"`
	Timestamp *string `json:"timestamp"`
	UserID    *string `json:"user_id"`

	Service                  *string        `json:"service"`
	Operation                *string        `json:"operation"`
	Model                    *string        `json:"model"`
	InputTokens              *int64         `json:"input_tokens"`
	OutputTokens             *int64         `json:"output_tokens"`
	CacheCreationInputTokens *int64         `json:"cache_creation_input_tokens"`
	CacheCreation            *cacheCreation `json:"cache_creation"`
	CacheReadInputTokens     *int64         `json:"cache_read_input_tokens"`
	Characters               *int64         `json:"characters"`
	BytesTransferred         *int64         `json:"bytes_transferred"`
	Requests                 *int64         `json:"requests"`
	Status                   *string        `json:"status"`
	CostCents                *json.Number   `json:"cost_cents"`

	StoryID      *string      `json:"story_id"`
	Chapters     *int64       `json:"chapters"`
	AudioSeconds *json.Number `json:"audio_seconds"`

	AmountCents *int64  `json:"amount_cents"`
	Email       *string `json:"email"`

	Voids  *string `json:"voids"`
	Reason *string `json:"reason"`
}

// fieldsByType lists the fields each type may carry beyond id, type,
// timestamp and user_id.
var fieldsByType = map[EventType][]string{
	EventAPICall: {"service", "operation", "model", "input_tokens", "output_tokens",
		"cache_creation_input_tokens", "cache_creation", "cache_read_input_tokens",
		"characters", "bytes_transferred", "requests", "story_id", "status", "cost_cents"},
	EventUserSignup:     {"email"},
	EventUserChurned:    {},
	EventStoryCreated:   {"story_id"},
	EventStoryFailed:    {"story_id"},
	EventStoryCompleted: {"story_id", "chapters", "audio_seconds"},
	EventPayment:        {"amount_cents"},
	EventRefund:         {"amount_cents"},
	EventVoided:         {"voids", "reason"},
}

func (w *wireEvent) present() map[string]bool {
	p := map[string]bool{}
	set := func(name string, ok bool) {
		if ok {
			p[name] = true
		}
	}
	set("service", w.Service != nil)
	set("operation", w.Operation != nil)
	set("model", w.Model != nil)
	set("input_tokens", w.InputTokens != nil)
	set("output_tokens", w.OutputTokens != nil)
	set("cache_creation_input_tokens", w.CacheCreationInputTokens != nil)
	set("cache_creation", w.CacheCreation != nil)
	set("cache_read_input_tokens", w.CacheReadInputTokens != nil)
	set("characters", w.Characters != nil)
	set("bytes_transferred", w.BytesTransferred != nil)
	set("requests", w.Requests != nil)
	set("status", w.Status != nil)
	set("cost_cents", w.CostCents != nil)
	set("story_id", w.StoryID != nil)
	set("chapters", w.Chapters != nil)
	set("audio_seconds", w.AudioSeconds != nil)
	set("amount_cents", w.AmountCents != nil)
	set("email", w.Email != nil)
	set("voids", w.Voids != nil)
	set("reason", w.Reason != nil)
	return p
}

// EventDecoder turns raw JSON events into validated Events. Now is the clock
// used to refuse timestamps from the future.
type EventDecoder struct {
	Now func() time.Time
}

// MaxFutureSkew is how far ahead of the server clock an event may be stamped.
const MaxFutureSkew = 24 * time.Hour

// minTimestamp refuses obviously wrong clocks (zero values, epoch 0).
var minTimestamp = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// DecodeEvent parses and validates one JSON event. The returned ID is the
// event's id when it could be read, for the rejection report.
func (d EventDecoder) DecodeEvent(raw []byte) (Event, string, error) {
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return Event{}, bestEffortID(raw), describeJSONError(err)
	}
	if dec.More() {
		return Event{}, bestEffortID(raw), errors.New("trailing data after the event object")
	}
	id := ""
	if w.ID != nil {
		id = *w.ID
	}
	e, err := d.validate(&w)
	return e, id, err
}

func bestEffortID(raw []byte) string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &v) == nil {
		if s, ok := v.ID.(string); ok {
			return s
		}
	}
	return ""
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("an event must be a JSON object, got %s", te.Value)
		}
		field := te.Field
		if i := strings.LastIndex(field, "."); i >= 0 && !strings.HasPrefix(field, "cache_creation") {
			field = field[i+1:]
		}
		want := te.Type.String()
		switch want {
		case "int64":
			want = "an integer"
		case "string":
			want = "a string"
		case "json.Number":
			want = "a number"
		}
		return fmt.Errorf("field %q must be %s, got %s", field, want, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if msg == "EOF" {
		return errors.New("empty event")
	}
	return errors.New(msg)
}

func checkText(name, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s is required", name)
	}
	if len(v) > max {
		return fmt.Errorf("%s is longer than %d bytes", name, max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s contains a control character", name)
		}
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func count(name string, p *int64, dst *int64, max int64) error {
	if p == nil {
		return nil
	}
	if *p < 0 {
		return fmt.Errorf("%s must not be negative (got %d)", name, *p)
	}
	if *p > max {
		return fmt.Errorf("%s must be at most %d (got %d)", name, max, *p)
	}
	*dst = *p
	return nil
}

func (d EventDecoder) validate(w *wireEvent) (Event, error) {
	var e Event
	if w.ID == nil {
		return e, errors.New("id is required")
	}
	if err := checkText("id", *w.ID, MaxIDLen, true); err != nil {
		return e, err
	}
	e.ID = *w.ID
	if w.Type == nil {
		return e, errors.New("type is required")
	}
	e.Type = EventType(*w.Type)
	allowed, ok := fieldsByType[e.Type]
	if !ok {
		return e, fmt.Errorf("unknown event type %q (expected one of api_call, user_signup, user_churned, story_created, story_completed, story_failed, payment, refund, event_voided)", *w.Type)
	}
	if w.Timestamp == nil {
		return e, errors.New("timestamp is required")
	}
	ts, err := time.Parse(time.RFC3339Nano, *w.Timestamp)
	if err != nil {
		return e, fmt.Errorf("timestamp %q is not RFC 3339 with a time zone (e.g. 2026-01-02T15:04:05Z)", *w.Timestamp)
	}
	if ts.Before(minTimestamp) {
		return e, fmt.Errorf("timestamp %q is before 2000-01-01", *w.Timestamp)
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	if ts.After(now().Add(MaxFutureSkew)) {
		return e, fmt.Errorf("timestamp %q is more than 24h in the future", *w.Timestamp)
	}
	e.Timestamp = ts.UTC().Truncate(time.Microsecond)

	// user_id is required except on api_call, where a call made by the
	// platform itself (no end user) is still a cost, and on a void, which
	// belongs to the event it voids.
	if e.Type == EventVoided && w.UserID != nil {
		return e, errors.New(`field "user_id" does not apply to event_voided events (the voided event keeps its own user)`)
	}
	if err := checkText("user_id", str(w.UserID), MaxIDLen, e.Type != EventAPICall && e.Type != EventVoided); err != nil {
		return e, err
	}
	e.UserID = str(w.UserID)

	present := w.present()
	for _, f := range allowed {
		delete(present, f)
	}
	for f := range present {
		return e, fmt.Errorf("field %q does not apply to %s events", f, e.Type)
	}

	switch e.Type {
	case EventAPICall:
		err = validateAPICall(w, &e)
	case EventUserSignup:
		e.Email = str(w.Email)
		if err = checkText("email", e.Email, MaxTextLen, false); err == nil && e.Email != "" && !strings.Contains(e.Email, "@") {
			err = fmt.Errorf("email %q is not an address", e.Email)
		}
	case EventStoryCreated, EventStoryFailed:
		e.StoryID = str(w.StoryID)
		err = checkText("story_id", e.StoryID, MaxIDLen, true)
	case EventStoryCompleted:
		e.StoryID = str(w.StoryID)
		if err = checkText("story_id", e.StoryID, MaxIDLen, true); err != nil {
			break
		}
		if err = count("chapters", w.Chapters, &e.Chapters, MaxChapters); err != nil {
			break
		}
		if w.AudioSeconds != nil {
			var ms int64
			ms, err = ParseScaled(w.AudioSeconds.String(), 3)
			switch {
			case err != nil:
				err = fmt.Errorf("audio_seconds: %v (at most %d, with up to 3 decimal places)", err, MaxAudioSeconds)
			case ms < 0:
				err = fmt.Errorf("audio_seconds must not be negative (got %s)", w.AudioSeconds)
			case ms > maxAudioMillis:
				err = fmt.Errorf("audio_seconds must be at most %d (got %s)", MaxAudioSeconds, w.AudioSeconds)
			}
			e.AudioMillis = ms
		}
	case EventPayment, EventRefund:
		if w.AmountCents == nil {
			return e, errors.New("amount_cents is required")
		}
		if *w.AmountCents <= 0 {
			return e, fmt.Errorf("amount_cents must be a positive integer (got %d)", *w.AmountCents)
		}
		if *w.AmountCents > MaxAmountCents {
			return e, fmt.Errorf("amount_cents must be at most %d (got %d)", MaxAmountCents, *w.AmountCents)
		}
		e.AmountCents = *w.AmountCents
	case EventVoided:
		e.Voids, e.Reason = str(w.Voids), str(w.Reason)
		if err = checkText("voids", e.Voids, MaxIDLen, true); err != nil {
			break
		}
		if e.Voids == e.ID {
			err = errors.New("an event cannot void itself")
			break
		}
		err = checkText("reason", e.Reason, MaxTextLen, true)
	}
	return e, err
}

func validateAPICall(w *wireEvent, e *Event) error {
	if w.Service == nil {
		return errors.New("service is required (anthropic, elevenlabs or s3)")
	}
	e.Service = Service(*w.Service)
	switch e.Service {
	case ServiceAnthropic, ServiceElevenLabs, ServiceS3:
	default:
		return fmt.Errorf("unknown service %q (expected anthropic, elevenlabs or s3)", *w.Service)
	}
	e.Operation = str(w.Operation)
	if err := checkText("operation", e.Operation, MaxTextLen, true); err != nil {
		return err
	}
	e.Model = str(w.Model)
	if err := checkText("model", e.Model, MaxTextLen, e.Service != ServiceS3 && w.CostCents == nil); err != nil {
		return fmt.Errorf("%v for %s calls without cost_cents", err, e.Service)
	}
	e.StoryID = str(w.StoryID)
	if err := checkText("story_id", e.StoryID, MaxIDLen, false); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		src  *int64
		dst  *int64
	}{
		{"input_tokens", w.InputTokens, &e.InputTokens},
		{"output_tokens", w.OutputTokens, &e.OutputTokens},
		{"cache_creation_input_tokens", w.CacheCreationInputTokens, &e.CacheCreationInputTokens},
		{"cache_read_input_tokens", w.CacheReadInputTokens, &e.CacheReadInputTokens},
		{"characters", w.Characters, &e.Characters},
		{"bytes_transferred", w.BytesTransferred, &e.BytesTransferred},
		{"requests", w.Requests, &e.Requests},
	} {
		max := int64(MaxTokens)
		if c.name == "bytes_transferred" {
			max = MaxBytesTransferred
		}
		if err := count(c.name, c.src, c.dst, max); err != nil {
			return err
		}
	}
	if cc := w.CacheCreation; cc != nil {
		var m5, h1 int64
		if err := count("cache_creation.ephemeral_5m_input_tokens", cc.Ephemeral5m, &m5, MaxTokens); err != nil {
			return err
		}
		if err := count("cache_creation.ephemeral_1h_input_tokens", cc.Ephemeral1h, &h1, MaxTokens); err != nil {
			return err
		}
		if w.CacheCreationInputTokens == nil {
			if m5+h1 > MaxTokens {
				return fmt.Errorf("cache_creation split (%d + %d) must add up to at most %d", m5, h1, MaxTokens)
			}
			e.CacheCreationInputTokens = m5 + h1
		} else if m5+h1 != e.CacheCreationInputTokens {
			return fmt.Errorf("cache_creation split (%d + %d) does not add up to cache_creation_input_tokens (%d)", m5, h1, e.CacheCreationInputTokens)
		}
		e.CacheCreation1hTokens = h1
	}
	if e.Service == ServiceS3 && e.Requests == 0 {
		e.Requests = 1
	}
	e.Status = StatusOK
	if w.Status != nil {
		e.Status = *w.Status
		if e.Status != StatusOK && e.Status != StatusError {
			return fmt.Errorf("status must be \"ok\" or \"error\" (got %q)", e.Status)
		}
	}
	if w.CostCents != nil {
		v, err := ParseScaled(w.CostCents.String(), 4)
		if err != nil {
			return fmt.Errorf("cost_cents: %v (at most %d; the smallest unit is a micro-dollar, 0.0001 cents)", err, MaxCostCents)
		}
		if v < 0 {
			return fmt.Errorf("cost_cents must not be negative (got %s)", w.CostCents)
		}
		if v > maxCostMicros {
			return fmt.Errorf("cost_cents must be at most %d (got %s)", MaxCostCents, w.CostCents)
		}
		m := Micros(v)
		e.ExplicitCost = &m
	}
	return nil
}

// RawEvents splits a request body into raw events: a JSON object
// {"events": [...]} or, when ndjson is true, one JSON object per line. An
// error here means the body as a whole is unusable (nothing is stored).
func RawEvents(r io.Reader, ndjson bool) ([]json.RawMessage, error) {
	if ndjson {
		var out []json.RawMessage
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			if len(out) == MaxBatchEvents {
				return nil, Errorf(KindTooLarge, "batch has more than %d events", MaxBatchEvents)
			}
			out = append(out, json.RawMessage(bytes.Clone(line)))
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, Errorf(KindInvalid, "an NDJSON line is longer than 1 MiB")
			}
			return nil, err // a read error, such as the body limit: the caller maps it
		}
		return out, nil
	}
	var body struct {
		Events *[]json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&body); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, Errorf(KindInvalid, "empty body: expected {\"events\": [...]}")
		case errors.As(err, &te):
			// Speak the contract, not Go's types.
			if te.Field == "events" {
				return nil, Errorf(KindInvalid, "\"events\" must be an array (got %s)", te.Value)
			}
			return nil, Errorf(KindInvalid, "body must be an object with an \"events\" array (got %s)", te.Value)
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, Errorf(KindInvalid, "body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil, err // a read error, such as the body limit: the caller maps it
	}
	if dec.More() {
		return nil, Errorf(KindInvalid, "trailing data after the JSON body")
	}
	if body.Events == nil {
		return nil, Errorf(KindInvalid, "body must be an object with an \"events\" array")
	}
	if len(*body.Events) > MaxBatchEvents {
		return nil, Errorf(KindTooLarge, "batch has more than %d events", MaxBatchEvents)
	}
	return *body.Events, nil
}
