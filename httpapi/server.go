// Package httpapi is the HTTP front door: event ingest, the guarded admin
// analytics endpoints, the dashboard's assets, health and metrics. Handlers
// are thin adapters: parse, call the guard and a tool, write JSON.
package httpapi

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/access"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/metrics"
)

// Deps are everything the server needs; all of it is passed in explicitly.
type Deps struct {
	Store      analytics.Store
	Admins     analytics.AdminStore
	AuditStore analytics.AuditStore
	Audit      *audit.Log
	Auth       *auth.Authenticator
	Guard      *guard.Guard
	Ingester   *analytics.Ingester
	Tools      *analytics.Tools
	Metrics    *metrics.Metrics
	Log        *slog.Logger
	Now        func() time.Time
	// Assets is the built dashboard (index.html and static files); nil
	// serves no dashboard.
	Assets fs.FS
	// Ready reports extra dependencies for /readyz (e.g. "redis").
	Ready map[string]func(ctx context.Context) error
	// Extra routes added by other front doors (e.g. /mcp, /admin/analytics/ask).
	Extra []Route
	// MaxBodyBytes caps a request body to /v1/events (default 32 MiB).
	MaxBodyBytes int64
	// Access runs the owners' credential-lifecycle tools.
	Access *access.Service
	// Login checks passwords behind the device-cookie throttle; nil: one
	// counting in process, with device cookies in Admins.
	Login *auth.LoginGate
	// TrustedProxies may set X-Forwarded-For (--trusted-proxies).
	TrustedProxies []netip.Prefix
}

// Server is the HTTP handler of codestory-analytics.
type Server struct {
	Deps
	log *slog.Logger
	mux *http.ServeMux
}

// DefaultMaxBodyBytes is the body limit of POST /v1/events.
const DefaultMaxBodyBytes = 32 << 20

// NewServer builds the handler.
func NewServer(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if d.Login == nil {
		d.Login = &auth.LoginGate{Auth: d.Auth, Counter: &auth.MemoryCounter{}, Now: d.Now}
		d.Login.Devices, _ = d.Admins.(auth.DeviceStore)
	}
	s := &Server{Deps: d, log: d.Log, mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP serves every route. Every response is marked no-store (API
// answers carry private figures; the dashboard's hashed assets override
// it with their own long caching) and nosniff.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(&noStoreWriter{ResponseWriter: w}, s.withClientIP(r))
}
