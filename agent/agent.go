// Package agent is the "Ask" door: a Claude tool-use loop
// (github.com/anthropics/anthropic-sdk-go/v2) that answers a question in
// plain language with the five admin analytics tools, as the admin who
// asked. It is the seed's ClaudeAgentOptions made explicit: only the allowed
// tools (log_api_call stays internal), at most max_turns (10) model turns,
// every tool call through the guard with door "agent" (a denial goes back
// to the model as an error result), and the guard's Stop when the run ends.
// It knows nothing of HTTP: the caller streams the events it emits.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/guard"
	"github.com/google/jsonschema-go/jsonschema"
)

// Defaults of a run.
const (
	DefaultModel     = "claude-sonnet-5-5"
	DefaultMaxTurns  = 10 // the seed's max_turns
	DefaultMaxTokens = 2048
)

// Operation is how the agent's own Claude calls are recorded (api_call
// events of service anthropic).
const Operation = "analytics_ask"

// Config is one run's setting.
type Config struct {
	Client    anthropic.Client
	Model     string
	MaxTurns  int   // model turns (Messages API calls); 0 means DefaultMaxTurns
	MaxTokens int64 // per turn; 0 means DefaultMaxTokens
	Guard     *guard.Guard
	Tools     *analytics.Tools
	Principal *analytics.Principal // the admin who asked
	SessionID string               // the guard's session of this run
	IP        string
	Now       func() time.Time
	// Record receives the usage of every Claude call, failed ones included
	// (the product measures its own cost). It may be nil.
	Record func(ctx context.Context, u Usage)
	// BeforeCall, if set, runs before every Claude call; an error ends the
	// run before the call is made (e.g. the admin's daily Ask budget).
	BeforeCall func(ctx context.Context, turn int) error
	Log        *slog.Logger
}

// Usage is one Claude call of a run.
type Usage struct {
	Turn                     int       `json:"turn"`
	MessageID                string    `json:"message_id,omitempty"`
	Model                    string    `json:"model"`
	Time                     time.Time `json:"time"`
	InputTokens              int64     `json:"input_tokens"`
	OutputTokens             int64     `json:"output_tokens"`
	CacheCreationInputTokens int64     `json:"cache_creation_input_tokens"`
	CacheCreation1hTokens    int64     `json:"cache_creation_1h_input_tokens,omitempty"`
	CacheReadInputTokens     int64     `json:"cache_read_input_tokens"`
	Error                    string    `json:"error,omitempty"` // the call failed
}

// ToolCall is one tool call of a run, with what the model was told.
type ToolCall struct {
	Turn   int             `json:"turn"`
	ID     string          `json:"id"`
	Tool   string          `json:"tool"`
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output,omitempty"` // the tool's JSON result
	Error  string          `json:"error,omitempty"`  // the denial or failure, sent as an error result
}

