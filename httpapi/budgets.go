package httpapi

import (
	"context"
	"net/http"
	"strconv"

	analytics "github.com/codestory/analytics"
)

// budgetRoutes are the budget endpoints (issue 12).
func (s *Server) budgetRoutes() []Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []Route{
		{"POST", "/admin/budgets", h(s.handleCreateBudget)},
		{"GET", "/admin/budgets", h(s.handleListBudgets)},
		{"GET", "/admin/budgets/{id}", h(s.handleGetBudget)},
		{"PATCH", "/admin/budgets/{id}", h(s.handleUpdateBudget)},
		{"DELETE", "/admin/budgets/{id}", h(s.handleDeleteBudget)},
		{"GET", "/admin/budgets/{id}/status", h(s.handleBudgetStatus)},
		{"GET", "/admin/alerts", h(s.handleListAlerts)},
		{"GET", "/admin/anomalies", rangeTool(s, analytics.ToolListAnomalies, s.Tools.ListAnomalies)},
		{"GET", "/v1/budget-check", h(s.handleBudgetCheck)},
	}
}

// budgetID reads {id}; a malformed one becomes 0, which the tool refuses
// (after the guard has authenticated the caller).
func budgetID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

const budgetBody = `{"name", "scope", "scope_value", "period", "amount_dollars", "thresholds", "webhooks": [{"url", "format"}], "notify_anomalies"}`

