package analytics_test

import (
	"testing"

	analytics "github.com/codestory/analytics"
)

func TestPriceRefRoundTrip(t *testing.T) {
	for _, p := range []analytics.PriceRef{
		{},
		{Source: analytics.PriceSourceCaller},
		{Model: "claude-sonnet-4-5", EffectiveFrom: analytics.DayFromDate(2025, 9, 29), Source: analytics.PriceSourceBuiltIn},
		{Model: "a@b/c", EffectiveFrom: analytics.DayFromDate(2026, 1, 1), Source: analytics.PriceSourceDatabase},
	} {
		s := p.String()
		got, err := analytics.ParsePriceRef(s)
		if err != nil || got != p {
			t.Errorf("%+v → %q → %+v, %v", p, s, got, err)
		}
	}
	if s := (analytics.PriceRef{Model: "m", EffectiveFrom: analytics.DayFromDate(2025, 9, 29), Source: "file"}).String(); s != "m@2025-09-29/file" {
		t.Errorf("String = %q", s)
	}
}
