// Package pricing prices api_call events from a versioned price catalog.
//
// # Catalog file
//
// The default catalog is prices.json, embedded in the binary. A catalog file
// is a JSON object with one field, "entries", a list of entries:
//
//	{"entries": [
//	  {
//	    "service": "anthropic",
//	    "model": "claude-opus-4-0",
//	    "aliases": ["claude-opus-4"],
//	    "effective_from": "2025-05-22",
//	    "rates": {"input": "15.00", "output": "75.00", "cache_write_5m": "18.75",
//	              "cache_write_1h": "30.00", "cache_read": "1.50"},
//	    "long_context_threshold": 200000,
//	    "long_context_rates": {"input": "…", "output": "…", "cache_write_5m": "…",
//	                           "cache_write_1h": "…", "cache_read": "…"},
//	    "note": "free text"
//	  }
//	]}
//
// Fields:
//
//   - service: "anthropic", "elevenlabs" or "s3".
//   - model: the lowercase model id (for s3, the storage class, e.g. "standard").
//   - aliases: optional further lowercase ids that name the same model.
//   - effective_from: the UTC date (YYYY-MM-DD) from which the rates apply.
//   - rates: US dollars as decimal strings ("3.00", "0.0004"), parsed exactly.
//     Every rate of the service is required and no other is allowed:
//     anthropic, per million tokens: input, output, cache_write_5m,
//     cache_write_1h, cache_read; elevenlabs, per 1,000 characters:
//     characters; s3: transfer_out per GB (2^30 bytes), tier1_requests and
//     tier2_requests per 1,000 requests.
//   - long_context_threshold, long_context_rates (anthropic only, both or
//     neither): when input + cache-write + cache-read tokens of a request
//     exceed the threshold, the whole request (output included) is priced at
//     the long-context rates. A request of exactly the threshold is priced at
//     the base rates.
//   - note: optional free text.
//
// Unknown fields, unknown services, missing or unknown rates, malformed
// decimals, bad dates and duplicate entries (same service, model and
// effective_from) are refused with an error naming the entry.
//
// # Versions
//
// An event is priced with the version of its model whose effective_from is
// the latest one on or before the event's UTC date. An event older than every
// version of its model is priced with the earliest version (prices before the
// catalog's first entry are not known, and the earliest is the best guess; it
// is better than counting the call as unpriced).
//
// # Model ids
//
// A model id is lowercased, then matched exactly against model ids and
// aliases; failing that, a trailing "-latest" and a trailing date suffix
// ("-20250929") are stripped and the result is matched again, so
// "claude-sonnet-4-5-20250929" and "Claude-Sonnet-4-5-Latest" are both
// claude-sonnet-4-5. Aliases are per model: the aliases of all its versions
// name it. An s3 event without a model is priced as class "standard".
package pricing

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codestory/analytics"
)

//go:embed prices.json
var defaultPrices []byte

// Entry is one version of one model's prices, as written in a catalog file.
// Marshalled inside {"entries": [...]}, a list of Entries is a valid catalog
// file.
type Entry struct {
	Service              analytics.Service `json:"service"`
	Model                string            `json:"model"`
	Aliases              []string          `json:"aliases,omitempty"`
	EffectiveFrom        analytics.Day     `json:"effective_from"`
	Rates                map[string]string `json:"rates"`
	LongContextThreshold int64             `json:"long_context_threshold,omitempty"`
	LongContextRates     map[string]string `json:"long_context_rates,omitempty"`
	Note                 string            `json:"note,omitempty"`
}

