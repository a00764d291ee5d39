package guard

import analytics "github.com/codestory/analytics"

// The budget tools: every admin role reads, owners (MANAGE_BUDGETS) change.
func init() {
	for tool, perm := range map[string]analytics.Permission{
		analytics.ToolCreateBudget:    analytics.PermManageBudgets,
		analytics.ToolUpdateBudget:    analytics.PermManageBudgets,
		analytics.ToolDeleteBudget:    analytics.PermManageBudgets,
		analytics.ToolListBudgets:     analytics.PermViewAnalytics,
		analytics.ToolGetBudget:       analytics.PermViewAnalytics,
		analytics.ToolGetBudgetStatus: analytics.PermViewAnalytics,
		analytics.ToolListAlerts:      analytics.PermViewAnalytics,
		analytics.ToolListAnomalies:   analytics.PermViewAnalytics,
	} {
		RequiredPermission[tool] = perm
	}
	for tool, action := range map[string]string{
		analytics.ToolCreateBudget:    "budget_created",
		analytics.ToolUpdateBudget:    "budget_updated",
		analytics.ToolDeleteBudget:    "budget_deleted",
		analytics.ToolListBudgets:     "budgets_viewed",
		analytics.ToolGetBudget:       "budget_viewed",
		analytics.ToolGetBudgetStatus: "budget_status_viewed",
		analytics.ToolListAlerts:      "alerts_viewed",
		analytics.ToolListAnomalies:   "anomalies_viewed",
	} {
		Actions[tool] = action
	}
}
