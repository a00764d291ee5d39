package postgres

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

// econTracker keeps the unit-economics rollups of migration 061 in step
// with a batch, inside its transaction (as sqlite's applyStories and
// cohortTracker do):
//
//   - story_daily and story_buckets: every touched story moves from its row
//     before the batch to its row after it (analytics.StoryStatsDelta). The
//     rows before are read once the stories are locked (lockStoriesSQL, in
//     the first round trip, right after user_locks); an added-to story's
//     row after is its row before plus the delta, a recomputed one's is read
//     back after the recompute;
//   - cohort_days and unsigned_users: each user-day's change adds to its
//     user's cohort (analytics.CohortDelta.AddDay, with the neighbouring
//     active days that linking or unlinking it found), except for users
//     whose first signup may change in the batch: they are moved whole, all
//     their days taken out of the old cohort and put into the new one.
//
// The statistics' upserts run last, after the users table, each statement's
// rows sorted: they extend the lock order of IngestEvents.
type econTracker struct {
	d        *analytics.RollupDelta
	stories  []string // the touched stories, sorted
	before   map[string]*analytics.StoryRow
	anchors  map[string]analytics.StoryAnchor
	users    []string // the batch's users, sorted
	moving   []string // users whose first signup may change, sorted
	isMoving map[string]bool
	signupOf map[string]analytics.Day // before the batch
	days     []trackedDay
	firsts   map[string]bool // users whose only active day came or went
	cohorts  analytics.CohortDelta
}

// trackedDay is a user-day's change: sign 1 when it became active, −1 when
// it was removed, 0 when it stayed; prev and next are its neighbours then.
type trackedDay struct {
	ud      analytics.UserDay
	prev    analytics.Day
	next    analytics.Day
	hasNext bool
	sign    int64
}

func newEconTracker(d *analytics.RollupDelta) *econTracker {
	t := &econTracker{d: d, isMoving: map[string]bool{}, firsts: map[string]bool{}, cohorts: analytics.CohortDelta{}}
	for id, sd := range d.Stories {
		if !sd.IsZero() {
			t.stories = append(t.stories, id)
		}
	}
	slices.Sort(t.stories)
	for _, ud := range d.SortedUserDays() {
		if len(t.users) == 0 || t.users[len(t.users)-1] != ud.UserID {
			t.users = append(t.users, ud.UserID)
		}
	}
	for u := range d.Signups {
		t.isMoving[u] = true
	}
	for u := range d.ResignUsers {
		t.isMoving[u] = true
	}
	for u := range t.isMoving {
		t.moving = append(t.moving, u)
	}
	slices.Sort(t.moving)
	return t
}

// lockStoriesSQL locks the given stories (sorted), in array order: a story
// without a row gets a placeholder, held until commit, that the batch's
// upsert overwrites (its anchor rank 2 is above every real one, so any
// anchor replaces it) or a recompute deletes; an existing row is locked by
// the conflict action, whose WHERE false keeps it from writing a row version.
const lockStoriesSQL = `INSERT INTO stories AS t (story_id, user_id, anchor_rank, anchor_ts, day)
	SELECT id, '', 2, 'epoch', 0 FROM unnest($1::text[]) AS x(id)
	ON CONFLICT (story_id) DO UPDATE SET story_id = excluded.story_id WHERE false`

// readStoriesSQL reads the stored rows of the given stories (placeholders
// are not stories) with their anchors. A statement after the locks, so its
// snapshot holds every committed change to them.
const readStoriesSQL = `SELECT ` + storyRowColumns + `, anchor_rank, anchor_ts FROM stories
	WHERE story_id = ANY($1::text[]) AND anchor_rank < 2`

// readSignupDaysSQL and readUserDaysSQL read the given users' signup days
// and days, probing the primary key once per user (LATERAL, kept apart from
// the join by OFFSET 0), as ingest.go's statements do: "user_id = ANY($1)"
// over a few hundred users was planned as a parallel scan of user_activity
// while it had no statistics (each value guessed at 0.5% of the rows), and
// as a scan of users when they were a few percent of it.
const readSignupDaysSQL = `SELECT s.* FROM unnest($1::text[]) AS x(user_id) CROSS JOIN LATERAL (
	SELECT user_id, signup_day FROM users WHERE user_id = x.user_id OFFSET 0) s`

