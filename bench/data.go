package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/demo"
)

// DataEnd is the last instant of every generated data set: fixed, so a
// re-run generates the same events (and may reuse the scale data set).
var DataEnd = time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)

// ingestEvents returns the events generate gives.
func ingestEvents(n int, pricer analytics.Pricer) ([]analytics.Event, error) {
	out := make([]analytics.Event, 0, n)
	err := generate(n, pricer, func(e *analytics.Event) { out = append(out, *e) })
	return out, err
}

// generatedBodies is ndjsonBodies of ingestEvents(n), without holding the
// events: the reads-during-writes phase posts millions.
func generatedBodies(n, batch int, pricer analytics.Pricer) ([][]byte, error) {
	var out [][]byte
	var buf []byte
	k := 0
	err := generate(n, pricer, func(e *analytics.Event) {
		buf = demo.AppendWireJSON(buf, e)
		buf = append(buf, '\n')
		if k++; k%batch == 0 || k == n {
			out = append(out, buf)
			buf = nil
		}
	})
	return out, err
}

// generate passes the first n events of a demo data set sized to have a
// few more, priced, to emit. Days is short so that n events cover many
// users on every day, as live traffic does.
func generate(n int, pricer analytics.Pricer, emit func(*analytics.Event)) error {
	opts := demo.Options{Days: 30, Users: 100, Seed: 7, End: DataEnd}
	if est := demo.Estimate(opts); est < int64(n)*11/10 {
		opts.Users = int(int64(opts.Users)*int64(n)*12/10/max(est, 1)) + 10
	}
	in := &analytics.Ingester{Pricer: pricer}
	got := 0
	enough := errors.New("enough")
	err := demo.Generate(opts, func(evs []analytics.Event) error {
		for i := range evs {
			in.Price(&evs[i])
			emit(&evs[i])
			if got++; got == n {
				return enough
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, enough) {
		return err
	}
	if got < n {
		return fmt.Errorf("the generator gave %d events, not %d", got, n)
	}
	return nil
}

// ndjsonBodies renders events as POST /v1/events bodies of batch events.
func ndjsonBodies(events []analytics.Event, batch int) [][]byte {
	var out [][]byte
	for len(events) > 0 {
		n := min(batch, len(events))
		var buf bytes.Buffer
		for i := range events[:n] {
			buf.Write(demo.AppendWireJSON(nil, &events[i]))
			buf.WriteByte('\n')
		}
		out = append(out, buf.Bytes())
		events = events[n:]
	}
	return out
}

// ScaleSpec describes the large data set the query latencies are measured on.
type ScaleSpec struct {
	Users int       `json:"users"`
	Days  int       `json:"days"`
	Seed  uint64    `json:"seed"`
	End   time.Time `json:"end"`
}

// Options is the generator's view of the spec.
func (s ScaleSpec) Options() demo.Options {
	return demo.Options{Days: s.Days, Users: s.Users, Seed: s.Seed, End: s.End}
}

// LastDay is the data set's last day (UTC).
func (s ScaleSpec) LastDay() analytics.Day { return analytics.DayOf(s.End, time.UTC) }

// scaleRecord is kept beside a loaded scale data set, so that a re-run
// with the same spec reuses it.
type scaleRecord struct {
	Spec     ScaleSpec `json:"spec"`
	DB       string    `json:"db"`
	Events   int64     `json:"events"`
	Users    int       `json:"users"`
	LoadedAt time.Time `json:"loaded_at"`
	LoadSecs float64   `json:"load_seconds"`
}

func readScaleRecord(path string) (scaleRecord, bool) {
	var r scaleRecord
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &r) != nil {
		return r, false
	}
	return r, true
}

func writeScaleRecord(path string, r scaleRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// loadScale generates spec's data set into s through IngestEvents, in the
// generator's chunks (batches of demo.ChunkSize = 1,000), and reports
// progress to log every ten seconds.
func loadScale(ctx context.Context, s analytics.Store, spec ScaleSpec, pricer analytics.Pricer, log func(string, ...any)) (events int64, users int, err error) {
	in := &analytics.Ingester{Pricer: pricer}
	est := demo.Estimate(spec.Options())
	start, last := time.Now(), time.Now()
	seen := map[string]struct{}{}
	err = demo.Generate(spec.Options(), func(evs []analytics.Event) error {
		for i := range evs {
			in.Price(&evs[i])
			if evs[i].Type == analytics.EventUserSignup {
				seen[evs[i].UserID] = struct{}{}
			}
		}
		c, err := s.IngestEvents(ctx, evs)
		if err != nil {
			return err
		}
		events += int64(c.Accepted)
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			el := time.Since(start).Seconds()
			log("  loaded %s of about %s events (%s events/s)", thousands(events), thousands(est), thousands(int64(float64(events)/el)))
		}
		return nil
	})
	return events, len(seen), err
}
