package analytics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEconomicsPagesWithoutSkipsOrRepeats pages through random rows with
// many ties, in every sort and order, and checks the concatenated pages
// equal the whole ordered list.
func TestEconomicsPagesWithoutSkipsOrRepeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []UserEconomicsRow
	for i := range 97 {
		rows = append(rows, UserEconomicsRow{UserID: fmt.Sprintf("u%03d", i), RevenueCents: int64(rng.IntN(4)) * 100,
			Cost: Micros(rng.IntN(3)) * 500_000, Stories: int64(rng.IntN(3))})
	}
	p := Period{Start: 100, End: 130}
	for _, by := range []string{EconomicsByMargin, EconomicsByCost, EconomicsByRevenue, EconomicsByStories} {
		for _, order := range []string{"asc", "desc"} {
			want := slices.Clone(rows)
			SortEconomics(want, by, order)
			limit := 10
			in := EconomicsInput{SortBy: by, Order: order, Limit: &limit}
			var got []string
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatalf("%s %s: no end of pages", by, order)
				}
				res, err := PageEconomics(slices.Clone(rows), in, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range res.Users {
					got = append(got, u.UserID)
				}
				if res.NextCursor == nil {
					break
				}
				in.Cursor = *res.NextCursor
			}
			var ids []string
			for _, u := range want {
				ids = append(ids, u.UserID)
			}
			if !slices.Equal(got, ids) {
				t.Fatalf("%s %s: pages gave %v, want %v", by, order, got, ids)
			}
		}
	}
}

