package guard

import (
	"context"
	"fmt"
	"time"

	analytics "github.com/codestory/analytics"
)

// DefaultAskDailyLimit is each admin's daily cap on Ask's own Claude spend.
const DefaultAskDailyLimit = analytics.Micros(1_000_000) // $1.00

// AskBudget caps what each admin's Ask questions may spend on Claude per
// day (a calendar day in the reporting zone). The spend is what the Ask
// door records after every Claude call of a run.
type AskBudget struct {
	Store    analytics.AskSpendStore
	Limit    analytics.Micros
	Now      func() time.Time
	Location func() *time.Location
}

// Check refuses (KindRateLimited, with the reason and the wait until the
// day ends) once the admin's spend today has reached the limit.
func (b *AskBudget) Check(ctx context.Context, adminID int64) (*Decision, error) {
	now, loc := b.now(), b.loc()
	day := analytics.DayOf(now, loc)
	spent, err := b.Store.AskSpend(ctx, adminID, day)
	if err != nil {
		return nil, fmt.Errorf("Ask spend: %w", err)
	}
	if spent < b.Limit {
		return nil, nil
	}
	d := Deny(analytics.KindRateLimited, fmt.Sprintf("Ask's daily Claude budget is used up: $%.4f of $%.2f spent today (%s, %s); it resets at midnight. The limit is set with --ask-daily-limit.",
		float64(spent)/1e6, float64(b.Limit)/1e6, day, loc))
	next := (day + 1).Date()
	midnight := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, loc)
	d.RetryAfter = midnight.Sub(now).Truncate(time.Second) + time.Second
	return d, nil
}

// Hook is the PreToolUse hook of the Ask question (tool ToolAsk).
func (b *AskBudget) Hook(ctx context.Context, in *HookInput) (*Decision, error) {
	if in.Principal == nil || in.Principal.Admin == nil {
		return nil, nil
	}
	return b.Check(ctx, in.Principal.Admin.ID)
}

// Matcher runs the budget check on the Ask question only.
func (b *AskBudget) Matcher() *HookMatcher {
	return &HookMatcher{Matcher: ToolName(analytics.ToolAsk), Hooks: []HookFunc{b.Hook}}
}

func (b *AskBudget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *AskBudget) loc() *time.Location {
	if b.Location != nil {
		return b.Location()
	}
	return time.UTC
}
