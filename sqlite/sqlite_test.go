package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/sqlite"
	"github.com/codestory/analytics/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, loc *time.Location) analytics.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), sqlite.Options{Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Reopen: func(t *testing.T, s analytics.Store, loc *time.Location) (analytics.Store, error) {
			s2, err := sqlite.Open(context.Background(), s.(*sqlite.Store).Path(), sqlite.Options{Location: loc})
			if err == nil {
				t.Cleanup(func() { s2.Close() })
			}
			return s2, err
		},
		Exec: func(t *testing.T, s analytics.Store, q string) {
			if err := s.(*sqlite.Store).ExecRaw(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
	})
}

// TestZoneChangedByAnotherProcess: a server keeps its store open while
// `rebuild --tz` runs in another process; its next batch must bucket in the
// new zone (as PostgreSQL's replicas do), or verify would find the rollups
// wrong.
func TestZoneChangedByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	server, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ev := func(id string) analytics.Event {
		return analytics.Event{ID: id, Type: analytics.EventUserChurned, UserID: "u", Priced: true,
			Timestamp: time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)} // 2026-03-02 in Berlin
	}
	if _, err := server.IngestEvents(ctx, []analytics.Event{ev("e1")}); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cli, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Rebuild(ctx, berlin); err != nil {
		t.Fatal(err)
	}
	cli.Close()
	if _, err := server.IngestEvents(ctx, []analytics.Event{ev("e2")}); err != nil {
		t.Fatal(err)
	}
	if got := server.Location().String(); got != "Europe/Berlin" {
		t.Errorf("server's zone after the other process's rebuild = %s", got)
	}
	rows, err := server.Daily(ctx, analytics.Range{Start: analytics.DayFromDate(2026, 3, 1), End: analytics.DayFromDate(2026, 3, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Day != analytics.DayFromDate(2026, 3, 2) || rows[0].ChurnedUsers != 2 {
		t.Fatalf("daily rows = %+v, want both events on 2026-03-02", rows)
	}
	if diffs, err := server.Verify(ctx); err != nil || len(diffs) > 0 {
		t.Fatalf("verify: %v %v", diffs, err)
	}
}
