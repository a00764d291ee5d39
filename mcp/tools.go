package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/guard"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// schemaTypes describe the types whose JSON differs from their Go kind:
// money marshals as an exact decimal number, a Day as YYYY-MM-DD.
var schemaTypes = map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[analytics.Cents]():   {Type: "number", Description: "US cents, an exact decimal (up to 4 decimal places)"},
	reflect.TypeFor[analytics.Dollars](): {Type: "number", Description: "US dollars, an exact decimal (up to 6 decimal places)"},
	reflect.TypeFor[analytics.Day]():     {Type: "string", Description: "a calendar day in the reporting time zone, YYYY-MM-DD"},
}

// SchemaFor infers the JSON schema of T (of *T's element for a pointer),
// with descriptions from `jsonschema` struct tags.
func SchemaFor[T any]() *jsonschema.Schema {
	t := reflect.TypeFor[T]()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s, err := jsonschema.ForType(t, &jsonschema.ForOptions{TypeSchemas: schemaTypes})
	if err != nil {
		panic(fmt.Sprintf("schema of %s: %v", t, err))
	}
	return s
}

var (
	readOnly = &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)}
	logCall  = &mcp.ToolAnnotations{IdempotentHint: true, DestructiveHint: new(false), OpenWorldHint: new(false)}
)

// Descriptions of the tools: the seed's, with what the guard requires.
var Descriptions = map[string]string{
	analytics.ToolDashboardMetrics: "Get aggregated dashboard metrics for a date range including users, stories, costs, and revenue: KPI totals and a zero-filled daily series. Needs VIEW_ANALYTICS.",
	analytics.ToolCostBreakdown:    "Get cost breakdown by service (Anthropic, ElevenLabs, S3) for a date range, by day, by model and by operation. Needs VIEW_ANALYTICS.",
	analytics.ToolUserGrowth:       "Get user growth metrics including new users, active users, and churn rates: new, total, active and churned users per day and the growth rate over the range. Needs VIEW_ANALYTICS.",
	analytics.ToolTopUsers:         "Get top users by cost or usage metrics (cost, stories or api_calls; ties by user id). Needs VIEW_ANALYTICS.",
	analytics.ToolExportAnalytics:  "Export analytics data in CSV or JSON format: one row per day (date, new users, active users, stories, cost, revenue). Needs EXPORT_DATA; every export is audited with alert DATA_EXPORT.",
	analytics.ToolLogAPICall:       "Log an API call for cost tracking and analytics aggregation: one api_call event, priced by the price catalog unless cost_cents is given. Ingest keys only.",
}

var titles = map[string]string{
	analytics.ToolDashboardMetrics: "Dashboard metrics",
	analytics.ToolCostBreakdown:    "Cost breakdown",
	analytics.ToolUserGrowth:       "User growth",
	analytics.ToolTopUsers:         "Top users",
	analytics.ToolExportAnalytics:  "Export analytics",
	analytics.ToolLogAPICall:       "Log an API call",
}

func (s *Server) addAdminTools(srv *mcp.Server) {
	t := s.cfg.Tools
	addTool(s, srv, analytics.ToolDashboardMetrics, readOnly, func(ctx context.Context, in *analytics.RangeInput) (*analytics.DashboardMetrics, error) {
		return t.DashboardMetrics(ctx, *in)
	})
	addTool(s, srv, analytics.ToolCostBreakdown, readOnly, func(ctx context.Context, in *analytics.RangeInput) (*analytics.CostBreakdown, error) {
		return t.CostBreakdown(ctx, *in)
	})
	addTool(s, srv, analytics.ToolUserGrowth, readOnly, func(ctx context.Context, in *analytics.RangeInput) (*analytics.UserGrowth, error) {
		return t.UserGrowth(ctx, *in)
	})
	addTool(s, srv, analytics.ToolTopUsers, readOnly, func(ctx context.Context, in *analytics.TopUsersInput) (*analytics.TopUsers, error) {
		return t.TopUsers(ctx, *in)
	})
	addTool(s, srv, analytics.ToolExportAnalytics, readOnly, func(ctx context.Context, in *analytics.ExportInput) (*analytics.Export, error) {
		return t.ExportAnalytics(ctx, *in)
	})
	s.addPriceTools(srv)
	s.addBudgetTools(srv)
	s.addEngagementTools(srv)
	s.addEconomicsTools(srv)
}

func (s *Server) addIngestTools(srv *mcp.Server) {
	addTool(s, srv, analytics.ToolLogAPICall, logCall, s.logAPICall)
}

// addTool registers a tool whose every call goes through the guard:
// PreToolUse (authentication, permission, rate limit, validation — which
// also fills the input's defaults), the tool, PostToolUse (audit). The SDK
// has already checked the arguments against the input schema, and checks
// the result against the output schema before sending it as
// structuredContent.
func addTool[In, Out any](s *Server, srv *mcp.Server, name string, ann *mcp.ToolAnnotations, run func(context.Context, *In) (Out, error)) {
	tool := &mcp.Tool{
		Name: name, Title: titles[name], Description: Descriptions[name], Annotations: ann,
		InputSchema: SchemaFor[In](), OutputSchema: SchemaFor[Out](),
	}
	mcp.AddTool(srv, tool, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		out, err := guard.Run(ctx, s.cfg.Guard, s.call(req, name, &in), func(ctx context.Context) (Out, error) {
			return run(ctx, &in)
		})
		if err != nil {
			var zero Out
			return nil, zero, s.toolError(name, err)
		}
		return nil, out, nil
	})
}

