package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// ToolStoryCosts is get_story_costs (issue 13): what a story costs to make.
const ToolStoryCosts = "get_story_costs"

// StoryStatus is a story's state from its live events.
type StoryStatus string

// Story states: completed wins over failed, which wins over in progress.
const (
	StoryCompleted  StoryStatus = "completed"
	StoryFailed     StoryStatus = "failed"
	StoryInProgress StoryStatus = "in_progress"
)

// storyEvent reports whether events of type t belong to their story_id's
// story rollup.
func storyEvent(t EventType) bool {
	switch t {
	case EventAPICall, EventStoryCreated, EventStoryCompleted, EventStoryFailed:
		return true
	}
	return false
}

// StoryAnchor is the event that fixes a story's day and user: its earliest
// story_created, else its earliest event (Rank 0 and 1); ties go to the
// smaller user id, so the anchor never depends on arrival order.
type StoryAnchor struct {
	Rank   int64
	At     time.Time
	Day    Day
	UserID string
}

// Before orders anchors: the smaller one anchors the story.
func (a StoryAnchor) Before(b StoryAnchor) bool {
	return cmp.Or(cmp.Compare(a.Rank, b.Rank), a.At.Compare(b.At), cmp.Compare(a.UserID, b.UserID)) < 0
}

// StoryDelta is what a batch adds to one story's row of the story rollup.
// Anchor is the smallest anchor among the events added (HasAnchor false
// when none was added).
type StoryDelta struct {
	Anchor                                                StoryAnchor
	HasAnchor                                             bool
	Events, Created, Completed, Failed, Chapters, AudioMs int64
	Anthropic, ElevenLabs, S3                             Micros
	// Recompute is set by Finish when the batch took events out of the
	// story: its anchor may be gone, so the store rebuilds the row from the
	// story's live events instead of adding the delta.
	Recompute bool
}

func (d *RollupDelta) addStory(e *Event, day Day, sign int64) {
	bad := &d.overflow
	sd := d.Stories[e.StoryID]
	if sd == nil {
		sd = &StoryDelta{}
		d.Stories[e.StoryID] = sd
	}
	sd.Events += sign
	if sign > 0 {
		rank := int64(1)
		if e.Type == EventStoryCreated {
			rank = 0
		}
		a := StoryAnchor{Rank: rank, At: e.Timestamp, Day: day, UserID: e.UserID}
		if !sd.HasAnchor || a.Before(sd.Anchor) {
			sd.Anchor, sd.HasAnchor = a, true
		}
	}
	switch e.Type {
	case EventStoryCreated:
		sd.Created += sign
	case EventStoryCompleted:
		sd.Completed += sign
		acc(&sd.Chapters, sign*e.Chapters, bad)
		acc(&sd.AudioMs, sign*e.AudioMillis, bad)
	case EventStoryFailed:
		sd.Failed += sign
	case EventAPICall:
		cost := Micros(sign) * e.Cost
		switch e.Service {
		case ServiceAnthropic:
			accM(&sd.Anthropic, cost, bad)
		case ServiceElevenLabs:
			accM(&sd.ElevenLabs, cost, bad)
		case ServiceS3:
			accM(&sd.S3, cost, bad)
		}
	}
}

// IsZero reports whether the story delta changes nothing.
func (s *StoryDelta) IsZero() bool {
	return !s.Recompute && s.Events == 0 && s.Created == 0 && s.Completed == 0 && s.Failed == 0 && s.Chapters == 0 &&
		s.AudioMs == 0 && s.Anthropic == 0 && s.ElevenLabs == 0 && s.S3 == 0
}

// StoryRow is a story as the story rollup holds it: every live event with
// its story_id, whatever day each fell on.
type StoryRow struct {
	StoryID                               string
	UserID                                string
	Day                                   Day // the anchor's day
	Events, Created, Completed, Failed    int64
	Chapters, AudioMillis                 int64
	AnthropicCost, ElevenLabsCost, S3Cost Micros
}

