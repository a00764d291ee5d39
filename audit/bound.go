package audit

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	analytics "github.com/codestory/analytics"
)

// Bounds of a stored entry: no caller text makes an entry large.
const (
	// MaxField is the most bytes kept of any text field and of any string
	// inside details.
	MaxField = 256
	// MaxDetails is the most bytes of details JSON kept after every string
	// in it was cut; larger details keep only their size.
	MaxDetails = 2048
	// maxItems is the most elements kept of an array or keys of an object
	// inside details.
	maxItems = 32
)

// Bound cuts every text field of e to MaxField bytes and every string in
// its details likewise, recording each original length in
// details.truncated (keyed by field path, e.g. "admin_email" or
// "details.date_range.start"). It returns details.ip_address (bounded),
// the entry's source address.
func Bound(e *analytics.AuditEntry) string {
	cut := map[string]int{}
	for _, f := range []struct {
		name string
		p    *string
	}{{"admin_email", &e.AdminEmail}, {"action", &e.Action}, {"outcome", &e.Outcome}, {"reason", &e.Reason}} {
		if len(*f.p) > MaxField {
			cut[f.name] = len(*f.p)
			*f.p = analytics.CutUTF8(*f.p, MaxField)
		}
	}
	if len(e.Door) > MaxField {
		cut["door"] = len(e.Door)
		e.Door = analytics.Door(analytics.CutUTF8(string(e.Door), MaxField))
	}

	var d map[string]any
	raw := bytes.TrimSpace(e.Details)
	if len(raw) == 0 {
		d = map[string]any{}
	} else {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			d = map[string]any{"invalid_details_bytes": len(raw)}
		} else if m, ok := v.(map[string]any); ok {
			d = m
		} else {
			d = map[string]any{"value": v}
		}
	}
	for k, v := range d {
		d[k] = boundValue(v, "details."+k, cut)
	}
	if len(cut) > 0 {
		d["truncated"] = cut
	}
	ip, _ := d["ip_address"].(string)
	b, err := json.Marshal(d)
	if err != nil || len(b) > MaxDetails {
		small := map[string]any{"truncated": map[string]int{"details": len(raw)}}
		if ip != "" {
			small["ip_address"] = ip
		}
		b, _ = json.Marshal(small)
	}
	e.Details = b
	return ip
}

// boundValue cuts strings, arrays and objects inside details.
func boundValue(v any, path string, cut map[string]int) any {
	switch x := v.(type) {
	case string:
		if len(x) > MaxField {
			cut[boundPath(path)] = len(x)
			return analytics.CutUTF8(x, MaxField)
		}
		return x
	case []any:
		if len(x) > maxItems {
			cut[boundPath(path)] = len(x)
			x = x[:maxItems]
		}
		for i := range x {
			x[i] = boundValue(x[i], path+"."+strconv.Itoa(i), cut)
		}
		return x
	case map[string]any:
		if len(x) > maxItems {
			cut[boundPath(path)] = len(x)
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys[maxItems:] {
				delete(x, k)
			}
		}
		out := make(map[string]any, len(x))
		for k, v := range x {
			nk := k
			if len(k) > 64 {
				nk = analytics.CutUTF8(k, 64)
			}
			out[nk] = boundValue(v, path+"."+nk, cut)
		}
		return out
	}
	return v
}

// boundPath keeps a recorded path short even for deep or long keys.
func boundPath(p string) string { return analytics.CutUTF8(p, 128) }
