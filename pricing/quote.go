package pricing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/codestory/analytics"
)

// Quote prices an api_call like Cost and also names the entry that priced
// it (analytics.Pricer). A caller-given cost is PriceSourceCaller; an
// unpriced call has the zero PriceRef.
func (c *Catalog) Quote(e *analytics.Event) (analytics.Micros, bool, analytics.PriceRef) {
	if e.ExplicitCost != nil {
		return *e.ExplicitCost, true, analytics.PriceRef{Source: analytics.PriceSourceCaller}
	}
	// One look-up for both the cost and the entry: this is the ingest path.
	v := c.find(e.Service, e.Model, e.Timestamp)
	if v == nil {
		return 0, false, analytics.PriceRef{}
	}
	cost, ok := v.cost(e)
	if !ok {
		return 0, false, analytics.PriceRef{}
	}
	en := &c.entries[v.entry]
	return cost, true, analytics.PriceRef{Model: en.Model, EffectiveFrom: en.EffectiveFrom, Source: c.sources[v.entry]}
}

// SourcedEntry is a catalog entry with where it came from.
type SourcedEntry struct {
	Entry
	Source analytics.PriceSource `json:"source"`
}

// SourcedEntries lists the catalog with each entry's source.
func (c *Catalog) SourcedEntries() []SourcedEntry {
	out := make([]SourcedEntry, len(c.entries))
	for i := range c.entries {
		out[i] = SourcedEntry{c.entries[i].clone(), c.sources[i]}
	}
	return out
}

// ParseEntries reads and validates entries in the --prices file format
// ({"entries": [...]}) on their own, without merging them.
func ParseEntries(r io.Reader) ([]Entry, error) { return parseFile(r) }

// Compose builds the catalog every process prices with: the built-in
// entries, then the --prices file's, then the database's (a later layer's
// entry replaces an earlier one with the same service, model and
// effective_from).
func Compose(file []Entry, db []Entry) (*Catalog, error) {
	return buildLayers(Default().entries,
		layer{file, analytics.PriceSourceFile, "file entries"},
		layer{db, analytics.PriceSourceDatabase, "database entries"})
}

// Live is a Pricer over the built-in catalog, a --prices file and the price
// entries stored in the database. Refresh (run before each batch, and by
// every replica) reloads the catalog when the database's version moved, so a
// price added on one replica prices the next batch on all of them.
type Live struct {
	Store analytics.PriceStore
	File  []Entry

	mu      sync.RWMutex
	cat     *Catalog
	version int64
	loaded  bool
}

var _ analytics.Pricer = (*Live)(nil)

// Refresh reloads the catalog if the stored entries changed.
func (l *Live) Refresh(ctx context.Context) error {
	v, err := l.Store.PricesVersion(ctx)
	if err != nil {
		return fmt.Errorf("read prices version: %w", err)
	}
	l.mu.RLock()
	fresh := l.loaded && v == l.version
	l.mu.RUnlock()
	if fresh {
		return nil
	}
	rows, v, err := l.Store.PriceEntries(ctx)
	if err != nil {
		return fmt.Errorf("read price entries: %w", err)
	}
	db, err := EntriesFromRows(rows)
	if err != nil {
		return err
	}
	cat, err := Compose(l.File, db)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.cat, l.version, l.loaded = cat, v, true
	l.mu.Unlock()
	return nil
}

// Catalog is the current catalog (the built-in one until the first Refresh).
func (l *Live) Catalog() *Catalog {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.cat == nil {
		return Default()
	}
	return l.cat
}

// Quote prices with the current catalog.
func (l *Live) Quote(e *analytics.Event) (analytics.Micros, bool, analytics.PriceRef) {
	return l.Catalog().Quote(e)
}

// EntriesFromRows parses stored entries.
func EntriesFromRows(rows []analytics.PriceEntryRow) ([]Entry, error) {
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		e, err := parseEntry(r.Entry)
		if err != nil {
			return nil, fmt.Errorf("pricing: stored entry %s %q from %s: %w", r.Service, r.Model, r.EffectiveFrom, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// EntryRow is an entry as the database keeps it.
func EntryRow(e Entry) (analytics.PriceEntryRow, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return analytics.PriceEntryRow{}, err
	}
	return analytics.PriceEntryRow{Service: e.Service, Model: e.Model, EffectiveFrom: e.EffectiveFrom, Entry: b}, nil
}

// ValidateWith checks that entries parse and that the catalog they would
// make together with the file and the stored entries is valid (no alias
// collisions), without storing anything.
func ValidateWith(raw []byte, file []Entry, stored []Entry) ([]Entry, error) {
	entries, err := parseFile(bytes.NewReader(raw))
	if err != nil {
		return nil, analytics.Errorf(analytics.KindInvalid, "%s", err)
	}
	merged := append(append([]Entry{}, stored...), entries...)
	if _, err := Compose(file, dedupe(merged)); err != nil {
		return nil, analytics.Errorf(analytics.KindInvalid, "%s", err)
	}
	return entries, nil
}

// dedupe keeps the last entry of each key, in order of first appearance.
func dedupe(es []Entry) []Entry {
	idx := map[entryKey]int{}
	var out []Entry
	for _, e := range es {
		if i, ok := idx[e.key()]; ok {
			out[i] = e
			continue
		}
		idx[e.key()] = len(out)
		out = append(out, e)
	}
	return out
}