// Status is completed (a story_completed exists), else failed, else in
// progress.
func (s StoryRow) Status() StoryStatus {
	switch {
	case s.Completed > 0:
		return StoryCompleted
	case s.Failed > 0:
		return StoryFailed
	}
	return StoryInProgress
}

// Cost is the story's cost over every service.
func (s StoryRow) Cost() Micros { return s.AnthropicCost + s.ElevenLabsCost + s.S3Cost }

// StoryCostsInput is the input of get_story_costs.
type StoryCostsInput struct {
	RangeInput
	Limit *int `json:"limit,omitempty" jsonschema:"how many of the most expensive stories to list, 1 to 100 (default 10; 0 is refused)"`
}

// Limits of get_story_costs.
const (
	DefaultStoriesLimit = 10
	MaxStoriesLimit     = 100
	// StoryHistogramBuckets is the most groups the completed stories' cost
	// histogram has.
	StoryHistogramBuckets = 20
)

// Normalize fills the default limit.
func (in *StoryCostsInput) Normalize(now time.Time, loc *time.Location) {
	in.RangeInput.Normalize(now, loc)
	if in.Limit == nil {
		n := DefaultStoriesLimit
		in.Limit = &n
	}
}

// Validate checks limit.
func (in StoryCostsInput) Validate() error {
	if in.Limit == nil {
		return Errorf(KindInvalid, "limit is required")
	}
	if *in.Limit < 1 || *in.Limit > MaxStoriesLimit {
		return Errorf(KindInvalid, "limit must be between 1 and %d (got %d)", MaxStoriesLimit, *in.Limit)
	}
	return nil
}

// CostDistribution summarizes the cost of completed stories; every field is
// null when there is none. Percentiles are nearest-rank: the value at rank
// ⌈q·n⌉ of the ascending list.
type CostDistribution struct {
	Mean *Cents `json:"mean"`
	P50  *Cents `json:"p50"`
	P90  *Cents `json:"p90"`
	P99  *Cents `json:"p99"`
	Max  *Cents `json:"max"`
}

// HistogramBucket counts completed stories with From ≤ cost < To. The
// edges are those of the cost buckets (StoryCostBucket), so the counts are
// exact; the widths grow with the cost (log scale).
type HistogramBucket struct {
	From    Cents `json:"from_cents"`
	To      Cents `json:"to_cents"`
	Stories int64 `json:"stories"`
}

// ServiceSplit is a cost split by service, in cents.
type ServiceSplit struct {
	Anthropic  Cents `json:"anthropic"`
	ElevenLabs Cents `json:"elevenlabs"`
	S3         Cents `json:"s3"`
}

// StoryCost is one story of get_story_costs' top list.
type StoryCost struct {
	StoryID      string       `json:"story_id"`
	UserID       string       `json:"user_id"`
	Date         Day          `json:"date"`
	Status       StoryStatus  `json:"status"`
	Chapters     int64        `json:"chapters"`
	AudioSeconds float64      `json:"audio_seconds"`
	Cost         Cents        `json:"cost_cents"`
	ByService    ServiceSplit `json:"by_service"`
}

// StoryCosts is the result of get_story_costs.
type StoryCosts struct {
	Stories                 int64             `json:"stories"`
	Completed               int64             `json:"completed"`
	Failed                  int64             `json:"failed"`
	InProgress              int64             `json:"in_progress"`
	Cost                    Cents             `json:"cost_cents"`
	FailedCost              Cents             `json:"failed_cost_cents"`
	CostPerCompletedStory   CostDistribution  `json:"cost_per_completed_story_cents"`
	CostPerAudioMinuteCents *float64          `json:"cost_per_audio_minute_cents"`
	Histogram               []HistogramBucket `json:"histogram"`
	Top                     []StoryCost       `json:"top"`
	Period                  Period            `json:"period"`
}

// StoryCosts implements get_story_costs over the stories whose day lies in
// the range (each story's cost counts all its calls, whatever their day).
func (t *Tools) StoryCosts(ctx context.Context, in StoryCostsInput) (*StoryCosts, error) {
	r, err := t.checkInput(&in)
	if err != nil {
		return nil, err
	}
	return BuildStoryCosts(ctx, t.Store, r, *in.Limit, t.period(r))
}

