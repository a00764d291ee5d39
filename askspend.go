package analytics

import "context"

// ToolAsk is the Ask question itself as the guard sees it: each question
// passes PreToolUse (authentication, VIEW_ANALYTICS, the shared 30/min
// budget, Ask's daily spend cap) before any Claude call is made.
const ToolAsk = "ask"

// AskSpendStore keeps what each admin's Ask questions cost in Claude calls
// per day (the same calls are stored as priced analytics_ask api_calls).
type AskSpendStore interface {
	// AddAskSpend adds cost to the admin's spend on day.
	AddAskSpend(ctx context.Context, adminID int64, day Day, cost Micros) error
	// AskSpend is the admin's spend on day.
	AskSpend(ctx context.Context, adminID int64, day Day) (Micros, error)
}
