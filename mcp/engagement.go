package mcpserver

import (
	"context"

	analytics "github.com/codestory/analytics"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func init() {
	Descriptions[analytics.ToolEngagement] = "Get engagement for a date range: per day the distinct active users that day (DAU), over the 7 and 30 days ending that day (WAU, MAU), and stickiness = DAU / MAU, with its mean over the range. Needs VIEW_ANALYTICS."
	titles[analytics.ToolEngagement] = "Engagement"
}

// addEngagementTools registers get_engagement.
func (s *Server) addEngagementTools(srv *mcp.Server) {
	t := s.cfg.Tools
	addTool(s, srv, analytics.ToolEngagement, readOnly, func(ctx context.Context, in *analytics.RangeInput) (*analytics.Engagement, error) {
		return t.Engagement(ctx, *in)
	})
}