// Totals add up a run's token usage.
type Totals struct {
	Calls                    int   `json:"calls"`
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

func (t *Totals) add(u Usage) {
	t.Calls++
	t.InputTokens += u.InputTokens
	t.OutputTokens += u.OutputTokens
	t.CacheCreationInputTokens += u.CacheCreationInputTokens
	t.CacheReadInputTokens += u.CacheReadInputTokens
}

// Result is a run's outcome: the answer and the tool results it rests on.
type Result struct {
	Answer     string     `json:"answer"`
	StopReason string     `json:"stop_reason,omitempty"`
	Turns      int        `json:"turns"`
	Model      string     `json:"model"`
	SessionID  string     `json:"session_id"`
	ToolCalls  []ToolCall `json:"tool_calls"`
	Usage      Totals     `json:"usage"`
}

// Event kinds, the names of the server-sent events.
const (
	EventProgress = "progress"
	EventTool     = "tool"
	EventAnswer   = "answer"
	EventError    = "error"
)

// Event is a step of a run as it happens.
type Event struct {
	Kind    string    `json:"-"`
	Turn    int       `json:"turn,omitempty"`
	Message string    `json:"message,omitempty"` // progress: what is happening; the model's interim text
	Tool    *ToolCall `json:"tool,omitempty"`    // tool: a finished call
	Result  *Result   `json:"result,omitempty"`  // answer: the whole result
	Error   string    `json:"error,omitempty"`   // error: why the run stopped
}

// ErrMaxTurns ends a run whose model still wanted tools at the last turn.
func errMaxTurns(n int) error {
	return analytics.Errorf(analytics.KindUnavailable, "Ask stopped after %d turns without a final answer; try a narrower question", n)
}

// claudeError wraps a failed Claude call: its kind and message are safe to
// show (the API's own error text is not), the original stays for the log.
func claudeError(err error) error {
	return errors.Join(&analytics.Error{Kind: analytics.KindUnavailable, Message: claudeMessage(err)}, err)
}

func claudeMessage(err error) string {
	var ae *anthropic.Error
	switch {
	case errors.As(err, &ae):
		return fmt.Sprintf("the Claude API refused the request (HTTP %d)", ae.StatusCode)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "the question was cancelled"
	}
	return "the Claude API could not be reached"
}

// AllowedTools are the tools the agent may use: the seed's allowed_tools
// (log_api_call is internal-only, not exposed to admins).
var AllowedTools = []string{
	analytics.ToolDashboardMetrics,
	analytics.ToolCostBreakdown,
	analytics.ToolUserGrowth,
	analytics.ToolTopUsers,
	analytics.ToolExportAnalytics,
}

// tool is one tool as offered to Claude and run through the guard.
type tool struct {
	name, desc string
	schema     *jsonschema.Schema
	run        func(ctx context.Context, c *Config, raw json.RawMessage, call guard.Call) (any, error)
}

func newTool[In, Out any](name, desc string, run func(*analytics.Tools, context.Context, In) (Out, error)) tool {
	s, err := jsonschema.ForType(reflect.TypeFor[In](), nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %s: %v", name, err))
	}
	return tool{name: name, desc: desc, schema: s, run: func(ctx context.Context, c *Config, raw json.RawMessage, call guard.Call) (any, error) {
		var in In
		if err := decodeStrict(raw, &in); err != nil {
			return nil, analytics.Errorf(analytics.KindInvalid, "invalid input for %s: %v", name, err)
		}
		call.Input = &in
		// The guard's validation fills the input's defaults in place; the
		// tool then runs on exactly what was validated and audited.
		return guard.Run(ctx, c.Guard, call, func(ctx context.Context) (Out, error) { return run(c.Tools, ctx, in) })
	}}
}

var tools = []tool{
	newTool(analytics.ToolDashboardMetrics, "Get aggregated dashboard metrics for a date range including users, stories, costs, and revenue: KPI totals (new, active and churned users, stories, audio minutes, API requests and errors, total cost and revenue in cents, profit margin in percent) and a daily series.",
		(*analytics.Tools).DashboardMetrics),
	newTool(analytics.ToolCostBreakdown, "Get cost breakdown by service (Anthropic, ElevenLabs, S3) for a date range: per service, per day, per model and per operation.",
		(*analytics.Tools).CostBreakdown),
	newTool(analytics.ToolUserGrowth, "Get user growth metrics including new users, active users, and churn rates: daily new, total, active and churned users, and the growth rate over the range in percent.",
		(*analytics.Tools).UserGrowth),
	newTool(analytics.ToolTopUsers, "Get top users by cost or usage metrics (sort_by cost, stories or api_calls).",
		(*analytics.Tools).TopUsers),
	newTool(analytics.ToolExportAnalytics, "Export analytics data in CSV or JSON format: one row per day. Needs the EXPORT_DATA permission; every export is audited.",
		(*analytics.Tools).ExportAnalytics),
}

func toolByName(name string) (tool, bool) {
	for _, t := range tools {
		if t.name == name {
			return t, true
		}
	}
	return tool{}, false
}

// ToolParams are the tools as the Messages API takes them.
func ToolParams() []anthropic.ToolUnionParam {
	out := make([]anthropic.ToolUnionParam, len(tools))
	for i, t := range tools {
		props := map[string]any{}
		for name, p := range t.schema.Properties {
			props[name] = p
		}
		out[i] = anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name:        t.name,
			Description: anthropic.String(t.desc),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: props, Required: t.schema.Required,
				ExtraFields: map[string]any{"additionalProperties": false}},
		}}
	}
	return out
}

