package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"slices"
	"strings"

	"github.com/codestory/analytics"
)

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
		return nil, fmt.Errorf("pricing: catalog file: %v", jsonError(err, "must be an object {\"entries\": [...]}"))
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
	s := " (" + strings.TrimSpace(string(e.Service)+" "+e.Model)
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
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("malformed JSON: unexpected end of input")
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

// defaultLabel names an entry of the default catalog in errors.
const defaultLabel = "default entry"

// layer is a set of entries from one source; a later layer's entry replaces
// an earlier one with the same service, model and effective_from.
type layer struct {
	entries []Entry
	source  analytics.PriceSource
	label   string // names an entry in errors: label[i]
}

// build merges overrides (a --prices file) into base (the built-in
// catalog), checks the merged catalog and compiles it.
func build(base, overrides []Entry) (*Catalog, error) {
	return buildLayers(base, layer{overrides, analytics.PriceSourceFile, "entries"})
}

// buildLayers merges layers over the built-in base, checks and compiles.
func buildLayers(base []Entry, layers ...layer) (*Catalog, error) {
	type labelled struct {
		e      Entry
		label  string
		source analytics.PriceSource
	}
	idx := make(map[entryKey]int, len(base))
	all := make([]labelled, 0, len(base))
	for i := range base {
		idx[base[i].key()] = len(all)
		all = append(all, labelled{base[i].clone(), defaultLabel, analytics.PriceSourceBuiltIn})
	}
	for _, ly := range layers {
		for i := range ly.entries {
			l := labelled{ly.entries[i].clone(), fmt.Sprintf("%s[%d]", ly.label, i), ly.source}
			if j, ok := idx[l.e.key()]; ok {
				all[j] = l
				continue
			}
			idx[l.e.key()] = len(all)
			all = append(all, l)
		}
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

	c := &Catalog{entries: make([]Entry, len(all)), sources: make([]analytics.PriceSource, len(all))}
	for si := range c.models {
		c.models[si] = map[string]*model{}
	}
	// Model ids first, so that an alias that collides with an id is reported
	// on the alias.
	for i := range all {
		e := &all[i].e
		c.entries[i] = *e
		c.sources[i] = all[i].source
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
	// Aliases: those of default entries first, so that a collision is
	// reported on the override entry that causes it.
	type owner struct{ model, label string }
	owners := make(map[string]owner) // service + "\x00" + name
	for i := range all {
		e := &all[i].e
		owners[string(e.Service)+"\x00"+e.Model] = owner{e.Model, all[i].label}
	}
	for _, defaults := range []bool{true, false} {
		for i := range all {
			e := &all[i].e
			if (all[i].label == defaultLabel) != defaults {
				continue
			}
			ms := c.models[serviceIndex(e.Service)]
			for _, a := range e.Aliases {
				k := string(e.Service) + "\x00" + a
				if o, ok := owners[k]; ok && o.model != e.Model {
					if o.model == a {
						return nil, fmt.Errorf("pricing: %s%s: alias %q is the id of another %s model (%s)", all[i].label, describe(*e), a, e.Service, o.label)
					}
					return nil, fmt.Errorf("pricing: %s%s: alias %q already names %s model %q (%s)", all[i].label, describe(*e), a, e.Service, o.model, o.label)
				}
				owners[k] = owner{e.Model, all[i].label}
				ms[a] = ms[e.Model]
			}
		}
	}
	return c, nil
}
