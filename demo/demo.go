// Package demo generates a realistic, deterministic data set for the
// CodeStory platform: users sign up (more every week, fewer at weekends),
// write stories with Claude, have them narrated by ElevenLabs, store and
// play the audio from S3, pay for subscriptions and credit packs, ask for
// the odd refund and eventually churn.
//
// The output is a stream of analytics.Event values in chronological order,
// ready for pricing (Cost and Priced are left zero). The same Options give
// the same events, byte for byte: every random draw comes from PCGs
// (math/rand/v2) seeded from Options.Seed, in a fixed order, on one
// goroutine.
//
// # Model
//
// Signups: Users signups over the period, spread by an exponential growth
// curve (the last day gets about 3.5 times the signups of the first), a
// weekly cycle (fewer at weekends), day-to-day noise and, for periods of two
// weeks or more, one press spike in the second half. Every user signs up
// inside the period. Within a day, events follow a diurnal curve (UTC,
// peaking in the European evening and the American afternoon).
//
// Users are tourists (35%: a story or two in the first days, then gone),
// casual (50%: a story every few days, slowly fading) or power users (15%:
// near daily, for months). Activity is higher at weekends. A new user has
// one free story; after that a story needs a subscription ($9.99 a month,
// 80%, or $99 a year; either includes 8 stories every 30 days) or a credit
// pack ($4.99 for 3, $9.99 for 7 or $19.99 for 16 stories); a free user who
// buys neither is turned away and loses interest. About 2% of payments are
// refunded 6 hours to 10 days later (a refunded subscription ends). Monthly
// subscriptions renew every 30 days; 6% cancel at renewal. About 1.5% of
// active users a month send user_churned and are never active again. With
// the default options about a quarter of the users pay at some point and
// revenue exceeds the priced API cost by some 15–20%.
//
// A story is story_created, then an anthropic "outline" call, then for each
// of its 2 to 8 chapters (mostly 2 to 4) an anthropic "chapter" call, an
// elevenlabs "text_to_speech" call and an s3 "put_object" of the MP3
// (128 kbps), then story_completed (chapters, audio_seconds). About 70% of
// completed stories are listened to at once, chapter by chapter at
// listening pace (s3 "get_object" per chapter); users replay older stories
// on later days.
//
// Claude: mostly claude-sonnet-4-5-20250929, some claude-haiku-4-5 (more for
// free users) and claude-opus-4-5 (paying users). 1.5% of stories belong to
// an experiment on "claude-experimental-x", a model no catalog prices (about
// 0.4% of all calls). Prompts of 1–8k input tokens; chapters of 1–4k output
// tokens (outlines 0.5–1.6k). Prompt caching (the outline call writes the
// system prompt to the cache, the chapter calls read it, or write it again
// when the 5-minute cache has expired; some stories use the 1-hour cache)
// rolls out over the period, from 15% of stories to 85%. About 0.4% of
// Sonnet chapter calls carry a long reference text and exceed 200k input
// tokens. ElevenLabs: mostly eleven_multilingual_v2, some eleven_flash_v2_5
// (more for free users), 4 to 6 characters per output token; audio lasts one
// second per 15 characters.
//
// Failures: about 1% of calls fail once (status "error", no usage) and are
// retried successfully; 3% of stories hit a step that fails three times in
// a row and end with story_failed.
package demo

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/codestory/analytics"
)

// Options configure Generate.
type Options struct {
	Days  int       // length of the period in days; default 90
	Users int       // users signed up by the end of the period; default 2000
	Seed  uint64    // default 1
	End   time.Time // the last instant of data; the period is the calendar days (UTC) [End-Days+1, End]. Default: time.Now()
}

// ChunkSize is the number of events Generate passes to emit at a time (the
// last chunk may be shorter).
const ChunkSize = 1000

const (
	second = int64(time.Second / time.Microsecond)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
)

