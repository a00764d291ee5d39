package analytics

import (
	"fmt"
	"strings"
)

// PriceSource says where a catalog entry came from.
type PriceSource string

// Sources of price entries, and of a caller-given cost.
const (
	PriceSourceBuiltIn  PriceSource = "built-in"
	PriceSourceFile     PriceSource = "file"
	PriceSourceDatabase PriceSource = "database"
	PriceSourceCaller   PriceSource = "caller" // the event's own cost_cents
)

// PriceRef names the catalog entry that priced an api_call: the entry's
// model id (an alias resolves to it), its effective_from day and its source.
// The zero PriceRef means the call was not priced from the catalog (unpriced).
type PriceRef struct {
	Model         string      `json:"model,omitempty"`
	EffectiveFrom Day         `json:"effective_from"`
	Source        PriceSource `json:"source"`
}

// IsZero reports whether no entry priced the call.
func (p PriceRef) IsZero() bool { return p.Source == "" }

// String is the stored form: "model@YYYY-MM-DD/source", "caller", or "" for
// none.
func (p PriceRef) String() string {
	switch p.Source {
	case "":
		return ""
	case PriceSourceCaller:
		return string(PriceSourceCaller)
	}
	// Built by hand: this runs twice for every priced call on the ingest
	// path, where time.Format showed in profiles.
	y, m, d := p.EffectiveFrom.Date().Date()
	b := make([]byte, 0, len(p.Model)+12+len(p.Source))
	b = append(b, p.Model...)
	b = append(b, '@')
	b = append4(b, y)
	b = append(b, '-', byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+d/10), byte('0'+d%10), '/')
	b = append(b, p.Source...)
	return string(b)
}

// append4 appends a year as four digits.
func append4(b []byte, y int) []byte {
	return append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
}

// ParsePriceRef reads the stored form written by String.
func ParsePriceRef(s string) (PriceRef, error) {
	switch s {
	case "":
		return PriceRef{}, nil
	case string(PriceSourceCaller):
		return PriceRef{Source: PriceSourceCaller}, nil
	}
	at := strings.LastIndex(s, "@")
	slash := strings.LastIndex(s, "/")
	if at < 0 || slash < at {
		return PriceRef{}, fmt.Errorf("price reference %q is not model@YYYY-MM-DD/source", s)
	}
	d, err := ParseDay(s[at+1 : slash])
	if err != nil {
		return PriceRef{}, fmt.Errorf("price reference %q: %w", s, err)
	}
	return PriceRef{Model: s[:at], EffectiveFrom: d, Source: PriceSource(s[slash+1:])}, nil
}

// MarshalJSON writes the caller's cost as {"source":"caller"} and a catalog
// entry with its model and effective_from.
func (p PriceRef) MarshalJSON() ([]byte, error) {
	if p.Source == PriceSourceCaller || p.Source == "" {
		return []byte(fmt.Sprintf(`{"source":%q}`, string(p.Source))), nil
	}
	return []byte(fmt.Sprintf(`{"model":%q,"effective_from":%q,"source":%q}`, p.Model, p.EffectiveFrom.String(), string(p.Source))), nil
}
