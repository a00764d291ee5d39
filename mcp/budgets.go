package mcpserver

import (
	"context"

	analytics "github.com/codestory/analytics"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func init() {
	Descriptions[analytics.ToolGetBudgetStatus] = "A budget's standing in its current calendar period: spend, percent of the cap, thresholds fired, forecast for the period's end (spend + mean daily spend of the last 7 complete days × days left) and the projected date of reaching 100%; for an each_user budget, the users at or over its lowest threshold. Needs VIEW_ANALYTICS."
	Descriptions[analytics.ToolListAlerts] = "List budget alerts and cost-anomaly notices, newest first, with each webhook delivery's state and attempts. Needs VIEW_ANALYTICS."
	Descriptions[analytics.ToolListAnomalies] = "List the days whose cost for a service was anomalous: above median + max(4 × 1.4826 × MAD, 20% of the median, $1.00) of the previous 28 days. Needs VIEW_ANALYTICS."
	titles[analytics.ToolGetBudgetStatus] = "Budget status"
	titles[analytics.ToolListAlerts] = "Budget alerts"
	titles[analytics.ToolListAnomalies] = "Cost anomalies"
}

// addBudgetTools registers the read-only budget tools; the guard decides
// who may call them, as for every tool.
func (s *Server) addBudgetTools(srv *mcp.Server) {
	t := s.cfg.Tools
	addTool(s, srv, analytics.ToolGetBudgetStatus, readOnly, func(ctx context.Context, in *analytics.BudgetIDInput) (*analytics.BudgetStatus, error) {
		return t.GetBudgetStatus(ctx, *in)
	})
	addTool(s, srv, analytics.ToolListAlerts, readOnly, func(ctx context.Context, in *analytics.AlertsInput) (*analytics.AlertList, error) {
		return t.ListAlerts(ctx, *in)
	})
	addTool(s, srv, analytics.ToolListAnomalies, readOnly, func(ctx context.Context, in *analytics.RangeInput) (*analytics.AnomalyList, error) {
		return t.ListAnomalies(ctx, *in)
	})
}