func (o Options) withDefaults() Options {
	if o.Days <= 0 {
		o.Days = 90
	}
	if o.Users <= 0 {
		o.Users = 2000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	o.End = o.End.UTC().Truncate(time.Microsecond)
	return o
}

// Generate produces the data set described by opts and passes it to emit in
// chunks of ChunkSize events, in chronological order (ascending Timestamp).
// It stops at and returns the first error from emit.
//
// emit must not keep the slice it is given after it returns (Generate
// reuses it for the next chunk); it may keep copies of the events. Memory
// use is bounded by the number of users (a few dozen bytes each) and of
// sessions running at once (stories being written or played), never by the
// number of events.
//
// Event ids are "demo-<seed>-<n>" (n = 1, 2, … in order); user ids
// "user_000123" (numbered in signup order); story ids "story_000123_4" (the
// user's 4th story). Timestamps are UTC, microsecond precision, within
// [first day 00:00, End]; stories still running at End are cut off there.
func Generate(opts Options, emit func([]analytics.Event) error) error {
	g := newGen(opts.withDefaults(), emit)
	g.run()
	return g.err
}

// Estimate returns about how many events Generate(opts, …) produces: it runs
// the generator for at most 1,000 users and scales the count, so it takes a
// few tens of milliseconds and is exact when opts.Users <= 1,000.
func Estimate(opts Options) int64 {
	o := opts.withDefaults()
	sample := min(o.Users, 1000)
	s := o
	s.Users = sample
	var n int64
	_ = Generate(s, func(b []analytics.Event) error { n += int64(len(b)); return nil })
	return n * int64(o.Users) / int64(sample)
}

// Plans and user segments.
const (
	planFree uint8 = iota
	planMonthly
	planYearly
)

const (
	segTourist = iota
	segCasual
	segPower
)

type user struct {
	id        string
	churnAt   int64 // Unix µs of user_churned; 0 while active
	signupDay int32
	stories   int32 // stories created so far
	renewDay  int32 // day index of the next subscription payment
	credits   int32
	quotaDay  int32 // day index of the next quota refill of a subscription
	quota     int16 // stories left in the subscription's current 30 days
	freeLeft  int8
	plan      uint8
	rate      float32 // stories a day when fully engaged
	tau       float32 // days for engagement to fall by 1/e
	floor     float32 // share of engagement that never fades
	playRate  float32 // replay sessions a day when fully engaged
	pSub      float32 // chance to subscribe when out of free stories
	pPack     float32 // chance to buy a credit pack instead
}

type gen struct {
	o        Options
	seed     uint64
	rng      rng
	emitFn   func([]analytics.Event) error
	err      error
	base     int64 // Unix µs of the first day, 00:00 UTC
	end      int64 // Unix µs of End
	days     int
	weekday0 time.Weekday
	signups  []int // signups per day
	users    []user
	h        sheap
	seq      uint64
	free     []*session
	buf      []analytics.Event
	n        uint64 // events emitted
	prefix   string
	ids      []byte
	idEnds   []int
	scratch  []int64
}

func newGen(o Options, emit func([]analytics.Event) error) *gen {
	g := &gen{o: o, seed: o.Seed, emitFn: emit, days: o.Days}
	g.rng = newRNG(mix(o.Seed), mix(o.Seed^0x5deece66d))
	y, m, d := o.End.Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	first := last.AddDate(0, 0, -(o.Days - 1))
	g.base = first.UnixMicro()
	g.end = o.End.UnixMicro()
	g.weekday0 = first.Weekday()
	g.users = make([]user, 0, o.Users)
	g.buf = make([]analytics.Event, 0, ChunkSize)
	g.prefix = "demo-" + strconv.FormatUint(o.Seed, 10) + "-"
	g.signups = g.allocateSignups()
	return g
}

// Weekly cycles, indexed by time.Weekday (Sunday first).
var (
	activityByWeekday = [7]float64{1.25, 1.0, 0.97, 0.98, 1.0, 1.06, 1.22}
	signupsByWeekday  = [7]float64{0.82, 1.05, 1.04, 1.02, 1.0, 0.95, 0.84}
)

// Diurnal curve: relative activity per UTC hour.
var hourWeights = [24]float64{
	1.1, 1.2, 1.1, 0.9, 0.6, 0.4, 0.35, 0.4, 0.5, 0.6, 0.65, 0.7,
	0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1, 1.25, 1.35, 1.4, 1.35, 1.2,
}

var hourCum = func() (c [25]float64) {
	var total float64
	for _, w := range hourWeights {
		total += w
	}
	for i, w := range hourWeights {
		c[i+1] = c[i] + w/total
	}
	c[24] = 1
	return
}()

// dayShare is the share of a day's activity that falls in its first limit
// microseconds.
func dayShare(limit int64) float64 {
	if limit >= day {
		return 1
	}
	if limit <= 0 {
		return 0
	}
	h := limit / hour
	return hourCum[h] + (hourCum[h+1]-hourCum[h])*float64(limit-h*hour)/float64(hour)
}

// timeOfDay draws an offset into a day, in [0, limit], from the diurnal
// curve.
func (g *gen) timeOfDay(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	u := g.rng.float() * dayShare(limit)
	h := 0
	for h < 23 && hourCum[h+1] <= u {
		h++
	}
	off := int64(h)*hour + int64((u-hourCum[h])/(hourCum[h+1]-hourCum[h])*float64(hour))
	return min(max(off, 0), limit)
}

func (g *gen) dayStart(d int) int64 { return g.base + int64(d)*day }

// randTime draws a time on day d; it may be after End on the last day.
func (g *gen) randTime(d int) int64 { return g.dayStart(d) + g.timeOfDay(day-1) }

func (g *gen) weekday(d int) time.Weekday { return (g.weekday0 + time.Weekday(d%7)) % 7 }

// progress is how far day d is into the period, from 0 to 1.
func (g *gen) progress(d int) float64 {
	if g.days <= 1 {
		return 1
	}
	return float64(d) / float64(g.days-1)
}

// allocateSignups spreads the users over the days: exactly o.Users in all.
func (g *gen) allocateSignups() []int {
	days := g.days
	w := make([]float64, days)
	for d := range days {
		w[d] = math.Exp(1.25*g.progress(d)) * signupsByWeekday[g.weekday(d)] * g.rng.lognorm(1, 0.12)
	}
	if days >= 14 {
		spike := days/2 + g.rng.intn(days-days/2-2)
		w[spike] *= 2.6
		w[spike+1] *= 1.7
		w[spike+2] *= 1.25
	}
	w[days-1] *= dayShare(g.end - g.dayStart(days-1) + 1)
	var total float64
	for _, v := range w {
		total += v
	}
	if total <= 0 {
		for d := range w {
			w[d] = 1
		}
		total = float64(days)
	}
	out := make([]int, days)
	var cum float64
	prev := 0
	for d, v := range w {
		cum += v
		next := int(math.Round(cum / total * float64(g.o.Users)))
		if d == days-1 {
			next = g.o.Users
		}
		out[d] = next - prev
		prev = next
	}
	return out
}

func (g *gen) run() {
	for d := 0; d < g.days && g.err == nil; d++ {
		g.drain(g.dayStart(d))
		if g.err == nil {
			g.planDay(d)
		}
	}
	g.drain(math.MaxInt64)
	g.flush()
}

// drain runs sessions until the next event would be at or after limit, or
// after End.
func (g *gen) drain(limit int64) {
	for len(g.h) > 0 && g.err == nil {
		s := g.h[0]
		if s.t >= limit || s.t > g.end {
			return
		}
		g.pop()
		if g.step(s) {
			g.push(s)
		} else {
			g.release(s)
		}
		if len(g.buf) >= ChunkSize {
			g.flush()
		}
	}
}

// flush gives every buffered event its id and passes the chunk to emit.
// The ids of a chunk share one string allocation.
func (g *gen) flush() {
	if len(g.buf) == 0 || g.err != nil {
		return
	}
	ids, ends := g.ids[:0], g.idEnds[:0]
	for range g.buf {
		g.n++
		ids = append(ids, g.prefix...)
		ids = strconv.AppendUint(ids, g.n, 10)
		ends = append(ends, len(ids))
	}
	all := string(ids)
	start := 0
	for i := range g.buf {
		g.buf[i].ID = all[start:ends[i]]
		start = ends[i]
	}
	g.ids, g.idEnds = ids, ends
	g.err = g.emitFn(g.buf)
	clear(g.buf)
	g.buf = g.buf[:0]
}

// event appends a new event to the chunk and returns it for filling in.
func (g *gen) event(t int64, typ analytics.EventType, u int32) *analytics.Event {
	g.buf = append(g.buf, analytics.Event{
		Type:      typ,
		Timestamp: time.UnixMicro(t).UTC(),
		UserID:    g.users[u].id,
	})
	return &g.buf[len(g.buf)-1]
}

// planDay schedules day d: the existing users' activity, then the day's
// signups.
func (g *gen) planDay(d int) {
	r := &g.rng
	wd := g.weekday(d)
	act := activityByWeekday[wd]
	p := g.progress(d)
	for i := range g.users {
		u := &g.users[i]
		if u.churnAt != 0 {
			continue
		}
		ui := int32(i)
		if r.chance(0.015 / 30) {
			if t := g.randTime(d); t <= g.end {
				u.churnAt = t
				s := g.alloc(kindChurn, ui, t)
				g.push(s)
				continue
			}
		}
		if u.plan != planFree && int(u.quotaDay) <= d {
			u.quota, u.quotaDay = planQuota, int32(d)+30
		}
		if u.plan != planFree && int(u.renewDay) == d {
			if u.plan == planMonthly && r.chance(0.06) {
				u.plan = planFree
			} else {
				g.payment(ui, g.randTime(d), u.plan)
				if u.plan == planMonthly {
					u.renewDay += 30
				} else {
					u.renewDay += 365
				}
			}
		}
		age := float64(d - int(u.signupDay))
		engaged := float64(u.floor) + (1-float64(u.floor))*math.Exp(-age/float64(u.tau))
		if u.stories > 0 {
			for n := r.poisson(float64(u.playRate) * engaged * act); n > 0; n-- {
				t := g.randTime(d)
				if t > g.end {
					continue
				}
				no := u.stories
				if !r.chance(0.55) {
					no = 1 + int32(r.intn(int(u.stories)))
				}
				g.replay(ui, no, t)
			}
		}
		for n := r.poisson(float64(u.rate) * engaged * act); n > 0; n-- {
			if t := g.randTime(d); t <= g.end {
				g.tryStory(ui, t, p)
			}
		}
	}

	// Signups, numbered in time order.
	limit := min(day-1, g.end-g.dayStart(d))
	times := g.scratch[:0]
	for range g.signups[d] {
		times = append(times, g.dayStart(d)+g.timeOfDay(limit))
	}
	slices.Sort(times)
	g.scratch = times
	for _, t := range times {
		ui := g.newUser(d)
		g.push(g.alloc(kindSignup, ui, t))
	}
}

// Segment mix: tourist, casual, power.
var segmentCum = []float64{0.35, 0.85, 1}

// freeStories is the number of stories a new user may write for free.
const freeStories = 1

func (g *gen) newUser(d int) int32 {
	r := &g.rng
	n := len(g.users) + 1
	id := make([]byte, 0, 12)
	id = append(id, "user_"...)
	id = appendPadded(id, n, 6)
	u := user{id: string(id), signupDay: int32(d), freeLeft: freeStories}
	switch r.pick(segmentCum) {
	case segTourist:
		u.rate, u.tau, u.floor = float32(r.lognorm(0.5, 0.3)), float32(r.between(1.5, 4)), 0
		u.playRate, u.pSub, u.pPack = 0.15, 0.02, 0.04
	case segCasual:
		u.rate, u.tau, u.floor = float32(r.lognorm(0.18, 0.4)), float32(r.between(20, 60)), 0.1
		u.playRate, u.pSub, u.pPack = 0.3, 0.07, 0.08
	default:
		u.rate, u.tau, u.floor = float32(r.lognorm(0.55, 0.35)), float32(r.between(90, 240)), 0.35
		u.playRate, u.pSub, u.pPack = 0.6, 0.30, 0.15
	}
	g.users = append(g.users, u)
	return int32(n - 1)
}

func appendPadded(dst []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// Payment kinds beyond the plans: credit packs.
const (
	packSmall uint8 = iota + 10
	packMedium
	packLarge
)

func amountOf(kind uint8) int64 {
	switch kind {
	case planMonthly:
		return 999
	case planYearly:
		return 9900
	case packSmall:
		return 499
	case packMedium:
		return 999
	default:
		return 1999
	}
}

var packCum = []float64{0.5, 0.85, 1}
var packStories = [3]int32{3, 7, 16}

// planQuota is the number of stories a subscription includes every 30 days.
const planQuota = 8

func (g *gen) payment(ui int32, t int64, kind uint8) {
	if t > g.end {
		return
	}
	s := g.alloc(kindPayment, ui, t)
	s.payKind = kind
	g.push(s)
}

func (g *gen) subscribe(ui int32, t int64) {
	u := &g.users[ui]
	d := int32((t - g.base) / day)
	if g.rng.chance(0.8) {
		u.plan, u.renewDay = planMonthly, d+30
	} else {
		u.plan, u.renewDay = planYearly, d+365
	}
	u.quota, u.quotaDay = planQuota, d+30
	u.rate *= 1.3
	g.payment(ui, t, u.plan)
}

// tryStory starts a story for user ui at t if the user may write one,
// converting a free user who is out of stories now and then.
func (g *gen) tryStory(ui int32, t int64, progress float64) {
	u := &g.users[ui]
	r := &g.rng
	switch {
	case u.plan != planFree && u.quota > 0:
		u.quota--
	case u.plan == planFree && u.freeLeft > 0:
		u.freeLeft--
	case u.credits > 0:
		u.credits--
	case u.plan != planFree: // out of quota: top up or wait
		if !r.chance(0.4) {
			return
		}
		k := r.pick(packCum)
		g.payment(ui, t, packSmall+uint8(k))
		u.credits += packStories[k] - 1
		t += r.ibetween(20*second, 4*minute)
	default:
		x := r.float()
		switch {
		case x < float64(u.pSub):
			g.subscribe(ui, t)
		case x < float64(u.pSub+u.pPack):
			k := r.pick(packCum)
			g.payment(ui, t, packSmall+uint8(k))
			u.credits += packStories[k] - 1
		default:
			u.rate *= 0.5 // turned away
			return
		}
		t += r.ibetween(20*second, 4*minute)
	}
	if t > g.end {
		return
	}
	g.startStory(ui, t, progress)
}

func (g *gen) replay(ui int32, no int32, t int64) {
	s := g.alloc(kindPlay, ui, t)
	s.storyNo = no
	s.plan(g.seed, ui, no)
	if s.failAt >= 0 {
		g.release(s)
		return
	}
	s.storyID = g.storyID(ui, no)
	s.phase = phPlay
	if s.rng.chance(0.3) {
		s.ch = int8(s.rng.intn(int(s.nch)))
	}
	g.push(s)
}

func (g *gen) storyID(ui, no int32) string {
	b := make([]byte, 0, 20)
	b = append(b, "story_"...)
	b = appendPadded(b, int(ui)+1, 6)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(no), 10)
	return string(b)
}

// Session heap, ordered by (t, seq).

type sheap []*session

func (h sheap) less(i, j int) bool {
	return h[i].t < h[j].t || (h[i].t == h[j].t && h[i].seq < h[j].seq)
}

func (g *gen) push(s *session) {
	g.seq++
	s.seq = g.seq
	h := append(g.h, s)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	g.h = h
}

func (g *gen) pop() *session {
	h := g.h
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = nil
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	g.h = h
	return top
}

func (g *gen) alloc(kind uint8, ui int32, t int64) *session {
	var s *session
	if n := len(g.free); n > 0 {
		s = g.free[n-1]
		g.free = g.free[:n-1]
		*s = session{}
	} else {
		s = new(session)
	}
	s.kind, s.user, s.t, s.failAt = kind, ui, t, -1
	return s
}

func (g *gen) release(s *session) {
	s.storyID = ""
	g.free = append(g.free, s)
}
