package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	analytics "github.com/codestory/analytics"
)

func (e env) query(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics query dashboard|costs|growth|engagement|top|economics|stories|cohorts|export --start YYYY-MM-DD --end YYYY-MM-DD [--limit N --sort-by KEY --order asc|desc --cursor C] [--period week|month] [--format csv|json --table daily|users|stories|cohorts]"
	if len(args) == 0 {
		return usageError{help}
	}
	what := args[0]
	var c common
	fs := e.flags("query "+what, &c)
	start := fs.String("start", "", "first day, YYYY-MM-DD (default: 30 days before --end)")
	end := fs.String("end", "", "last day, YYYY-MM-DD (default: today in the reporting zone)")
	limit := fs.Int("limit", 0, "top: how many users (1-100, default 10); economics: users per page (1-500, default 50); stories: top stories (1-100, default 10)")
	sortBy := fs.String("sort-by", "", "top: cost (default), stories or api_calls; economics: margin (default), cost, revenue or stories")
	order := fs.String("order", "", "economics: asc (default) or desc")
	cursor := fs.String("cursor", "", "economics: next_cursor of the previous page")
	period := fs.String("period", "", "cohorts (and export --table cohorts): week (default) or month")
	format := fs.String("format", "csv", "export: csv or json")
	table := fs.String("table", "", "export: daily (default), users, stories or cohorts")
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
	// An unset --limit is the tool's default; a given one, even 0, is
	// checked by the tool like on every door.
	var lim *int
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "limit" {
			lim = limit
		}
	})
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
		if top, err = tools.TopUsers(ctx, analytics.TopUsersInput{RangeInput: in, Limit: lim, SortBy: *sortBy}); err == nil {
			out = top.Users
		}
	case "economics":
		out, err = tools.UserEconomics(ctx, analytics.EconomicsInput{RangeInput: in, SortBy: *sortBy, Order: *order, Limit: lim, Cursor: *cursor})
	case "stories":
		out, err = tools.StoryCosts(ctx, analytics.StoryCostsInput{RangeInput: in, Limit: lim})
	case "cohorts":
		out, err = tools.Cohorts(ctx, analytics.CohortsInput{RangeInput: in, Period: *period})
	case "export":
		ein := analytics.ExportInput{RangeInput: in, Format: *format, Table: *table, Period: *period}
		if *format == "csv" && *table != "" && *table != analytics.ExportDaily {
			tab, err := tools.ExportTable(ctx, ein)
			if err != nil {
				return err
			}
			return tab.WriteCSV(ctx, e.stdout)
		}
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