// LogAPICallInput is one api_call event in the event contract's JSON form
// (POST /v1/events), without "type".
type LogAPICallInput struct {
	ID                       string   `json:"id" jsonschema:"the event id, its idempotency key: a retry with the same id is stored once"`
	Timestamp                string   `json:"timestamp,omitempty" jsonschema:"when the call was made, RFC 3339 with a time zone, e.g. 2026-01-02T15:04:05Z (default: now)"`
	UserID                   string   `json:"user_id,omitempty" jsonschema:"the end user the call was made for; empty for the platform's own calls"`
	Service                  string   `json:"service" jsonschema:"the paid API: anthropic, elevenlabs or s3"`
	Operation                string   `json:"operation" jsonschema:"what the platform did, e.g. story_generation, narration, audio_upload"`
	Model                    string   `json:"model,omitempty" jsonschema:"the model, e.g. claude-sonnet-4-5 or eleven_multilingual_v2 (required for anthropic and elevenlabs unless cost_cents is given); an unknown model is stored at zero cost and counted as unpriced"`
	InputTokens              int64    `json:"input_tokens,omitempty" jsonschema:"Anthropic: input tokens, excluding cache writes and reads"`
	OutputTokens             int64    `json:"output_tokens,omitempty" jsonschema:"Anthropic: output tokens"`
	CacheCreationInputTokens int64    `json:"cache_creation_input_tokens,omitempty" jsonschema:"Anthropic: tokens written to the prompt cache"`
	CacheReadInputTokens     int64    `json:"cache_read_input_tokens,omitempty" jsonschema:"Anthropic: tokens read from the prompt cache"`
	Characters               int64    `json:"characters,omitempty" jsonschema:"ElevenLabs: characters synthesized"`
	BytesTransferred         int64    `json:"bytes_transferred,omitempty" jsonschema:"S3: bytes transferred"`
	Requests                 int64    `json:"requests,omitempty" jsonschema:"S3: number of requests (default 1)"`
	StoryID                  string   `json:"story_id,omitempty" jsonschema:"the story the call was made for, if any"`
	Status                   string   `json:"status,omitempty" jsonschema:"ok (default) or error"`
	CostCents                *float64 `json:"cost_cents,omitempty" jsonschema:"the call's cost in US cents (up to 4 decimal places), when the caller knows it: it wins over the price catalog"`
}

// LogAPICallResult is what log_api_call did.
type LogAPICallResult struct {
	ID        string          `json:"id" jsonschema:"the event id"`
	Accepted  bool            `json:"accepted" jsonschema:"true when the event was stored now"`
	Duplicate bool            `json:"duplicate" jsonschema:"true when an event with this id was already stored: nothing changed"`
	Cost      analytics.Cents `json:"cost_cents" jsonschema:"the call's cost in US cents, as priced"`
	Priced    bool            `json:"priced" jsonschema:"false when the model is not in the price catalog (stored at zero cost, counted as unpriced)"`
}

// logAPICall decodes the input exactly as POST /v1/events decodes an event
// (so the same rules and messages apply), prices it and stores it.
func (s *Server) logAPICall(ctx context.Context, in *LogAPICallInput) (*LogAPICallResult, error) {
	raw, err := in.event(s.cfg.Now())
	if err != nil {
		return nil, err
	}
	e, _, err := s.cfg.Ingester.Decoder.DecodeEvent(raw)
	if err != nil {
		return nil, analytics.Errorf(analytics.KindInvalid, "%v", err)
	}
	if err := s.cfg.Ingester.Refresh(ctx); err != nil {
		return nil, err
	}
	s.cfg.Ingester.Price(&e)
	counts, err := s.cfg.Ingester.Store.IngestEvents(ctx, []analytics.Event{e})
	if err != nil {
		return nil, fmt.Errorf("store api_call: %w", err)
	}
	return &LogAPICallResult{ID: e.ID, Accepted: counts.Accepted == 1, Duplicate: counts.Duplicates == 1,
		Cost: analytics.Cents(e.Cost), Priced: e.Priced}, nil
}

// event renders the input as a raw api_call event.
func (in *LogAPICallInput) event(now time.Time) ([]byte, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	m["type"] = string(analytics.EventAPICall)
	if in.Timestamp == "" {
		m["timestamp"] = now.UTC().Format(time.RFC3339Nano)
	}
	if in.CostCents != nil {
		// A plain decimal, never an exponent, so that the decoder's exact
		// parser sees what the caller sent.
		m["cost_cents"] = json.Number(strconv.FormatFloat(*in.CostCents, 'f', -1, 64))
	}
	return json.Marshal(m)
}
