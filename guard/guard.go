// Package guard is the seed's hooks made first-class and shared by every
// front door (REST, MCP, the Ask agent). Hooks are named and matched as the
// Claude Agent SDK names and matches them:
//
//   - PreToolUse: authenticate, authorize, rate limit, validate; the first
//     deny wins and is audited.
//   - PostToolUse: write the audit entry of an allowed call.
//   - Stop: when a session (HTTP request, MCP session, agent run) ends, drop
//     its per-session state.
package guard

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	analytics "github.com/codestory/analytics"
)

// ToolPrefix is how the SDK names the tools of the MCP server "analytics".
const ToolPrefix = "mcp__analytics__"

// ToolName is the SDK's full name of a tool.
func ToolName(short string) string { return ToolPrefix + short }

// Hook events.
const (
	EventPreToolUse  = "PreToolUse"
	EventPostToolUse = "PostToolUse"
	EventStop        = "Stop"
)

// HookInput is what a hook sees.
type HookInput struct {
	HookEventName string
	ToolName      string // full name, mcp__analytics__<tool>
	ToolInput     any    // a pointer to the tool's input struct; hooks may normalize it
	ToolResponse  any    // PostToolUse: the tool's result
	ToolError     error  // PostToolUse: the tool's error, if any
	SessionID     string
	Door          analytics.Door
	Principal     *analytics.Principal // nil when authentication failed
	AuthError     error                // why there is no principal
	IP            string
}

// Decision is a hook's verdict. A nil *Decision means "no objection".
type Decision struct {
	Deny       bool
	Reason     string
	Kind       analytics.Kind
	RetryAfter time.Duration
}

// Deny builds a denial.
func Deny(kind analytics.Kind, reason string) *Decision {
	return &Decision{Deny: true, Kind: kind, Reason: reason}
}

// HookFunc is one hook. An error is an internal failure (it denies, with
// "internal error", and is logged by the caller).
type HookFunc func(ctx context.Context, in *HookInput) (*Decision, error)

// HookMatcher runs Hooks for tools whose name matches Matcher: "" or "*"
// matches every tool; a plain name or a |-list of plain names matches those
// names exactly; anything else is a regular expression that must match the
// whole name.
type HookMatcher struct {
	Matcher string
	Hooks   []HookFunc

	once sync.Once
	re   *regexp.Regexp
	err  error
}

var plainNames = regexp.MustCompile(`^[A-Za-z0-9_\-]+(\|[A-Za-z0-9_\-]+)*$`)

// Matches reports whether the matcher selects tool.
func (m *HookMatcher) Matches(tool string) bool {
	if m.Matcher == "" || m.Matcher == "*" {
		return true
	}
	if plainNames.MatchString(m.Matcher) {
		for _, n := range strings.Split(m.Matcher, "|") {
			if n == tool {
				return true
			}
		}
		return false
	}
	m.once.Do(func() { m.re, m.err = regexp.Compile(`^(?:` + m.Matcher + `)$`) })
	return m.err == nil && m.re.MatchString(tool)
}

// DeniedError is a call the guard refused; it unwraps to an
// *analytics.Error carrying the kind and the seed's reason text.
type DeniedError struct {
	Err        *analytics.Error
	RetryAfter time.Duration
}

func (e *DeniedError) Error() string { return e.Err.Message }
func (e *DeniedError) Unwrap() error { return e.Err }

// Guard runs the hooks around every tool call.
type Guard struct {
	PreToolUse  []*HookMatcher
	PostToolUse []*HookMatcher
	Stop        []*HookMatcher

	// OnDecision, if set, observes every call's outcome (metrics).
	OnDecision func(tool string, door analytics.Door, outcome string)
	// Audit writes denials (allowed calls are audited by a PostToolUse hook).
	Audit func(ctx context.Context, in *HookInput, d *Decision) error

	sessions sync.Map // session id → *SessionState
}

// SessionState is per-session data a front door or hook keeps until Stop.
type SessionState struct {
	mu     sync.Mutex
	Values map[string]any
	Calls  int
}