func decodeStrict(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// SystemPrompt tells the model what it is doing and how to read the figures.
func SystemPrompt(today analytics.Day, zone string) string {
	return fmt.Sprintf(`You answer an operator's questions about the CodeStory platform (AI-written, narrated audio stories) using its analytics tools. Today is %s in the reporting time zone %s.
- Get every figure from the tools; never guess or invent numbers. Call the tools you need, then answer.
- Dates are YYYY-MM-DD; a range includes both days and may span at most 366 days. Without dates a tool covers the last 30 days.
- Money: fields ending in _cents are US cents; cost, revenue and fields ending in _dollars are US dollars. Both are exact.
- If a tool call is denied (permission, rate limit, invalid input), say so plainly; do not retry the same call.
- Answer concisely in plain text, with the figures and the period they cover.`, today, zone)
}

// Run answers question. emit, if not nil, sees each step as it happens; the
// last event is the answer or the error. The returned Result holds whatever
// the run did, also when it fails.
func Run(ctx context.Context, c Config, question string, emit func(Event)) (Result, error) {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.MaxTurns <= 0 {
		c.MaxTurns = DefaultMaxTurns
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if emit == nil {
		emit = func(Event) {}
	}
	res := Result{Model: c.Model, SessionID: c.SessionID, ToolCalls: []ToolCall{}}
	defer func() {
		if err := c.Guard.End(context.WithoutCancel(ctx), c.SessionID, analytics.DoorAgent, c.Principal); err != nil {
			c.Log.Warn("Ask Stop hook failed", "session", c.SessionID, "err", err)
		}
	}()
	fail := func(err error) (Result, error) {
		emit(Event{Kind: EventError, Turn: res.Turns, Error: analytics.ErrorMessage(err), Result: &res})
		return res, err
	}

	loc := c.Tools.Store.Location()
	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(c.Model),
		MaxTokens: c.MaxTokens,
		System:    []anthropic.TextBlockParam{{Text: SystemPrompt(analytics.DayOf(c.Now(), loc), loc.String())}},
		Tools:     ToolParams(),
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(question))},
	}
	for turn := 1; turn <= c.MaxTurns; turn++ {
		res.Turns = turn
		if c.BeforeCall != nil {
			if err := c.BeforeCall(ctx, turn); err != nil {
				return fail(err)
			}
		}
		emit(Event{Kind: EventProgress, Turn: turn, Message: "Asking Claude"})
		msg, err := c.Client.Messages.New(ctx, params)
		u := Usage{Turn: turn, Model: c.Model, Time: c.Now()}
		if err != nil {
			u.Error = claudeMessage(err)
		} else {
			u.MessageID = msg.ID
			if msg.Model != "" {
				u.Model = string(msg.Model)
			}
			u.InputTokens = msg.Usage.InputTokens
			u.OutputTokens = msg.Usage.OutputTokens
			u.CacheCreationInputTokens = msg.Usage.CacheCreationInputTokens
			u.CacheCreation1hTokens = msg.Usage.CacheCreation.Ephemeral1hInputTokens
			u.CacheReadInputTokens = msg.Usage.CacheReadInputTokens
		}
		res.Usage.add(u)
		if c.Record != nil {
			c.Record(context.WithoutCancel(ctx), u)
		}
		if err != nil {
			c.Log.Warn("Ask: Claude call failed", "turn", turn, "err", err)
			return fail(claudeError(err))
		}

		var text strings.Builder
		var uses []anthropic.ContentBlockUnion
		for _, b := range msg.Content {
			switch b.Type {
			case "text":
				text.WriteString(b.Text)
			case "tool_use":
				uses = append(uses, b)
			}
		}
		res.StopReason = string(msg.StopReason)
		if msg.StopReason != anthropic.StopReasonToolUse || len(uses) == 0 {
			res.Answer = strings.TrimSpace(text.String())
			emit(Event{Kind: EventAnswer, Turn: turn, Result: &res})
			return res, nil
		}
		if s := strings.TrimSpace(text.String()); s != "" {
			emit(Event{Kind: EventProgress, Turn: turn, Message: s})
		}
		if turn == c.MaxTurns {
			break // no turn is left to read tool results in
		}
		params.Messages = append(params.Messages, msg.ToParam())
		results := make([]anthropic.ContentBlockParamUnion, 0, len(uses))
		for _, b := range uses {
			tc := c.callTool(ctx, turn, b)
			res.ToolCalls = append(res.ToolCalls, tc)
			emit(Event{Kind: EventTool, Turn: turn, Tool: &tc})
			if tc.Error != "" {
				results = append(results, anthropic.NewToolResultBlock(tc.ID, tc.Error, true))
			} else {
				results = append(results, anthropic.NewToolResultBlock(tc.ID, string(tc.Output), false))
			}
		}
		params.Messages = append(params.Messages, anthropic.NewUserMessage(results...))
	}
	return fail(errMaxTurns(c.MaxTurns))
}

