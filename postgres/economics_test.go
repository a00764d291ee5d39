package postgres_test

import (
	stdcmp "cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/postgres"
	"github.com/codestory/analytics/storetest"
	"github.com/google/go-cmp/cmp"
)

// checkEconomicsBruteForce compares the story rollup and the per-user P&L
// over the whole range with brute force over the live events (UTC days).
func checkEconomicsBruteForce(t *testing.T, s analytics.Store, live []analytics.Event) {
	t.Helper()
	day := func(e *analytics.Event) analytics.Day { return analytics.DayOf(e.Timestamp, time.UTC) }
	type acc struct {
		row    analytics.StoryRow
		anchor analytics.StoryAnchor
	}
	stories := map[string]*acc{}
	users := map[string]*analytics.UserEconomicsRow{}
	paysOrCalls := map[string]bool{}
	first := map[string]analytics.Signup{}
	for i := range live {
		e := &live[i]
		if e.Type == analytics.EventUserSignup {
			if f, ok := first[e.UserID]; !ok || e.Timestamp.Before(f.At) || (e.Timestamp.Equal(f.At) && e.Email < f.Email) {
				first[e.UserID] = analytics.Signup{Email: e.Email, At: e.Timestamp}
			}
		}
		if e.UserID != "" {
			u := users[e.UserID]
			if u == nil {
				u = &analytics.UserEconomicsRow{UserID: e.UserID}
				users[e.UserID] = u
			}
			switch e.Type {
			case analytics.EventAPICall:
				u.Cost += e.Cost
				paysOrCalls[e.UserID] = true
			case analytics.EventPayment:
				u.RevenueCents += e.AmountCents
				paysOrCalls[e.UserID] = true
			case analytics.EventRefund:
				u.RevenueCents -= e.AmountCents
				paysOrCalls[e.UserID] = true
			case analytics.EventStoryCreated:
				u.Stories++
			}
		}
		switch e.Type {
		case analytics.EventAPICall, analytics.EventStoryCreated, analytics.EventStoryCompleted, analytics.EventStoryFailed:
		default:
			continue
		}
		if e.StoryID == "" {
			continue
		}
		rank := int64(1)
		if e.Type == analytics.EventStoryCreated {
			rank = 0
		}
		an := analytics.StoryAnchor{Rank: rank, At: e.Timestamp, Day: day(e), UserID: e.UserID}
		a := stories[e.StoryID]
		if a == nil {
			a = &acc{row: analytics.StoryRow{StoryID: e.StoryID}, anchor: an}
			stories[e.StoryID] = a
		} else if an.Before(a.anchor) {
			a.anchor = an
		}
		st := &a.row
		st.Events++
		switch e.Type {
		case analytics.EventStoryCreated:
			st.Created++
		case analytics.EventStoryCompleted:
			st.Completed++
			st.Chapters += e.Chapters
			st.AudioMillis += e.AudioMillis
		case analytics.EventStoryFailed:
			st.Failed++
		case analytics.EventAPICall:
			switch e.Service {
			case analytics.ServiceAnthropic:
				st.AnthropicCost += e.Cost
			case analytics.ServiceElevenLabs:
				st.ElevenLabsCost += e.Cost
			case analytics.ServiceS3:
				st.S3Cost += e.Cost
			}
		}
	}
	wantStories := []analytics.StoryRow{}
	for _, a := range stories {
		a.row.UserID, a.row.Day = a.anchor.UserID, a.anchor.Day
		wantStories = append(wantStories, a.row)
	}
	wantUsers := []analytics.UserEconomicsRow{}
	var unattributed int64
	for id, u := range users {
		if _, ok := first[id]; !ok {
			unattributed++
		}
		if paysOrCalls[id] {
			u.Email = first[id].Email
			wantUsers = append(wantUsers, *u)
		}
	}
	whole := analytics.Range{Start: analytics.DayOf(storetest.T0, time.UTC) - 40, End: analytics.DayOf(storetest.T0, time.UTC) + 80}
	gotStories, err := s.Stories(ctx, whole)
	if err != nil {
		t.Fatal(err)
	}
	gotUsers, err := s.UserEconomics(ctx, whole)
	if err != nil {
		t.Fatal(err)
	}
	byStory := func(a, b analytics.StoryRow) int { return stdcmp.Compare(a.StoryID, b.StoryID) }
	byUser := func(a, b analytics.UserEconomicsRow) int { return stdcmp.Compare(a.UserID, b.UserID) }
	for _, l := range [][]analytics.StoryRow{wantStories, gotStories} {
		slices.SortFunc(l, byStory)
	}
	for _, l := range [][]analytics.UserEconomicsRow{wantUsers, gotUsers} {
		slices.SortFunc(l, byUser)
	}
	if gotStories == nil {
		gotStories = []analytics.StoryRow{}
	}
	if gotUsers == nil {
		gotUsers = []analytics.UserEconomicsRow{}
	}
	if d := cmp.Diff(wantStories, gotStories); d != "" {
		t.Fatalf("Stories (-brute force +got):\n%s", d)
	}
	if d := cmp.Diff(wantUsers, gotUsers); d != "" {
		t.Fatalf("UserEconomics (-brute force +got):\n%s", d)
	}
	if n, err := s.UnattributedUsers(ctx, whole); err != nil || n != unattributed {
		t.Fatalf("UnattributedUsers = %d, %v; brute force %d", n, err, unattributed)
	}
}

