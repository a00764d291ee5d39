package main

import (
	"context"
	"encoding/json"
	"fmt"

	analytics "github.com/codestory/analytics"
)

func (e env) query(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics query dashboard|costs|growth|engagement|top|export --start YYYY-MM-DD --end YYYY-MM-DD [--limit N --sort-by cost|stories|api_calls] [--format csv|json]"
	if len(args) == 0 {
		return usageError{help}
	}
	what := args[0]
	var c common
	fs := e.flags("query "+what, &c)
	start := fs.String("start", "", "first day, YYYY-MM-DD (default: 30 days before --end)")
	end := fs.String("end", "", "last day, YYYY-MM-DD (default: today in the reporting zone)")
	limit := fs.Int("limit", analytics.DefaultTopUsersLimit, "top: how many users (1-100)")
	sortBy := fs.String("sort-by", string(analytics.SortByCost), "top: cost, stories or api_calls")
	format := fs.String("format", "csv", "export: csv or json")
	if _, err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	tools := &analytics.Tools{Store: s}
	in := analytics.RangeInput{StartDate: *start, EndDate: *end}
	var out any
	switch what {
	case "dashboard":
		out, err = tools.DashboardMetrics(ctx, in)
	case "costs":
		out, err = tools.CostBreakdown(ctx, in)
	case "growth":
		out, err = tools.UserGrowth(ctx, in)
	case "engagement":
		out, err = tools.Engagement(ctx, in)
	case "top":
		// The same shape as REST: the seed's bare list of users.
		var top *analytics.TopUsers
		if top, err = tools.TopUsers(ctx, analytics.TopUsersInput{RangeInput: in, Limit: limit, SortBy: *sortBy}); err == nil {
			out = top.Users
		}
	case "export":
		ein := analytics.ExportInput{RangeInput: in, Format: *format}
		if *format == "csv" {
			_, rows, err := tools.ExportRows(ctx, ein)
			if err != nil {
				return err
			}
			return analytics.WriteExportCSV(e.stdout, rows)
		}
		out, err = tools.ExportAnalytics(ctx, ein)
	default:
		return usageError{fmt.Sprintf("query: unknown tool %q; %s", what, help)}
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
