package demo

import (
	"github.com/codestory/analytics"
)

// A session is one running piece of activity (a signup, a story being
// written and narrated, a listening session, a payment, …). It produces its
// events one at a time, each at s.t; the generator keeps the sessions in a
// heap by time and always runs the earliest, so events come out in order.

const (
	kindSignup uint8 = iota
	kindStory
	kindPlay
	kindPayment
	kindRefund
	kindChurn
)

// Story phases.
const (
	phCreate uint8 = iota
	phOutline
	phChapter
	phTTS
	phPut
	phComplete
	phFail
	phPlay
)

// Services a story step can fail on for good.
const (
	failLLM uint8 = iota
	failTTS
)

const maxChapters = 8

// Models.
const (
	modelSonnet        = "claude-sonnet-4-5-20250929"
	modelHaiku         = "claude-haiku-4-5"
	modelOpus          = "claude-opus-4-5"
	modelExperimental  = "claude-experimental-x"
	voiceMultilingual  = "eleven_multilingual_v2"
	voiceFlash         = "eleven_flash_v2_5"
	s3Class            = "standard"
	opOutline          = "outline"
	opChapter          = "chapter"
	opTTS              = "text_to_speech"
	opPut              = "put_object"
	opGet              = "get_object"
	audioBytesPerSec   = 128_000 / 8 // 128 kbps MP3
	charsPerAudioSec   = 15
	longContextPerCall = 0.004
)

type session struct {
	t       int64
	seq     uint64
	kind    uint8
	phase   uint8
	payKind uint8
	failSvc uint8
	nch     int8 // chapters
	ch      int8 // current chapter (0-based)
	attempt int8
	failAt  int8 // -1: none; 0: the outline; k: chapter k (1-based)
	cache   uint8
	user    int32
	storyNo int32

	storyID    string
	model      string
	voice      string
	rng        rng
	lastCache  int64
	sysTokens  int32
	prompt     int32
	outlineOut int32
	outTok     [maxChapters]int32
	chars      [maxChapters]int32
}

// Prompt cache modes.
const (
	cacheNone uint8 = iota
	cache5m
	cache1h
)

// Chapters per story: 2 … 8.
var chapterCum = []float64{0.30, 0.65, 0.85, 0.94, 0.98, 0.995, 1}

// plan seeds the story's own PCG from (seed, user, story number) and draws
// the story's shape: chapters, their lengths, and whether and where it
// fails. A replay recomputes it to play the audio the story really has.
func (s *session) plan(seed uint64, ui, no int32) {
	a := mix(seed*0x100000001b3 ^ uint64(ui))
	s.rng = newRNG(a, mix(a^uint64(no)<<1))
	r := &s.rng
	s.nch = int8(2 + r.pick(chapterCum))
	for k := range int(s.nch) {
		out := r.clampLognorm(1300, 0.35, 1000, 4000)
		s.outTok[k] = int32(out)
		s.chars[k] = int32(float64(out) * r.between(4, 6))
	}
	s.failAt = -1
	if r.chance(0.03) {
		s.failAt = int8(r.intn(int(s.nch) + 1))
		s.failSvc = failLLM
		if s.failAt > 0 && r.chance(0.35) {
			s.failSvc = failTTS
		}
	}
}

func (g *gen) startStory(ui int32, t int64, progress float64) {
	u := &g.users[ui]
	u.stories++
	s := g.alloc(kindStory, ui, t)
	s.storyNo = u.stories
	s.plan(g.seed, ui, s.storyNo)
	s.storyID = g.storyID(ui, s.storyNo)
	r := &s.rng
	paid := u.plan != planFree
	x := r.float()
	switch {
	case r.chance(0.015):
		s.model = modelExperimental
	case paid && x < 0.78, !paid && x < 0.76:
		s.model = modelSonnet
	case paid && x < 0.95:
		s.model = modelOpus
	default:
		s.model = modelHaiku
	}
	s.voice = voiceMultilingual
	if (paid && r.chance(0.1)) || (!paid && r.chance(0.6)) {
		s.voice = voiceFlash
	}
	if r.chance(0.15 + 0.7*progress) {
		s.cache = cache5m
		if r.chance(0.12) {
			s.cache = cache1h
		}
	}
	s.sysTokens = int32(r.ibetween(1500, 4200))
	s.prompt = int32(r.ibetween(250, 1200))
	s.outlineOut = int32(r.ibetween(500, 1600))
	s.phase = phCreate
	g.push(s)
}

