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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"reflect"
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
// shared: callers must not modify what its methods return.
func Default() *Catalog { return defaultCatalog() }

// Load reads an override catalog file and merges it into the default
// catalog: every entry of the file is added to the default entries, and an
// entry with the same service, model and effective_from as a default entry
// replaces that default entry entirely (rates, aliases, long-context tier and
// note). The file alone must be valid (see the package documentation), and
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

// ---- parsing and validation ----

// wireEntry is the JSON form of an entry; pointers tell absent from empty.
type wireEntry struct {
	Service              *string                    `json:"service"`
	Model                *string                    `json:"model"`
	Aliases              []string                   `json:"aliases"`
	EffectiveFrom        *string                    `json:"effective_from"`
	Rates                map[string]json.RawMessage `json:"rates"`
	LongContextThreshold *int64                     `json:"long_context_threshold"`
	LongContextRates     map[string]json.RawMessage `json:"long_context_rates"`
	Note                 *string                    `json:"note"`
}

// parseFile reads and validates a catalog file on its own.
func parseFile(r io.Reader) ([]Entry, error) {
	var file struct {
		Entries *[]json.RawMessage `json:"entries"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("pricing: empty catalog file (expected {\"entries\": [...]})")
		}
		return nil, fmt.Errorf("pricing: catalog file: %v", jsonError(err, "the catalog file must be an object {\"entries\": [...]}"))
	}
	if dec.More() {
		return nil, errors.New("pricing: catalog file: trailing data after the JSON object")
	}
	if file.Entries == nil {
		return nil, errors.New("pricing: catalog file: missing \"entries\" list")
	}
	if len(*file.Entries) == 0 {
		return nil, errors.New("pricing: catalog file: \"entries\" is empty")
	}
	out := make([]Entry, 0, len(*file.Entries))
	seen := make(map[entryKey]int, len(*file.Entries))
	for i, raw := range *file.Entries {
		e, err := parseEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("pricing: entries[%d]%s: %w", i, describe(e), err)
		}
		if j, dup := seen[e.key()]; dup {
			return nil, fmt.Errorf("pricing: entries[%d]%s: duplicate of entries[%d] (same service, model and effective_from)", i, describe(e), j)
		}
		seen[e.key()] = i
		out = append(out, e)
	}
	return out, nil
}

// describe names a (possibly partly parsed) entry for an error message.
func describe(e Entry) string {
	if e.Service == "" && e.Model == "" {
		return ""
	}
	s := " (" + string(e.Service)
	if e.Model != "" {
		s += " " + e.Model
	}
	if e.EffectiveFrom != 0 {
		s += " from " + e.EffectiveFrom.String()
	}
	return s + ")"
}

func parseEntry(raw json.RawMessage) (Entry, error) {
	var e Entry
	var w wireEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		// Name what can be named even when the decode failed.
		var partial struct {
			Service, Model string
		}
		_ = json.Unmarshal(raw, &partial)
		e.Service, e.Model = analytics.Service(partial.Service), partial.Model
		return e, jsonError(err, "an entry must be a JSON object")
	}
	if w.Service != nil {
		e.Service = analytics.Service(*w.Service)
	}
	if w.Model != nil {
		e.Model = *w.Model
	}
	var dateErr error
	if w.EffectiveFrom != nil {
		e.EffectiveFrom, dateErr = analytics.ParseDay(*w.EffectiveFrom)
	}
	switch {
	case w.Service == nil:
		return e, errors.New("missing \"service\"")
	case w.Model == nil:
		return e, errors.New("missing \"model\"")
	case w.EffectiveFrom == nil:
		return e, errors.New("missing \"effective_from\"")
	case w.Rates == nil:
		return e, errors.New("missing \"rates\"")
	}
	si := serviceIndex(e.Service)
	if si < 0 {
		return e, fmt.Errorf("unknown service %q (expected anthropic, elevenlabs or s3)", *w.Service)
	}
	if err := checkID("model", e.Model); err != nil {
		return e, err
	}
	if dateErr != nil {
		return e, fmt.Errorf("effective_from %q is not a date in YYYY-MM-DD form", *w.EffectiveFrom)
	}
	for i, a := range w.Aliases {
		if err := checkID("alias", a); err != nil {
			return e, err
		}
		if a == e.Model {
			return e, fmt.Errorf("alias %q is the model id itself", a)
		}
		if slices.Contains(w.Aliases[:i], a) {
			return e, fmt.Errorf("alias %q is listed twice", a)
		}
	}
	e.Aliases = slices.Clone(w.Aliases)
	var err error
	if e.Rates, err = parseRates(si, "rates", w.Rates); err != nil {
		return e, err
	}
	if w.LongContextThreshold != nil || w.LongContextRates != nil {
		if si != svcAnthropic {
			return e, fmt.Errorf("long_context_threshold and long_context_rates apply only to anthropic entries")
		}
		if w.LongContextThreshold == nil {
			return e, errors.New("long_context_rates without long_context_threshold")
		}
		if w.LongContextRates == nil {
			return e, errors.New("long_context_threshold without long_context_rates")
		}
		if *w.LongContextThreshold <= 0 {
			return e, fmt.Errorf("long_context_threshold must be a positive number of tokens (got %d)", *w.LongContextThreshold)
		}
		e.LongContextThreshold = *w.LongContextThreshold
		if e.LongContextRates, err = parseRates(si, "long_context_rates", w.LongContextRates); err != nil {
			return e, err
		}
	}
	if w.Note != nil {
		e.Note = *w.Note
	}
	return e, nil
}

// jsonError rewords a decoding error; whole is the message for a value of
// the wrong type at the top level.
func jsonError(err error, whole string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("%s, got %s", whole, te.Value)
		}
		want := te.Type.String()
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Int64:
			want = "an integer"
		case reflect.Slice:
			want = "a list"
		case reflect.Map:
			want = "an object"
		}
		return fmt.Errorf("field %q must be %s, got %s", te.Field, want, te.Value)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

func checkID(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s must not be empty", what)
	}
	if len(s) > analytics.MaxTextLen {
		return fmt.Errorf("%s %q is longer than %d bytes", what, s, analytics.MaxTextLen)
	}
	if strings.ToLower(s) != s {
		return fmt.Errorf("%s %q must be lowercase", what, s)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("%s %q contains a space or control character", what, s)
		}
	}
	return nil
}

func rateNames(si int) string {
	names := make([]string, len(serviceRates[si]))
	for i, r := range serviceRates[si] {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

func parseRates(si int, field string, raw map[string]json.RawMessage) (map[string]string, error) {
	svc := serviceNames[si]
	out := make(map[string]string, len(raw))
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic errors
	for _, name := range names {
		if !slices.ContainsFunc(serviceRates[si], func(r rateSpec) bool { return r.name == name }) {
			return nil, fmt.Errorf("%s: unknown rate %q for %s (expected %s)", field, name, svc, rateNames(si))
		}
		var s string
		if err := json.Unmarshal(raw[name], &s); err != nil {
			return nil, fmt.Errorf("%s: rate %q must be a decimal string of US dollars such as \"3.00\", got %s", field, name, raw[name])
		}
		if _, _, err := parseDecimal(s); err != nil {
			return nil, fmt.Errorf("%s: rate %q: %v", field, name, err)
		}
		out[name] = s
	}
	for _, r := range serviceRates[si] {
		if _, ok := out[r.name]; !ok {
			return nil, fmt.Errorf("%s: missing rate %q (%s needs %s)", field, r.name, svc, rateNames(si))
		}
	}
	return out, nil
}

// maxDecimalDigits bounds a rate's digits, which keeps its compiled form
// comfortably inside 64 bits.
const maxDecimalDigits = 18

// parseDecimal parses a non-negative plain decimal ("3", "0.30") into
// digits / 10^scale.
func parseDecimal(s string) (digits *big.Int, scale int, err error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return nil, 0, fmt.Errorf("%q is not a plain non-negative decimal such as \"3.00\"", s)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return nil, 0, fmt.Errorf("%q is not a plain non-negative decimal such as \"3.00\"", s)
		}
	}
	all := strings.TrimLeft(whole+frac, "0")
	if len(all) > maxDecimalDigits {
		return nil, 0, fmt.Errorf("%q has more than %d significant digits", s, maxDecimalDigits)
	}
	d, _ := new(big.Int).SetString(whole+frac, 10)
	return d, len(frac), nil
}

// compileTier turns decimal dollar rates into the integer form of tier.
func compileTier(si int, rates map[string]string) (tier, error) {
	var t tier
	specs := serviceRates[si]
	micros := make([]*big.Rat, len(specs)) // micro-dollars per unit
	den := big.NewInt(1)
	for i, spec := range specs {
		digits, scale, err := parseDecimal(rates[spec.name])
		if err != nil {
			return t, fmt.Errorf("rate %q: %v", spec.name, err)
		}
		q := new(big.Int).Mul(digits, big.NewInt(1_000_000))
		d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
		d.Mul(d, big.NewInt(spec.per))
		micros[i] = new(big.Rat).SetFrac(q, d)
		// den = lcm(den, denominator)
		rd := micros[i].Denom()
		g := new(big.Int).GCD(nil, nil, den, rd)
		den.Mul(den, new(big.Int).Quo(rd, g))
	}
	if !den.IsUint64() {
		return t, errors.New("rates are too finely divided to be priced exactly")
	}
	t.den = den.Uint64()
	for i, m := range micros {
		k := new(big.Int).Mul(m.Num(), den)
		k.Quo(k, m.Denom())
		if !k.IsUint64() {
			return t, fmt.Errorf("rate %q is too large", specs[i].name)
		}
		t.k[i] = k.Uint64()
	}
	return t, nil
}

// build merges overrides into base (same key: the override wins), checks the
// merged catalog and compiles it.
func build(base, overrides []Entry) (*Catalog, error) {
	type labelled struct {
		e     Entry
		label string
	}
	idx := make(map[entryKey]int, len(base)+len(overrides))
	all := make([]labelled, 0, len(base)+len(overrides))
	for i := range base {
		idx[base[i].key()] = len(all)
		all = append(all, labelled{base[i].clone(), "default entry"})
	}
	for i := range overrides {
		l := labelled{overrides[i].clone(), fmt.Sprintf("entries[%d]", i)}
		if j, ok := idx[l.e.key()]; ok {
			all[j] = l
			continue
		}
		idx[l.e.key()] = len(all)
		all = append(all, l)
	}
	slices.SortFunc(all, func(a, b labelled) int {
		if c := serviceIndex(a.e.Service) - serviceIndex(b.e.Service); c != 0 {
			return c
		}
		if c := strings.Compare(a.e.Model, b.e.Model); c != 0 {
			return c
		}
		return int(a.e.EffectiveFrom) - int(b.e.EffectiveFrom)
	})

	c := &Catalog{entries: make([]Entry, len(all))}
	for si := range c.models {
		c.models[si] = map[string]*model{}
	}
	// Model ids first, so that an alias that collides with an id is reported
	// on the alias.
	for i := range all {
		e := &all[i].e
		c.entries[i] = *e
		ms := c.models[serviceIndex(e.Service)]
		m := ms[e.Model]
		if m == nil {
			m = &model{}
			ms[e.Model] = m
		}
		v := version{from: e.EffectiveFrom.Date().Unix(), entry: i}
		var err error
		if v.base, err = compileTier(serviceIndex(e.Service), e.Rates); err != nil {
			return nil, fmt.Errorf("pricing: %s%s: %w", all[i].label, describe(*e), err)
		}
		if e.LongContextThreshold > 0 {
			v.threshold = uint64(e.LongContextThreshold)
			if v.long, err = compileTier(serviceIndex(e.Service), e.LongContextRates); err != nil {
				return nil, fmt.Errorf("pricing: %s%s: long_context_rates: %w", all[i].label, describe(*e), err)
			}
		}
		m.versions = append(m.versions, v) // in effective_from order: all is sorted
	}
	owner := make(map[string]string) // service + "\x00" + name -> model id
	for i := range all {
		e := &all[i].e
		owner[string(e.Service)+"\x00"+e.Model] = e.Model
	}
	for i := range all {
		e := &all[i].e
		ms := c.models[serviceIndex(e.Service)]
		for _, a := range e.Aliases {
			k := string(e.Service) + "\x00" + a
			if o, ok := owner[k]; ok && o != e.Model {
				if o == a {
					return nil, fmt.Errorf("pricing: %s%s: alias %q is the id of another %s model", all[i].label, describe(*e), a, e.Service)
				}
				return nil, fmt.Errorf("pricing: %s%s: alias %q already names %s model %q", all[i].label, describe(*e), a, e.Service, o)
			}
			owner[k] = e.Model
			ms[a] = ms[e.Model]
		}
	}
	return c, nil
}