// StoryReader is what get_story_costs reads: the story statistics of a
// range, single completed stories by cost rank, and the most expensive.
type StoryReader interface {
	// StorySummary sums the story statistics of the stories whose day lies
	// in r.
	StorySummary(ctx context.Context, r Range) (StorySummary, error)
	// CompletedStoryCost is the cost of the completed story at 0-based
	// offset, in ascending cost, among those of r in a cost bucket.
	CompletedStoryCost(ctx context.Context, r Range, bucket int32, offset int64) (Micros, error)
	// TopStories returns the n most expensive stories of r (ties by story
	// id).
	TopStories(ctx context.Context, r Range, n int) ([]StoryRow, error)
}

// BuildStoryCosts computes get_story_costs from a StoryReader.
func BuildStoryCosts(ctx context.Context, src StoryReader, r Range, limit int, p Period) (*StoryCosts, error) {
	sum, err := src.StorySummary(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("story summary: %w", err)
	}
	res := &StoryCosts{Histogram: []HistogramBucket{}, Top: []StoryCost{}, Period: p}
	var total Sum
	for _, st := range sum.ByStatus {
		res.Stories += st.Stories
		total.Add(int64(st.Cost))
	}
	if total.Overflow {
		return nil, ErrSumOverflow
	}
	done, failed := sum.ByStatus[StoryCompleted], sum.ByStatus[StoryFailed]
	res.Completed, res.Failed, res.InProgress = done.Stories, failed.Stories, sum.ByStatus[StoryInProgress].Stories
	res.Cost, res.FailedCost = Cents(total.V), Cents(failed.Cost)
	if n := done.Stories; n > 0 {
		buckets := make([]int32, 0, len(sum.Buckets))
		for b, c := range sum.Buckets {
			if c != 0 {
				buckets = append(buckets, b)
			}
		}
		slices.Sort(buckets)
		rank := func(pct int64) (*Cents, error) {
			k := (pct*n + 99) / 100 // ⌈pct·n / 100⌉, 1-based
			var cum int64
			for _, b := range buckets {
				if c := sum.Buckets[b]; k <= cum+c {
					v, err := src.CompletedStoryCost(ctx, r, b, k-cum-1)
					if err != nil {
						return nil, fmt.Errorf("story cost at rank %d: %w", k, err)
					}
					cv := Cents(v)
					return &cv, nil
				}
				cum += sum.Buckets[b]
			}
			return nil, fmt.Errorf("story statistics count %d completed stories, their buckets %d", n, cum)
		}
		d := &res.CostPerCompletedStory
		for _, x := range []struct {
			dst **Cents
			pct int64
		}{{&d.P50, 50}, {&d.P90, 90}, {&d.P99, 99}, {&d.Max, 100}} {
			if *x.dst, err = rank(x.pct); err != nil {
				return nil, err
			}
		}
		mean := Cents(done.Cost / Micros(n))
		d.Mean = &mean
		if done.AudioMillis > 0 {
			v := float64(done.Cost) / float64(MicrosPerCent) / (float64(done.AudioMillis) / 60000)
			res.CostPerAudioMinuteCents = &v
		}
		res.Histogram = histogram(buckets, sum.Buckets)
	}
	top, err := src.TopStories(ctx, r, limit)
	if err != nil {
		return nil, fmt.Errorf("top stories: %w", err)
	}
	for _, s := range top {
		res.Top = append(res.Top, storyCost(s))
	}
	return res, nil
}

func storyCost(s StoryRow) StoryCost {
	return StoryCost{StoryID: s.StoryID, UserID: s.UserID, Date: s.Day, Status: s.Status(),
		Chapters: s.Chapters, AudioSeconds: float64(s.AudioMillis) / 1000, Cost: Cents(s.Cost()),
		ByService: ServiceSplit{Anthropic: Cents(s.AnthropicCost), ElevenLabs: Cents(s.ElevenLabsCost), S3: Cents(s.S3Cost)}}
}

