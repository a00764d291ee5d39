package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/postgres"
	"github.com/codestory/analytics/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

var ctx = context.Background()

func open(t testing.TB, url string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, loc *time.Location) analytics.Store {
			return open(t, pgtest.NewDatabase(t), postgres.Options{Location: loc})
		},
		Reopen: func(t *testing.T, s analytics.Store, loc *time.Location) (analytics.Store, error) {
			s2, err := postgres.Open(ctx, s.(*postgres.Store).URL(), postgres.Options{Location: loc})
			if err == nil {
				t.Cleanup(func() { s2.Close() })
			}
			return s2, err
		},
		Exec: func(t *testing.T, s analytics.Store, q string) {
			if err := s.(*postgres.Store).ExecRaw(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
	})
}

func query[T any](t *testing.T, url, q string, args ...any) []T {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, q, args...)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// TestConcurrentMigrations starts several replicas on one empty database at
// once: every migration must be applied exactly once and every Open succeed.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Open: %v", err)
	}
	type row struct {
		Version int32
		Name    string
	}
	var want []row
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", f.Name(), err)
		}
		want = append(want, row{int32(v), f.Name()})
	}
	got := query[row](t, url, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", d)
	}
}

// TestPartitions ingests months far apart and checks each row is in its
// month's partition, bounds included, with nothing in the default partition.
func TestPartitions(t *testing.T) {
	url := pgtest.NewDatabase(t)
	now := time.Date(2026, 7, 10, 12, 0, 0, 0, time.UTC)
	s := open(t, url, postgres.Options{Now: func() time.Time { return now }})
	call := func(id string, ts time.Time) analytics.Event {
		return storetest.Call(id, "u1", ts, analytics.ServiceS3, "", "get", 1)
	}
	c, err := s.IngestEvents(ctx, []analytics.Event{
		call("jan-mid", time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)),
		call("jan-last", time.Date(2025, 1, 31, 23, 59, 59, 999_999_000, time.UTC)),
		call("feb-first", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)),
		call("jul", time.Date(2026, 7, 3, 8, 0, 0, 0, time.UTC)),
	})
	if err != nil || c.Accepted != 4 {
		t.Fatalf("IngestEvents = %+v, %v; want 4 accepted", c, err)
	}
	// A second replica, with an empty partition cache, writes to an existing
	// month and to a new one.
	s2 := open(t, url, postgres.Options{Now: func() time.Time { return now }})
	c, err = s2.IngestEvents(ctx, []analytics.Event{
		call("jan-2", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		call("nov", time.Date(2025, 11, 30, 12, 0, 0, 0, time.UTC)),
	})
	if err != nil || c.Accepted != 2 {
		t.Fatalf("second replica IngestEvents = %+v, %v; want 2 accepted", c, err)
	}

	type placed struct {
		Partition string
		ID        string
	}
	got := query[placed](t, url, `SELECT tableoid::regclass::text, id FROM events ORDER BY 1, 2`)
	want := []placed{
		{"events_p202501", "jan-2"}, {"events_p202501", "jan-last"}, {"events_p202501", "jan-mid"},
		{"events_p202502", "feb-first"},
		{"events_p202511", "nov"},
		{"events_p202607", "jul"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows by partition (-want +got):\n%s", d)
	}
	type part struct{ Name string }
	parts := query[part](t, url, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass ORDER BY 1`)
	// 2026-07 and 2026-08 come from Open (this month and the next); each batch
	// also creates the month after its latest one ahead of need.
	wantParts := []part{{"events_default"}, {"events_p202501"}, {"events_p202502"}, {"events_p202511"},
		{"events_p202512"}, {"events_p202607"}, {"events_p202608"}}
	if d := cmp.Diff(wantParts, parts); d != "" {
		t.Errorf("partitions (-want +got):\n%s", d)
	}
	// Pruning proves the bounds: a January query reads only January.
	type plan struct{ Line string }
	var scanned []string
	for _, p := range query[plan](t, url, `EXPLAIN (COSTS OFF) SELECT * FROM events
		WHERE ts >= '2025-01-01 00:00:00+00' AND ts < '2025-02-01 00:00:00+00'`) {
		for _, name := range []string{"events_default", "events_p202501", "events_p202502", "events_p202607"} {
			if slices.Contains(strings.Fields(p.Line), name) {
				scanned = append(scanned, name)
			}
		}
	}
	if d := cmp.Diff([]string{"events_p202501"}, scanned); d != "" {
		t.Errorf("partitions scanned for January (-want +got):\n%s", d)
	}
}

// TestTwoReplicas has two Stores (two pools, as two server replicas) ingest
// overlapping batches at once, every event four times; the rollups must
// equal a brute-force count of the distinct events, and Verify be clean.
func TestTwoReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	replicas := []*postgres.Store{open(t, url, postgres.Options{}), open(t, url, postgres.Options{})}
	rng := rand.New(rand.NewPCG(5, 8))
	start := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC) // spans five months
	const days, users, n, size = 150, 20, 3000, 50
	all := make([]analytics.Event, n)
	for i := range all {
		user := fmt.Sprintf("user-%02d", rng.IntN(users))
		ts := start.Add(time.Duration(rng.Int64N(days * 24 * int64(time.Hour)))).Truncate(time.Microsecond)
		id := fmt.Sprintf("ev-%05d", i)
		switch rng.IntN(10) {
		case 0:
			all[i] = storetest.Ev(id, analytics.EventUserSignup, user, ts)
			all[i].Email = fmt.Sprintf("%s-%d@example.com", user, rng.IntN(3))
		case 1:
			all[i] = storetest.Ev(id, analytics.EventStoryCreated, user, ts)
			all[i].StoryID = "s"
		case 2:
			all[i] = storetest.Ev(id, analytics.EventPayment, user, ts)
			all[i].AmountCents = 1 + rng.Int64N(5000)
		default:
			all[i] = storetest.Call(id, user, ts, analytics.Services[rng.IntN(3)], "m", "op", analytics.Micros(rng.IntN(100_000)))
			if rng.IntN(15) == 0 {
				all[i].UserID = "" // a platform call: a cost, not a user
			}
		}
	}

	var mu sync.Mutex
	accepted := 0
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := replicas[w%2]
			order := rand.New(rand.NewPCG(uint64(w), 1)).Perm(n)
			for i := 0; i < n; i += size {
				var batch []analytics.Event
				for _, j := range order[i:min(i+size, n)] {
					batch = append(batch, all[j])
				}
				c, err := s.IngestEvents(ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				if c.Accepted+c.Duplicates != len(batch) {
					errs <- fmt.Errorf("counts %+v do not add up to the batch of %d", c, len(batch))
					return
				}
				mu.Lock()
				accepted += c.Accepted
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent ingest: %v", err)
	}
	if accepted != n {
		t.Errorf("accepted %d events in all, want each of the %d exactly once", accepted, n)
	}

	type dayTotals struct {
		Calls, Signups, Active int64
		Cost                   analytics.Micros
		Payments               int64
	}
	want := map[analytics.Day]dayTotals{}
	active := map[analytics.Day]map[string]bool{}
	for _, e := range all {
		d := analytics.DayOf(e.Timestamp, time.UTC)
		w := want[d]
		switch e.Type {
		case analytics.EventAPICall:
			w.Calls++
			w.Cost += e.Cost
		case analytics.EventUserSignup:
			w.Signups++
		case analytics.EventPayment:
			w.Payments += e.AmountCents
		}
		if e.UserID != "" {
			if active[d] == nil {
				active[d] = map[string]bool{}
			}
			active[d][e.UserID] = true
		}
		want[d] = w
	}
	for d, us := range active {
		w := want[d]
		w.Active = int64(len(us))
		want[d] = w
	}
	first := analytics.DayOf(start, time.UTC)
	r := analytics.Range{Start: first, End: first + days}
	for i, s := range replicas {
		rows, err := s.Daily(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		got := map[analytics.Day]dayTotals{}
		for _, row := range rows {
			got[row.Day] = dayTotals{Calls: row.APIRequests, Signups: row.NewUsers, Active: row.ActiveUsers,
				Cost: row.TotalCost(), Payments: row.PaymentsCents}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("replica %d: daily totals (-brute force +rollup):\n%s", i, d)
		}
	}
	// Distinct users over ranges, against a direct count.
	for _, rr := range [][2]int{{0, 0}, {0, 6}, {3, 17}, {10, 39}, {25, 26}, {30, 120}, {0, days - 1}} {
		seen := map[string]bool{}
		for d := rr[0]; d <= rr[1]; d++ {
			for u := range active[first+analytics.Day(d)] {
				seen[u] = true
			}
		}
		got, err := replicas[1].ActiveUsers(ctx, analytics.Range{Start: first + analytics.Day(rr[0]), End: first + analytics.Day(rr[1])})
		if err != nil {
			t.Fatal(err)
		}
		if got != int64(len(seen)) {
			t.Errorf("ActiveUsers(day %d..%d) = %d, want %d", rr[0], rr[1], got, len(seen))
		}
	}
	if c, err := replicas[0].EventCount(ctx); err != nil || c != n {
		t.Errorf("EventCount = %d, %v; want %d", c, err, n)
	}
	for i, s := range replicas {
		diffs, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Errorf("replica %d: Verify found %d differences, first: %s", i, len(diffs), diffs[0])
		}
	}
}

// TestRebuildSeenByOtherReplica rebuilds into another zone on one replica;
// the other must bucket its next events in the new zone.
func TestRebuildSeenByOtherReplica(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := open(t, url, postgres.Options{}), open(t, url, postgres.Options{})
	ts := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // 2 March in Tokyo
	if _, err := a.IngestEvents(ctx, []analytics.Event{storetest.Call("x1", "u1", ts, analytics.ServiceS3, "", "get", 1)}); err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Rebuild(ctx, tokyo); err != nil {
		t.Fatal(err)
	}
	if _, err := b.IngestEvents(ctx, []analytics.Event{storetest.Call("x2", "u2", ts, analytics.ServiceS3, "", "get", 10)}); err != nil {
		t.Fatal(err)
	}
	if b.Location().String() != "Asia/Tokyo" {
		t.Errorf("replica b Location = %s after a rebuilt in Asia/Tokyo", b.Location())
	}
	d2 := analytics.DayFromDate(2026, 3, 2)
	rows, err := b.Daily(ctx, analytics.Range{Start: d2 - 1, End: d2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Day != d2 || rows[0].S3Cost != 11 {
		t.Errorf("Daily = %+v; want both calls on 2 March (Tokyo)", rows)
	}
	if diffs, err := b.Verify(ctx); err != nil || len(diffs) > 0 {
		t.Errorf("Verify = %v, %v", diffs, err)
	}
}

// TestRebuildRefusesZoneSQLReadsDifferently: PostgreSQL reads "+02:00" as a
// POSIX zone (west of Greenwich); Rebuild must refuse rather than re-bucket
// every event two days' worth of hours off what ingest computes.
func TestRebuildRefusesZoneSQLReadsDifferently(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t), postgres.Options{})
	for _, loc := range []*time.Location{time.FixedZone("+02:00", 2*3600), time.FixedZone("Nowhere/Land", 3600)} {
		if err := s.Rebuild(ctx, loc); analytics.ErrorKind(err) != analytics.KindInvalid {
			t.Errorf("Rebuild(%s) = %v, want an invalid-zone error", loc, err)
		}
	}
	if s.Location() != time.UTC {
		t.Errorf("Location = %s after refused rebuilds, want UTC", s.Location())
	}
}

// TestEventRoundTrip reads back every column the binary COPY wrote.
func TestEventRoundTrip(t *testing.T) {
	url := pgtest.NewDatabase(t)
	received := time.Date(2026, 3, 5, 6, 7, 8, 123456000, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, url, postgres.Options{Location: berlin, Now: func() time.Time { return received }})
	explicit := analytics.Micros(12_345)
	e := analytics.Event{ID: "rt-ü-1", Type: analytics.EventAPICall, Timestamp: time.Date(2026, 3, 4, 23, 30, 0, 1000, time.UTC),
		UserID: "user-ß", Service: analytics.ServiceAnthropic, Operation: "chapter", Model: "claude-sonnet-4-5",
		InputTokens: 1, OutputTokens: 2, CacheCreationInputTokens: 3, CacheCreation1hTokens: 4, CacheReadInputTokens: 5,
		Characters: 6, BytesTransferred: 7, Requests: 8, Status: analytics.StatusError, ExplicitCost: &explicit,
		Cost: explicit, Priced: false, StoryID: "story-9"}
	signup := analytics.Event{ID: "rt-2", Type: analytics.EventUserSignup, Timestamp: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		UserID: "user-ß", Email: "ß@example.com", Priced: true}
	done := analytics.Event{ID: "rt-3", Type: analytics.EventStoryCompleted, Timestamp: time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC),
		UserID: "user-ß", StoryID: "story-9", Chapters: 11, AudioMillis: 12_345, Priced: true}
	pay := analytics.Event{ID: "rt-4", Type: analytics.EventPayment, Timestamp: time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC),
		UserID: "user-ß", AmountCents: 999, Priced: true}
	if _, err := s.IngestEvents(ctx, []analytics.Event{e, signup, done, pay}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Type                                     string
		TS                                           time.Time
		Day                                          int32
		UserID, Service, Operation, Model            string
		In, Out, CacheWrite, CacheWrite1h, CacheRead int64
		Characters, Bytes, Requests                  int64
		Status                                       string
		Explicit                                     *int64
		Cost                                         int64
		Priced                                       bool
		StoryID                                      string
		Chapters, AudioMillis, AmountCents           int64
		Email                                        string
		ReceivedAt                                   time.Time
	}
	got := query[row](t, url, `SELECT id, type, ts, day, user_id, service, operation, model, input_tokens, output_tokens,
		cache_write_tokens, cache_write_1h_tokens, cache_read_tokens, characters, bytes_transferred, requests, status,
		explicit_cost, cost, priced, story_id, chapters, audio_ms, amount_cents, email, received_at FROM events ORDER BY id`)
	x := int64(explicit)
	day := func(ev analytics.Event) int32 { return int32(analytics.DayOf(ev.Timestamp, berlin)) }
	want := []row{
		{"rt-2", "user_signup", signup.Timestamp, day(signup), "user-ß", "", "", "", 0, 0, 0, 0, 0, 0, 0, 0, "", nil, 0, true, "", 0, 0, 0, "ß@example.com", received},
		{"rt-3", "story_completed", done.Timestamp, day(done), "user-ß", "", "", "", 0, 0, 0, 0, 0, 0, 0, 0, "", nil, 0, true, "story-9", 11, 12_345, 0, "", received},
		{"rt-4", "payment", pay.Timestamp, day(pay), "user-ß", "", "", "", 0, 0, 0, 0, 0, 0, 0, 0, "", nil, 0, true, "", 0, 0, 999, "", received},
		{"rt-ü-1", "api_call", e.Timestamp, day(e), "user-ß", "anthropic", "chapter", "claude-sonnet-4-5", 1, 2, 3, 4, 5, 6, 7, 8, "error", &x, 12_345, false, "story-9", 0, 0, 0, "", received},
	}
	for i := range got {
		got[i].TS, got[i].ReceivedAt = got[i].TS.UTC(), got[i].ReceivedAt.UTC()
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored events (-want +got):\n%s", d)
	}
	if want := analytics.DayFromDate(2026, 3, 5); day(e) != int32(want) {
		t.Errorf("23:30Z on 4 March should be 5 March in Berlin, got day %d", day(e))
	}
}

// TestFailedIngestStoresNothing: when a rollup upsert fails, the whole batch
// (ids, events, rollups) rolls back, so its retry is accepted in full, and
// the pooled connections stay usable.
func TestFailedIngestStoresNothing(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url, postgres.Options{})
	var batch []analytics.Event
	for i := range 10 {
		batch = append(batch, storetest.Call(fmt.Sprintf("f%d", i), fmt.Sprintf("u%d", i%3), storetest.T0.Add(time.Duration(i)*time.Hour),
			analytics.ServiceAnthropic, "m", "op", 100))
	}
	if err := s.ExecRaw(ctx, `ALTER TABLE cost_daily ADD CONSTRAINT few_calls CHECK (calls < 5)`); err != nil {
		t.Fatal(err)
	}
	for range 6 { // more attempts than the pool has connections
		if _, err := s.IngestEvents(ctx, batch); err == nil {
			t.Fatal("IngestEvents succeeded despite the failing upsert")
		}
	}
	type counts struct{ IDs, Events, Users, Daily int64 }
	got := query[counts](t, url, `SELECT (SELECT count(*) FROM event_ids), (SELECT count(*) FROM events),
		(SELECT count(*) FROM user_activity), (SELECT count(*) FROM daily_metrics)`)
	if d := cmp.Diff([]counts{{}}, got); d != "" {
		t.Errorf("rows left by failed ingests (-want +got):\n%s", d)
	}
	if err := s.ExecRaw(ctx, `ALTER TABLE cost_daily DROP CONSTRAINT few_calls`); err != nil {
		t.Fatal(err)
	}
	c, err := s.IngestEvents(ctx, batch)
	if err != nil || c.Accepted != 10 {
		t.Fatalf("retry = %+v, %v; want all 10 accepted", c, err)
	}
	if diffs, err := s.Verify(ctx); err != nil || len(diffs) > 0 {
		t.Errorf("Verify = %v, %v", diffs, err)
	}
}

// TestLargeBatch stores the largest batch the contract allows, each event
// from another user: 10,000 user locks in one transaction.
func TestLargeBatch(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t), postgres.Options{})
	batch := make([]analytics.Event, analytics.MaxBatchEvents)
	for i := range batch {
		batch[i] = storetest.Call(fmt.Sprintf("big-%05d", i), fmt.Sprintf("user-%05d", i),
			storetest.T0.Add(time.Duration(i)*time.Minute), analytics.ServiceS3, "", "get", 1)
	}
	c, err := s.IngestEvents(ctx, batch)
	if err != nil || c.Accepted != len(batch) {
		t.Fatalf("IngestEvents = %+v, %v; want %d accepted", c, err, len(batch))
	}
	last := analytics.DayOf(batch[len(batch)-1].Timestamp, time.UTC)
	if n, err := s.ActiveUsers(ctx, analytics.Range{Start: storetest.Day0, End: last}); err != nil || n != int64(len(batch)) {
		t.Errorf("ActiveUsers = %d, %v; want %d", n, err, len(batch))
	}
	if diffs, err := s.Verify(ctx); err != nil || len(diffs) > 0 {
		t.Errorf("Verify = %v, %v", diffs, err)
	}
}