// step emits the session's event at s.t and moves it on; false means the
// session is over.
func (g *gen) step(s *session) bool {
	switch s.kind {
	case kindSignup:
		return g.stepSignup(s)
	case kindPayment:
		e := g.event(s.t, analytics.EventPayment, s.user)
		e.AmountCents = amountOf(s.payKind)
		if g.rng.chance(0.02) {
			if t := s.t + g.rng.ibetween(6*hour, 10*day); t <= g.end {
				ref := g.alloc(kindRefund, s.user, t)
				ref.payKind = s.payKind
				g.push(ref)
			}
		}
		return false
	case kindRefund:
		e := g.event(s.t, analytics.EventRefund, s.user)
		e.AmountCents = amountOf(s.payKind)
		if u := &g.users[s.user]; u.plan == s.payKind {
			u.plan = planFree
		}
		return false
	case kindChurn:
		g.event(s.t, analytics.EventUserChurned, s.user)
		return false
	}
	// Stories and plays: a churned user starts nothing new and stops
	// listening.
	if c := g.users[s.user].churnAt; c != 0 && s.t > c && (s.phase == phCreate || s.phase == phPlay) {
		return false
	}
	switch s.phase {
	case phCreate:
		e := g.event(s.t, analytics.EventStoryCreated, s.user)
		e.StoryID = s.storyID
		s.phase = phOutline
		s.t += s.latency()
	case phOutline, phChapter, phTTS, phPut:
		g.stepCall(s)
	case phComplete:
		e := g.event(s.t, analytics.EventStoryCompleted, s.user)
		e.StoryID = s.storyID
		e.Chapters = int64(s.nch)
		for k := range int(s.nch) {
			e.AudioMillis += audioMillis(s.chars[k])
		}
		if !s.rng.chance(0.7) {
			return false
		}
		s.phase, s.ch = phPlay, 0
		s.t += s.rng.ibetween(5*second, 3*minute)
	case phFail:
		e := g.event(s.t, analytics.EventStoryFailed, s.user)
		e.StoryID = s.storyID
		return false
	case phPlay:
		e := g.call(s, analytics.ServiceS3, opGet, s3Class)
		e.BytesTransferred = audioBytes(s.chars[s.ch])
		e.Requests = 1
		if s.ch+1 >= s.nch || !s.rng.chance(0.8) {
			return false
		}
		s.t += int64(float64(audioMillis(s.chars[s.ch])*1000) * s.rng.between(0.97, 1.03))
		s.ch++
	}
	return true
}

func audioMillis(chars int32) int64 { return int64(chars) * 1000 / charsPerAudioSec }

func audioBytes(chars int32) int64 { return int64(chars) * audioBytesPerSec / charsPerAudioSec }

func (g *gen) stepSignup(s *session) bool {
	r := &g.rng
	e := g.event(s.t, analytics.EventUserSignup, s.user)
	first, last := firstNames[r.intn(len(firstNames))], lastNames[r.intn(len(lastNames))]
	b := make([]byte, 0, 48)
	b = append(b, first...)
	b = append(b, '.')
	b = append(b, last...)
	b = appendPadded(b, int(s.user)+1, 0)
	b = append(b, "@example.com"...)
	e.Email = string(b)
	d := int((s.t - g.base) / day)
	if r.chance(0.02) {
		g.subscribe(s.user, s.t+r.ibetween(1*minute, 8*minute))
	}
	if r.chance(0.8) {
		g.tryStory(s.user, s.t+r.ibetween(1*minute, 20*minute), g.progress(d))
	}
	return false
}

// latency is how long the step the session is about to run takes (its
// event is stamped when it ends).
func (s *session) latency() int64 {
	r := &s.rng
	switch s.phase {
	case phOutline:
		return r.ibetween(3*second, 12*second)
	case phChapter:
		tps := r.between(45, 85)
		switch s.model {
		case modelOpus:
			tps *= 0.6
		case modelHaiku:
			tps *= 1.8
		}
		return int64((1.5 + float64(s.outTok[s.ch])/tps) * float64(second))
	case phTTS:
		f := r.between(0.02, 0.05)
		if s.voice == voiceFlash {
			f /= 2
		}
		return second + int64(float64(audioMillis(s.chars[s.ch])*1000)*f)
	case phPut:
		return r.ibetween(150_000, 600_000) + audioBytes(s.chars[s.ch])/r.ibetween(20, 80)
	case phComplete, phFail:
		return r.ibetween(50_000, 400_000)
	}
	return second
}

