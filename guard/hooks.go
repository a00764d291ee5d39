package guard

import (
	"context"
	"fmt"
	"math"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
)

// Config wires the default hooks.
type Config struct {
	Limiter  Limiter
	Audit    *audit.Log
	Now      func() time.Time
	Location func() *time.Location // the reporting zone, for default dates
	// PostHooks run after the audit hook for every tool (e.g. recording
	// session state in Redis).
	PostHooks []HookFunc
	// StopHooks run when a session ends, after the guard's own clean-up
	// (e.g. deleting the session's keys in Redis).
	StopHooks []HookFunc
}

// RequiredPermission is what each admin tool needs. log_api_call is absent:
// it takes the ingest scope and no admin may call it.
var RequiredPermission = map[string]analytics.Permission{
	analytics.ToolDashboardMetrics: analytics.PermViewAnalytics,
	analytics.ToolCostBreakdown:    analytics.PermViewAnalytics,
	analytics.ToolUserGrowth:       analytics.PermViewAnalytics,
	analytics.ToolTopUsers:         analytics.PermViewAnalytics,
	analytics.ToolExportAnalytics:  analytics.PermExportData,
	analytics.ToolListPrices:       analytics.PermViewAnalytics,
	analytics.ToolUpdatePrices:     analytics.PermManagePrices,
	analytics.ToolRemovePrice:      analytics.PermManagePrices,
	analytics.ToolReprice:          analytics.PermManagePrices,
	analytics.ToolVoidEvent:        analytics.PermManagePrices,
	analytics.ToolAuditLog:         analytics.PermViewAudit,
	analytics.ToolAsk:              analytics.PermViewAnalytics,
}

// Actions is the seed's audit action per tool.
var Actions = map[string]string{
	analytics.ToolDashboardMetrics: "analytics_dashboard_viewed",
	analytics.ToolCostBreakdown:    "analytics_costs_viewed",
	analytics.ToolUserGrowth:       "analytics_growth_viewed",
	analytics.ToolTopUsers:         "analytics_top_users_viewed",
	analytics.ToolExportAnalytics:  "analytics_data_exported",
	analytics.ToolLogAPICall:       "api_call_logged",
	analytics.ToolListPrices:       "prices_viewed",
	analytics.ToolUpdatePrices:     "prices_updated",
	analytics.ToolRemovePrice:      "price_removed",
	analytics.ToolReprice:          "prices_repriced",
	analytics.ToolVoidEvent:        "event_voided",
	analytics.ToolAuditLog:         "audit_log_viewed",
	analytics.ToolAsk:              "analytics_asked",
}

// Action is the audit action of a tool (analytics_<tool> when unknown).
func Action(tool string) string {
	if a, ok := Actions[tool]; ok {
		return a
	}
	return "analytics_" + tool
}

// New returns a guard with the default hooks: PreToolUse on every analytics
// tool (authenticate → authorize → rate limit → validate), PostToolUse audit
// on every tool, and Stop clean-up.
func New(c Config) *Guard {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = func() *time.Location { return time.UTC }
	}
	h := &hooks{Config: c}
	g := &Guard{
		PreToolUse: []*HookMatcher{{
			Matcher: ToolPrefix + ".*",
			Hooks:   []HookFunc{h.authenticate, h.authorize, h.rateLimit, h.validate},
		}},
		PostToolUse: []*HookMatcher{{Matcher: "*", Hooks: append([]HookFunc{h.auditCall}, c.PostHooks...)}},
		Stop:        []*HookMatcher{{Matcher: "*", Hooks: c.StopHooks}},
	}
	g.Audit = h.auditDenial
	return g
}

type hooks struct{ Config }

func short(tool string) string { return tool[len(ToolPrefix):] }

func (h *hooks) authenticate(_ context.Context, in *HookInput) (*Decision, error) {
	if in.Principal != nil {
		return nil, nil
	}
	reason := "Analytics access requires admin authentication"
	if in.AuthError != nil && analytics.ErrorKind(in.AuthError) == analytics.KindUnauthenticated {
		reason = analytics.ErrorMessage(in.AuthError)
	}
	return Deny(analytics.KindUnauthenticated, reason), nil
}

func (h *hooks) authorize(_ context.Context, in *HookInput) (*Decision, error) {
	tool := short(in.ToolName)
	if tool == analytics.ToolLogAPICall {
		if in.Principal.IsIngest() {
			return nil, nil
		}
		return Deny(analytics.KindForbidden, "log_api_call is internal: it needs an ingest key, not an admin credential"), nil
	}
	perm, ok := RequiredPermission[tool]
	if !ok {
		return Deny(analytics.KindNotFound, fmt.Sprintf("unknown tool %q", tool)), nil
	}
	if in.Principal.IsIngest() {
		return Deny(analytics.KindForbidden, "an ingest key cannot read analytics; use an admin token"), nil
	}
	if !in.Principal.Can(perm) {
		return Deny(analytics.KindForbidden, fmt.Sprintf("Permission denied: %s requires %s (your role: %s)", tool, perm, in.Principal.Admin.Role)), nil
	}
	return nil, nil
}

