package guard

import analytics "github.com/codestory/analytics"

// get_engagement reads analytics like the seed's tools.
func init() {
	RequiredPermission[analytics.ToolEngagement] = analytics.PermViewAnalytics
	Actions[analytics.ToolEngagement] = "analytics_engagement_viewed"
}
