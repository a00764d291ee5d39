package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/httpapi"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Keys of the SDK's TokenInfo.Extra that carry the request's caller.
const (
	principalKey = "codestory.principal"
	ipKey        = "codestory.ip"
)

type principalCtxKey struct{}

// principalFromExtra returns the principal an HTTP request authenticated as,
// or nil (stdio, in-memory).
func principalFromExtra(x *mcp.RequestExtra) *analytics.Principal {
	if x == nil || x.TokenInfo == nil {
		return nil
	}
	p, _ := x.TokenInfo.Extra[principalKey].(*analytics.Principal)
	return p
}

// UserID identifies a credential's owner to the SDK, which refuses a
// session's requests from anyone but the one who opened it.
func UserID(p *analytics.Principal) string {
	switch {
	case p.IsIngest():
		return fmt.Sprintf("ingest-key:%d", p.IngestKey.ID)
	case p != nil && p.Admin != nil:
		return fmt.Sprintf("admin:%d", p.Admin.ID)
	}
	return ""
}

// Authenticate resolves a bearer token (an admin API token or an ingest key).
type Authenticate func(ctx context.Context, token string) (*analytics.Principal, error)

// HTTPHandler serves MCP over Streamable HTTP (POST, GET and DELETE /mcp).
// Every HTTP request must carry a bearer token, resolved before the SDK sees
// the request: a missing or bad one is answered 401 {"error": ...} with a
// WWW-Authenticate header, like every other endpoint. The principal rides
// to the tool handlers in the SDK's TokenInfo, and a session only accepts
// requests from the credential owner that opened it.
func (s *Server) HTTPHandler(authenticate Authenticate) http.Handler {
	timeout := s.cfg.SessionTimeout
	if timeout < 0 {
		timeout = 0
	}
	sdk := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		p, _ := r.Context().Value(principalCtxKey{}).(*analytics.Principal)
		return s.For(p)
	}, &mcp.StreamableHTTPOptions{Logger: s.cfg.Log, SessionTimeout: timeout})
	verify := func(ctx context.Context, _ string, r *http.Request) (*mcpauth.TokenInfo, error) {
		p, _ := r.Context().Value(principalCtxKey{}).(*analytics.Principal)
		if p == nil {
			return nil, mcpauth.ErrInvalidToken
		}
		return &mcpauth.TokenInfo{UserID: UserID(p), Extra: map[string]any{principalKey: p, ipKey: clientIP(r)}}, nil
	}
	inner := mcpauth.RequireBearerToken(verify, &mcpauth.RequireBearerTokenOptions{AllowMissingExpiration: true})(sdk)
	var hooked sync.Map // *http.Server → struct{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A client's standalone SSE stream (GET /mcp) stays open until the
		// session ends; when the HTTP server shuts down, end the sessions so
		// that Shutdown need not wait for its grace period.
		if hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
			if _, seen := hooked.LoadOrStore(hs, struct{}{}); !seen {
				hs.RegisterOnShutdown(func() { s.Close() })
			}
		}
		token := bearer(r)
		if token == "" {
			msg := "Analytics access requires admin authentication"
			if r.Header.Get("Authorization") != "" {
				msg = "Authorization header must be 'Bearer <token>'"
			}
			writeError(w, analytics.Errorf(analytics.KindUnauthenticated, "%s", msg))
			return
		}
		p, err := authenticate(r.Context(), token)
		if err != nil {
			if analytics.ErrorKind(err) == analytics.KindInternal {
				s.cfg.Log.Error("MCP authentication failed", "err", err)
			}
			writeError(w, err)
			return
		}
		if s.For(p) == nil {
			writeError(w, analytics.Errorf(analytics.KindUnauthenticated, "MCP needs an admin token or an ingest key"))
			return
		}
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalCtxKey{}, p)))
	})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func clientIP(r *http.Request) string { return httpapi.ClientIP(r) }

// writeError answers like the REST door: {"error": reason}, with the status
// of the error's kind and WWW-Authenticate on 401.
func writeError(w http.ResponseWriter, err error) {
	status := httpapi.StatusFor(analytics.ErrorKind(err))
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codestory-analytics"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": analytics.ErrorMessage(err)})
}
