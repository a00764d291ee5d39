package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
)

// SessionCookie is the dashboard's session cookie.
const SessionCookie = "codestory_session"

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

func clientIP(r *http.Request) string { return ClientIP(r) }

func (s *Server) principal(r *http.Request) (*analytics.Principal, *analytics.Session, error) {
	return PrincipalOf(s.Auth, r)
}

// PrincipalOf resolves the caller of r as every HTTP door does: a bearer
// credential, else the session cookie. For a cookie on a state-changing
// request the CSRF header must match the session's token.
func PrincipalOf(a *auth.Authenticator, r *http.Request) (*analytics.Principal, *analytics.Session, error) {
	if tok := bearer(r); tok != "" {
		p, err := a.Bearer(r.Context(), tok)
		return p, nil, err
	}
	if r.Header.Get("Authorization") != "" {
		return nil, nil, analytics.Errorf(analytics.KindUnauthenticated, "Authorization header must be 'Bearer <token>'")
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil, auth.ErrNoCredentials
	}
	p, se, err := a.Session(r.Context(), c.Value)
	if err != nil {
		return nil, nil, err
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(se.CSRFToken)) != 1 {
			return nil, nil, analytics.Errorf(analytics.KindForbidden, "missing or wrong %s header (cross-site request refused)", CSRFHeader)
		}
	}
	return p, &se, nil
}

// call builds the guard call of a request. Each REST request is its own
// session: the guard's Stop runs when the request ends.
func (s *Server) call(r *http.Request, tool string, input any) guard.Call {
	p, _, err := s.principal(r)
	return guard.Call{Tool: tool, Input: input, Door: analytics.DoorREST, Principal: p, AuthError: err,
		SessionID: "rest-" + auth.NewSecret("")[:16], IP: clientIP(r)}
}

// runTool guards and runs a tool for a request, ending its session after.
func runTool[T any](s *Server, r *http.Request, c guard.Call, tool func(context.Context) (T, error)) (T, error) {
	defer func() {
		if err := s.Guard.End(context.WithoutCancel(r.Context()), c.SessionID, c.Door, c.Principal); err != nil {
			s.log.Warn("Stop hook failed", "err", err)
		}
	}()
	return guard.Run(r.Context(), s.Guard, c, tool)
}

// writeToolError writes a denial or tool failure, with Retry-After on 429.
func (s *Server) writeToolError(w http.ResponseWriter, r *http.Request, err error) {
	var de *guard.DeniedError
	if errors.As(err, &de) && de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(de.RetryAfter.Seconds())))
	}
	s.writeError(w, r, err)
}

func rangeInput(r *http.Request) analytics.RangeInput {
	q := r.URL.Query()
	return analytics.RangeInput{StartDate: q.Get("start_date"), EndDate: q.Get("end_date")}
}

// rangeTool adapts a range tool: parse → guard → tool → JSON.
func rangeTool[T any](s *Server, name string, tool func(context.Context, analytics.RangeInput) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := rangeInput(r)
		serveTool(s, w, r, name, &in, func(ctx context.Context) (T, error) { return tool(ctx, in) })
	})
}

// intParam parses an optional integer query parameter (nil when absent);
// the tool validates its range, so every door refuses the same values.
func intParam(r *http.Request, name string) (*int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, analytics.Errorf(analytics.KindInvalid, "%s must be an integer (got %q)", name, v)
	}
	return &n, nil
}

