package postgres

import (
	"context"
	"errors"

	analytics "github.com/codestory/analytics"
)

// errTODO marks the corrections not yet implemented on PostgreSQL.
var errTODO = errors.New("postgres: not implemented yet")

// VoidEvents is not implemented yet.
func (s *Store) VoidEvents(ctx context.Context, voids []analytics.Event) (analytics.VoidCounts, error) {
	return analytics.VoidCounts{}, errTODO
}

// RepriceEvents is not implemented yet.
func (s *Store) RepriceEvents(ctx context.Context, opts analytics.RepriceOptions, quote func(*analytics.Event)) (analytics.RepriceReport, error) {
	return analytics.RepriceReport{}, errTODO
}

// PriceEntries is not implemented yet.
func (s *Store) PriceEntries(ctx context.Context) ([]analytics.PriceEntryRow, int64, error) {
	return nil, 0, nil
}

// PricesVersion is not implemented yet.
func (s *Store) PricesVersion(ctx context.Context) (int64, error) { return 0, nil }

// PutPriceEntries is not implemented yet.
func (s *Store) PutPriceEntries(ctx context.Context, rows []analytics.PriceEntryRow) ([]analytics.PriceEntryRow, error) {
	return nil, errTODO
}

// RemovePriceEntry is not implemented yet.
func (s *Store) RemovePriceEntry(ctx context.Context, service analytics.Service, model string, from analytics.Day) (analytics.PriceEntryRow, error) {
	return analytics.PriceEntryRow{}, errTODO
}

// UnpricedModels is not implemented yet.
func (s *Store) UnpricedModels(ctx context.Context) ([]analytics.UnpricedModel, error) {
	return nil, errTODO
}
