package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/agent"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/httpapi"
)

// DefaultAskModel is the Claude model of the Ask agent unless --ask-model
// (ANALYTICS_ASK_MODEL) says otherwise.
const DefaultAskModel = agent.DefaultModel

// MaxQuestionLength bounds a question, in characters.
const MaxQuestionLength = 2000

// errAskNotConfigured is the answer of POST /admin/analytics/ask without a key.
var errAskNotConfigured = analytics.Errorf(analytics.KindUnavailable, "Ask is not configured: set ANTHROPIC_API_KEY")

// The Ask door: POST /admin/analytics/ask.
func init() {
	extraRoutes = append(extraRoutes, func(a *app) []httpapi.Route {
		return []httpapi.Route{{Method: "POST", Pattern: "/admin/analytics/ask", Handler: a.askHandler(a.askSettings())}}
	})
}

// askSettings configure the Ask agent.
type askSettings struct {
	apiKey  string // ANTHROPIC_API_KEY; empty: Ask is not configured
	baseURL string // ANTHROPIC_BASE_URL, e.g. a proxy (tests: a local fake)
	model   string // --ask-model / ANALYTICS_ASK_MODEL
}

// askSettings reads the Ask configuration: the key and base URL from the
// environment, the model from --ask-model.
func (a *app) askSettings() askSettings {
	getenv := a.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	s := askSettingsFrom(getenv)
	if a.askModel != "" {
		s.model = a.askModel
	}
	return s
}

func askSettingsFrom(getenv func(string) string) askSettings {
	s := askSettings{apiKey: strings.TrimSpace(getenv("ANTHROPIC_API_KEY")), baseURL: getenv("ANTHROPIC_BASE_URL"),
		model: getenv("ANALYTICS_ASK_MODEL")}
	if s.model == "" {
		s.model = DefaultAskModel
	}
	return s
}

// askHandler answers a question with the agent, as the admin who asked,
// streaming server-sent events (progress, tool, answer, error); a client
// that accepts only application/json gets the final result as one object.
func (a *app) askHandler(s askSettings) http.Handler {
	var client *anthropic.Client
	if s.apiKey != "" {
		opts := []option.RequestOption{option.WithoutEnvironmentDefaults(), option.WithAPIKey(s.apiKey)}
		if s.baseURL != "" {
			opts = append(opts, option.WithBaseURL(s.baseURL))
		}
		c := anthropic.NewClient(opts...)
		client = &c
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Bearer token, or session cookie plus X-CSRF-Token on this POST.
		p, _, err := httpapi.PrincipalOf(a.auth, r)
		if err != nil {
			a.askError(w, r, err)
			return
		}
		if p.IsIngest() {
			a.askError(w, r, analytics.Errorf(analytics.KindForbidden, "an ingest key cannot read analytics; use an admin token"))
			return
		}
		if !p.Can(analytics.PermViewAnalytics) {
			a.askError(w, r, analytics.Errorf(analytics.KindForbidden, "Permission denied: Ask requires %s", analytics.PermViewAnalytics))
			return
		}
		if client == nil {
			a.askError(w, r, errAskNotConfigured)
			return
		}
		question, err := readQuestion(w, r)
		if err != nil {
			a.askError(w, r, err)
			return
		}
		session := "agent-" + auth.NewSecret("")[:16]
		// The question itself passes the guard before any Claude call: it
		// counts against the admin's 30/min budget, and the daily Ask spend
		// cap is checked (askspend.go).
		if err := a.guard.Pre(r.Context(), guard.Call{Tool: analytics.ToolAsk, Door: analytics.DoorAgent, Principal: p,
			SessionID: session, IP: remoteIP(r)}); err != nil {
			a.askError(w, r, err)
			return
		}
		cfg := agent.Config{Client: *client, Model: s.model, Guard: a.guard, Tools: a.tools, Principal: p,
			SessionID: session, IP: remoteIP(r), Log: a.log, Record: a.recordAskUsage(session, p), BeforeCall: a.askBudgetBetweenTurns(p)}
		if jsonOnly(r) {
			res, err := agent.Run(r.Context(), cfg, question, nil)
			a.auditAsk(r, p, question, res, err)
			if err != nil {
				writeAskJSON(w, httpapi.StatusFor(analytics.ErrorKind(err)), map[string]any{"error": analytics.ErrorMessage(err), "result": res})
				return
			}
			writeAskJSON(w, http.StatusOK, res)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		emit := func(ev agent.Event) {
			b, err := json.Marshal(ev)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Kind, b)
			_ = rc.Flush()
		}
		res, err := agent.Run(r.Context(), cfg, question, emit)
		a.auditAsk(r, p, question, res, err)
	})
}

