package mcpserver

import (
	"context"

	analytics "github.com/codestory/analytics"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func init() {
	Descriptions[analytics.ToolUserEconomics] = "Get the per-user profit and loss for a date range: each user's revenue (payments − refunds), the cost of their API calls, margin, margin_pct (null without revenue), stories and cost per story, with a summary over every user (paying users, users losing money and their total loss). Users appear when they have an api_call, payment or refund in the range. Sorted by margin ascending by default (the biggest losers first); page with next_cursor. Needs VIEW_ANALYTICS."
	titles[analytics.ToolUserEconomics] = "Per-user P&L"
	Descriptions[analytics.ToolStoryCosts] = "Get what stories cost to make, for the stories whose day (their story_created's, else their earliest event's) lies in a date range: counts by status (completed, failed, in_progress), total and failed cost, the mean, p50, p90, p99 and max cost of a completed story (nearest rank), cost per audio minute, a cost histogram and the most expensive stories split by service. A story's cost counts every API call with its story_id, whatever day it fell on. Needs VIEW_ANALYTICS."
	titles[analytics.ToolStoryCosts] = "Story costs"
	Descriptions[analytics.ToolCohorts] = "Get signup cohorts (the week, Monday first, or month of each user's first user_signup) whose first day lies in a date range: per period k the cohort's users with any event in it (retention), and revenue and cost cumulative through period k (lifetime value and cost to serve). Nothing after end_date counts. Also the users active in the range who never signed up. Needs VIEW_ANALYTICS."
	titles[analytics.ToolCohorts] = "Cohorts"
}

// addEconomicsTools registers the unit-economics tools.
func (s *Server) addEconomicsTools(srv *mcp.Server) {
	t := s.cfg.Tools
	addTool(s, srv, analytics.ToolUserEconomics, readOnly, func(ctx context.Context, in *analytics.EconomicsInput) (*analytics.Economics, error) {
		return t.UserEconomics(ctx, *in)
	})
	addTool(s, srv, analytics.ToolStoryCosts, readOnly, func(ctx context.Context, in *analytics.StoryCostsInput) (*analytics.StoryCosts, error) {
		return t.StoryCosts(ctx, *in)
	})
	addTool(s, srv, analytics.ToolCohorts, readOnly, func(ctx context.Context, in *analytics.CohortsInput) (*analytics.Cohorts, error) {
		return t.Cohorts(ctx, *in)
	})
}
