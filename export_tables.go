package analytics

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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
// writes it: CSV records under a header, or the JSON answer whose rows sit
// under the table's name. Its rows are produced as they are written, so the
// stories of a year are streamed from the store in cost order rather than
// held in memory.
type TableExport struct {
	Range  Range
	Table  string
	Header []string
	// each calls row for every JSON row in order, with its CSV records (a
	// cohort is one JSON row and one record per period).
	each func(ctx context.Context, row func(item any, records ...[]string) error) error
}

// Filename is the attachment name: analytics_<table>_<start>_<end>.<format>.
func (e *TableExport) Filename(format string) string {
	return fmt.Sprintf("analytics_%s_%s_%s.%s", e.Table, e.Range.Start, e.Range.End, format)
}

// WriteCSV writes the header and every record, each cell escaped with
// EscapeCSVCell.
func (e *TableExport) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(e.Header); err != nil {
		return err
	}
	err := e.each(ctx, func(_ any, records ...[]string) error {
		for _, rec := range records {
			if err := writeEscaped(cw, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the JSON answer, {"format":"json","table":…,<table>:[…]}
// and a newline: byte for byte what a json.Encoder without HTML escaping
// writes for the Export that Collect returns.
func (e *TableExport) WriteJSON(ctx context.Context, w io.Writer) error {
	head, err := json.Marshal(Export{Format: "json", Table: e.Table})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.Write(head[:len(head)-1]) // without its closing brace
	n := 0
	err = e.each(ctx, func(item any, _ ...[]string) error {
		if n == 0 {
			buf.WriteString(`,"` + e.Table + `":[`)
		} else {
			buf.WriteByte(',')
		}
		n++
		if err := enc.Encode(item); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // the encoder's newline
		if buf.Len() < 32<<10 {
			return nil
		}
		_, err := buf.WriteTo(w)
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 {
		buf.WriteByte(']')
	}
	buf.WriteString("}\n")
	_, err = buf.WriteTo(w)
	return err
}

// Collect builds the whole answer in memory, as one tool result (MCP, the
// agent): the CSV content or the JSON rows.
func (e *TableExport) Collect(ctx context.Context, format string) (*Export, error) {
	if format != "json" {
		var b bytesBuffer
		if err := e.WriteCSV(ctx, &b); err != nil {
			return nil, err
		}
		return &Export{Format: "csv", Table: e.Table, Content: string(b), Filename: e.Filename("csv")}, nil
	}
	out := &Export{Format: "json", Table: e.Table}
	err := e.each(ctx, func(item any, _ ...[]string) error {
		switch v := item.(type) {
		case UserEconomics:
			out.Users = append(out.Users, v)
		case StoryCost:
			out.Stories = append(out.Stories, v)
		case Cohort:
			out.Cohorts = append(out.Cohorts, v)
		default:
			return fmt.Errorf("export: unexpected row %T", item)
		}
		return nil
	})
	return out, err
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

// ExportTable validates an export input of a table other than daily and
// returns its table: every user of the range (biggest losers first), every
// story of the range (most expensive first, ties by id), or every cohort
// cell. The users and cohorts are read here, so a failing read is an error
// before anything is written; the stories are read as they are written.
func (t *Tools) ExportTable(ctx context.Context, in ExportInput) (*TableExport, error) {
	r, err := t.checkInput(&in)
	if err != nil {
		return nil, err
	}
	out := &TableExport{Range: r, Table: in.Table}
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
		out.each = func(_ context.Context, row func(any, ...[]string) error) error {
			for _, u := range page.Users {
				email := ""
				if u.Email != nil {
					email = *u.Email
				}
				if err := row(u, []string{u.UserID, email, cents(u.Revenue), cents(u.Cost), cents(u.Margin),
					optFloat(u.MarginPct), strconv.FormatInt(u.Stories, 10), optCents(u.CostPerStory)}); err != nil {
					return err
				}
			}
			return nil
		}
	case ExportStories:
		out.Header = []string{"story_id", "user_id", "date", "status", "chapters", "audio_seconds", "cost_cents",
			"anthropic_cents", "elevenlabs_cents", "s3_cents"}
		out.each = func(ctx context.Context, row func(any, ...[]string) error) error {
			err := t.Store.Stories(ctx, r, func(st StoryRow) error {
				s := storyCost(st)
				return row(s, []string{s.StoryID, s.UserID, s.Date.String(), string(s.Status),
					strconv.FormatInt(s.Chapters, 10), strconv.FormatFloat(s.AudioSeconds, 'f', -1, 64), cents(s.Cost),
					cents(s.ByService.Anthropic), cents(s.ByService.ElevenLabs), cents(s.ByService.S3)})
			})
			if err != nil {
				return fmt.Errorf("stories: %w", err)
			}
			return nil
		}
	case ExportCohorts:
		co, err := t.Cohorts(ctx, CohortsInput{RangeInput: in.RangeInput, Period: in.Period})
		if err != nil {
			return nil, err
		}
		out.Header = []string{"cohort", "granularity", "size", "period", "retained", "revenue_cents", "cost_cents"}
		out.each = func(_ context.Context, row func(any, ...[]string) error) error {
			for _, c := range co.Cohorts {
				recs := make([][]string, len(c.Retained))
				for k := range c.Retained {
					recs[k] = []string{c.Cohort.String(), string(co.Granularity), strconv.FormatInt(c.Size, 10),
						strconv.Itoa(k), strconv.FormatInt(c.Retained[k], 10), cents(c.Revenue[k]), cents(c.Cost[k])}
				}
				if err := row(c, recs...); err != nil {
					return err
				}
			}
			return nil
		}
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
	return tab.Collect(ctx, in.Format)
}
