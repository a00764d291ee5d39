package analytics

import (
	"context"
	"fmt"
	"strconv"
)

// Tables of export_analytics.
const (
	ExportDaily   = "daily"
	ExportUsers   = "users"
	ExportStories = "stories"
	ExportCohorts = "cohorts"
)

// TableExport is one of the unit-economics tables as export_analytics
// writes it: CSV records under a header, and the JSON rows.
type TableExport struct {
	Range   Range
	Header  []string
	Records [][]string
	// JSON is the export_analytics JSON answer (format json).
	JSON Export
}

// Filename is the attachment name: analytics_<table>_<start>_<end>.<format>.
func (e *TableExport) Filename(table, format string) string {
	return fmt.Sprintf("analytics_%s_%s_%s.%s", table, e.Range.Start, e.Range.End, format)
}

func cents(c Cents) string { return FormatScaled(int64(c), 4) }

func optCents(c *Cents) string {
	if c == nil {
		return ""
	}
	return cents(*c)
}

func optFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// ExportTable builds a validated export input's table other than daily:
// every user of the range (biggest losers first), every story of the range
// (most expensive first), or every cohort cell.
func (t *Tools) ExportTable(ctx context.Context, in ExportInput) (*TableExport, error) {
	r, err := t.checkInput(&in)
	if err != nil {
		return nil, err
	}
	out := &TableExport{Range: r}
	switch in.Table {
	case ExportUsers:
		rows, err := t.Store.UserEconomics(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("user economics: %w", err)
		}
		all := max(len(rows), 1)
		page, err := PageEconomics(rows, EconomicsInput{SortBy: EconomicsByMargin, Order: "asc", Limit: &all}, t.period(r))
		if err != nil {
			return nil, err
		}
		if err := t.fillEmails(ctx, page.Users); err != nil {
			return nil, err
		}
		out.Header = []string{"user_id", "email", "revenue_cents", "cost_cents", "margin_cents", "margin_pct", "stories", "cost_per_story_cents"}
		for _, u := range page.Users {
			email := ""
			if u.Email != nil {
				email = *u.Email
			}
			out.Records = append(out.Records, []string{u.UserID, email, cents(u.Revenue), cents(u.Cost), cents(u.Margin),
				optFloat(u.MarginPct), strconv.FormatInt(u.Stories, 10), optCents(u.CostPerStory)})
		}
		out.JSON = Export{Format: "json", Table: ExportUsers, Users: page.Users}
	case ExportStories:
		rows, err := t.Store.Stories(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("stories: %w", err)
		}
		SortStoriesByCost(rows)
		top := make([]StoryCost, len(rows))
		for i, s := range rows {
			top[i] = storyCost(s)
		}
		out.Header = []string{"story_id", "user_id", "date", "status", "chapters", "audio_seconds", "cost_cents",
			"anthropic_cents", "elevenlabs_cents", "s3_cents"}
		for _, s := range top {
			out.Records = append(out.Records, []string{s.StoryID, s.UserID, s.Date.String(), string(s.Status),
				strconv.FormatInt(s.Chapters, 10), strconv.FormatFloat(s.AudioSeconds, 'f', -1, 64), cents(s.Cost),
				cents(s.ByService.Anthropic), cents(s.ByService.ElevenLabs), cents(s.ByService.S3)})
		}
		out.JSON = Export{Format: "json", Table: ExportStories, Stories: top}
	case ExportCohorts:
		co, err := t.Cohorts(ctx, CohortsInput{RangeInput: in.RangeInput, Period: in.Period})
		if err != nil {
			return nil, err
		}
		out.Header = []string{"cohort", "granularity", "size", "period", "retained", "revenue_cents", "cost_cents"}
		for _, c := range co.Cohorts {
			for k := range c.Retained {
				out.Records = append(out.Records, []string{c.Cohort.String(), string(co.Granularity), strconv.FormatInt(c.Size, 10),
					strconv.Itoa(k), strconv.FormatInt(c.Retained[k], 10), cents(c.Revenue[k]), cents(c.Cost[k])})
			}
		}
		out.JSON = Export{Format: "json", Table: ExportCohorts, Cohorts: co.Cohorts}
	default:
		return nil, Errorf(KindInvalid, "table %q has no table export", in.Table)
	}
	return out, nil
}

func (t *Tools) exportTable(ctx context.Context, in ExportInput) (*Export, error) {
	tab, err := t.ExportTable(ctx, in)
	if err != nil {
		return nil, err
	}
	if in.Format == "json" {
		return &tab.JSON, nil
	}
	var b bytesBuffer
	if err := WriteCSV(&b, tab.Header, tab.Records); err != nil {
		return nil, err
	}
	return &Export{Format: "csv", Table: in.Table, Content: string(b), Filename: tab.Filename(in.Table, "csv")}, nil
}
