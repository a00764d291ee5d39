package postgres_test

import (
	"fmt"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/internal/poll"
	"github.com/codestory/analytics/postgres"
	"github.com/codestory/analytics/storetest"
	"github.com/jackc/pgx/v5"
)

// TestIngestProbesKeysAsTablesGrow checks that the ingest reaches the rows
// it reads by key once its tables are large, whatever plans it made while
// they were empty. One connection runs every batch: its first batches, on
// empty tables, are where a cached plan could settle on scanning a table
// (that happened: "story_id = ANY($1)" kept a sequential scan of stories,
// and a load of 1.44M events slowed from 27k to 5.5k events/s; with the
// statistics of empty tables, this test saw users and user_activity
// scanned hundreds of times in six small batches, too). Then the
// tables grow to tens of thousands of rows, and batches touching a few old
// and new stories and users, with late signups of active users, must not
// scan stories, users or user_activity. The server's own counters
// (pg_stat_user_tables) tell; they are read once the server shows every
// story the batches inserted, so they hold all that came before.
func TestIngestProbesKeysAsTablesGrow(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url+"&pool_max_conns=1", postgres.Options{})
	// The store's connections plan each statement for its arguments, and
	// compile none of them (JIT).
	if err := s.ExecRaw(ctx, `DO $$ BEGIN IF current_setting('plan_cache_mode') <> 'force_custom_plan' THEN
		RAISE EXCEPTION 'plan_cache_mode is %', current_setting('plan_cache_mode'); END IF;
		IF current_setting('jit') <> 'off' THEN RAISE EXCEPTION 'jit is %', current_setting('jit'); END IF; END $$`); err != nil {
		t.Fatal(err)
	}
	// Statistics that say the tables are empty, as after an ANALYZE of a
	// new database; with autovacuum off (as on this machine) they stay so.
	if err := s.ExecRaw(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	stories := 0
	// batch makes n stories, each created and with one call, of users taken
	// in turn; a user signs up at their first story, or at every story with
	// allSignups (a signup of a known user moves their cohort).
	batch := func(first, n, users int, allSignups bool) []analytics.Event {
		var evs []analytics.Event
		for i := first; i < first+n; i++ {
			user := fmt.Sprintf("u%05d", i%users)
			ts := storetest.T0.Add(time.Duration(i) * time.Minute)
			c := storetest.Ev(fmt.Sprintf("c%06d", i), analytics.EventStoryCreated, user, ts)
			c.StoryID = fmt.Sprintf("s%06d", i)
			call := storetest.Call(fmt.Sprintf("a%06d", i), user, ts.Add(time.Second), analytics.ServiceS3, "", "get", 7)
			call.StoryID = c.StoryID
			evs = append(evs, c, call)
			if allSignups || i < users {
				sg := storetest.Ev(fmt.Sprintf("g%06d", i), analytics.EventUserSignup, user, ts.Add(-time.Hour))
				sg.Email = user + "@example.com"
				evs = append(evs, sg)
			}
		}
		stories += n
		return evs
	}
	ingestAll := func(evs []analytics.Event) {
		t.Helper()
		for len(evs) > 0 {
			n := min(len(evs), 1000)
			if c, err := s.IngestEvents(ctx, evs[:n]); err != nil || c.Accepted != n {
				t.Fatalf("IngestEvents = %+v, %v; want %d accepted", c, err, n)
			}
			evs = evs[n:]
		}
	}
	// seqScans waits until the server's counters show every story inserted
	// so far, then returns the sequential scans of the read tables.
	seqScans := func() map[string]int64 {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		poll.Until(t, 30*time.Second, 200*time.Millisecond, fmt.Sprintf("pg_stat_user_tables to show %d stories inserted", stories),
			func() bool {
				var ins int64
				err := conn.QueryRow(ctx, `SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'stories'`).Scan(&ins)
				return err == nil && ins == int64(stories)
			})
		rows, _ := conn.Query(ctx, `SELECT relname, seq_scan FROM pg_stat_user_tables
			WHERE relname IN ('stories', 'users', 'user_activity')`)
		out := map[string]int64{}
		var name string
		var n int64
		if _, err := pgx.ForEachRow(rows, []any{&name, &n}, func() error { out[name] = n; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}

	// Small batches on empty tables, more than the five after which a
	// prepared statement may switch to a cached generic plan.
	next := 0
	for range 8 {
		ingestAll(batch(next, 20, 1_000_000, true))
		next += 20
	}
	// Growth: 30,000 stories of 15,000 users.
	ingestAll(batch(next, 30_000, 15_000, false))
	next += 30_000
	before := seqScans()
	// Batches that touch old stories' users, new stories and late signups of
	// active users (whose days are read back to move their cohort).
	for i := range 6 {
		evs := batch(next, 15, 6_000, true)
		next += 15
		old := storetest.Call(fmt.Sprintf("old%02d", i), "u00042", storetest.T0.Add(time.Hour), analytics.ServiceS3, "", "get", 3)
		old.StoryID = fmt.Sprintf("s%06d", 500+i)
		ingestAll(append(evs, old))
	}
	// A batch of late signups of 300 active users: without statistics of
	// user_id, "user_id = ANY($1)" over 300 users was planned as a scan of
	// user_activity (each value guessed at 0.5% of the rows).
	var late []analytics.Event
	for i := range 300 {
		user := fmt.Sprintf("u%05d", i)
		sg := storetest.Ev(fmt.Sprintf("late%03d", i), analytics.EventUserSignup, user, storetest.T0.Add(-time.Hour))
		sg.Email = user + "@example.com"
		late = append(late, sg)
	}
	ingestAll(append(late, batch(next, 1, 6_000, false)...))
	next++
	after := seqScans()
	t.Logf("sequential scans before %v, after %v", before, after)
	for _, table := range []string{"stories", "users", "user_activity"} {
		if d := after[table] - before[table]; d != 0 {
			t.Errorf("%s: %d sequential scans during 7 small batches on %d stories; want 0 (reads by key)", table, d, stories)
		}
	}
	if diffs, err := s.Verify(ctx); err != nil || len(diffs) > 0 {
		t.Errorf("Verify = %v, %v", diffs, err)
	}
}
