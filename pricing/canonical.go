package pricing

import (
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
)

var _ analytics.ModelResolver = (*Catalog)(nil)
var _ analytics.ModelResolver = (*Live)(nil)

// CanonicalModel is the catalog model id a call to model of service prices
// as (aliases, "-latest" and dated ids resolved as Cost resolves them), or
// the id lowercased with those suffixes stripped when the catalog does not
// know it. A model budget compares calls by it.
func (c *Catalog) CanonicalModel(service analytics.Service, model string) string {
	if v := c.find(service, model, time.Time{}); v != nil {
		return c.entries[v.entry].Model
	}
	return stripSuffixes(strings.ToLower(model))
}

// CanonicalModel resolves with the current catalog.
func (l *Live) CanonicalModel(service analytics.Service, model string) string {
	return l.Catalog().CanonicalModel(service, model)
}
