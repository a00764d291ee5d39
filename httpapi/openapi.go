package httpapi

import (
	"net/http"
	"strings"
)

// openAPIOps documents every operation, keyed by "METHOD pattern" as in
// Routes; a test fails when a route has no entry here.
var openAPIOps = map[string]map[string]any{
	"POST /v1/events": op("Ingest events", "ingest",
		"Body: {\"events\": [...]} (up to 10,000) or NDJSON with Content-Type application/x-ndjson, optionally with Content-Encoding: gzip (the decompressed size is bounded by the same limit: 413; other encodings: 415). Each event is validated alone; a bad one is rejected with its reason and its neighbours are stored. 200 means every accepted event is durably committed.",
		withBody("IngestRequest"), resp("200", "IngestResult"), errs("400", "401", "413", "415")),
	"GET /healthz":      op("Liveness", "ops", "Always 200 while the process serves.", resp("200", "")),
	"GET /readyz":       op("Readiness", "ops", "200 when the database (and Redis, when configured) answer; 503 otherwise.", resp("200", ""), errs("503")),
	"GET /openapi.json": op("This document", "ops", "", resp("200", "")),
	"GET /metrics":      op("Prometheus metrics", "ops", "", resp("200", "")),
	"POST /login": op("Log in to the dashboard", "session",
		"JSON {email, password}. Sets an HttpOnly, SameSite=Strict session cookie and a device cookie (codestory_device, Path=/login). Attempts are counted per account and address, per address and per account (429 with Retry-After); a browser holding a device cookie from an earlier login is counted on its own, so others' failures never lock it out.",
		withBody("Login"), resp("200", "Session"), errs("400", "401", "415", "429")),
	"POST /logout":     op("Log out", "session", "Needs the X-CSRF-Token header with a cookie session.", resp("200", ""), errs("401", "403")),
	"GET /api/session": op("Who am I", "session", "The caller's email, role, permissions and (for a cookie session) CSRF token.", resp("200", "Session"), errs("401")),
	"GET /admin/analytics/dashboard": op("get_dashboard_metrics", "analytics", "KPI totals and a zero-filled daily series. Needs VIEW_ANALYTICS.",
		rangeParams(), resp("200", "DashboardMetrics"), toolErrs()),
	"GET /admin/analytics/costs": op("get_cost_breakdown", "analytics", "Cost by service, by day, by model and by operation. Needs VIEW_ANALYTICS.",
		rangeParams(), resp("200", "CostBreakdown"), toolErrs()),
	"GET /admin/analytics/users/growth": op("get_user_growth", "analytics", "New, total, active and churned users. Needs VIEW_ANALYTICS.",
		rangeParams(), resp("200", "UserGrowth"), toolErrs()),
	"GET /admin/analytics/users/top": op("get_top_users", "analytics", "Top users by cost, stories or api_calls (ties by user id). Returns a bare list. Needs VIEW_ANALYTICS.",
		rangeParams(param("limit", "integer", "1 to 100, default 10"), param("sort_by", "string", "cost (default), stories or api_calls")),
		resp("200", "TopUserList"), toolErrs()),
	"GET /admin/analytics/export": op("export_analytics", "analytics", "CSV attachment analytics_<start>_<end>.csv (formula-injection safe) or JSON. Needs EXPORT_DATA; audited with alert DATA_EXPORT.",
		rangeParams(param("format", "string", "csv (default) or json"),
			param("table", "string", "daily (default), users (per-user P&L, biggest losers first), stories (most expensive first) or cohorts (one row per cohort and period); CSV analytics_<table>_<start>_<end>.csv for the last three"),
			param("period", "string", "table=cohorts: week (default) or month")), resp("200", "Export"), toolErrs()),
	"POST /admin/analytics/ask": op("Ask a question in plain language", "analytics",
		"JSON {question}. Runs a Claude tool-use loop over the guarded tools as the caller; streams server-sent events (progress, tool, answer, error). 503 when ANTHROPIC_API_KEY is not set.",
		withBody("Ask"), resp("200", ""), toolErrs("503")),
	"GET /admin/audit": op("get_audit_log", "audit", "The audit log, newest first; owners only (VIEW_AUDIT). A guarded tool like the analytics endpoints: it counts against the 30/min limit and is audited. Every stored field is bounded (256 bytes; original lengths in details.truncated); a page holds at most `limit` entries and 256 KiB, and next_before is the cursor of the next page.",
		params(param("admin", "string", "admin email"), param("action", "string", "e.g. analytics_data_exported"),
			param("since", "string", "RFC 3339, inclusive"), param("until", "string", "RFC 3339, exclusive"),
			param("limit", "integer", "1 to 500, default 50"), param("before", "integer", "entry id, for the next page")),
		resp("200", "AuditPage"), toolErrs()),
	"POST /mcp":            op("MCP (Streamable HTTP)", "mcp", "The MCP server \"analytics\" for AI agents; bearer admin token or ingest key.", resp("200", ""), errs("401")),
	"GET /mcp":             op("MCP (Streamable HTTP) event stream", "mcp", "", resp("200", ""), errs("401")),
	"DELETE /mcp":          op("MCP: end session", "mcp", "Runs the guard's Stop hook for the session.", resp("200", ""), errs("401")),
	"GET /admin/analytics": op("Dashboard", "dashboard", "The React dashboard (HTML).", resp("200", "")),
	"GET /login":           op("Login page", "dashboard", "", resp("200", "")),
	"GET /static/":         op("Dashboard assets", "dashboard", "", resp("200", "")),
	"GET /{$}":             op("Redirect to the dashboard", "dashboard", "", resp("302", "")),
}