const readUserDaysSQL = `SELECT d.* FROM unnest($1::text[]) AS x(user_id) CROSS JOIN LATERAL (
	SELECT user_id, day, revenue_cents, cost FROM user_activity WHERE user_id = x.user_id OFFSET 0) d`

// queueBefore queues, for the first round trip (after the user locks), the
// story locks and the reads of the state before the batch.
func (t *econTracker) queueBefore(b *pgx.Batch) {
	if len(t.stories) > 0 {
		b.Queue(lockStoriesSQL, t.stories)
		b.Queue(readStoriesSQL, t.stories)
	}
	if len(t.users) > 0 {
		b.Queue(readSignupDaysSQL, t.users)
	}
	if len(t.moving) > 0 {
		b.Queue(readUserDaysSQL, t.moving)
	}
}

// readBefore reads queueBefore's results and takes the moving users out of
// their old cohorts.
func (t *econTracker) readBefore(br pgx.BatchResults) error {
	var err error
	if len(t.stories) > 0 {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock stories: %w", err)
		}
		if t.before, t.anchors, err = readStories(br); err != nil {
			return err
		}
	}
	if len(t.users) > 0 {
		if t.signupOf, err = readSignupDays(br); err != nil {
			return err
		}
	}
	if len(t.moving) > 0 {
		days, err := readUserDays(br)
		if err != nil {
			return err
		}
		for _, u := range t.moving {
			if s, ok := t.signupOf[u]; ok {
				t.cohorts.AddUser(s, days[u], -1)
			}
		}
	}
	return nil
}

// day records a user-day's change (see trackedDay).
func (t *econTracker) day(ud analytics.UserDay, prev, next analytics.Day, hasNext bool, sign int64) {
	if sign != 0 && prev == analytics.NoPrevDay && !hasNext {
		t.firsts[ud.UserID] = true
	}
	if !t.isMoving[ud.UserID] {
		t.days = append(t.days, trackedDay{ud, prev, next, hasNext, sign})
	}
}

// queueAfter queues, at the end of the rollups' batch, the reads of what the
// batch changed that the tracker cannot compute: recomputed stories, and
// the moving users' signups and days. It returns the recomputed stories.
func (t *econTracker) queueAfter(b *pgx.Batch) []string {
	var redo []string
	for _, id := range t.stories {
		if t.d.Stories[id].Recompute {
			redo = append(redo, id)
		}
	}
	if len(redo) > 0 {
		b.Queue(readStoriesSQL, redo)
	}
	if len(t.moving) > 0 {
		b.Queue(readSignupDaysSQL, t.moving)
		b.Queue(readUserDaysSQL, t.moving)
	}
	return redo
}

// readAfter reads queueAfter's results and computes the statistics' deltas;
// then queueStatistics writes them.
func (t *econTracker) readAfter(br pgx.BatchResults, redo []string) (*analytics.StoryStatsDelta, error) {
	after := map[string]*analytics.StoryRow{}
	if len(redo) > 0 {
		var err error
		if after, _, err = readStories(br); err != nil {
			return nil, err
		}
	}
	stats := analytics.NewStoryStatsDelta()
	for _, id := range t.stories {
		sd := t.d.Stories[id]
		if !sd.Recompute {
			after[id] = sd.Apply(id, t.before[id], t.anchors[id])
		}
		stats.MoveStory(t.before[id], after[id])
	}
	for _, td := range t.days {
		if s, ok := t.signupOf[td.ud.UserID]; ok {
			delta := t.d.UserDays[td.ud]
			t.cohorts.AddDay(s, td.ud.Day, delta.RevenueCents, delta.Cost, td.prev, td.next, td.hasNext, td.sign)
		}
	}
	if len(t.moving) > 0 {
		signups, err := readSignupDays(br)
		if err != nil {
			return nil, err
		}
		days, err := readUserDays(br)
		if err != nil {
			return nil, err
		}
		for _, u := range t.moving {
			if s, ok := signups[u]; ok {
				t.cohorts.AddUser(s, days[u], 1)
			}
			t.firsts[u] = true // signed or unsigned: recheck
		}
	}
	return stats, nil
}

