package storetest

import (
	"encoding/json"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/google/go-cmp/cmp"
)

// testPriceEntries holds both engines to one behaviour of the runtime price
// entries: every change bumps the version, a put with an existing key
// replaces it and returns the old row, a removal returns what it removed,
// and the unpriced list counts live calls only.
func testPriceEntries(t *testing.T, h Harness) {
	s := h.Open(t, time.UTC)
	rows, v0, err := s.PriceEntries(ctx)
	if err != nil || len(rows) != 0 {
		t.Fatalf("PriceEntries on a new store = %v, %v; want none", rows, err)
	}
	entry := func(svc analytics.Service, model string, from analytics.Day, rate string) analytics.PriceEntryRow {
		return analytics.PriceEntryRow{Service: svc, Model: model, EffectiveFrom: from,
			Entry: json.RawMessage(`{"service":"` + string(svc) + `","model":"` + model + `","rates":{"input":"` + rate + `"}}`)}
	}
	type row struct {
		Service analytics.Service
		Model   string
		From    analytics.Day
		Entry   string
	}
	list := func() ([]row, int64) {
		t.Helper()
		rs, v, err := s.PriceEntries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pv, err := s.PricesVersion(ctx); err != nil || pv != v {
			t.Fatalf("PricesVersion = %d, %v; PriceEntries said %d", pv, err, v)
		}
		var out []row
		for _, r := range rs {
			if r.UpdatedAt.IsZero() {
				t.Errorf("entry %s %s has no updated_at", r.Service, r.Model)
			}
			out = append(out, row{r.Service, r.Model, r.EffectiveFrom, string(r.Entry)})
		}
		return out, v
	}

	b := entry(analytics.ServiceAnthropic, "claude-b", Day0, "3.00")
	a := entry(analytics.ServiceAnthropic, "claude-a", Day0+10, "1.00")
	replaced, err := s.PutPriceEntries(ctx, []analytics.PriceEntryRow{b, a})
	if err != nil || len(replaced) != 0 {
		t.Fatalf("first put: replaced %v, %v; want none", replaced, err)
	}
	got, v1 := list()
	want := []row{{a.Service, a.Model, a.EffectiveFrom, string(a.Entry)}, {b.Service, b.Model, b.EffectiveFrom, string(b.Entry)}}
	if d := cmp.Diff(want, got); d != "" || v1 <= v0 {
		t.Fatalf("after the first put (version %d → %d), entries (-want +got):\n%s", v0, v1, d)
	}

	b2 := entry(analytics.ServiceAnthropic, "claude-b", Day0, "2.50")
	replaced, err = s.PutPriceEntries(ctx, []analytics.PriceEntryRow{b2})
	if err != nil || len(replaced) != 1 || string(replaced[0].Entry) != string(b.Entry) {
		t.Fatalf("replacing put returned %v, %v; want the old claude-b entry", replaced, err)
	}
	got, v2 := list()
	want[1].Entry = string(b2.Entry)
	if d := cmp.Diff(want, got); d != "" || v2 <= v1 {
		t.Fatalf("after the replacing put (version %d → %d), entries (-want +got):\n%s", v1, v2, d)
	}

	removed, err := s.RemovePriceEntry(ctx, a.Service, a.Model, a.EffectiveFrom)
	if err != nil || string(removed.Entry) != string(a.Entry) {
		t.Fatalf("RemovePriceEntry = %+v, %v; want the claude-a entry", removed, err)
	}
	got, v3 := list()
	if d := cmp.Diff(want[1:], got); d != "" || v3 <= v2 {
		t.Fatalf("after the removal (version %d → %d), entries (-want +got):\n%s", v2, v3, d)
	}
	if _, err := s.RemovePriceEntry(ctx, a.Service, a.Model, a.EffectiveFrom); analytics.ErrorKind(err) != analytics.KindNotFound {
		t.Errorf("removing it again: err = %v, want not found", err)
	}
	if _, v4 := list(); v4 != v3 {
		t.Errorf("a failed removal moved the version from %d to %d", v3, v4)
	}

	unpriced := func(id, model string) analytics.Event {
		e := Call(id, "u1", at(1, 1), analytics.ServiceAnthropic, model, "messages", 0)
		e.Priced = false
		return e
	}
	ingest(t, s, unpriced("c1", "claude-x"), unpriced("c2", "claude-x"), unpriced("c3", "claude-y"),
		Call("c4", "u1", at(1, 2), analytics.ServiceS3, "", "get", 5))
	if c, err := s.VoidEvents(ctx, []analytics.Event{voidOf("v1", "c3")}); err != nil || c.Accepted != 1 {
		t.Fatalf("void: %+v, %v", c, err)
	}
	um, err := s.UnpricedModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]analytics.UnpricedModel{{Service: analytics.ServiceAnthropic, Model: "claude-x", Calls: 2}}, um); d != "" {
		t.Errorf("UnpricedModels (-want +got):\n%s", d)
	}
}
