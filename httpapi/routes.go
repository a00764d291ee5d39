package httpapi

import (
	"net/http"

	analytics "github.com/codestory/analytics"
)

// Route is one endpoint: method, path pattern and handler.
type Route struct {
	Method  string
	Pattern string
	Handler http.Handler
}

// Routes is the whole HTTP surface; /openapi.json is tested against it.
func (s *Server) Routes() []Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	rs := []Route{
		{"POST", "/v1/events", h(s.handleIngest)},
		{"POST", "/v1/traces", h(s.handleTraces)},
		{"GET", "/healthz", h(s.handleHealthz)},
		{"GET", "/readyz", h(s.handleReadyz)},
		{"GET", "/openapi.json", h(s.handleOpenAPI)},
		{"GET", "/metrics", s.Metrics.Handler()},

		{"POST", "/login", h(s.handleLogin)},
		{"POST", "/logout", h(s.handleLogout)},
		{"GET", "/api/session", h(s.handleSession)},

		{"GET", "/admin/analytics/dashboard", rangeTool(s, analytics.ToolDashboardMetrics, s.Tools.DashboardMetrics)},
		{"GET", "/admin/analytics/costs", rangeTool(s, analytics.ToolCostBreakdown, s.Tools.CostBreakdown)},
		{"GET", "/admin/analytics/users/growth", rangeTool(s, analytics.ToolUserGrowth, s.Tools.UserGrowth)},
		{"GET", "/admin/analytics/engagement", rangeTool(s, analytics.ToolEngagement, s.Tools.Engagement)},
		{"GET", "/admin/analytics/users/top", h(s.handleTopUsers)},
		{"GET", "/admin/analytics/export", h(s.handleExport)},
		{"GET", "/admin/audit", h(s.handleAudit)},
		{"GET", "/admin/prices", h(s.handleListPrices)},
		{"POST", "/admin/prices", h(s.handleUpdatePrices)},
		{"DELETE", "/admin/prices", h(s.handleRemovePrice)},
		{"POST", "/admin/prices/reprice", h(s.handleReprice)},

		{"GET", "/admin/analytics", h(s.handleIndex)},
		{"GET", "/login", h(s.handleIndex)},
		{"GET", "/static/", h(s.handleStatic)},
		{"GET", "/{$}", h(s.handleRoot)},
	}
	rs = append(rs, s.accessRoutes()...)
	rs = append(rs, s.budgetRoutes()...)
	rs = append(rs, s.economicsRoutes()...)
	return append(rs, s.Extra...)
}

func (s *Server) routes() {
	for _, r := range s.Routes() {
		s.mux.Handle(r.Method+" "+r.Pattern, r.Handler)
	}
}
