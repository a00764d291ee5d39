package guard

import analytics "github.com/codestory/analytics"

// The unit-economics tools (issue 13) read analytics like the seed's tools.
func init() {
	for tool, action := range map[string]string{
		analytics.ToolUserEconomics: "analytics_user_economics_viewed",
		analytics.ToolStoryCosts:    "analytics_story_costs_viewed",
		analytics.ToolCohorts:       "analytics_cohorts_viewed",
	} {
		RequiredPermission[tool] = analytics.PermViewAnalytics
		Actions[tool] = action
	}
}
