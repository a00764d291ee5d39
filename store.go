package analytics

import (
	"context"
	"time"
)

// Pricer prices an api_call event from a catalog. It returns the cost,
// whether the call could be priced (false for an unknown model) and which
// catalog entry priced it.
type Pricer interface {
	Quote(e *Event) (cost Micros, priced bool, ref PriceRef)
}

// IngestCounts says what a batch did to the store.
type IngestCounts struct {
	Accepted   int // newly stored
	Duplicates int // already stored, or repeated within the batch
}

// DailyRow is one day of the daily rollup. A day without any event has no
// row; the tools zero-fill.
type DailyRow struct {
	Day              Day
	NewUsers         int64
	ActiveUsers      int64 // distinct users with an event that day
	ChurnedUsers     int64
	StoriesCreated   int64
	StoriesCompleted int64
	StoriesFailed    int64
	Chapters         int64
	AudioMillis      int64
	APIRequests      int64
	APIErrors        int64
	UnpricedCalls    int64
	AnthropicCost    Micros
	ElevenLabsCost   Micros
	S3Cost           Micros
	PaymentsCents    int64
	RefundsCents     int64
}

// TotalCost is the cost of every service that day.
func (r DailyRow) TotalCost() Micros { return r.AnthropicCost + r.ElevenLabsCost + r.S3Cost }

// Revenue is payments minus refunds.
func (r DailyRow) Revenue() Micros { return MicrosFromCents(r.PaymentsCents - r.RefundsCents) }

// CostRow aggregates api_call events of one service, model and operation
// over a range.
type CostRow struct {
	Service          Service
	Model            string
	Operation        string
	PriceRef         string // the stored PriceRef of the catalog entry that priced these calls
	Calls            int64
	Errors           int64
	UnpricedCalls    int64
	InputTokens      int64
	OutputTokens     int64
	CacheWriteTokens int64
	CacheReadTokens  int64
	Characters       int64
	BytesTransferred int64
	Requests         int64
	Cost             Micros
}

// SortBy orders the top-users list.
type SortBy string

// Orders for get_top_users.
const (
	SortByCost     SortBy = "cost"
	SortByStories  SortBy = "stories"
	SortByAPICalls SortBy = "api_calls"
)

// TopUserRow is one user's activity summed over a range.
type TopUserRow struct {
	UserID      string
	Email       string
	Stories     int64
	APICalls    int64
	AudioMillis int64
	Cost        Micros
}

// IngestKey is a credential for POST /v1/events. Only its hash is stored.
type IngestKey struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	ExpiresAt  *time.Time // nil: never
	LastUsedAt *time.Time // to the minute (see LastUseGranularity)
}

// Store keeps events and their rollups. Every implementation passes the
// conformance suite in package storetest.
type Store interface {
	Corrector
	PriceStore
	EconomicsStore
	// IngestEvents stores validated, priced events in one transaction:
	// events whose id is already stored (or repeated in the batch) are
	// skipped, and every rollup row the batch touches is updated atomically.
	IngestEvents(ctx context.Context, events []Event) (IngestCounts, error)

	// Location is the reporting time zone the rollups are bucketed in.
	Location() *time.Location

	// Daily returns the daily rollup rows inside r, ordered by day.
	Daily(ctx context.Context, r Range) ([]DailyRow, error)
	// ActiveUsers counts distinct users with at least one event inside r.
	ActiveUsers(ctx context.Context, r Range) (int64, error)
	// ActiveSpans returns the non-empty active-span rows with Day inside r,
	// ordered by day: many ActiveUsers windows from one read.
	ActiveSpans(ctx context.Context, r Range) ([]SpanRow, error)
	// SignupsBefore counts user_signup events on days before d.
	SignupsBefore(ctx context.Context, d Day) (int64, error)
	// CostRows aggregates api_call events inside r by service, model and
	// operation, ordered by service, model, operation.
	CostRows(ctx context.Context, r Range) ([]CostRow, error)
	// TopUsers returns at most limit users with activity inside r, ordered
	// by the sort key descending and then by user id ascending.
	TopUsers(ctx context.Context, r Range, by SortBy, limit int) ([]TopUserRow, error)

	// Rebuild recomputes every rollup from the events, bucketing days in loc
	// (which becomes the store's Location).
	Rebuild(ctx context.Context, loc *time.Location) error
	// Verify compares every rollup with a fresh aggregate of the events and
	// describes each difference; none means the rollups are exact.
	Verify(ctx context.Context) ([]string, error)
	// EventCount is the number of stored events.
	EventCount(ctx context.Context) (int64, error)

	// CreateIngestKey stores the hash of a new ingest key.
	CreateIngestKey(ctx context.Context, name string, hash []byte) (IngestKey, error)
	// IngestKeyByHash finds an unrevoked key; KindUnauthenticated otherwise.
	IngestKeyByHash(ctx context.Context, hash []byte) (IngestKey, error)

	// Ping checks the database is reachable (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// EconomicsStore answers the unit-economics tools (issue 13) from rollups
// kept in the ingest transaction like every other.
type EconomicsStore interface {
	// UserEconomics sums each user's revenue, cost and story_created events
	// inside r, for the users with an api_call, payment or refund in r, in
	// no particular order, without emails.
	UserEconomics(ctx context.Context, r Range) ([]UserEconomicsRow, error)
	// UserEmails returns the signup email of each of the given users that
	// has one.
	UserEmails(ctx context.Context, ids []string) (map[string]string, error)
	// Stories calls each for every story whose day (see StoryAnchor) lies
	// inside r, the most expensive first, ties by story id, as it reads
	// them (the stories export streams a year of them); an error from each
	// stops the read and is returned.
	Stories(ctx context.Context, r Range, each func(StoryRow) error) error
	StoryReader
	// CohortCells sums, for the users whose first signup day lies in
	// [from, end], their activity on days from their cohort's first day
	// through end, by cohort and period (CohortPeriodOf numbers). A
	// cohort's size is its users active in its own period, where each
	// one's signup is.
	CohortCells(ctx context.Context, from, end Day, g Granularity) ([]CohortCell, error)
	// UnattributedUsers counts the users active inside r with no live
	// user_signup at all.
	UnattributedUsers(ctx context.Context, r Range) (int64, error)
}