func (s *Server) handleCreateBudget(w http.ResponseWriter, r *http.Request) {
	var in analytics.BudgetInput
	msg, err := decodeBody(w, r, &in, budgetBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.BodyError = msg
	res, err := runTool(s, r, s.call(r, analytics.ToolCreateBudget, &in), func(ctx context.Context) (*analytics.Budget, error) {
		return s.Tools.CreateBudget(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) handleListBudgets(w http.ResponseWriter, r *http.Request) {
	res, err := runTool(s, r, s.call(r, analytics.ToolListBudgets, &struct{}{}), s.Tools.ListBudgets)
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleGetBudget(w http.ResponseWriter, r *http.Request) {
	in := analytics.BudgetIDInput{ID: budgetID(r)}
	res, err := runTool(s, r, s.call(r, analytics.ToolGetBudget, &in), func(ctx context.Context) (*analytics.Budget, error) {
		return s.Tools.GetBudget(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleUpdateBudget(w http.ResponseWriter, r *http.Request) {
	var in analytics.BudgetInput
	msg, err := decodeBody(w, r, &in, budgetBody+" (each optional)")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.BodyError, in.ID = msg, budgetID(r)
	res, err := runTool(s, r, s.call(r, analytics.ToolUpdateBudget, &in), func(ctx context.Context) (*analytics.Budget, error) {
		return s.Tools.UpdateBudget(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleDeleteBudget(w http.ResponseWriter, r *http.Request) {
	in := analytics.BudgetIDInput{ID: budgetID(r)}
	if _, err := runTool(s, r, s.call(r, analytics.ToolDeleteBudget, &in), func(ctx context.Context) (*analytics.BudgetDeleted, error) {
		return s.Tools.DeleteBudget(ctx, in)
	}); err != nil {
		s.writeToolError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleBudgetStatus(w http.ResponseWriter, r *http.Request) {
	in := analytics.BudgetIDInput{ID: budgetID(r)}
	res, err := runTool(s, r, s.call(r, analytics.ToolGetBudgetStatus, &in), func(ctx context.Context) (*analytics.BudgetStatus, error) {
		return s.Tools.GetBudgetStatus(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	var in analytics.AlertsInput
	q := r.URL.Query()
	if v := q.Get("budget_id"); v != "" {
		in.BudgetID, _ = strconv.ParseInt(v, 10, 64)
		if in.BudgetID <= 0 {
			in.BudgetID = -1
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 {
			n = -1
		}
		in.Limit = n
	}
	res, err := runTool(s, r, s.call(r, analytics.ToolListAlerts, &in), func(ctx context.Context) (*analytics.AlertList, error) {
		return s.Tools.ListAlerts(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleBudgetCheck is the platform's gate: an ingest key asks whether a
// user may spend more. It is on the ingest side like /v1/events (no admin
// guard, no audit entry per call) and answers from memory or one indexed
// read.
func (s *Server) handleBudgetCheck(w http.ResponseWriter, r *http.Request) {
	if err := s.ingestKey(r, "GET /v1/budget-check"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Tools.Budgets == nil {
		s.writeError(w, r, analytics.Errorf(analytics.KindUnavailable, "this server has no budget store"))
		return
	}
	res, err := s.Tools.Budgets.Check(r.Context(), r.URL.Query().Get("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func init() {
	idParam := map[string]any{"name": "id", "in": "path", "required": true, "description": "budget id", "schema": tInt}
	ops := map[string]map[string]any{
		"POST /admin/budgets": op("create_budget", "budgets",
			"Create a budget. The answer (201) shows each webhook's signing secret (whsec_…) once. Webhook URLs that resolve to loopback, private or link-local addresses are refused unless serve runs with --allow-private-webhooks. Owners (MANAGE_BUDGETS).",
			withBody("BudgetRequest"), resp("201", "Budget"), toolErrs("413")),
		"GET /admin/budgets": op("list_budgets", "budgets", "Every budget (no secrets). Every admin role.",
			resp("200", "BudgetList"), errs("401", "403", "429")),
		"GET /admin/budgets/{id}": op("get_budget", "budgets", "One budget (no secrets). Every admin role.",
			params(idParam), resp("200", "Budget"), toolErrs("404")),
		"PATCH /admin/budgets/{id}": op("update_budget", "budgets",
			"Change name, amount_dollars, thresholds, webhooks (the list is replaced and the new secrets shown once) or notify_anomalies; scope, scope_value and period cannot change. Alerts already made stay made. Owners (MANAGE_BUDGETS).",
			params(idParam), withBody("BudgetRequest"), resp("200", "Budget"), toolErrs("404", "413")),
		"DELETE /admin/budgets/{id}": op("delete_budget", "budgets", "Delete a budget and its webhooks; its alert history stays. Owners (MANAGE_BUDGETS).",
			params(idParam), resp("204", ""), toolErrs("404")),
		"GET /admin/budgets/{id}/status": op("get_budget_status", "budgets",
			"Spend in the current period, percent, thresholds fired, forecast for the period's end (spend + mean daily spend of the last 7 complete days × days left) and the projected date of reaching 100%. For each_user, the users at or over the lowest threshold. Every admin role.",
			params(idParam), resp("200", "BudgetStatus"), toolErrs("404")),
		"GET /admin/alerts": op("list_alerts", "budgets", "Every alert, newest first, with its webhook deliveries, their state and attempts. Every admin role.",
			params(param("budget_id", "integer", "only this budget's alerts"), param("limit", "integer", "1 to 1000, default 100")),
			resp("200", "AlertList"), toolErrs()),
		"GET /admin/anomalies": op("list_anomalies", "budgets",
			"Anomalous days per service: cost above median + max(4 × 1.4826 × MAD, 20% of the median, $1.00) of the previous 28 days; and forecast, the current month's total spend projected to its end (spend + mean daily spend of the last 7 complete days × days left). Every admin role.",
			rangeParams(), resp("200", "AnomalyList"), toolErrs()),
		"GET /v1/budget-check": op("Budget gate", "ingest",
			"Bearer ingest key. allowed is false when any total, user or each_user budget covering user_id is at or over 100% in its current period.",
			params(param("user_id", "string", "the user about to spend")), resp("200", "BudgetCheck"), errs("400", "401", "403")),
	}
	for k, v := range ops {
		openAPIOps[k] = v
	}
	money := map[string]any{"type": "string", "description": "exact decimal dollars, e.g. \"500.00\""}
	hook := obj(map[string]any{"id": tInt, "url": tStr, "format": tStr, "secret": map[string]any{"type": "string", "description": "whsec_… (standard webhooks), only in the answer that created it"}})
	progress := map[string]any{"user_id": tStr, "spend_dollars": money, "percent": tNum, "remaining_dollars": money,
		"thresholds_fired": arr(tInt), "forecast_dollars": money, "projected_date": map[string]any{"type": []string{"string", "null"}, "format": "date"}}
	status := map[string]any{"budget": ref("Budget"), "period_start": tDate, "period_end": tDate, "today": tDate, "timezone": tStr,
		"users": arr(obj(progress))}
	for k, v := range progress {
		status[k] = v
	}
	budget := map[string]any{"id": tInt, "name": tStr, "scope": tStr, "scope_value": tStr, "period": tStr, "amount_dollars": money,
		"thresholds": arr(tInt), "webhooks": arr(hook), "notify_anomalies": map[string]any{"type": "boolean"}, "created_at": tStr, "updated_at": tStr}
	attempt := obj(map[string]any{"at": tStr, "status_code": tInt, "error": tStr, "duration_ms": tInt})
	delivery := obj(map[string]any{"id": tInt, "message_id": tStr, "url": tStr, "format": tStr, "state": tStr, "attempts": tInt,
		"next_attempt_at": tStr, "delivered_at": tStr, "last_error": tStr, "attempt_log": arr(attempt)})
	for k, v := range map[string]any{
		"BudgetRequest": obj(map[string]any{"name": tStr, "scope": tStr, "scope_value": tStr, "period": tStr, "amount_dollars": money,
			"thresholds": arr(tInt), "webhooks": arr(obj(map[string]any{"url": tStr, "format": tStr})), "notify_anomalies": map[string]any{"type": "boolean"}}),
		"Budget":       obj(budget),
		"BudgetList":   obj(map[string]any{"budgets": arr(ref("Budget"))}),
		"BudgetStatus": obj(status),
		"AlertList": obj(map[string]any{"alerts": arr(obj(map[string]any{"id": tInt, "key": tStr, "type": tStr, "budget_id": tInt,
			"budget_name": tStr, "user_id": tStr, "service": tStr, "period_start": tDate, "period_end": tDate, "threshold_percent": tInt,
			"body": map[string]any{"type": "object"}, "created_at": tStr, "deliveries": arr(delivery)}))}),
		"AnomalyList": obj(map[string]any{"period": ref("Period"), "anomalies": arr(obj(map[string]any{"service": tStr, "date": tDate,
			"cost_dollars": money, "baseline_dollars": money, "threshold_dollars": money})),
			"forecast": obj(map[string]any{"period_start": tDate, "period_end": tDate, "spend_dollars": money, "forecast_dollars": money})}),
		"BudgetCheck": obj(map[string]any{"allowed": map[string]any{"type": "boolean"}, "user_id": tStr,
			"budgets": arr(obj(map[string]any{"id": tInt, "name": tStr, "percent": tNum, "remaining_dollars": money}))}),
	} {
		openAPISchemas[k] = v
	}
}
