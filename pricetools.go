package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Price and correction tools. Reading prices needs VIEW_ANALYTICS; changing
// them, repricing and voiding need MANAGE_PRICES (owners).
const (
	ToolListPrices   = "list_prices"
	ToolUpdatePrices = "update_prices"
	ToolRemovePrice  = "remove_price"
	ToolReprice      = "reprice"
	ToolVoidEvent    = "void_event"
)

// PriceEntryView is one catalog entry as GET /admin/prices shows it.
type PriceEntryView struct {
	Service              Service           `json:"service"`
	Model                string            `json:"model"`
	Aliases              []string          `json:"aliases"`
	EffectiveFrom        Day               `json:"effective_from"`
	Rates                map[string]string `json:"rates"`
	LongContextThreshold int64             `json:"long_context_threshold,omitempty"`
	LongContextRates     map[string]string `json:"long_context_rates,omitempty"`
	Note                 string            `json:"note,omitempty"`
	Source               PriceSource       `json:"source"`
}

// PriceList is the result of list_prices: the catalog every replica prices
// with, and the models whose calls are still unpriced.
type PriceList struct {
	Entries  []PriceEntryView `json:"entries"`
	Unpriced []UnpricedModel  `json:"unpriced"`
}

// PricesUpdated is the result of update_prices.
type PricesUpdated struct {
	Added    int              `json:"added"`
	Replaced int              `json:"replaced"`
	Entries  []PriceEntryView `json:"entries"`
	// ReplacedEntries are the entries as they were before (old rates).
	ReplacedEntries []PriceEntryView `json:"replaced_entries"`
}

// AuditSummary keeps the old and new rates of every entry.
func (p *PricesUpdated) AuditSummary() map[string]any {
	return map[string]any{"added": p.Added, "replaced": p.Replaced, "new": p.Entries, "old": p.ReplacedEntries}
}

// AuditSummary keeps the removed entry's rates.
func (p *PriceRemoved) AuditSummary() map[string]any {
	return map[string]any{"removed": p.Entry}
}

// AuditSummary names the voided event.
func (v *VoidResult) AuditSummary() map[string]any {
	return map[string]any{"voided": v.Voided, "void_id": v.VoidID, "reason": v.Reason}
}

// PriceRemoved is the result of remove_price.
type PriceRemoved struct {
	Removed int            `json:"removed"`
	Entry   PriceEntryView `json:"entry"`
}

// UpdatePricesInput carries entries in the --prices file format.
type UpdatePricesInput struct {
	Entries json.RawMessage `json:"entries" jsonschema:"price entries, as in a --prices file's entries list"`
	// BodyError is why the request body could not be read; the guard
	// reports it after authentication, as it does every invalid input.
	BodyError string `json:"-"`
}