// Session returns the state of a session, creating it.
func (g *Guard) Session(id string) *SessionState {
	v, _ := g.sessions.LoadOrStore(id, &SessionState{Values: map[string]any{}})
	return v.(*SessionState)
}

// HasSession reports whether a session has live state.
func (g *Guard) HasSession(id string) bool {
	_, ok := g.sessions.Load(id)
	return ok
}

// Call is one tool call as a front door presents it.
type Call struct {
	Tool      string // short name, e.g. get_dashboard_metrics
	Input     any    // pointer to the input struct
	Door      analytics.Door
	Principal *analytics.Principal
	AuthError error
	SessionID string
	IP        string
}

func (c Call) hookInput(event string) *HookInput {
	return &HookInput{HookEventName: event, ToolName: ToolName(c.Tool), ToolInput: c.Input, SessionID: c.SessionID,
		Door: c.Door, Principal: c.Principal, AuthError: c.AuthError, IP: c.IP}
}

func runHooks(ctx context.Context, ms []*HookMatcher, in *HookInput) (*Decision, error) {
	for _, m := range ms {
		if !m.Matches(in.ToolName) {
			continue
		}
		for _, h := range m.Hooks {
			d, err := h(ctx, in)
			if err != nil {
				return nil, err
			}
			if d != nil && d.Deny {
				return d, nil
			}
		}
	}
	return nil, nil
}

// Pre runs PreToolUse; a denial is audited and returned as *DeniedError.
func (g *Guard) Pre(ctx context.Context, c Call) error {
	in := c.hookInput(EventPreToolUse)
	d, err := runHooks(ctx, g.PreToolUse, in)
	if err != nil {
		d = &Decision{Deny: true, Kind: analytics.KindInternal, Reason: "internal error"}
		err = fmt.Errorf("PreToolUse %s: %w", c.Tool, err)
	}
	if d == nil {
		if c.SessionID != "" {
			st := g.Session(c.SessionID)
			st.mu.Lock()
			st.Calls++
			st.mu.Unlock()
		}
		return nil
	}
	if g.OnDecision != nil {
		g.OnDecision(c.Tool, c.Door, "denied")
	}
	if g.Audit != nil {
		if aerr := g.Audit(ctx, in, d); aerr != nil {
			err = errors.Join(err, fmt.Errorf("audit denial: %w", aerr))
		}
	}
	if err != nil {
		return err
	}
	return &DeniedError{Err: &analytics.Error{Kind: d.Kind, Message: d.Reason}, RetryAfter: d.RetryAfter}
}

// Post runs PostToolUse for a call that ran.
func (g *Guard) Post(ctx context.Context, c Call, result any, toolErr error) error {
	in := c.hookInput(EventPostToolUse)
	in.ToolResponse, in.ToolError = result, toolErr
	if g.OnDecision != nil {
		g.OnDecision(c.Tool, c.Door, "allowed")
	}
	_, err := runHooks(ctx, g.PostToolUse, in)
	return err
}

// End runs the Stop hooks for a session and drops its state.
func (g *Guard) End(ctx context.Context, sessionID string, door analytics.Door, p *analytics.Principal) error {
	in := &HookInput{HookEventName: EventStop, SessionID: sessionID, Door: door, Principal: p}
	_, err := runHooks(ctx, g.Stop, in)
	g.sessions.Delete(sessionID)
	return err
}

// Run guards one tool call: PreToolUse, the tool, PostToolUse. A failed
// audit write fails the call: an unaudited read must not happen silently.
func Run[T any](ctx context.Context, g *Guard, c Call, tool func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := g.Pre(ctx, c); err != nil {
		return zero, err
	}
	res, err := tool(ctx)
	if perr := g.Post(ctx, c, res, err); perr != nil {
		return zero, errors.Join(err, fmt.Errorf("PostToolUse %s: %w", c.Tool, perr))
	}
	return res, err
}