func TestEconomicsSummaryAndRow(t *testing.T) {
	rows := []UserEconomicsRow{
		{UserID: "u7", Email: "a@x", RevenueCents: 999, Cost: 14_325_187, Stories: 12}, // margin −433.5187¢
		{UserID: "u8", RevenueCents: 0, Cost: 1_000_000},                               // −100¢, no revenue
		{UserID: "u9", RevenueCents: 500, Cost: 0},                                     // +500¢
	}
	limit := 2
	res, err := PageEconomics(rows, EconomicsInput{SortBy: EconomicsByMargin, Order: "asc", Limit: &limit}, Period{Start: 1, End: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Users != 3 || s.PayingUsers != 2 || s.UsersLosingMoney != 2 || s.Loss != Cents(-5_335_187) ||
		s.Revenue != Cents(14_990_000) || s.Cost != Cents(15_325_187) || s.Margin != Cents(-335_187) {
		t.Fatalf("summary %+v", s)
	}
	u := res.Users[0]
	if u.UserID != "u7" || u.Margin != Cents(-4_335_187) || u.MarginPct == nil || fmt.Sprintf("%.4f", *u.MarginPct) != "-43.3953" ||
		u.CostPerStory == nil || *u.CostPerStory != Cents(1_193_765) || u.Email == nil || *u.Email != "a@x" {
		t.Fatalf("first row %+v", u)
	}
	if res.Users[1].UserID != "u8" || res.Users[1].MarginPct != nil || res.Users[1].CostPerStory != nil || res.NextCursor == nil {
		t.Fatalf("second row %+v, cursor %v", res.Users[1], res.NextCursor)
	}
}

func TestEconomicsCursorBelongsToItsQuery(t *testing.T) {
	limit := 1
	rows := []UserEconomicsRow{{UserID: "a", Cost: 1}, {UserID: "b", Cost: 2}}
	in := EconomicsInput{RangeInput: RangeInput{StartDate: "2026-03-01", EndDate: "2026-03-31"}, SortBy: "margin", Order: "asc", Limit: &limit}
	r, _ := in.Range()
	res, err := PageEconomics(rows, in, Period{Start: r.Start, End: r.End})
	if err != nil || res.NextCursor == nil {
		t.Fatal(err)
	}
	other := in
	other.Cursor, other.Order = *res.NextCursor, "desc"
	if err := other.Validate(); err == nil || !strings.Contains(err.Error(), "another range, sort_by or order") {
		t.Fatalf("a cursor of another order: %v", err)
	}
	junk := in
	junk.Cursor = "!!"
	if err := junk.Validate(); err == nil || !strings.Contains(err.Error(), "not a next_cursor") {
		t.Fatalf("junk cursor: %v", err)
	}
	for _, bad := range []EconomicsInput{{SortBy: "profit"}, {Order: "up"}, {Limit: new(int)}} {
		bad.Normalize(time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), time.UTC)
		if err := bad.Validate(); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}

// TestStoryPercentilesNearestRank: p = the value at rank ⌈q·n⌉.
func TestStoryPercentilesNearestRank(t *testing.T) {
	var rows []StoryRow
	for i := 1; i <= 7; i++ { // completed stories costing 1..7 cents, in shuffled order
		rows = append(rows, StoryRow{StoryID: fmt.Sprintf("s%d", (i*3)%7), Events: 1, Completed: 1, AudioMillis: 60_000,
			ElevenLabsCost: Micros((i*3)%7+1) * MicrosPerCent})
	}
	rows = append(rows, StoryRow{StoryID: "f", Events: 1, Failed: 1, AnthropicCost: 25_000}, StoryRow{StoryID: "p", Events: 1, S3Cost: 10})
	res, err := SummarizeStories(rows, 2, Period{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.CostPerCompletedStory
	// n = 7: p50 rank 4 → 4¢, p90 rank 7 (⌈6.3⌉) → 7¢, p99 rank 7, max 7¢; mean 4¢.
	if *d.P50 != Cents(4*MicrosPerCent) || *d.P90 != Cents(7*MicrosPerCent) || *d.P99 != Cents(7*MicrosPerCent) ||
		*d.Max != Cents(7*MicrosPerCent) || *d.Mean != Cents(4*MicrosPerCent) {
		t.Fatalf("distribution %+v %+v %+v %+v %+v", *d.Mean, *d.P50, *d.P90, *d.P99, *d.Max)
	}
	if res.Stories != 9 || res.Completed != 7 || res.Failed != 1 || res.InProgress != 1 || res.FailedCost != Cents(25_000) ||
		res.Cost != Cents(28*MicrosPerCent+25_010) {
		t.Fatalf("counts %+v", res)
	}
	if res.CostPerAudioMinuteCents == nil || *res.CostPerAudioMinuteCents != 4 { // 28¢ over 7 minutes
		t.Fatalf("cost per audio minute %v", res.CostPerAudioMinuteCents)
	}
	if len(res.Top) != 2 || res.Top[0].Cost != Cents(7*MicrosPerCent) || res.Top[1].Cost != Cents(6*MicrosPerCent) {
		t.Fatalf("top %+v", res.Top)
	}
	var n int64
	for _, b := range res.Histogram {
		n += b.Stories
	}
	if len(res.Histogram) == 0 || len(res.Histogram) > StoryHistogramBuckets || n != 7 || res.Histogram[0].From > Cents(MicrosPerCent) ||
		res.Histogram[len(res.Histogram)-1].To <= Cents(7*MicrosPerCent) || res.Histogram[len(res.Histogram)-1].Stories == 0 {
		t.Fatalf("histogram %+v", res.Histogram)
	}
	empty, _ := SummarizeStories(nil, 10, Period{})
	if empty.CostPerCompletedStory.P50 != nil || empty.CostPerAudioMinuteCents != nil || len(empty.Histogram) != 0 {
		t.Fatalf("no stories: %+v", empty)
	}
}

func TestCohortPeriods(t *testing.T) {
	mon := DayFromDate(2026, 3, 2) // a Monday
	for d := mon; d < mon+7; d++ {
		if p := CohortPeriodOf(d, GranularityWeek); CohortPeriodStart(p, GranularityWeek) != mon {
			t.Fatalf("%s: week starts %s, want %s", d, CohortPeriodStart(p, GranularityWeek), mon)
		}
	}
	if CohortPeriodOf(mon+7, GranularityWeek) != CohortPeriodOf(mon, GranularityWeek)+1 {
		t.Fatal("next Monday is not the next week")
	}
	if got := CohortPeriodStart(CohortPeriodOf(DayFromDate(2026, 2, 28), GranularityMonth), GranularityMonth); got != DayFromDate(2026, 2, 1) {
		t.Fatalf("month start %s", got)
	}
	// Cohorts whose first day lies in the range: a Wednesday start skips to the next Monday.
	if got := CohortWindow(Range{Start: mon + 2, End: mon + 20}, GranularityWeek); got != mon+7 {
		t.Fatalf("window from %s", got)
	}
}

func TestBuildCohortsCumulates(t *testing.T) {
	mon := DayFromDate(2026, 3, 2)
	c := CohortPeriodOf(mon, GranularityWeek)
	cells := []CohortCell{{Cohort: c, Period: c, Users: 4, RevenueCents: 100, Cost: 5}, {Cohort: c, Period: c + 2, Users: 1, RevenueCents: 50, Cost: 7}}
	res, err := BuildCohorts(GranularityWeek, mon, mon+15, cells, 2, Period{})
	if err != nil {
		t.Fatal(err)
	}
	co := res.Cohorts[0]
	if len(res.Cohorts) != 1 || co.Size != 4 || !slices.Equal(co.Retained, []int64{4, 0, 1}) ||
		!slices.Equal(co.Revenue, []Cents{1_000_000, 1_000_000, 1_500_000}) || !slices.Equal(co.Cost, []Cents{5, 5, 12}) ||
		res.UnattributedUsers != 2 {
		t.Fatalf("%+v", res)
	}
}

func TestStoryCostBuckets(t *testing.T) {
	prev := int32(-1)
	for _, c := range []Micros{0, 1, 15, 16, 17, 31, 32, 33, 1000, 123_456_789, 1 << 40, 1<<40 + 1, 10_000_000_000_000} {
		b := StoryCostBucket(c)
		lo, hi := StoryBucketBounds(b)
		if c < lo || c >= hi || b < prev {
			t.Fatalf("cost %d: bucket %d [%d, %d)", c, b, lo, hi)
		}
		if c >= 16 && float64(hi-lo) > float64(lo)/16+1 {
			t.Fatalf("cost %d: bucket [%d, %d) wider than 1/16 of its start", c, lo, hi)
		}
		prev = b
	}
	// Buckets tile the line: each ends where the next starts.
	for b := int32(0); b < 800; b++ {
		_, hi := StoryBucketBounds(b)
		if lo, _ := StoryBucketBounds(b + 1); lo != hi {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", b, hi, b+1, lo)
		}
	}
}

// TestEconomicsMarginBeyondInt64 refuses a user whose margin in
// micro-dollars does not fit an int64 (revenue × 10,000 would wrap), and
// keeps the figures exact at the bounds.
func TestEconomicsMarginBeyondInt64(t *testing.T) {
	limit := 5
	in := EconomicsInput{SortBy: EconomicsByMargin, Order: "asc", Limit: &limit}
	for _, u := range []UserEconomicsRow{
		{UserID: "rich", RevenueCents: 1_000_000_000_000_000, Calls: 1},
		{UserID: "poor", RevenueCents: -MaxEconomicsRevenueCents - 1, Calls: 1},
		{UserID: "costly", Cost: MaxEconomicsCost + 1, Calls: 1},
	} {
		if _, err := PageEconomics([]UserEconomicsRow{u}, in, Period{Start: 1, End: 2}); err != ErrSumOverflow {
			t.Fatalf("%+v: error %v, want ErrSumOverflow", u, err)
		}
	}
	edge := []UserEconomicsRow{{UserID: "a", RevenueCents: MaxEconomicsRevenueCents, Cost: -MaxEconomicsCost, Calls: 1}}
	res, err := PageEconomics(edge, in, Period{Start: 1, End: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := Cents(MaxEconomicsRevenueCents*MicrosPerCent + int64(MaxEconomicsCost)); res.Users[0].Margin != want || res.Summary.Margin != want {
		t.Fatalf("margin at the bounds %v (summary %v), want %v", res.Users[0].Margin, res.Summary.Margin, want)
	}
	two := append(slices.Clone(edge), UserEconomicsRow{UserID: "b", RevenueCents: MaxEconomicsRevenueCents, Calls: 1})
	if _, err := PageEconomics(two, in, Period{Start: 1, End: 2}); err != ErrSumOverflow {
		t.Fatalf("two users whose revenue sums beyond int64 micro-dollars: error %v, want ErrSumOverflow", err)
	}
}