type opt func(map[string]any)

func op(summary, tag, desc string, opts ...opt) map[string]any {
	m := map[string]any{"summary": summary, "tags": []string{tag}, "responses": map[string]any{}}
	if desc != "" {
		m["description"] = desc
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

func ref(schema string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + schema}
}

func resp(code, schema string) opt {
	return func(m map[string]any) {
		r := map[string]any{"description": http.StatusText(atoi(code))}
		if schema != "" {
			r["content"] = map[string]any{"application/json": map[string]any{"schema": ref(schema)}}
		}
		m["responses"].(map[string]any)[code] = r
	}
}

func errs(codes ...string) opt {
	return func(m map[string]any) {
		for _, c := range codes {
			m["responses"].(map[string]any)[c] = map[string]any{"description": http.StatusText(atoi(c)),
				"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
	}
}

func toolErrs(extra ...string) opt {
	return errs(append([]string{"400", "401", "403", "429"}, extra...)...)
}

func withBody(schema string) opt {
	return func(m map[string]any) {
		m["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(schema)}}}
	}
}

func param(name, typ, desc string) map[string]any {
	return map[string]any{"name": name, "in": "query", "required": false, "description": desc, "schema": map[string]any{"type": typ}}
}

func params(ps ...map[string]any) opt {
	return func(m map[string]any) { m["parameters"] = ps }
}

func rangeParams(extra ...map[string]any) opt {
	return params(append([]map[string]any{
		param("start_date", "string", "YYYY-MM-DD, default 30 days before end_date"),
		param("end_date", "string", "YYYY-MM-DD, default today in the reporting zone; end − start ≤ 365 days"),
	}, extra...)...)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func obj(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}

var (
	tInt  = map[string]any{"type": "integer"}
	tNum  = map[string]any{"type": "number"}
	tStr  = map[string]any{"type": "string"}
	tDate = map[string]any{"type": "string", "format": "date"}
)

func arr(items any) map[string]any { return map[string]any{"type": "array", "items": items} }

var openAPISchemas = map[string]any{
	"Error":         obj(map[string]any{"error": tStr}),
	"IngestRequest": obj(map[string]any{"events": arr(map[string]any{"type": "object", "description": "an event per DESIGN.md: id, type, timestamp, user_id and the type's fields"})}),
	"IngestResult": obj(map[string]any{"accepted": tInt, "duplicates": tInt,
		"rejected": arr(obj(map[string]any{"index": tInt, "id": tStr, "error": tStr}))}),
	"Login":   obj(map[string]any{"email": tStr, "password": tStr}),
	"Ask":     obj(map[string]any{"question": tStr}),
	"Session": obj(map[string]any{"email": tStr, "role": tStr, "permissions": arr(tStr), "csrf_token": tStr, "via": tStr, "today": tDate, "timezone": tStr}),
	"Period":  obj(map[string]any{"start": tDate, "end": tDate, "days": tInt, "timezone": tStr}),
	"DashboardMetrics": obj(map[string]any{
		"totals": obj(map[string]any{"new_users": tInt, "active_users": tInt, "churned_users": tInt, "stories_created": tInt,
			"stories_completed": tInt, "stories_failed": tInt, "total_chapters": tInt, "total_audio_minutes": tNum,
			"api_requests": tInt, "api_errors": tInt, "unpriced_calls": tInt, "total_cost_cents": tNum,
			"revenue_cents": tNum, "profit_margin": tNum}),
		"daily":  arr(obj(map[string]any{"date": tDate, "new_users": tInt, "active_users": tInt, "stories": tInt, "cost": tNum, "revenue": tNum})),
		"period": ref("Period"),
	}),
	"CostBreakdown": obj(map[string]any{"breakdown": map[string]any{"type": "object"},
		"daily":    arr(obj(map[string]any{"date": tDate, "anthropic": tNum, "elevenlabs": tNum, "s3": tNum})),
		"by_model": arr(map[string]any{"type": "object"}), "by_operation": arr(map[string]any{"type": "object"}),
		"unpriced_calls": tInt, "period": ref("Period")}),
	"UserGrowth": obj(map[string]any{"daily": arr(obj(map[string]any{"date": tDate, "new_users": tInt, "total_users": tInt, "active_users": tInt, "churned": tInt})),
		"growth_rate": tNum, "total_new": tInt, "total_churned": tInt, "users_before": tInt, "users_at_end": tInt, "active_users": tInt, "period": ref("Period")}),
	"TopUserList": arr(obj(map[string]any{"user_id": tStr, "email": map[string]any{"type": []string{"string", "null"}}, "stories": tInt,
		"api_calls": tInt, "audio_minutes": tNum, "cost_dollars": tNum})),
	"Export": obj(map[string]any{"format": tStr, "data": arr(map[string]any{"type": "object"})}),
	"AuditPage": obj(map[string]any{"entries": arr(obj(map[string]any{"id": tInt, "time": tStr, "admin_id": tInt, "admin_email": tStr,
		"door": tStr, "action": tStr, "outcome": tStr, "reason": tStr, "details": map[string]any{"type": "object"},
		"prev_hash": tStr, "hash": tStr, "mac": tStr})), "next_before": map[string]any{"type": []string{"integer", "null"}}}),
}

// OpenAPI builds the document for the registered routes.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, r := range s.Routes() {
		o, ok := openAPIOps[r.Method+" "+r.Pattern]
		if !ok {
			continue
		}
		p := strings.TrimSuffix(r.Pattern, "{$}")
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		item[strings.ToLower(r.Method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "CodeStory Analytics", "version": "1.0.0",
			"description": "What the CodeStory platform costs and earns. Money fields named *_cents are cents with up to 4 decimals; cost/revenue/*_dollars are dollars with up to 6 decimals (exact micro-dollars)."},
		"paths": paths,
		"components": map[string]any{
			"schemas": openAPISchemas,
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "admin API token (csa_…) or ingest key (csk_ingest_…)"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
		},
		"security": []any{map[string]any{"bearer": []string{}}, map[string]any{"session": []string{}}},
	}
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OpenAPI())
}
