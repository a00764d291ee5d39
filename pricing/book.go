package pricing

import (
	"context"
	"encoding/json"

	"github.com/codestory/analytics"
)

// Book is the analytics.PriceBook of a server: the Live catalog, with
// changes written to the database.
type Book struct {
	Live  *Live
	Store interface {
		analytics.PriceStore
	}
}

var _ analytics.PriceBook = (*Book)(nil)

func view(e SourcedEntry) analytics.PriceEntryView {
	aliases := e.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return analytics.PriceEntryView{Service: e.Service, Model: e.Model, Aliases: aliases, EffectiveFrom: e.EffectiveFrom,
		Rates: e.Rates, LongContextThreshold: e.LongContextThreshold, LongContextRates: e.LongContextRates,
		Note: e.Note, Source: e.Source}
}

// List returns the current catalog and the unpriced models.
func (b *Book) List(ctx context.Context) (*analytics.PriceList, error) {
	if err := b.Live.Refresh(ctx); err != nil {
		return nil, err
	}
	out := &analytics.PriceList{Entries: []analytics.PriceEntryView{}}
	for _, e := range b.Live.Catalog().SourcedEntries() {
		out.Entries = append(out.Entries, view(e))
	}
	var err error
	if out.Unpriced, err = b.Store.UnpricedModels(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// Update validates entries against the whole catalog they would join, then
// stores them (same service, model and effective_from: replaced).
func (b *Book) Update(ctx context.Context, raw json.RawMessage) (*analytics.PricesUpdated, error) {
	rows, _, err := b.Store.PriceEntries(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := EntriesFromRows(rows)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]json.RawMessage{"entries": raw})
	entries, err := ValidateWith(body, b.Live.File, stored)
	if err != nil {
		return nil, err
	}
	put := make([]analytics.PriceEntryRow, len(entries))
	for i, e := range entries {
		if put[i], err = EntryRow(e); err != nil {
			return nil, err
		}
	}
	replaced, err := b.Store.PutPriceEntries(ctx, put)
	if err != nil {
		return nil, err
	}
	if err := b.Live.Refresh(ctx); err != nil {
		return nil, err
	}
	res := &analytics.PricesUpdated{Added: len(entries) - len(replaced), Replaced: len(replaced),
		Entries: []analytics.PriceEntryView{}, ReplacedEntries: []analytics.PriceEntryView{}}
	for _, e := range entries {
		res.Entries = append(res.Entries, view(SourcedEntry{e, analytics.PriceSourceDatabase}))
	}
	old, err := EntriesFromRows(replaced)
	if err != nil {
		return nil, err
	}
	for _, e := range old {
		res.ReplacedEntries = append(res.ReplacedEntries, view(SourcedEntry{e, analytics.PriceSourceDatabase}))
	}
	return res, nil
}

// Remove deletes a database entry; the catalog falls back to the file and
// built-in entries.
func (b *Book) Remove(ctx context.Context, service analytics.Service, model string, from analytics.Day) (*analytics.PriceRemoved, error) {
	row, err := b.Store.RemovePriceEntry(ctx, service, model, from)
	if err != nil {
		return nil, err
	}
	if err := b.Live.Refresh(ctx); err != nil {
		return nil, err
	}
	e, err := parseEntry(row.Entry)
	if err != nil {
		return nil, err
	}
	return &analytics.PriceRemoved{Removed: 1, Entry: view(SourcedEntry{e, analytics.PriceSourceDatabase})}, nil
}

// Quoter refreshes the catalog and prices with that one catalog.
func (b *Book) Quoter(ctx context.Context) (func(*analytics.Event), error) {
	if err := b.Live.Refresh(ctx); err != nil {
		return nil, err
	}
	cat := b.Live.Catalog()
	return func(e *analytics.Event) { e.Cost, e.Priced, e.PriceRef = cat.Quote(e) }, nil
}