// stepCall runs one API call of the story pipeline, with transient errors
// (retried after a backoff) and, on the story's failing step, three errors
// in a row and story_failed.
func (g *gen) stepCall(s *session) {
	r := &s.rng
	fatal := false
	transient := 0.01
	switch s.phase {
	case phOutline:
		fatal = s.failAt == 0
	case phChapter:
		fatal = s.failAt == s.ch+1 && s.failSvc == failLLM
	case phTTS:
		fatal = s.failAt == s.ch+1 && s.failSvc == failTTS
		transient = 0.008
	case phPut:
		transient = 0.002
	}
	if fatal || (s.attempt == 0 && r.chance(transient)) {
		g.failedCall(s)
		s.attempt++
		if fatal && s.attempt >= 3 {
			s.phase = phFail
			s.t += s.latency()
			return
		}
		s.t += r.ibetween(500_000, 2*second)<<s.attempt + s.latency()
		return
	}
	s.attempt = 0
	switch s.phase {
	case phOutline:
		e := g.call(s, analytics.ServiceAnthropic, opOutline, s.model)
		e.OutputTokens = int64(s.outlineOut)
		if s.cache == cacheNone {
			e.InputTokens = int64(s.sysTokens + s.prompt)
		} else {
			e.InputTokens = int64(s.prompt)
			g.cacheWrite(s, e)
		}
		s.phase, s.ch = phChapter, 0
	case phChapter:
		e := g.call(s, analytics.ServiceAnthropic, opChapter, s.model)
		e.OutputTokens = int64(s.outTok[s.ch])
		ctx := int64(s.outlineOut) + int64(min(s.ch, 3))*r.ibetween(250, 400) + r.ibetween(200, 600)
		switch {
		case s.cache == cacheNone:
			e.InputTokens = int64(s.sysTokens) + ctx
		case s.cache == cache5m && s.t-s.lastCache > 5*minute:
			e.InputTokens = ctx
			g.cacheWrite(s, e)
		default:
			e.InputTokens = ctx
			e.CacheReadInputTokens = int64(s.sysTokens)
			s.lastCache = s.t
		}
		if s.model == modelSonnet && r.chance(longContextPerCall) {
			e.InputTokens += r.ibetween(200_000, 360_000) // a long reference text
		}
		s.phase = phTTS
	case phTTS:
		e := g.call(s, analytics.ServiceElevenLabs, opTTS, s.voice)
		e.Characters = int64(s.chars[s.ch])
		s.phase = phPut
	case phPut:
		e := g.call(s, analytics.ServiceS3, opPut, s3Class)
		e.BytesTransferred = audioBytes(s.chars[s.ch])
		e.Requests = 1
		if s.ch+1 < s.nch {
			s.phase = phChapter
			s.ch++
		} else {
			s.phase = phComplete
		}
	}
	s.t += s.latency()
}

func (g *gen) cacheWrite(s *session, e *analytics.Event) {
	e.CacheCreationInputTokens = int64(s.sysTokens)
	if s.cache == cache1h {
		e.CacheCreation1hTokens = int64(s.sysTokens)
	}
	s.lastCache = s.t
}

// failedCall emits the error event of the session's current step: the
// request was refused, so it carries no usage.
func (g *gen) failedCall(s *session) {
	var e *analytics.Event
	switch s.phase {
	case phOutline:
		e = g.call(s, analytics.ServiceAnthropic, opOutline, s.model)
	case phChapter:
		e = g.call(s, analytics.ServiceAnthropic, opChapter, s.model)
	case phTTS:
		e = g.call(s, analytics.ServiceElevenLabs, opTTS, s.voice)
	default:
		e = g.call(s, analytics.ServiceS3, opPut, s3Class)
		e.Requests = 1
	}
	e.Status = analytics.StatusError
}

func (g *gen) call(s *session, svc analytics.Service, op, model string) *analytics.Event {
	e := g.event(s.t, analytics.EventAPICall, s.user)
	e.Service, e.Operation, e.Model = svc, op, model
	e.StoryID = s.storyID
	e.Status = analytics.StatusOK
	return e
}