func (e *Entry) clone() Entry {
	c := *e
	c.Aliases = slices.Clone(e.Aliases)
	c.Rates = cloneMap(e.Rates)
	c.LongContextRates = cloneMap(e.LongContextRates)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (e *Entry) key() entryKey { return entryKey{e.Service, e.Model, e.EffectiveFrom} }

type entryKey struct {
	service analytics.Service
	model   string
	from    analytics.Day
}

// The services a catalog can price, in the order of analytics.Services.
const (
	svcAnthropic = iota
	svcElevenLabs
	svcS3
	numServices
)

var serviceNames = [numServices]analytics.Service{analytics.ServiceAnthropic, analytics.ServiceElevenLabs, analytics.ServiceS3}

func serviceIndex(s analytics.Service) int {
	switch s {
	case analytics.ServiceAnthropic:
		return svcAnthropic
	case analytics.ServiceElevenLabs:
		return svcElevenLabs
	case analytics.ServiceS3:
		return svcS3
	}
	return -1
}

// rateSpec names a rate and the number of units its price is for.
type rateSpec struct {
	name string
	per  int64
}

const (
	perMillion = 1_000_000
	perGB      = 1 << 30 // AWS bills a "GB" of transfer as 2^30 bytes
)

// Rates of each service, in the order the cost code indexes them.
var serviceRates = [numServices][]rateSpec{
	svcAnthropic: {
		{"input", perMillion}, {"output", perMillion}, {"cache_write_5m", perMillion},
		{"cache_write_1h", perMillion}, {"cache_read", perMillion},
	},
	svcElevenLabs: {{"characters", 1000}},
	svcS3:         {{"transfer_out", perGB}, {"tier1_requests", 1000}, {"tier2_requests", 1000}},
}

// Indexes into tier.k.
const (
	rInput, rOutput, rWrite5m, rWrite1h, rRead = 0, 1, 2, 3, 4
	rCharacters                                = 0
	rTransferOut, rTier1, rTier2               = 0, 1, 2
)

// tier is a set of rates compiled for exact integer arithmetic: the cost in
// micro-dollars of n1 units of rate 1, n2 of rate 2, … is
// (n1·k[0] + n2·k[1] + …) / den, exactly.
type tier struct {
	den uint64
	k   [5]uint64
}

// version is one compiled Entry.
type version struct {
	from      int64 // Unix seconds of effective_from at 00:00 UTC
	base      tier
	long      tier
	threshold uint64 // 0: no long-context tier
	entry     int    // index into Catalog.entries
}

type model struct {
	versions []version // by effective_from ascending
}

// Catalog is an immutable price catalog; it is safe for concurrent use and
// implements analytics.Pricer.
type Catalog struct {
	entries []Entry                        // sorted by service, model, effective_from
	sources []analytics.PriceSource        // where each entry came from
	models  [numServices]map[string]*model // by model id and by alias
}

var _ analytics.Pricer = (*Catalog)(nil)

var defaultCatalog = sync.OnceValue(func() *Catalog {
	entries, err := parseFile(bytes.NewReader(defaultPrices))
	if err != nil {
		panic("pricing: embedded prices.json: " + err.Error())
	}
	c, err := build(entries, nil)
	if err != nil {
		panic("pricing: embedded prices.json: " + err.Error())
	}
	return c
})

// Default returns the catalog embedded in the binary (prices.json). It is
// built once and shared; like every Catalog it is immutable.
func Default() *Catalog { return defaultCatalog() }

// Load reads an override catalog file and merges it into the default
// catalog: every entry of the file is added to the default entries, and an
// entry with the same service, model and effective_from as a default entry
// replaces that default entry entirely (rates, aliases, long-context tier and
// note). An override cannot remove a default entry; to change a price from
// some date on, add an entry with that effective_from. The file alone must be
// valid (see the package documentation), and
// the merged catalog must not give one alias to two models of a service.
func Load(r io.Reader) (*Catalog, error) {
	entries, err := parseFile(r)
	if err != nil {
		return nil, err
	}
	return build(Default().entries, entries)
}

// LoadFile is Load on the file at path.
func LoadFile(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	defer f.Close()
	c, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Entries lists the catalog, ordered by service (as analytics.Services),
// model and effective_from. The result is a copy.
func (c *Catalog) Entries() []Entry {
	out := make([]Entry, len(c.entries))
	for i := range c.entries {
		out[i] = c.entries[i].clone()
	}
	return out
}

// Lookup returns the entry that prices a call to model of service at time at
// (a copy), following the same matching and version rules as Cost. An s3
// call with an empty model is class "standard".
func (c *Catalog) Lookup(service analytics.Service, model string, at time.Time) (Entry, bool) {
	v := c.find(service, model, at)
	if v == nil {
		return Entry{}, false
	}
	return c.entries[v.entry].clone(), true
}

// Known reports whether the catalog can price a call to model of service at
// time at. Because an event older than every version is priced with the
// earliest one, this is currently true at every time for a model with any
// version; at is part of the signature so that callers need not change if
// that rule does.
func (c *Catalog) Known(service analytics.Service, model string, at time.Time) bool {
	return c.find(service, model, at) != nil
}

// find resolves the version that prices model of service at time at.
func (c *Catalog) find(service analytics.Service, name string, at time.Time) *version {
	si := serviceIndex(service)
	if si < 0 {
		return nil
	}
	if name == "" && si == svcS3 {
		name = "standard"
	}
	name = strings.ToLower(name) // does not allocate when already lowercase
	ms := c.models[si]
	m := ms[name]
	if m == nil {
		if s := stripSuffixes(name); s != name {
			m = ms[s]
		}
		if m == nil {
			return nil
		}
	}
	t := at.Unix()
	vs := m.versions
	for i := len(vs) - 1; i > 0; i-- {
		if vs[i].from <= t {
			return &vs[i]
		}
	}
	return &vs[0] // on or after the first version, or older than all of them
}

// stripSuffixes removes trailing "-latest" and "-YYYYMMDD" suffixes.
func stripSuffixes(s string) string {
	for {
		switch {
		case strings.HasSuffix(s, "-latest"):
			s = s[:len(s)-len("-latest")]
		case hasDateSuffix(s):
			s = s[:len(s)-9]
		default:
			return s
		}
	}
}

func hasDateSuffix(s string) bool {
	if len(s) < 9 || s[len(s)-9] != '-' {
		return false
	}
	for i := len(s) - 8; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