// RateKey is the limiter key of an admin: one budget across every tool and door.
func RateKey(adminID int64) string { return fmt.Sprintf("analytics_rate:%d", adminID) }

func (h *hooks) rateLimit(ctx context.Context, in *HookInput) (*Decision, error) {
	if in.Principal.Admin == nil || h.Limiter == nil {
		return nil, nil // ingest keys are not admins; their volume is bounded by batch limits
	}
	res, err := h.Limiter.Allow(ctx, RateKey(in.Principal.Admin.ID))
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	if !res.Allowed {
		msg := analytics.ErrRateLimited.Message
		if l, ok := h.Limiter.(Limited); ok {
			msg = l.Limit().Message()
		}
		d := Deny(analytics.KindRateLimited, msg)
		d.RetryAfter = time.Duration(math.Ceil(res.RetryAfter.Seconds())) * time.Second
		return d, nil
	}
	return nil, nil
}

// Normalizer is an input that fills its defaults.
type Normalizer interface {
	Normalize(now time.Time, loc *time.Location)
}

// rangeValidator is a range input with checks of its own (the unit-economics
// inputs).
type rangeValidator interface {
	Range() (analytics.Range, error)
	Validate() error
}

func (h *hooks) validate(_ context.Context, in *HookInput) (*Decision, error) {
	if n, ok := in.ToolInput.(Normalizer); ok {
		n.Normalize(h.Now(), h.Location())
	}
	var err error
	switch v := in.ToolInput.(type) {
	case *analytics.RangeInput:
		_, err = v.Range()
	case *analytics.TopUsersInput:
		if _, err = v.Range(); err == nil {
			err = v.Validate()
		}
	case *analytics.ExportInput:
		if _, err = v.Range(); err == nil {
			err = v.Validate()
		}
	case *analytics.AuditLogInput:
		_, err = v.Filter()
	case rangeValidator:
		if _, err = v.Range(); err == nil {
			err = v.Validate()
		}
	}
	if err != nil {
		return Deny(analytics.KindInvalid, analytics.ErrorMessage(err)), nil
	}
	return nil, nil
}

// details builds the seed's audit details for a call.
func details(in *HookInput) map[string]any {
	tool := short(in.ToolName)
	d := map[string]any{"tool": tool}
	if in.IP != "" {
		d["ip_address"] = in.IP
	}
	if in.SessionID != "" {
		d["session_id"] = in.SessionID
	}
	var rng *analytics.RangeInput
	switch v := in.ToolInput.(type) {
	case *analytics.RangeInput:
		rng = v
	case *analytics.TopUsersInput:
		rng = &v.RangeInput
		d["limit"], d["sort_by"] = v.Limit, v.SortBy
	case *analytics.ExportInput:
		rng = &v.RangeInput
		d["export_format"] = v.Format
		if v.Table != "" && v.Table != analytics.ExportDaily {
			d["export_table"] = v.Table
		}
	}
	if rng != nil && (rng.StartDate != "" || rng.EndDate != "") {
		d["date_range"] = map[string]string{"start": rng.StartDate, "end": rng.EndDate}
	}
	if tool == analytics.ToolExportAnalytics {
		d["alert"] = "DATA_EXPORT"
	}
	if in.Principal != nil && in.Principal.Via != "" {
		d["auth"] = in.Principal.Via
	}
	if dt, ok := in.ToolInput.(AuditDetailer); ok {
		for k, v := range dt.AuditDetails() {
			d[k] = v
		}
	}
	return d
}

func (h *hooks) entry(in *HookInput, outcome, reason string, extra map[string]any) analytics.AuditEntry {
	d := details(in)
	for k, v := range extra {
		d[k] = v
	}
	return analytics.AuditEntry{
		AdminID: in.Principal.AdminID(), AdminEmail: in.Principal.Email(), Door: in.Door,
		Action: Action(short(in.ToolName)), Outcome: outcome, Reason: reason, Details: audit.Details(d),
	}
}

func (h *hooks) auditCall(ctx context.Context, in *HookInput) (*Decision, error) {
	if h.Audit == nil {
		return nil, nil
	}
	var extra map[string]any
	if in.ToolError != nil {
		extra = map[string]any{"error": analytics.ErrorMessage(in.ToolError)}
	} else if s, ok := in.ToolResponse.(analytics.AuditSummarizer); ok {
		extra = s.AuditSummary()
	}
	_, err := h.Audit.Append(ctx, h.entry(in, analytics.OutcomeAllowed, "", extra))
	return nil, err
}

func (h *hooks) auditDenial(ctx context.Context, in *HookInput, d *Decision) error {
	if h.Audit == nil {
		return nil
	}
	_, err := h.Audit.Append(ctx, h.entry(in, analytics.OutcomeDenied, d.Reason, nil))
	return err
}