// TestMigration060OnExistingData takes a database with voided events back to
// the schema before migration 060, then reopens it: the backfill must leave
// every rollup as a fresh aggregate would, and ingests, voids and reprices
// must then keep it so.
func TestMigration060OnExistingData(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, postgres.Options{})
	rng := rand.New(rand.NewPCG(60, 61))
	evs := genEvents(rng, "old", 600, quoteOld)
	if _, err := s.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var voids []analytics.Event
	gone := map[string]bool{}
	for _, i := range rng.Perm(len(evs))[:150] {
		voids = append(voids, analytics.Event{ID: "v-" + evs[i].ID, Type: analytics.EventVoided, Priced: true,
			Timestamp: storetest.T0.AddDate(0, 0, 20), Voids: evs[i].ID, Reason: "test"})
		gone[evs[i].ID] = true
	}
	if c, err := s.VoidEvents(ctx, voids); err != nil || c.Accepted != len(voids) {
		t.Fatalf("VoidEvents = %+v, %v; want %d accepted", c, err, len(voids))
	}
	evs = slices.DeleteFunc(evs, func(e analytics.Event) bool { return gone[e.ID] })
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE version = 60`,
		`DROP TABLE stories`,
		`DROP INDEX events_by_story`,
		`DROP INDEX users_by_signup_day`,
		`ALTER TABLE user_activity DROP COLUMN revenue_cents, DROP COLUMN pay_events`,
		`ALTER TABLE user_month DROP COLUMN revenue_cents, DROP COLUMN pay_events`,
		`ALTER TABLE users DROP COLUMN signup_day`,
	} {
		if err := s.ExecRaw(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s = open(t, url, postgres.Options{})
	checkBruteForce(t, s, evs)

	more := genEvents(rng, "new", 300, quoteOld)
	if _, err := s.IngestEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, more...)
	voids, gone = nil, map[string]bool{}
	for _, i := range rng.Perm(len(evs))[:100] {
		voids = append(voids, analytics.Event{ID: "v2-" + evs[i].ID, Type: analytics.EventVoided, Priced: true,
			Timestamp: storetest.T0.AddDate(0, 0, 21), Voids: evs[i].ID, Reason: "test"})
		gone[evs[i].ID] = true
	}
	if c, err := s.VoidEvents(ctx, voids); err != nil || c.Accepted != len(voids) {
		t.Fatalf("VoidEvents = %+v, %v; want %d accepted", c, err, len(voids))
	}
	evs = slices.DeleteFunc(evs, func(e analytics.Event) bool { return gone[e.ID] })
	if _, err := s.RepriceEvents(ctx, analytics.RepriceOptions{BatchSize: 50}, quoteNew); err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if evs[i].Type == analytics.EventAPICall && evs[i].ExplicitCost == nil {
			quoteNew(&evs[i])
		}
	}
	checkBruteForce(t, s, evs)
}
