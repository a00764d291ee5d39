package main

import (
	"context"
	"encoding/json"

	analytics "github.com/codestory/analytics"
)

// addAskSpend adds the cost of one recorded Claude call of Ask (priced by
// the catalog exactly as the stored analytics_ask api_call) to the asking
// admin's spend of that day.
func (a *app) addAskSpend(ctx context.Context, p *analytics.Principal, raw json.RawMessage) {
	if a.askBudget == nil || p == nil || p.Admin == nil {
		return
	}
	e, _, err := a.ingester.Decoder.DecodeEvent(raw)
	if err != nil {
		a.log.Error("Ask: pricing Claude usage failed", "err", err)
		return
	}
	a.ingester.Price(&e)
	if err := a.askBudget.Store.AddAskSpend(ctx, p.Admin.ID, analytics.DayOf(e.Timestamp, a.store.Location()), e.Cost); err != nil {
		a.log.Error("Ask: recording spend failed", "admin", p.Admin.Email, "err", err)
	}
}

// askBudgetBetweenTurns stops a run before a further Claude call once the
// admin's daily Ask budget is used up (the first call was checked by the
// guard with the question).
func (a *app) askBudgetBetweenTurns(p *analytics.Principal) func(context.Context, int) error {
	return func(ctx context.Context, turn int) error {
		if turn == 1 || a.askBudget == nil || p == nil || p.Admin == nil {
			return nil
		}
		d, err := a.askBudget.Check(ctx, p.Admin.ID)
		if err != nil {
			return err
		}
		if d != nil {
			return &analytics.Error{Kind: d.Kind, Message: d.Reason}
		}
		return nil
	}
}