// The statistics' statements: additive upserts of sorted keys, then the
// removal of the keys' rows the batch emptied.
const (
	addStoryDailySQL = `INSERT INTO story_daily AS t (day, status, stories, cost, audio_ms)
	SELECT * FROM unnest($1::int4[], $2::text[], $3::int8[], $4::int8[], $5::int8[])
	ON CONFLICT (day, status) DO UPDATE SET stories = t.stories + excluded.stories, cost = t.cost + excluded.cost,
		audio_ms = t.audio_ms + excluded.audio_ms`
	dropStoryDailySQL = `DELETE FROM story_daily t USING unnest($1::int4[], $2::text[]) AS x(day, status)
	WHERE t.day = x.day AND t.status = x.status AND t.stories = 0`
	addStoryBucketsSQL = `INSERT INTO story_buckets AS t (day, bucket, stories)
	SELECT * FROM unnest($1::int4[], $2::int4[], $3::int8[])
	ON CONFLICT (day, bucket) DO UPDATE SET stories = t.stories + excluded.stories`
	dropStoryBucketsSQL = `DELETE FROM story_buckets t USING unnest($1::int4[], $2::int4[]) AS x(day, bucket)
	WHERE t.day = x.day AND t.bucket = x.bucket AND t.stories = 0`
	addCohortDaysSQL = `INSERT INTO cohort_days AS t (granularity, cohort, day, firsts, revenue_cents, cost)
	SELECT * FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::int8[])
	ON CONFLICT (granularity, cohort, day) DO UPDATE SET firsts = t.firsts + excluded.firsts,
		revenue_cents = t.revenue_cents + excluded.revenue_cents, cost = t.cost + excluded.cost`
	dropCohortDaysSQL = `DELETE FROM cohort_days t USING unnest($1::text[], $2::int4[], $3::int4[]) AS x(g, cohort, day)
	WHERE t.granularity = x.g AND t.cohort = x.cohort AND t.day = x.day
		AND t.firsts = 0 AND t.revenue_cents = 0 AND t.cost = 0`
	// A user is unsigned while they have active days and no live signup.
	dropUnsignedSQL   = `DELETE FROM unsigned_users WHERE user_id = ANY($1::text[])`
	insertUnsignedSQL = `INSERT INTO unsigned_users (user_id)
	SELECT u FROM unnest($1::text[]) AS x(u)
	WHERE (SELECT 1 FROM users s WHERE s.user_id = x.u LIMIT 1) IS NULL
		AND (SELECT 1 FROM user_activity a WHERE a.user_id = x.u LIMIT 1) IS NOT NULL`
)