func (s *Server) handleTopUsers(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := analytics.TopUsersInput{RangeInput: rangeInput(r), Limit: limit, SortBy: r.URL.Query().Get("sort_by")}
	res, err := runTool(s, r, s.call(r, analytics.ToolTopUsers, &in), func(ctx context.Context) (*analytics.TopUsers, error) {
		return s.Tools.TopUsers(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res.Users) // the seed's bare list
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := analytics.ExportInput{RangeInput: rangeInput(r), Format: q.Get("format"), Table: q.Get("table"), Period: q.Get("period")}
	if in.Table != "" && in.Table != analytics.ExportDaily {
		s.exportTable(w, r, in)
		return
	}
	type export struct {
		rng  analytics.Range
		rows []analytics.ExportRow
	}
	res, err := runTool(s, r, s.call(r, analytics.ToolExportAnalytics, &in), func(ctx context.Context) (export, error) {
		rng, rows, err := s.Tools.ExportRows(ctx, in)
		return export{rng: rng, rows: rows}, err
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	if in.Format == "json" {
		writeJSON(w, http.StatusOK, analytics.Export{Format: "json", Data: res.rows})
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, analytics.ExportFilename(res.rng, "csv")))
	if err := analytics.WriteExportCSV(w, res.rows); err != nil {
		s.log.Warn("export stream failed", "err", err)
	}
}

// exportTable streams a users, stories or cohorts export inside the guarded
// call, so its audit entry says whether the whole table went out. A failure
// before the first bytes is answered as an error; one after them (or a
// failed audit write once the table is out) aborts the connection, so the
// client never holds a truncated file that looks complete.
func (s *Server) exportTable(w http.ResponseWriter, r *http.Request, in analytics.ExportInput) {
	out := &attachment{w: w}
	_, err := runTool(s, r, s.call(r, analytics.ToolExportAnalytics, &in), func(ctx context.Context) (*analytics.TableExport, error) {
		tab, err := s.Tools.ExportTable(ctx, in)
		if err != nil {
			return nil, err
		}
		if in.Format == "json" {
			out.contentType = "application/json"
			return tab, tab.WriteJSON(ctx, out)
		}
		out.contentType, out.filename = "text/csv; charset=utf-8", tab.Filename("csv")
		return tab, tab.WriteCSV(ctx, out)
	})
	if err == nil {
		return
	}
	if !out.started {
		s.writeToolError(w, r, err)
		return
	}
	s.log.ErrorContext(r.Context(), "export aborted after its first bytes", slog.String("table", in.Table), slog.Any("err", err))
	panic(http.ErrAbortHandler)
}

// attachment writes a 200's headers on its first write.
type attachment struct {
	w                     http.ResponseWriter
	contentType, filename string
	started               bool
}

func (a *attachment) Write(p []byte) (int, error) {
	if !a.started {
		a.started = true
		a.w.Header().Set("Content-Type", a.contentType)
		if a.filename != "" {
			a.w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, a.filename))
		}
		a.w.WriteHeader(http.StatusOK)
	}
	return a.w.Write(p)
}

// sessionInfo is the answer of /login and /api/session.
type sessionInfo struct {
	Email       string                 `json:"email"`
	Role        analytics.Role         `json:"role"`
	Permissions []analytics.Permission `json:"permissions"`
	CSRFToken   string                 `json:"csrf_token,omitempty"`
	ExpiresAt   *time.Time             `json:"expires_at,omitempty"`
	Via         string                 `json:"via"`
	// Today and TimeZone are the server's reporting day and zone: the
	// dashboard computes its ranges from them, not from the browser's clock.
	Today    analytics.Day `json:"today"`
	TimeZone string        `json:"timezone"`
}

func info(p *analytics.Principal, se *analytics.Session) sessionInfo {
	si := sessionInfo{Email: p.Admin.Email, Role: p.Admin.Role, Permissions: p.Admin.Role.Permissions(), Via: p.Via}
	if se != nil {
		si.CSRFToken = se.CSRFToken
		exp := se.ExpiresAt
		si.ExpiresAt = &exp
	}
	return si
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	p, se, err := s.principal(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.Admin == nil {
		s.writeError(w, r, analytics.Errorf(analytics.KindForbidden, "an ingest key has no admin session"))
		return
	}
	writeJSON(w, http.StatusOK, s.withClock(info(p, se)))
}

// withClock adds the server's today and reporting zone.
func (s *Server) withClock(si sessionInfo) sessionInfo {
	loc := s.Store.Location()
	si.Today, si.TimeZone = analytics.DayOf(s.Now(), loc), loc.String()
	return si
}

// auditEvent records an account event (login, logout, tokens).
func (s *Server) auditEvent(r *http.Request, adminID *int64, email, action, outcome, reason string, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	details["ip_address"] = clientIP(r)
	if _, err := s.Audit.Append(context.WithoutCancel(r.Context()), analytics.AuditEntry{AdminID: adminID, AdminEmail: email,
		Door: analytics.DoorREST, Action: action, Outcome: outcome, Reason: reason, Details: audit.Details(details)}); err != nil {
		s.log.Error("audit write failed", "action", action, "err", err)
	}
}

func isJSON(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/json")
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	// A JSON body cannot be sent cross-site without a CORS preflight, which
	// this server never grants: that is the login form's CSRF defence.
	if !isJSON(r) {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send {\"email\", \"password\"} as application/json"})
		return
	}
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		s.writeError(w, r, analytics.Errorf(analytics.KindInvalid, "body must be JSON {\"email\", \"password\"}"))
		return
	}
	email := strings.ToLower(strings.TrimSpace(body.Email))
	if email == "" || body.Password == "" {
		s.writeError(w, r, analytics.Errorf(analytics.KindInvalid, "email and password are required"))
		return
	}
	var device string
	if c, err := r.Cookie(DeviceCookie); err == nil {
		device = c.Value
	}
	res, err := s.Login.Login(r.Context(), auth.LoginAttempt{Email: email, Password: body.Password, Address: clientIP(r), Device: device})
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		secs := int(te.Wait.Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		reason := "throttled"
		if te.Flood {
			reason = "throttled: account flood"
		}
		s.auditEvent(r, nil, email, "login_failed", analytics.OutcomeDenied, reason, map[string]any{"device_cookie": device != ""})
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": te.Error()})
		return
	}
	if err != nil {
		if analytics.ErrorKind(err) == analytics.KindUnauthenticated {
			s.auditEvent(r, nil, email, "login_failed", analytics.OutcomeDenied, err.Error(), nil)
		}
		s.writeError(w, r, err)
		return
	}
	adm := res.Admin
	if res.Device != "" {
		setDeviceCookie(w, r, res.Device)
	}
	cookie, se, err := s.Auth.NewSession(r.Context(), adm)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		Expires: se.ExpiresAt})
	id := adm.ID
	s.auditEvent(r, &id, adm.Email, "login_succeeded", analytics.OutcomeAllowed, "", nil)
	writeJSON(w, http.StatusOK, s.withClock(info(&analytics.Principal{Admin: &adm, Via: "session"}, &se)))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil && p.Via == "session" {
		if err := s.Admins.DeleteSession(r.Context(), auth.HashSecret(c.Value)); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	s.auditEvent(r, p.AdminID(), p.Email(), "logout", analytics.OutcomeAllowed, "", nil)
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}

// MaxAuditPage is the largest page of /admin/audit.
const MaxAuditPage = analytics.MaxAuditPage

// handleAudit is get_audit_log: guarded like every tool (VIEW_AUDIT, the
// shared rate limit, validation, audit), paged by the before/next_before
// cursor, each page bounded in entries and bytes.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := analytics.AuditLogInput{Admin: q.Get("admin"), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until")}
	// Bad numbers are left for the guard's validation, which runs after
	// authentication and authorization (-1 is out of range for both).
	if v := q.Get("limit"); v != "" {
		in.Limit = -1
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			in.Limit = n
		}
	}
	if v := q.Get("before"); v != "" {
		in.Before = -1
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 1 {
			in.Before = n
		}
	}
	tool := &analytics.AuditLog{Store: s.AuditStore}
	res, err := runTool(s, r, s.call(r, analytics.ToolAuditLog, &in), func(ctx context.Context) (*analytics.AuditLogPage, error) {
		return tool.GetAuditLog(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
