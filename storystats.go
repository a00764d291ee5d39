package analytics

import (
	"math/bits"
)

// Story statistics: per-day rollups of the story rollup, so get_story_costs
// reads a few hundred rows instead of every story of the range.
//
//   - story_daily (day, status): stories, cost and completed audio per
//     anchor day and status;
//   - story_buckets (day, bucket): completed stories per cost bucket, from
//     which a percentile's bucket is found; the exact value is then read
//     from the stories of that bucket alone.
//
// A story's row changes with every event of it, so a store reads the row
// before and after its change and adds MoveStory's deltas.

// StoryBucketsPerOctave is the number of cost buckets per power of two.
const StoryBucketsPerOctave = 16

// StoryCostBucket numbers a cost's bucket: costs below 16 µ$ each have
// their own; above, 16 buckets per power of two (each spans 1/16 of its
// octave, so at most 6.25% of its lower bound). Negative costs (impossible
// for priced calls) share bucket 0.
func StoryCostBucket(c Micros) int32 {
	if c < StoryBucketsPerOctave {
		return int32(max(c, 0))
	}
	n := bits.Len64(uint64(c))  // ≥ 5
	top := uint64(c) >> (n - 5) // 16..31
	return int32((n-4)*StoryBucketsPerOctave) + int32(top-16)
}

// StoryBucketBounds is the half-open cost range [lo, hi) of a bucket.
func StoryBucketBounds(b int32) (lo, hi Micros) {
	if b < StoryBucketsPerOctave {
		return Micros(b), Micros(b + 1)
	}
	n := int(b/StoryBucketsPerOctave) + 4
	top := uint64(b%StoryBucketsPerOctave) + 16
	return Micros(top << (n - 5)), Micros((top + 1) << (n - 5))
}

// StoryStatKey is a row of story_daily.
type StoryStatKey struct {
	Day    Day
	Status StoryStatus
}

// StoryStat is what story_daily sums: stories, their cost and, for
// completed stories, their audio and chapters.
type StoryStat struct {
	Stories     int64
	Cost        Micros
	AudioMillis int64
}

// StoryBucketKey is a row of story_buckets (completed stories only).
type StoryBucketKey struct {
	Day    Day
	Bucket int32
}

// StoryStatsDelta accumulates the story statistics' changes of a batch.
type StoryStatsDelta struct {
	Daily   map[StoryStatKey]*StoryStat
	Buckets map[StoryBucketKey]int64
}

// NewStoryStatsDelta returns an empty delta.
func NewStoryStatsDelta() *StoryStatsDelta {
	return &StoryStatsDelta{Daily: map[StoryStatKey]*StoryStat{}, Buckets: map[StoryBucketKey]int64{}}
}

func (d *StoryStatsDelta) add(s *StoryRow, sign int64) {
	if s == nil || s.Events == 0 {
		return
	}
	st := s.Status()
	k := StoryStatKey{s.Day, st}
	v := d.Daily[k]
	if v == nil {
		v = &StoryStat{}
		d.Daily[k] = v
	}
	v.Stories += sign
	v.Cost += Micros(sign) * s.Cost()
	if st == StoryCompleted {
		v.AudioMillis += sign * s.AudioMillis
		d.Buckets[StoryBucketKey{s.Day, StoryCostBucket(s.Cost())}] += sign
	}
}

// MoveStory records that a story's row went from old to new (nil, or a row
// without events: absent).
func (d *StoryStatsDelta) MoveStory(old, new *StoryRow) {
	d.add(old, -1)
	d.add(new, 1)
}

// StorySummary is what a store reads for get_story_costs from the story
// statistics of a range.
type StorySummary struct {
	ByStatus map[StoryStatus]StoryStat
	// Buckets counts completed stories per cost bucket.
	Buckets map[int32]int64
}
