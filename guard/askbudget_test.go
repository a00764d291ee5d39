package guard_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/sqlite"
)

// TestAskBudget: the cap is per admin and per day in the reporting zone;
// once reached, the question is refused until that zone's midnight.
func TestAskBudget(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 3, 10, 21, 30, 0, 0, time.UTC) // 22:30 in Berlin
	b := &guard.AskBudget{Store: s, Limit: 500_000, Now: func() time.Time { return now }, Location: func() *time.Location { return berlin }}
	today := analytics.DayOf(now, berlin)
	if err := s.AddAskSpend(ctx, 1, today, 300_000); err != nil {
		t.Fatal(err)
	}
	if d, err := b.Check(ctx, 1); err != nil || d != nil {
		t.Fatalf("$0.30 of $0.50: %+v, %v", d, err)
	}
	s.AddAskSpend(ctx, 1, today, 200_000)
	s.AddAskSpend(ctx, 1, today-1, 5_000_000) // yesterday does not count
	d, err := b.Check(ctx, 1)
	if err != nil || d == nil || d.Kind != analytics.KindRateLimited || d.RetryAfter != 90*time.Minute+time.Second ||
		!strings.Contains(d.Reason, "$0.5000 of $0.50 spent today (2026-03-10, Europe/Berlin)") {
		t.Fatalf("at the cap: %+v, %v", d, err)
	}
	if d, _ := b.Check(ctx, 2); d != nil {
		t.Errorf("another admin is refused: %+v", d)
	}
	now = now.Add(91 * time.Minute) // past midnight in Berlin
	if d, _ := b.Check(ctx, 1); d != nil {
		t.Errorf("the next day is refused: %+v", d)
	}
}
