package analytics

import (
	"context"
	"encoding/json"
	"time"
)

// PriceEntryRow is a price entry kept in the database (prices add,
// POST /admin/prices): the entry itself is JSON in the --prices file format,
// validated by the pricing package before it is stored.
type PriceEntryRow struct {
	Service       Service
	Model         string
	EffectiveFrom Day
	Entry         json.RawMessage
	UpdatedAt     time.Time
}

// PriceStore keeps the runtime price entries. Every change bumps a version
// so that every process (every replica) reloads its catalog before its next
// batch.
type PriceStore interface {
	// PriceEntries returns the stored entries and the version they are at.
	PriceEntries(ctx context.Context) ([]PriceEntryRow, int64, error)
	// PricesVersion is the current version (cheap: read before each batch).
	PricesVersion(ctx context.Context) (int64, error)
	// PutPriceEntries stores entries, replacing those with the same service,
	// model and effective_from; it returns the replaced rows.
	PutPriceEntries(ctx context.Context, rows []PriceEntryRow) ([]PriceEntryRow, error)
	// UnpricedModels lists every service and model with unpriced api_calls
	// stored (all time, voids excluded), by service and model.
	UnpricedModels(ctx context.Context) ([]UnpricedModel, error)
	// RemovePriceEntry deletes one entry (KindNotFound when absent).
	RemovePriceEntry(ctx context.Context, service Service, model string, from Day) (PriceEntryRow, error)
}

// UnpricedModel is a service and model whose calls could not be priced.
type UnpricedModel struct {
	Service Service `json:"service"`
	Model   string  `json:"model"`
	Calls   int64   `json:"calls"`
}