// readQuestion reads {"question": "..."}.
func readQuestion(w http.ResponseWriter, r *http.Request) (string, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return "", analytics.Errorf(analytics.KindInvalid, "send {\"question\": \"...\"} as application/json")
		}
	}
	var body struct {
		Question string `json:"question"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return "", analytics.Errorf(analytics.KindInvalid, "body must be JSON {\"question\": \"...\"}")
	}
	q := strings.TrimSpace(body.Question)
	switch {
	case q == "":
		return "", analytics.Errorf(analytics.KindInvalid, "question is required")
	case utf8.RuneCountInString(q) > MaxQuestionLength:
		return "", analytics.Errorf(analytics.KindInvalid, "question is longer than %d characters", MaxQuestionLength)
	}
	return q, nil
}

// recordAskUsage stores each Claude call of the agent as an api_call event
// (service anthropic, operation analytics_ask, no user), priced by the
// catalog like any other: the product measures its own cost.
func (a *app) recordAskUsage(session string, p *analytics.Principal) func(context.Context, agent.Usage) {
	return func(ctx context.Context, u agent.Usage) {
		raw := u.RawEvent(fmt.Sprintf("%s-turn-%d", session, u.Turn))
		res, err := a.ingester.Ingest(ctx, []json.RawMessage{raw})
		switch {
		case err != nil:
			a.log.Error("Ask: recording Claude usage failed", "session", session, "err", err)
		case len(res.Rejected) > 0:
			a.log.Error("Ask: Claude usage event rejected", "session", session, "reason", res.Rejected[0].Error)
		case res.Accepted == 1:
			a.addAskSpend(ctx, p, raw) // askspend.go
		}
	}
}

// auditAsk records the question itself (its tool calls are audited by the
// guard, each with door agent and the same session id).
func (a *app) auditAsk(r *http.Request, p *analytics.Principal, question string, res agent.Result, runErr error) {
	tools := make([]string, len(res.ToolCalls))
	for i, tc := range res.ToolCalls {
		tools[i] = tc.Tool
	}
	d := map[string]any{"question": question, "session_id": res.SessionID, "model": res.Model, "turns": res.Turns,
		"tools": tools, "input_tokens": res.Usage.InputTokens, "output_tokens": res.Usage.OutputTokens, "ip_address": remoteIP(r)}
	if p.Via != "" {
		d["auth"] = p.Via
	}
	if runErr != nil {
		d["error"] = analytics.ErrorMessage(runErr)
	}
	if _, err := a.audit.Append(context.WithoutCancel(r.Context()), analytics.AuditEntry{AdminID: p.AdminID(), AdminEmail: p.Email(),
		Door: analytics.DoorAgent, Action: "analytics_asked", Outcome: analytics.OutcomeAllowed, Details: audit.Details(d)}); err != nil {
		a.log.Error("audit write failed", "action", "analytics_asked", "err", err)
	}
}

// askError answers like the REST door: {"error": reason} with the kind's status.
func (a *app) askError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpapi.StatusFor(analytics.ErrorKind(err))
	if status >= 500 && !errors.Is(err, errAskNotConfigured) {
		a.log.ErrorContext(r.Context(), "ask failed", slog.Any("err", err))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codestory-analytics"`)
	}
	var de *guard.DeniedError
	if errors.As(err, &de) && de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(de.RetryAfter.Seconds())))
	}
	writeAskJSON(w, status, map[string]string{"error": analytics.ErrorMessage(err)})
}

func writeAskJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonOnly reports whether the client accepts JSON but not an event stream.
func jsonOnly(r *http.Request) bool {
	acc := r.Header.Get("Accept")
	return strings.Contains(acc, "application/json") && !strings.Contains(acc, "text/event-stream")
}

func remoteIP(r *http.Request) string { return httpapi.ClientIP(r) }