// Validate checks the input is a non-empty list (the pricing package
// validates each entry).
func (in UpdatePricesInput) Validate() error {
	if in.BodyError != "" {
		return Errorf(KindInvalid, "%s", in.BodyError)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(in.Entries, &list); err != nil || len(list) == 0 {
		return Errorf(KindInvalid, `body must be {"entries": [...]} with at least one price entry`)
	}
	return nil
}

// RemovePriceInput names a database price entry.
type RemovePriceInput struct {
	Service       string `json:"service"`
	Model         string `json:"model"`
	EffectiveFrom string `json:"effective_from"`
}

// Validate checks the key.
func (in RemovePriceInput) Validate() error {
	switch Service(in.Service) {
	case ServiceAnthropic, ServiceElevenLabs, ServiceS3:
	default:
		return Errorf(KindInvalid, "service must be anthropic, elevenlabs or s3 (got %q)", in.Service)
	}
	if strings.TrimSpace(in.Model) == "" {
		return Errorf(KindInvalid, "model is required")
	}
	if _, err := ParseDay(in.EffectiveFrom); err != nil {
		return Errorf(KindInvalid, "effective_from: %s", ErrorMessage(err))
	}
	return nil
}

// RepriceInput selects the calls to reprice.
type RepriceInput struct {
	Since  string `json:"since,omitempty" jsonschema:"first day, YYYY-MM-DD in the reporting zone (default: the first call)"`
	Until  string `json:"until,omitempty" jsonschema:"last day, inclusive (default: the last call)"`
	Model  string `json:"model,omitempty" jsonschema:"only calls to this model id (default: every model)"`
	DryRun bool   `json:"dry_run,omitempty" jsonschema:"report what would change without writing"`
	// BodyError is why the request body could not be read (see
	// UpdatePricesInput).
	BodyError string `json:"-"`
}

// Options parses the input.
func (in RepriceInput) Options() (RepriceOptions, error) {
	var o RepriceOptions
	if in.BodyError != "" {
		return o, Errorf(KindInvalid, "%s", in.BodyError)
	}
	for _, f := range []struct {
		name string
		v    string
		dst  **Day
	}{{"since", in.Since, &o.Since}, {"until", in.Until, &o.Until}} {
		if f.v == "" {
			continue
		}
		d, err := ParseDay(f.v)
		if err != nil {
			return o, Errorf(KindInvalid, "%s: %s", f.name, ErrorMessage(err))
		}
		*f.dst = &d
	}
	if o.Since != nil && o.Until != nil && *o.Until < *o.Since {
		return o, ErrEndBeforeStart
	}
	o.Model, o.DryRun = in.Model, in.DryRun
	return o, nil
}

// Validate checks the dates.
func (in RepriceInput) Validate() error {
	_, err := in.Options()
	return err
}

// VoidInput names the event to take out of the figures.
type VoidInput struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Validate checks the id and reason like the event contract does.
func (in VoidInput) Validate() error {
	if err := checkText("id", in.ID, MaxIDLen, true); err != nil {
		return Errorf(KindInvalid, "%s", err)
	}
	if err := checkText("reason", in.Reason, MaxTextLen, true); err != nil {
		return Errorf(KindInvalid, "%s", err)
	}
	return nil
}

// VoidResult is the result of void_event.
type VoidResult struct {
	Voided string `json:"voided"`
	VoidID string `json:"void_id"`
	Reason string `json:"reason"`
}

// PriceBook is the price catalog as the tools see it (package pricing
// implements it over the built-in catalog, a --prices file and the
// database's entries).
type PriceBook interface {
	List(ctx context.Context) (*PriceList, error)
	Update(ctx context.Context, entries json.RawMessage) (*PricesUpdated, error)
	Remove(ctx context.Context, service Service, model string, from Day) (*PriceRemoved, error)
	// Quoter refreshes the catalog and returns a pricing function for a
	// reprice run (one catalog for the whole run).
	Quoter(ctx context.Context) (func(*Event), error)
}

// ListPrices implements list_prices.
func (t *Tools) ListPrices(ctx context.Context) (*PriceList, error) {
	if t.Prices == nil {
		return nil, Errorf(KindUnavailable, "this server has no price catalog")
	}
	return t.Prices.List(ctx)
}

// UpdatePrices implements update_prices.
func (t *Tools) UpdatePrices(ctx context.Context, in UpdatePricesInput) (*PricesUpdated, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if t.Prices == nil {
		return nil, Errorf(KindUnavailable, "this server has no price catalog")
	}
	return t.Prices.Update(ctx, in.Entries)
}

// RemovePrice implements remove_price.
func (t *Tools) RemovePrice(ctx context.Context, in RemovePriceInput) (*PriceRemoved, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if t.Prices == nil {
		return nil, Errorf(KindUnavailable, "this server has no price catalog")
	}
	d, _ := ParseDay(in.EffectiveFrom)
	return t.Prices.Remove(ctx, Service(in.Service), in.Model, d)
}

// Reprice implements reprice: every live api_call in the range without a
// caller-given cost is priced again from the current catalog.
func (t *Tools) Reprice(ctx context.Context, in RepriceInput) (*RepriceReport, error) {
	opts, err := in.Options()
	if err != nil {
		return nil, err
	}
	if t.Prices == nil {
		return nil, Errorf(KindUnavailable, "this server has no price catalog")
	}
	quote, err := t.Prices.Quoter(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := t.Store.RepriceEvents(ctx, opts, quote)
	if err != nil {
		return nil, fmt.Errorf("reprice: %w", err)
	}
	return &rep, nil
}

// VoidEvent implements void_event: it stores an event_voided for the event.
// The void's id is derived from the target's, so a retried command is a
// duplicate rather than a second void.
func (t *Tools) VoidEvent(ctx context.Context, in VoidInput) (*VoidResult, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	id := "void:" + in.ID
	if len(id) > MaxIDLen {
		sum := sha256.Sum256([]byte(in.ID))
		id = "void:sha256:" + hex.EncodeToString(sum[:])
	}
	v := Event{ID: id, Type: EventVoided, Timestamp: t.now().UTC().Truncate(1000), Voids: in.ID, Reason: in.Reason}
	c, err := t.Store.VoidEvents(ctx, []Event{v})
	if err != nil {
		return nil, fmt.Errorf("void: %w", err)
	}
	if reason, ok := c.Rejected[0]; ok {
		kind := KindConflict
		if strings.Contains(reason, "no event with id") {
			kind = KindNotFound
		}
		return nil, Errorf(kind, "%s", reason)
	}
	if c.Duplicates > 0 {
		return nil, Errorf(KindConflict, "voids: event %q is already voided (by %q)", in.ID, id)
	}
	return &VoidResult{Voided: in.ID, VoidID: id, Reason: in.Reason}, nil
}