// queueStatistics queues the statistics' writes; it returns their number.
func (t *econTracker) queueStatistics(b *pgx.Batch, stats *analytics.StoryStatsDelta) int {
	n := 0
	dailyKeys := make([]analytics.StoryStatKey, 0, len(stats.Daily))
	for k, v := range stats.Daily {
		if *v != (analytics.StoryStat{}) {
			dailyKeys = append(dailyKeys, k)
		}
	}
	slices.SortFunc(dailyKeys, func(a, b analytics.StoryStatKey) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Status, b.Status))
	})
	if len(dailyKeys) > 0 {
		var days, dropDays []int32
		var statuses, dropStatuses []string
		var stories, costs, audio []int64
		for _, k := range dailyKeys {
			v := stats.Daily[k]
			days, statuses = append(days, int32(k.Day)), append(statuses, string(k.Status))
			stories, costs, audio = append(stories, v.Stories), append(costs, int64(v.Cost)), append(audio, v.AudioMillis)
			if v.Stories < 0 {
				dropDays, dropStatuses = append(dropDays, int32(k.Day)), append(dropStatuses, string(k.Status))
			}
		}
		b.Queue(addStoryDailySQL, days, statuses, stories, costs, audio)
		n++
		if len(dropDays) > 0 {
			b.Queue(dropStoryDailySQL, dropDays, dropStatuses)
			n++
		}
	}
	bucketKeys := make([]analytics.StoryBucketKey, 0, len(stats.Buckets))
	for k, v := range stats.Buckets {
		if v != 0 {
			bucketKeys = append(bucketKeys, k)
		}
	}
	slices.SortFunc(bucketKeys, func(a, b analytics.StoryBucketKey) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Bucket, b.Bucket))
	})
	if len(bucketKeys) > 0 {
		var days, buckets, dropDays, dropBuckets []int32
		var counts []int64
		for _, k := range bucketKeys {
			days, buckets, counts = append(days, int32(k.Day)), append(buckets, k.Bucket), append(counts, stats.Buckets[k])
			if stats.Buckets[k] < 0 {
				dropDays, dropBuckets = append(dropDays, int32(k.Day)), append(dropBuckets, k.Bucket)
			}
		}
		b.Queue(addStoryBucketsSQL, days, buckets, counts)
		n++
		if len(dropDays) > 0 {
			b.Queue(dropStoryBucketsSQL, dropDays, dropBuckets)
			n++
		}
	}
	cohortKeys := make([]analytics.CohortDayKey, 0, len(t.cohorts))
	for k, v := range t.cohorts {
		if !v.IsZero() {
			cohortKeys = append(cohortKeys, k)
		}
	}
	slices.SortFunc(cohortKeys, func(a, b analytics.CohortDayKey) int {
		return cmp.Or(cmp.Compare(a.G, b.G), cmp.Compare(a.Cohort, b.Cohort), cmp.Compare(a.Day, b.Day))
	})
	if len(cohortKeys) > 0 {
		var gs []string
		var cohorts, days []int32
		var firsts, revenue, costs []int64
		for _, k := range cohortKeys {
			v := t.cohorts[k]
			gs, cohorts, days = append(gs, string(k.G)), append(cohorts, k.Cohort), append(days, int32(k.Day))
			firsts, revenue, costs = append(firsts, v.Firsts), append(revenue, v.RevenueCents), append(costs, int64(v.Cost))
		}
		b.Queue(addCohortDaysSQL, gs, cohorts, days, firsts, revenue, costs)
		b.Queue(dropCohortDaysSQL, gs, cohorts, days)
		n += 2
	}
	if len(t.firsts) > 0 {
		users := make([]string, 0, len(t.firsts))
		for u := range t.firsts {
			users = append(users, u)
		}
		slices.Sort(users)
		b.Queue(dropUnsignedSQL, users)
		b.Queue(insertUnsignedSQL, users)
		n += 2
	}
	return n
}

// readStories reads readStoriesSQL's rows: the stories and their anchors.
func readStories(br pgx.BatchResults) (map[string]*analytics.StoryRow, map[string]analytics.StoryAnchor, error) {
	out := map[string]*analytics.StoryRow{}
	anchors := map[string]analytics.StoryAnchor{}
	rows, _ := br.Query()
	_, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		var st analytics.StoryRow
		var day int32
		var an, el, s3 int64
		var a analytics.StoryAnchor
		var at time.Time
		if err := row.Scan(&st.StoryID, &st.UserID, &day, &st.Events, &st.Created, &st.Completed, &st.Failed,
			&st.Chapters, &st.AudioMillis, &an, &el, &s3, &a.Rank, &at); err != nil {
			return struct{}{}, err
		}
		st.Day, st.AnthropicCost, st.ElevenLabsCost, st.S3Cost = analytics.Day(day), analytics.Micros(an), analytics.Micros(el), analytics.Micros(s3)
		a.At, a.Day, a.UserID = at, st.Day, st.UserID
		out[st.StoryID], anchors[st.StoryID] = &st, a
		return struct{}{}, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read stories: %w", err)
	}
	return out, anchors, nil
}

func readSignupDays(br pgx.BatchResults) (map[string]analytics.Day, error) {
	out := map[string]analytics.Day{}
	rows, _ := br.Query()
	var u string
	var day int32
	_, err := pgx.ForEachRow(rows, []any{&u, &day}, func() error {
		out[u] = analytics.Day(day)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read signup days: %w", err)
	}
	return out, nil
}

func readUserDays(br pgx.BatchResults) (map[string][]analytics.UserDayFigures, error) {
	out := map[string][]analytics.UserDayFigures{}
	rows, _ := br.Query()
	var u string
	var day int32
	var rev, cost int64
	_, err := pgx.ForEachRow(rows, []any{&u, &day, &rev, &cost}, func() error {
		out[u] = append(out[u], analytics.UserDayFigures{Day: analytics.Day(day), RevenueCents: rev, Cost: analytics.Micros(cost)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read user days: %w", err)
	}
	return out, nil
}
