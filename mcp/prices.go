package mcpserver

import (
	"context"

	analytics "github.com/codestory/analytics"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func init() {
	Descriptions[analytics.ToolListPrices] = "List the price catalog every replica prices with (built-in, --prices file and database entries, each with its source) and the models whose calls are still unpriced. Needs VIEW_ANALYTICS."
	Descriptions[analytics.ToolReprice] = "Recompute the cost of stored api_calls (those without a caller-given cost_cents) from the current price catalog, optionally for a range of days and one model; dry_run reports the diff without writing. Needs MANAGE_PRICES (owners); audited as prices_repriced."
	titles[analytics.ToolListPrices] = "Price catalog"
	titles[analytics.ToolReprice] = "Reprice stored calls"
}

var reprice = &mcp.ToolAnnotations{IdempotentHint: true, DestructiveHint: new(false), OpenWorldHint: new(false)}

// addPriceTools registers the price tools; the guard decides who may call
// them, as for every tool.
func (s *Server) addPriceTools(srv *mcp.Server) {
	t := s.cfg.Tools
	addTool(s, srv, analytics.ToolListPrices, readOnly, func(ctx context.Context, _ *struct{}) (*analytics.PriceList, error) {
		return t.ListPrices(ctx)
	})
	addTool(s, srv, analytics.ToolReprice, reprice, func(ctx context.Context, in *analytics.RepriceInput) (*analytics.RepriceReport, error) {
		return t.Reprice(ctx, *in)
	})
}
