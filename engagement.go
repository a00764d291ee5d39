package analytics

import (
	"context"
	"fmt"
)

// ToolEngagement is get_engagement (issue 13): daily, weekly and monthly
// active users and stickiness.
const ToolEngagement = "get_engagement"

// Engagement windows, in days ending on (and including) the day.
const (
	WAUDays = 7
	MAUDays = 30
)

// EngagementDay is one day of get_engagement.
type EngagementDay struct {
	Date Day   `json:"date"`
	DAU  int64 `json:"dau"`
	WAU  int64 `json:"wau"`
	MAU  int64 `json:"mau"`
	// Stickiness is DAU / MAU (0 when MAU is 0).
	Stickiness float64 `json:"stickiness"`
}

// Engagement is the result of get_engagement.
type Engagement struct {
	Daily             []EngagementDay `json:"daily"`
	AverageStickiness float64         `json:"average_stickiness"`
	Period            Period          `json:"period"`
}

// Engagement implements get_engagement: DAU is the distinct users with an
// event that day; WAU and MAU the distinct users over the 7 and 30 days
// ending that day (days before the range count); stickiness DAU / MAU, and
// its mean over the range. Voided events count nowhere.
func (t *Tools) Engagement(ctx context.Context, in RangeInput) (*Engagement, error) {
	r, days, err := t.rangeDays(ctx, in)
	if err != nil {
		return nil, err
	}
	// One read of the active-span rows covering every window, instead of
	// two ActiveUsers queries per day.
	spans, err := t.Store.ActiveSpans(ctx, Range{Start: r.Start - (MAUDays - 1), End: r.End})
	if err != nil {
		return nil, fmt.Errorf("active spans: %w", err)
	}
	res := &Engagement{Daily: make([]EngagementDay, len(days)), Period: t.period(r)}
	var sum float64
	lo := 0 // spans[lo:] are the rows from the current MAU window's first day on
	for i, d := range days {
		for lo < len(spans) && spans[lo].Day < d.Day-(MAUDays-1) {
			lo++
		}
		hi := lo
		for hi < len(spans) && spans[hi].Day <= d.Day {
			hi++
		}
		window := spans[lo:hi]
		e := EngagementDay{Date: d.Day, DAU: d.ActiveUsers,
			WAU: ActiveIn(window, d.Day-(WAUDays-1), d.Day), MAU: ActiveIn(window, d.Day-(MAUDays-1), d.Day)}
		if e.MAU > 0 {
			e.Stickiness = float64(d.ActiveUsers) / float64(e.MAU)
		}
		sum += e.Stickiness
		res.Daily[i] = e
	}
	if len(days) > 0 {
		res.AverageStickiness = sum / float64(len(days))
	}
	return res, nil
}
