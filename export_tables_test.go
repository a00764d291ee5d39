package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// storyStore serves Stories from rows already in cost order, failing after
// failAfter of them when failAfter > 0.
type storyStore struct {
	Store
	rows      []StoryRow
	failAfter int
}

func (s *storyStore) Location() *time.Location { return time.UTC }

func (s *storyStore) Stories(_ context.Context, _ Range, each func(StoryRow) error) error {
	for i, st := range s.rows {
		if s.failAfter > 0 && i == s.failAfter {
			return errors.New("disk gone")
		}
		if err := each(st); err != nil {
			return err
		}
	}
	return nil
}

func exportOf(t *testing.T, st *storyStore) *TableExport {
	t.Helper()
	tools := &Tools{Store: st, Now: func() time.Time { return time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC) }}
	tab, err := tools.ExportTable(context.Background(), ExportInput{RangeInput: RangeInput{StartDate: "2026-03-01", EndDate: "2026-03-31"},
		Format: "json", Table: ExportStories})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestStoriesExportStreamsWhatCollectHolds checks the streamed JSON is byte
// for byte the encoding of the collected answer (with rows, with none, and
// with more rows than one write holds), and that the streamed CSV is the
// collected CSV.
func TestStoriesExportStreamsWhatCollectHolds(t *testing.T) {
	day, err := ParseDay("2026-03-03")
	if err != nil {
		t.Fatal(err)
	}
	many := make([]StoryRow, 2000)
	for i := range many {
		many[i] = StoryRow{StoryID: strings.Repeat("s", 1+i%7) + "<&>", UserID: "=u", Day: day, Completed: 1, Chapters: 3,
			AudioMillis: 120_500, AnthropicCost: Micros(2000 - i), S3Cost: 1}
	}
	for name, rows := range map[string][]StoryRow{"none": nil, "one": many[:1], "many": many} {
		tab := exportOf(t, &storyStore{rows: rows})
		var streamed bytes.Buffer
		if err := tab.WriteJSON(context.Background(), &streamed); err != nil {
			t.Fatal(err)
		}
		collected, err := tab.Collect(context.Background(), "json")
		if err != nil {
			t.Fatal(err)
		}
		if len(collected.Stories) != len(rows) {
			t.Fatalf("%s: collected %d stories, want %d", name, len(collected.Stories), len(rows))
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(collected); err != nil {
			t.Fatal(err)
		}
		if streamed.String() != want.String() {
			t.Fatalf("%s: streamed JSON differs from the collected answer:\n got %.300s\nwant %.300s", name, streamed.String(), want.String())
		}
		var csvOut bytes.Buffer
		if err := tab.WriteCSV(context.Background(), &csvOut); err != nil {
			t.Fatal(err)
		}
		c, err := tab.Collect(context.Background(), "csv")
		if err != nil {
			t.Fatal(err)
		}
		if csvOut.String() != c.Content || c.Filename != "analytics_stories_2026-03-01_2026-03-31.csv" {
			t.Fatalf("%s: streamed CSV differs from the collected one (%s)", name, c.Filename)
		}
		if name == "many" && !strings.Contains(c.Content, "\nsss<&>,'=u,2026-03-03,completed,3,120.5,0.1999,0.1998,0,0.0001\n") {
			t.Fatalf("%s: CSV lacks the escaped third story:\n%.400s", name, c.Content)
		}
	}
}

// TestStoriesExportPassesOnTheStoreError checks a read failing midway fails
// the export (the HTTP door then aborts the connection) instead of ending
// it as if the table were whole.
func TestStoriesExportPassesOnTheStoreError(t *testing.T) {
	rows := make([]StoryRow, 10)
	for i := range rows {
		rows[i] = StoryRow{StoryID: "s" + string(rune('a'+i))}
	}
	tab := exportOf(t, &storyStore{rows: rows, failAfter: 4})
	var b bytes.Buffer
	if err := tab.WriteCSV(context.Background(), &b); err == nil || !strings.Contains(err.Error(), "stories: disk gone") {
		t.Fatalf("CSV of a failing read: error %v", err)
	}
	if err := tab.WriteJSON(context.Background(), &b); err == nil || !strings.Contains(err.Error(), "stories: disk gone") {
		t.Fatalf("JSON of a failing read: error %v", err)
	}
}