// SortStoriesByCost orders stories the most expensive first, ties by id.
func SortStoriesByCost(rows []StoryRow) {
	slices.SortFunc(rows, func(a, b StoryRow) int {
		return cmp.Or(cmp.Compare(b.Cost(), a.Cost()), cmp.Compare(a.StoryID, b.StoryID))
	})
}

// StoryRows is a StoryReader over story rows held in memory (all of one
// range): the brute-force side of the tests.
type StoryRows []StoryRow

// StorySummary sums the rows.
func (rows StoryRows) StorySummary(_ context.Context, _ Range) (StorySummary, error) {
	d := NewStoryStatsDelta()
	for i := range rows {
		d.MoveStory(nil, &rows[i])
	}
	sum := StorySummary{ByStatus: map[StoryStatus]StoryStat{}, Buckets: map[int32]int64{}}
	for k, v := range d.Daily {
		s := sum.ByStatus[k.Status]
		s.Stories += v.Stories
		s.Cost += v.Cost
		s.AudioMillis += v.AudioMillis
		sum.ByStatus[k.Status] = s
	}
	for k, n := range d.Buckets {
		sum.Buckets[k.Bucket] += n
	}
	return sum, nil
}

// CompletedStoryCost sorts the bucket's completed rows.
func (rows StoryRows) CompletedStoryCost(_ context.Context, _ Range, bucket int32, offset int64) (Micros, error) {
	var costs []Micros
	for _, s := range rows {
		if s.Status() == StoryCompleted && StoryCostBucket(s.Cost()) == bucket {
			costs = append(costs, s.Cost())
		}
	}
	slices.Sort(costs)
	if offset < 0 || offset >= int64(len(costs)) {
		return 0, fmt.Errorf("no completed story at offset %d of bucket %d", offset, bucket)
	}
	return costs[offset], nil
}

// TopStories sorts the rows.
func (rows StoryRows) TopStories(_ context.Context, _ Range, n int) ([]StoryRow, error) {
	s := slices.Clone([]StoryRow(rows))
	SortStoriesByCost(s)
	return s[:min(n, len(s))], nil
}

// SummarizeStories computes get_story_costs from the rows of a range.
func SummarizeStories(rows []StoryRow, limit int, p Period) (*StoryCosts, error) {
	return BuildStoryCosts(context.Background(), StoryRows(rows), Range{Start: p.Start, End: p.End}, limit, p)
}

// histogram merges the non-empty cost buckets (ascending) into at most
// StoryHistogramBuckets groups of equally many consecutive buckets.
func histogram(buckets []int32, counts map[int32]int64) []HistogramBucket {
	first, last := buckets[0], buckets[len(buckets)-1]
	per := (last - first + StoryHistogramBuckets) / StoryHistogramBuckets // ⌈(last−first+1) / 20⌉
	var out []HistogramBucket
	for b := first; b <= last; b += per {
		lo, _ := StoryBucketBounds(b)
		_, hi := StoryBucketBounds(min(b+per-1, last))
		h := HistogramBucket{From: Cents(lo), To: Cents(hi)}
		for x := b; x < b+per && x <= last; x++ {
			h.Stories += counts[x]
		}
		out = append(out, h)
	}
	return out
}

// Apply returns the story row after adding the delta to old (nil: a new
// story) whose anchor is oldAnchor, as a store's additive upsert computes
// it.
func (s *StoryDelta) Apply(id string, old *StoryRow, oldAnchor StoryAnchor) *StoryRow {
	n := StoryRow{StoryID: id}
	if old != nil {
		n = *old
	}
	if old == nil || (s.HasAnchor && s.Anchor.Before(oldAnchor)) {
		n.UserID, n.Day = s.Anchor.UserID, s.Anchor.Day
	}
	n.Events += s.Events
	n.Created += s.Created
	n.Completed += s.Completed
	n.Failed += s.Failed
	n.Chapters += s.Chapters
	n.AudioMillis += s.AudioMs
	n.AnthropicCost += s.Anthropic
	n.ElevenLabsCost += s.ElevenLabs
	n.S3Cost += s.S3
	return &n
}