// callTool runs one tool_use block through the guard.
func (c *Config) callTool(ctx context.Context, turn int, b anthropic.ContentBlockUnion) ToolCall {
	tc := ToolCall{Turn: turn, ID: b.ID, Tool: b.Name, Input: b.Input}
	if len(tc.Input) == 0 {
		tc.Input = json.RawMessage("{}")
	}
	t, ok := toolByName(b.Name)
	if !ok {
		tc.Error = fmt.Sprintf("tool %q is not available; use one of %s", b.Name, strings.Join(AllowedTools, ", "))
		return tc
	}
	out, err := t.run(ctx, c, b.Input, guard.Call{Tool: t.name, Door: analytics.DoorAgent, Principal: c.Principal, SessionID: c.SessionID, IP: c.IP})
	if err != nil {
		var de *guard.DeniedError
		if errors.As(err, &de) {
			tc.Error = de.Err.Message
		} else {
			if analytics.ErrorKind(err) == analytics.KindInternal {
				c.Log.Error("Ask tool failed", "tool", t.name, "err", err)
			}
			tc.Error = analytics.ErrorMessage(err)
		}
		return tc
	}
	b2, err := json.Marshal(out)
	if err != nil {
		tc.Error = "internal error"
		return tc
	}
	tc.Output = b2
	return tc
}

// RawEvent is the api_call event (event contract JSON) that records this
// Claude call of the agent: service anthropic, operation analytics_ask, the
// real token usage, no user. Ingest it like any other event, so that the
// price catalog prices it.
func (u Usage) RawEvent(id string) json.RawMessage {
	m := map[string]any{
		"id": id, "type": analytics.EventAPICall, "timestamp": u.Time.UTC().Format(time.RFC3339Nano),
		"service": analytics.ServiceAnthropic, "operation": Operation, "model": u.Model,
		"input_tokens": u.InputTokens, "output_tokens": u.OutputTokens,
		"cache_creation_input_tokens": u.CacheCreationInputTokens, "cache_read_input_tokens": u.CacheReadInputTokens,
		"status": analytics.StatusOK,
	}
	if h1 := u.CacheCreation1hTokens; h1 > 0 {
		m5 := max(u.CacheCreationInputTokens-h1, 0)
		m["cache_creation_input_tokens"] = m5 + h1
		m["cache_creation"] = map[string]int64{"ephemeral_5m_input_tokens": m5, "ephemeral_1h_input_tokens": h1}
	}
	if u.Error != "" {
		m["status"] = analytics.StatusError
	}
	b, _ := json.Marshal(m)
	return b
}
