package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// VoidCounts says what a batch of voids did.
type VoidCounts struct {
	Accepted   int            // events voided
	Duplicates int            // voids whose id was already stored
	Rejected   map[int]string // index into the batch → reason; nothing stored for these
}

// Corrector takes events back out of the figures and reprices them. Both
// corrections keep every rollup exact: they subtract the stored event and,
// for a reprice, add it back at its new cost, in one transaction per batch.
type Corrector interface {
	// VoidEvents applies event_voided events in order. A void whose id is
	// stored is a duplicate; one that names an unknown event, a void or an
	// event already voided is rejected with its reason.
	VoidEvents(ctx context.Context, voids []Event) (VoidCounts, error)

	// RepriceEvents recomputes, with quote, the cost of every live api_call
	// in the options' range that has no caller-given cost, in batches of at
	// most opts.BatchSize events, each its own transaction. With DryRun
	// nothing is written.
	RepriceEvents(ctx context.Context, opts RepriceOptions, quote func(*Event)) (RepriceReport, error)
}

// RepriceOptions selects the calls a reprice recomputes.
type RepriceOptions struct {
	Since, Until *Day   // reporting-zone days, inclusive; nil: unbounded
	Model        string // exact model id as stored; "" for every model
	DryRun       bool
	BatchSize    int // events per transaction; 0 means DefaultRepriceBatch
}

// DefaultRepriceBatch bounds one reprice transaction.
const DefaultRepriceBatch = 1000

// RepriceRow is a reprice's diff for one service and model.
type RepriceRow struct {
	Service        Service `json:"service"`
	Model          string  `json:"model"`
	Calls          int64   `json:"calls"`
	CallsRepriced  int64   `json:"calls_repriced"`
	OldCost        Cents   `json:"old_cost_cents"`
	NewCost        Cents   `json:"new_cost_cents"`
	UnpricedBefore int64   `json:"unpriced_before"`
	UnpricedAfter  int64   `json:"unpriced_after"`
}

// RepriceReport is the result of a reprice: per service and model, the
// calls examined and changed, the old and new totals, unpriced before and
// after.
type RepriceReport struct {
	DryRun         bool         `json:"dry_run"`
	Since          *Day         `json:"since"`
	Until          *Day         `json:"until"`
	Model          string       `json:"model"`
	CallsExamined  int64        `json:"calls_examined"`
	CallsRepriced  int64        `json:"calls_repriced"`
	UnpricedBefore int64        `json:"unpriced_before"`
	UnpricedAfter  int64        `json:"unpriced_after"`
	OldCost        Cents        `json:"old_cost_cents"`
	NewCost        Cents        `json:"new_cost_cents"`
	ByModel        []RepriceRow `json:"by_model"`

	rows map[[2]string]*RepriceRow
}

// Tally records one examined call, before and after repricing, and reports
// whether anything stored about it changes.
func (r *RepriceReport) Tally(old, new *Event) bool {
	if r.rows == nil {
		r.rows = map[[2]string]*RepriceRow{}
	}
	k := [2]string{string(old.Service), old.Model}
	row := r.rows[k]
	if row == nil {
		row = &RepriceRow{Service: old.Service, Model: old.Model}
		r.rows[k] = row
	}
	changed := old.Cost != new.Cost || old.Priced != new.Priced || old.PriceRef != new.PriceRef
	row.Calls++
	r.CallsExamined++
	row.OldCost += Cents(old.Cost)
	row.NewCost += Cents(new.Cost)
	r.OldCost += Cents(old.Cost)
	r.NewCost += Cents(new.Cost)
	if !old.Priced {
		row.UnpricedBefore++
		r.UnpricedBefore++
	}
	if !new.Priced {
		row.UnpricedAfter++
		r.UnpricedAfter++
	}
	if changed {
		row.CallsRepriced++
		r.CallsRepriced++
	}
	return changed
}

// Done orders the per-model rows (service, then model).
func (r *RepriceReport) Done(opts RepriceOptions) {
	r.DryRun, r.Since, r.Until, r.Model = opts.DryRun, opts.Since, opts.Until, opts.Model
	r.ByModel = make([]RepriceRow, 0, len(r.rows))
	for _, row := range r.rows {
		r.ByModel = append(r.ByModel, *row)
	}
	slices.SortFunc(r.ByModel, func(a, b RepriceRow) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Model, b.Model))
	})
}

// AuditSummarizer is a tool result that adds details to its audit entry.
type AuditSummarizer interface {
	AuditSummary() map[string]any
}

// AuditSummary is what the audit log keeps of a reprice.
func (r *RepriceReport) AuditSummary() map[string]any {
	return map[string]any{
		"dry_run": r.DryRun, "calls_examined": r.CallsExamined, "calls_repriced": r.CallsRepriced,
		"unpriced_before": r.UnpricedBefore, "unpriced_after": r.UnpricedAfter,
		"old_cost_cents": r.OldCost, "new_cost_cents": r.NewCost, "by_model": r.ByModel,
	}
}

// VoidRejection explains why a void cannot be applied.
func VoidRejection(target string, targetType EventType, voidedBy string, found bool) string {
	switch {
	case !found:
		return fmt.Sprintf("voids: no event with id %q is stored", target)
	case targetType == EventVoided:
		return fmt.Sprintf("voids: event %q is itself a void, and a void cannot be voided", target)
	case voidedBy != "":
		return fmt.Sprintf("voids: event %q is already voided (by %q)", target, voidedBy)
	}
	return ""
}

// BoundsViolationSQL is a predicate, in SQL both engines accept, over the
// events table: true for a live event with a field above its bound (stored
// before the bounds existed). Verify names such events; void repairs them.
func BoundsViolationSQL() string {
	return fmt.Sprintf(`voided_by IS NULL AND (amount_cents > %d OR COALESCE(explicit_cost, 0) > %d
		OR input_tokens > %[3]d OR output_tokens > %[3]d OR cache_write_tokens > %[3]d OR cache_read_tokens > %[3]d
		OR characters > %[3]d OR requests > %[3]d OR bytes_transferred > %d OR audio_ms > %d OR chapters > %d
		OR input_tokens < 0 OR output_tokens < 0 OR amount_cents < 0 OR cost < 0)`,
		MaxAmountCents, maxCostMicros, MaxTokens, MaxBytesTransferred, maxAudioMillis, MaxChapters)
}
