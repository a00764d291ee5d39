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
	// StoryHistogramBuckets is the number of equal-width buckets of the
	// completed stories' cost histogram.
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

// HistogramBucket counts completed stories with From ≤ cost < To (the last
// bucket includes To).
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
	in.Normalize(t.now(), t.Store.Location())
	r, err := in.Range()
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	rows, err := t.Store.Stories(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	return SummarizeStories(rows, *in.Limit, t.period(r))
}

// SummarizeStories computes get_story_costs from story rows (the stores'
// and the brute-force tests' common ground).
func SummarizeStories(rows []StoryRow, limit int, p Period) (*StoryCosts, error) {
	res := &StoryCosts{Histogram: []HistogramBucket{}, Top: []StoryCost{}, Period: p}
	var total, failed, completedCost Sum
	var audio Sum
	var completed []Micros
	for _, s := range rows {
		c := s.Cost()
		total.Add(int64(c))
		switch s.Status() {
		case StoryCompleted:
			res.Completed++
			completed = append(completed, c)
			completedCost.Add(int64(c))
			audio.Add(s.AudioMillis)
		case StoryFailed:
			res.Failed++
			failed.Add(int64(c))
		default:
			res.InProgress++
		}
	}
	if total.Overflow || failed.Overflow || completedCost.Overflow || audio.Overflow {
		return nil, ErrSumOverflow
	}
	res.Stories = int64(len(rows))
	res.Cost, res.FailedCost = Cents(total.V), Cents(failed.V)
	if n := len(completed); n > 0 {
		slices.Sort(completed)
		rank := func(q float64) *Cents {
			// ⌈q·n⌉ in integers: q is a whole percent.
			pct := int(q * 100)
			k := (pct*n + 99) / 100
			v := Cents(completed[max(k, 1)-1])
			return &v
		}
		mean := Cents(completedCost.V / int64(n))
		res.CostPerCompletedStory = CostDistribution{Mean: &mean, P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: rank(1)}
		if audio.V > 0 {
			v := float64(completedCost.V) / float64(MicrosPerCent) / (float64(audio.V) / 60000)
			res.CostPerAudioMinuteCents = &v
		}
		res.Histogram = histogram(completed)
	}
	slices.SortFunc(rows, func(a, b StoryRow) int {
		return cmp.Or(cmp.Compare(b.Cost(), a.Cost()), cmp.Compare(a.StoryID, b.StoryID))
	})
	for _, s := range rows[:min(limit, len(rows))] {
		res.Top = append(res.Top, StoryCost{StoryID: s.StoryID, UserID: s.UserID, Date: s.Day, Status: s.Status(),
			Chapters: s.Chapters, AudioSeconds: float64(s.AudioMillis) / 1000, Cost: Cents(s.Cost()),
			ByService: ServiceSplit{Anthropic: Cents(s.AnthropicCost), ElevenLabs: Cents(s.ElevenLabsCost), S3: Cents(s.S3Cost)}})
	}
	return res, nil
}

// histogram buckets sorted costs into StoryHistogramBuckets equal widths
// from 0 to the largest (whole micro-dollars; the last bucket ends at it).
func histogram(sorted []Micros) []HistogramBucket {
	top := sorted[len(sorted)-1]
	if top < 0 {
		top = 0
	}
	n := int64(StoryHistogramBuckets)
	width := (int64(top) + n - 1) / n
	if width == 0 {
		width = 1
	}
	out := make([]HistogramBucket, n)
	for i := range out {
		out[i].From, out[i].To = Cents(int64(i)*width), Cents(int64(i+1)*width)
	}
	for _, c := range sorted {
		i := max(int64(c), 0) / width
		out[min(i, n-1)].Stories++
	}
	return out
}
