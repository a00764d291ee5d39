package pricing

import (
	"encoding/json"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codestory/analytics"
)

// now is after every default effective_from.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func anth(model string, in, out int64) analytics.Event {
	return analytics.Event{Type: analytics.EventAPICall, Timestamp: now, Service: analytics.ServiceAnthropic,
		Operation: "messages", Model: model, InputTokens: in, OutputTokens: out, Status: analytics.StatusOK}
}

type costCase struct {
	name   string
	ev     analytics.Event
	want   analytics.Micros
	priced bool
}

func runCost(t *testing.T, c *Catalog, cases []costCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev
			got, ok := c.Cost(&ev)
			if got != tc.want || ok != tc.priced {
				t.Errorf("Cost = (%d, %v), want (%d, %v)", got, ok, tc.want, tc.priced)
			}
		})
	}
}

func with(e analytics.Event, f func(*analytics.Event)) analytics.Event {
	f(&e)
	return e
}

// Every default Anthropic model, priced for 1,000 input and 100 output
// tokens. A rate of $R per million tokens is R micro-dollars per token.
func TestAnthropicDefaultModels(t *testing.T) {
	runCost(t, Default(), []costCase{
		{"opus-4-6", anth("claude-opus-4-6", 1000, 100), 7500, true},            // 1000×5 + 100×25
		{"opus-4-5", anth("claude-opus-4-5", 1000, 100), 7500, true},            // 1000×5 + 100×25
		{"opus-4-1", anth("claude-opus-4-1", 1000, 100), 22500, true},           // 1000×15 + 100×75
		{"opus-4-0", anth("claude-opus-4-0", 1000, 100), 22500, true},           // 1000×15 + 100×75
		{"opus-4 alias", anth("claude-opus-4", 1000, 100), 22500, true},         // alias of claude-opus-4-0
		{"sonnet-4-6", anth("claude-sonnet-4-6", 1000, 100), 4500, true},        // 1000×3 + 100×15
		{"sonnet-4-5", anth("claude-sonnet-4-5", 1000, 100), 4500, true},        // 1000×3 + 100×15
		{"sonnet-4-0", anth("claude-sonnet-4-0", 1000, 100), 4500, true},        // 1000×3 + 100×15
		{"sonnet-4 alias", anth("claude-sonnet-4", 1000, 100), 4500, true},      // alias of claude-sonnet-4-0
		{"haiku-4-5", anth("claude-haiku-4-5", 1000, 100), 1500, true},          // 1000×1 + 100×5
		{"3-7-sonnet", anth("claude-3-7-sonnet", 1000, 100), 4500, true},        // 1000×3 + 100×15
		{"3-5-sonnet", anth("claude-3-5-sonnet", 1000, 100), 4500, true},        // 1000×3 + 100×15
		{"3-5-haiku", anth("claude-3-5-haiku", 1000, 100), 1200, true},          // 1000×0.80 + 100×4
		{"3-opus", anth("claude-3-opus", 1000, 100), 22500, true},               // 1000×15 + 100×75
		{"3-sonnet", anth("claude-3-sonnet", 1000, 100), 4500, true},            // 1000×3 + 100×15
		{"3-haiku", anth("claude-3-haiku", 1000, 100), 375, true},               // 1000×0.25 + 100×1.25
		{"one million each way", anth("claude-haiku-4-5", 1e6, 1e6), 6e6, true}, // $1 + $5
	})
}

func TestAnthropicCache(t *testing.T) {
	runCost(t, Default(), []costCase{
		// 100×3 + 50×15 + 1,500×3.75 (5m) + 500×6 (1h) + 10,000×0.30
		// = 300 + 750 + 5,625 + 3,000 + 3,000 = 12,675
		{"sonnet-4-5 reads and 5m+1h writes", with(anth("claude-sonnet-4-5", 100, 50), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens = 2000, 500, 10000
		}), 12675, true},
		// 1,000×0.30 (5m) + 1,000×0.50 (1h) + 1,000×0.03 (read) = 830
		{"3-haiku explicit cache rates", with(anth("claude-3-haiku", 0, 0), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens = 2000, 1000, 1000
		}), 830, true},
		// 4,000×18.75 (5m, all writes) + 2,000×1.50 = 75,000 + 3,000
		{"opus-4-1 5m writes only", with(anth("claude-opus-4-1", 0, 0), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheReadInputTokens = 4000, 2000
		}), 78000, true},
		// 1,000×10 (1h) = 10,000
		{"opus-4-5 1h writes only", with(anth("claude-opus-4-5", 0, 0), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheCreation1hTokens = 1000, 1000
		}), 10000, true},
		// The 1h part exceeds the total: the total is taken as 1,000, all 1h: 1,000×6.
		{"1h part larger than total", with(anth("claude-sonnet-4-5", 0, 0), func(e *analytics.Event) {
			e.CacheCreation1hTokens = 1000
		}), 6000, true},
		// 1,000×1.00 (5m) + 1,000×0.08 = 1,080
		{"3-5-haiku", with(anth("claude-3-5-haiku", 0, 0), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheReadInputTokens = 1000, 1000
		}), 1080, true},
	})
}

func TestAnthropicLongContext(t *testing.T) {
	runCost(t, Default(), []costCase{
		// 150,000 + 40,000 + 9,999 = 199,999 ≤ 200,000: base rates.
		// 150,000×3 + 40,000×3.75 + 9,999×0.30 + 1,000×15
		// = 450,000 + 150,000 + 2,999.7 + 15,000 = 617,999.7 → 618,000
		{"just below", with(anth("claude-sonnet-4-5", 150000, 1000), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheReadInputTokens = 40000, 9999
		}), 618000, true},
		// exactly 200,000: base. 200,000×3 + 1,000×15 = 615,000
		{"exactly at threshold", anth("claude-sonnet-4-5", 200000, 1000), 615000, true},
		// 200,001 > 200,000: long. 200,001×6 + 1,000×22.50 = 1,200,006 + 22,500
		{"just above", anth("claude-sonnet-4-5", 200001, 1000), 1222506, true},
		// 1,000 + 199,001 = 200,001 counts cache reads: long.
		// 1,000×6 + 199,001×0.60 + 10×22.50 = 6,000 + 119,400.6 + 225 = 125,625.6 → 125,626
		{"above through cache reads", with(anth("claude-sonnet-4-5", 1000, 10), func(e *analytics.Event) {
			e.CacheReadInputTokens = 199001
		}), 125626, true},
		// 1 + 200,000 (writes) = 200,001: long. 1×6 + 200,000×7.50 = 1,500,006
		{"above through cache writes", with(anth("claude-sonnet-4-0", 1, 0), func(e *analytics.Event) {
			e.CacheCreationInputTokens = 200000
		}), 1500006, true},
		// 250,000 + 10,000 > 200,000: long. 250,000×10 + 2,000×37.50 + 10,000×20 (1h)
		// = 2,500,000 + 75,000 + 200,000
		{"opus-4-6 long", with(anth("claude-opus-4-6", 250000, 2000), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheCreation1hTokens = 10000, 10000
		}), 2775000, true},
		// 300,000×6 + 100×22.50 = 1,800,000 + 2,250
		{"sonnet-4-6 long", anth("claude-sonnet-4-6", 300000, 100), 1802250, true},
		// claude-opus-4-5 has no long-context tier: 300,000×5
		{"no tier on opus-4-5", anth("claude-opus-4-5", 300000, 0), 1500000, true},
	})
}

func TestModelIDs(t *testing.T) {
	runCost(t, Default(), []costCase{
		{"date suffix", anth("claude-sonnet-4-5-20250929", 1000, 0), 3000, true},
		{"date suffix on alias", anth("claude-opus-4-20250514", 1000, 0), 15000, true},
		{"sonnet-4 date suffix", anth("claude-sonnet-4-20250514", 1000, 0), 3000, true},
		{"latest suffix", anth("claude-3-5-sonnet-latest", 1000, 0), 3000, true},
		{"latest haiku", anth("claude-3-5-haiku-latest", 1000, 0), 800, true},
		{"uppercase is lowercased", anth("Claude-Opus-4-1-20250805", 1000, 0), 15000, true},
		{"date then latest", anth("claude-3-7-sonnet-20250219-latest", 1000, 0), 3000, true},
		{"seven-digit suffix is not a date", anth("claude-sonnet-4-5-2025092", 1000, 0), 0, false},
		{"other suffix", anth("claude-sonnet-4-5-v2", 1000, 0), 0, false},
		{"unknown model", anth("gpt-4o", 1000, 100), 0, false},
		{"empty anthropic model", anth("", 1000, 100), 0, false},
		{"unknown service", with(anth("claude-sonnet-4-5", 1000, 0), func(e *analytics.Event) { e.Service = "openai" }), 0, false},
		{"elevenlabs model under anthropic", anth("eleven_v3", 1000, 0), 0, false},
	})
}

func TestExplicitCostAndStatus(t *testing.T) {
	m := func(v analytics.Micros) *analytics.Micros { return &v }
	runCost(t, Default(), []costCase{
		{"explicit wins over catalog", with(anth("claude-opus-4-1", 1000, 1000), func(e *analytics.Event) { e.ExplicitCost = m(12345) }), 12345, true},
		{"explicit zero", with(anth("claude-opus-4-1", 1000, 1000), func(e *analytics.Event) { e.ExplicitCost = m(0) }), 0, true},
		{"explicit on unknown model", with(anth("gpt-4o", 1000, 0), func(e *analytics.Event) { e.ExplicitCost = m(250) }), 250, true},
		{"error call without tokens", with(anth("claude-sonnet-4-5", 0, 0), func(e *analytics.Event) { e.Status = analytics.StatusError }), 0, true},
		// 10×3 + 0 = 30
		{"error call with tokens", with(anth("claude-sonnet-4-5", 10, 0), func(e *analytics.Event) { e.Status = analytics.StatusError }), 30, true},
		{"negative count", anth("claude-sonnet-4-5", -1, 0), 0, false},
	})
}

// Rounding happens once, on the whole event, half away from zero.
func TestRounding(t *testing.T) {
	runCost(t, Default(), []costCase{
		// 5×0.10 = 0.5 → 1 (half-even would give 0)
		{"0.5 rounds up", with(anth("claude-haiku-4-5", 0, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 5 }), 1, true},
		// 4×0.10 = 0.4 → 0
		{"0.4 rounds down", with(anth("claude-haiku-4-5", 0, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 4 }), 0, true},
		// 15×0.30 = 4.5 → 5 (half-even would give 4)
		{"4.5 rounds to 5", with(anth("claude-sonnet-4-5", 0, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 15 }), 5, true},
		// 49×0.03 = 1.47 → 1
		{"1.47", with(anth("claude-3-haiku", 0, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 49 }), 1, true},
		// 50×0.03 = 1.5 → 2
		{"1.5", with(anth("claude-3-haiku", 0, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 50 }), 2, true},
		// 1×0.25 + 10×0.03 = 0.25 + 0.30 = 0.55 → 1; rounding each part first would give 0.
		{"rounded once, not per part", with(anth("claude-3-haiku", 1, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 10 }), 1, true},
		// 1×0.80 = 0.8 → 1
		{"0.8", anth("claude-3-5-haiku", 1, 0), 1, true},
	})
}

func TestHugeCounts(t *testing.T) {
	runCost(t, Default(), []costCase{
		// 3×10^18 × 0.25 = 7.5×10^17 (the intermediate exceeds 2^64).
		{"3e18 tokens", anth("claude-3-haiku", 3_000_000_000_000_000_000, 0), 750_000_000_000_000_000, true},
		// 10^15 × 75 = 7.5×10^16
		{"1e15 output tokens", anth("claude-opus-4-1", 0, 1_000_000_000_000_000), 75_000_000_000_000_000, true},
		// MaxInt64 × 1 micro-dollar: exactly the largest Micros.
		{"exactly MaxInt64", anth("claude-haiku-4-5", math.MaxInt64, 0), math.MaxInt64, true},
		// One more micro-dollar does not fit: unpriced, not wrapped.
		{"MaxInt64 + 1", with(anth("claude-haiku-4-5", math.MaxInt64, 0), func(e *analytics.Event) { e.CacheReadInputTokens = 10 }), 0, false},
		{"everything MaxInt64", with(anth("claude-opus-4-6", math.MaxInt64, math.MaxInt64), func(e *analytics.Event) {
			e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens = math.MaxInt64, math.MaxInt64/2, math.MaxInt64
		}), 0, false},
		{"huge characters", analytics.Event{Service: analytics.ServiceElevenLabs, Model: "eleven_v3", Characters: math.MaxInt64, Timestamp: now}, 0, false},
		// (2^63−1) bytes × 90,000 / 2^30 = 773,094,113,280,000 − 0.0000838… → 773,094,113,280,000;
		// plus 1 request × 0.4 → 773,094,113,280,000.4 − 0.0000838 → 773,094,113,280,000
		{"huge download", analytics.Event{Service: analytics.ServiceS3, Operation: "GetObject", BytesTransferred: math.MaxInt64, Requests: 1, Timestamp: now}, 773_094_113_280_000, true},
	})
}

func eleven(model string, chars int64) analytics.Event {
	return analytics.Event{Type: analytics.EventAPICall, Timestamp: now, Service: analytics.ServiceElevenLabs,
		Operation: "tts", Model: model, Characters: chars, Status: analytics.StatusOK}
}

// $R per 1,000 characters is R×1,000 micro-dollars per character.
func TestElevenLabs(t *testing.T) {
	runCost(t, Default(), []costCase{
		{"multilingual_v2", eleven("eleven_multilingual_v2", 1234), 123400, true}, // 1,234×100
		{"v3", eleven("eleven_v3", 1234), 123400, true},
		{"monolingual_v1", eleven("eleven_monolingual_v1", 1234), 123400, true},
		{"multilingual_v1", eleven("eleven_multilingual_v1", 1234), 123400, true},
		{"flash_v2_5", eleven("eleven_flash_v2_5", 1234), 61700, true}, // 1,234×50
		{"turbo_v2_5", eleven("eleven_turbo_v2_5", 1234), 61700, true},
		{"flash_v2", eleven("eleven_flash_v2", 1234), 61700, true},
		{"turbo_v2", eleven("eleven_turbo_v2", 1234), 61700, true},
		{"uppercase", eleven("ELEVEN_V3", 10), 1000, true},
		{"zero characters", eleven("eleven_v3", 0), 0, true},
		{"unknown voice model", eleven("eleven_v9", 10), 0, false},
		{"claude model under elevenlabs", eleven("claude-sonnet-4-5", 10), 0, false},
	})
}

func s3(op, class string, bytes, requests int64) analytics.Event {
	return analytics.Event{Type: analytics.EventAPICall, Timestamp: now, Service: analytics.ServiceS3,
		Operation: op, Model: class, BytesTransferred: bytes, Requests: requests, Status: analytics.StatusOK}
}

// tier 1: $0.005 per 1,000 = 5 micro-dollars a request; tier 2: $0.0004 per
// 1,000 = 0.4; transfer out $0.09 per 2^30 bytes = 90,000 per GiB.
func TestS3(t *testing.T) {
	const gib = 1 << 30
	runCost(t, Default(), []costCase{
		{"put: bytes free", s3("PutObject", "", 5<<20, 1), 5, true},
		{"put 1000 requests", s3("PutObject", "standard", 0, 1000), 5000, true},
		{"copy", s3("CopyObject", "", gib, 2), 10, true},
		{"post", s3("POST", "", 0, 1), 5, true},
		{"list uppercase", s3("LIST", "", 0, 3), 15, true},
		{"multipart upload", s3("CompleteMultipartUpload", "", 10*gib, 1), 5, true},
		{"create", s3("CreateMultipartUpload", "", 0, 1), 5, true},
		{"upload", s3("upload_audio", "", gib, 1), 5, true},
		// 90,000 + 0.4 = 90,000.4 → 90,000
		{"get 1 GiB", s3("GetObject", "", gib, 1), 90000, true},
		// 1.5 GiB: 135,000 + 2×0.4 = 135,000.8 → 135,001
		{"get 1.5 GiB 2 requests", s3("GetObject", "", gib+gib/2, 2), 135001, true},
		// 3×0.4 = 1.2 → 1
		{"get 3 requests no bytes", s3("GetObject", "", 0, 3), 1, true},
		// 1 byte: 90,000/2^30 ≈ 0.0000838 + 0.4 → 0
		{"get 1 byte", s3("GetObject", "", 1, 1), 0, true},
		// 10,000 × 0.4 = 4,000
		{"head is tier 2", s3("HeadObject", "", 0, 10000), 4000, true},
		{"select is tier 2", s3("SelectObjectContent", "", 0, 10000), 4000, true},
		{"delete free with bytes", s3("DeleteObject", "", gib, 5), 0, true},
		{"delete beats multipart", s3("AbortMultipartUploadDelete", "", 0, 5), 0, true},
		{"class uppercase", s3("GetObject", "STANDARD", gib, 0), 90000, true},
		{"unknown class", s3("GetObject", "glacier", gib, 1), 0, false},
		{"zero requests", s3("GetObject", "", 0, 0), 0, true},
	})
}

const haikuOverride = `{"entries": [
  {"service": "anthropic", "model": "claude-haiku-4-5", "effective_from": "2025-10-15",
   "rates": {"input": "2.00", "output": "10.00", "cache_write_5m": "2.50", "cache_write_1h": "4.00", "cache_read": "0.20"}}
]}`

// An override entry with the same service, model and effective_from replaces
// the default one.
func TestOverrideReplacesDefault(t *testing.T) {
	c, err := Load(strings.NewReader(haikuOverride))
	if err != nil {
		t.Fatal(err)
	}
	runCost(t, c, []costCase{
		{"replaced: 1,000×2 + 100×10", anth("claude-haiku-4-5", 1000, 100), 3000, true},
		{"others untouched: 1,000×3 + 100×15", anth("claude-sonnet-4-5", 1000, 100), 4500, true},
	})
	if got, want := len(c.Entries()), len(Default().Entries()); got != want {
		t.Errorf("merged catalog has %d entries, want %d (a replacement, not an addition)", got, want)
	}
	// The default is unchanged.
	runCost(t, Default(), []costCase{{"default still 1,500", anth("claude-haiku-4-5", 1000, 100), 1500, true}})
}

const versionsOverride = `{"entries": [
  {"service": "elevenlabs", "model": "eleven_test", "aliases": ["eleven_test_alias"], "effective_from": "2025-01-01", "rates": {"characters": "0.10"}},
  {"service": "elevenlabs", "model": "eleven_test", "effective_from": "2025-06-01", "rates": {"characters": "0.20"}, "note": "price rise"},
  {"service": "anthropic", "model": "claude-sonnet-4-5", "effective_from": "2026-01-01",
   "rates": {"input": "4.00", "output": "16.00", "cache_write_5m": "5.00", "cache_write_1h": "8.00", "cache_read": "0.40"}},
  {"service": "anthropic", "model": "claude-opus-4-0", "effective_from": "2026-02-01",
   "rates": {"input": "1.00", "output": "2.00", "cache_write_5m": "1.25", "cache_write_1h": "2.00", "cache_read": "0.10"}}
]}`

func TestEffectiveDates(t *testing.T) {
	c, err := Load(strings.NewReader(versionsOverride))
	if err != nil {
		t.Fatal(err)
	}
	at := func(e analytics.Event, ts string) analytics.Event {
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatal(err)
		}
		e.Timestamp = tm
		return e
	}
	runCost(t, c, []costCase{
		// 1,000 characters: 0.10 → 100,000; 0.20 → 200,000
		{"before every version: earliest", at(eleven("eleven_test", 1000), "2020-01-01T00:00:00Z"), 100000, true},
		{"zero time: earliest", at(eleven("eleven_test", 1000), "0001-01-01T00:00:00Z"), 100000, true},
		{"first day of v1", at(eleven("eleven_test", 1000), "2025-01-01T00:00:00Z"), 100000, true},
		{"last instant of v1", at(eleven("eleven_test", 1000), "2025-05-31T23:59:59.999999Z"), 100000, true},
		{"first instant of v2", at(eleven("eleven_test", 1000), "2025-06-01T00:00:00Z"), 200000, true},
		// 01:00 at +02:00 is 23:00 UTC the day before: still v1.
		{"UTC date decides", at(eleven("eleven_test", 1000), "2025-06-01T01:00:00+02:00"), 100000, true},
		{"well after v2", at(eleven("eleven_test", 1000), "2026-01-01T00:00:00Z"), 200000, true},
		{"alias of v1 names the model in v2", at(eleven("eleven_test_alias", 1000), "2026-01-01T00:00:00Z"), 200000, true},
		// A new version of a default model: 1,000×3 before, 1,000×4 after.
		{"default version before", at(anth("claude-sonnet-4-5-20250929", 1000, 0), "2025-12-31T23:59:59Z"), 3000, true},
		{"override version after", at(anth("claude-sonnet-4-5-20250929", 1000, 0), "2026-01-01T00:00:00Z"), 4000, true},
		// The default alias claude-opus-4 reaches the new version too: 1,000×1.
		{"alias reaches new version", at(anth("claude-opus-4", 1000, 0), "2026-02-01T00:00:00Z"), 1000, true},
		{"alias before new version", at(anth("claude-opus-4", 1000, 0), "2026-01-31T00:00:00Z"), 15000, true},
	})

	e, ok := c.Lookup(analytics.ServiceElevenLabs, "ELEVEN_TEST", time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
	if !ok || e.Note != "price rise" || e.Rates["characters"] != "0.20" || e.EffectiveFrom.String() != "2025-06-01" {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
}

func TestExactIDBeforeStripping(t *testing.T) {
	c, err := Load(strings.NewReader(`{"entries": [
	  {"service": "elevenlabs", "model": "voice", "effective_from": "2025-01-01", "rates": {"characters": "0.10"}},
	  {"service": "elevenlabs", "model": "voice-20250101", "effective_from": "2025-01-01", "rates": {"characters": "0.30"}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	runCost(t, c, []costCase{
		{"exact dated id", eleven("voice-20250101", 10), 3000, true},    // 10×300
		{"other date strips", eleven("voice-20250202", 10), 1000, true}, // 10×100
		{"latest strips", eleven("voice-latest", 10), 1000, true},
	})
}

func TestBadOverrides(t *testing.T) {
	const rates = `"rates": {"input": "1", "output": "2", "cache_write_5m": "1.25", "cache_write_1h": "2", "cache_read": "0.1"}`
	entry := func(body string) string { return `{"entries": [` + body + `]}` }
	cases := []struct {
		name, file, want string
	}{
		{"empty file", ``, `empty catalog file`},
		{"not JSON", `{"entries": [`, `catalog file: malformed JSON: unexpected end of input`},
		{"syntax error", `{"entries": [}`, `catalog file: malformed JSON at byte 14`},
		{"top-level array", `[]`, `must be an object {"entries": [...]}, got array`},
		{"entries not a list", `{"entries": {}}`, `field "entries" must be a list, got object`},
		{"entry not an object", `{"entries": [3]}`, `entries[0]: an entry must be a JSON object, got number`},
		{"aliases not a list", entry(`{"service": "anthropic", "model": "m", "aliases": "a"}`), `field "aliases" must be a list, got string`},
		{"unknown top-level field", `{"entries": [], "version": 2}`, `unknown field "version"`},
		{"missing entries", `{}`, `missing "entries" list`},
		{"empty entries", `{"entries": []}`, `"entries" is empty`},
		{"trailing data", `{"entries": []} {}`, `trailing data`},
		{"unknown entry field",
			entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", "price": "1", ` + rates + `}`),
			`entries[0] (anthropic m): unknown field "price"`},
		{"unknown service",
			entry(`{"service": "openai", "model": "gpt-4o", "effective_from": "2025-01-01", ` + rates + `}`),
			`entries[0] (openai gpt-4o from 2025-01-01): unknown service "openai"`},
		{"missing service", entry(`{"model": "m", "effective_from": "2025-01-01", ` + rates + `}`), `entries[0] (m from 2025-01-01): missing "service"`},
		{"missing model", entry(`{"service": "anthropic", "effective_from": "2025-01-01", ` + rates + `}`), `missing "model"`},
		{"missing date", entry(`{"service": "anthropic", "model": "m", ` + rates + `}`), `entries[0] (anthropic m): missing "effective_from"`},
		{"missing rates", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01"}`), `missing "rates"`},
		{"missing rate",
			entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", "rates": {"input": "1", "output": "2", "cache_write_5m": "1.25", "cache_write_1h": "2"}}`),
			`entries[0] (anthropic m from 2025-01-01): rates: missing rate "cache_read"`},
		{"unknown rate",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"chars": "0.1"}}`),
			`rates: unknown rate "chars" for elevenlabs (expected characters)`},
		{"rate as a number",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"characters": 0.1}}`),
			`rate "characters" must be a decimal string`},
		{"negative rate",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"characters": "-0.1"}}`),
			`"-0.1" is not a plain non-negative decimal`},
		{"exponent rate",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"characters": "1e-1"}}`),
			`"1e-1" is not a plain non-negative decimal`},
		{"comma rate",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"characters": "0,10"}}`),
			`"0,10" is not a plain`},
		{"too many digits",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"characters": "0.1234567890123456789"}}`),
			`more than 18 significant digits`},
		{"bad month", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-13-01", ` + rates + `}`),
			`entries[0] (anthropic m): effective_from "2025-13-01" is not a date in YYYY-MM-DD form`},
		{"short date", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-1-5", ` + rates + `}`), `effective_from "2025-1-5" is not a date`},
		{"timestamp not date", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-05T00:00:00Z", ` + rates + `}`), `is not a date in YYYY-MM-DD form`},
		{"duplicate entry",
			entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", ` + rates + `},
			       {"service": "anthropic", "model": "m", "effective_from": "2025-01-01", ` + rates + `}`),
			`entries[1] (anthropic m from 2025-01-01): duplicate of entries[0]`},
		{"uppercase model", entry(`{"service": "anthropic", "model": "Claude-X", "effective_from": "2025-01-01", ` + rates + `}`), `model "Claude-X" must be lowercase`},
		{"space in model", entry(`{"service": "anthropic", "model": "claude x", "effective_from": "2025-01-01", ` + rates + `}`), `contains a space`},
		{"alias equals model", entry(`{"service": "anthropic", "model": "m", "aliases": ["m"], "effective_from": "2025-01-01", ` + rates + `}`), `alias "m" is the model id itself`},
		{"alias twice", entry(`{"service": "anthropic", "model": "m", "aliases": ["a", "a"], "effective_from": "2025-01-01", ` + rates + `}`), `alias "a" is listed twice`},
		{"alias taken by a default model",
			entry(`{"service": "anthropic", "model": "m", "aliases": ["claude-opus-4"], "effective_from": "2025-01-01", ` + rates + `}`),
			`entries[0] (anthropic m from 2025-01-01): alias "claude-opus-4" already names anthropic model "claude-opus-4-0"`},
		{"alias taken, override model sorts first",
			entry(`{"service": "anthropic", "model": "a-model", "aliases": ["claude-sonnet-4"], "effective_from": "2025-01-01", ` + rates + `}`),
			`entries[0] (anthropic a-model from 2025-01-01): alias "claude-sonnet-4" already names anthropic model "claude-sonnet-4-0" (default entry)`},
		{"override model id is a default alias",
			entry(`{"service": "anthropic", "model": "claude-opus-4", "effective_from": "2025-01-01", ` + rates + `}`),
			`default entry (anthropic claude-opus-4-0 from 2025-05-22): alias "claude-opus-4" is the id of another anthropic model (entries[0])`},
		{"two override models share an alias",
			entry(`{"service": "elevenlabs", "model": "v1", "aliases": ["v"], "effective_from": "2025-01-01", "rates": {"characters": "0.1"}},
			       {"service": "elevenlabs", "model": "v2", "aliases": ["v"], "effective_from": "2025-01-01", "rates": {"characters": "0.1"}}`),
			`entries[1] (elevenlabs v2 from 2025-01-01): alias "v" already names elevenlabs model "v1" (entries[0])`},
		{"alias is another model's id",
			entry(`{"service": "anthropic", "model": "m", "aliases": ["claude-opus-4-5"], "effective_from": "2025-01-01", ` + rates + `}`),
			`alias "claude-opus-4-5" is the id of another anthropic model`},
		{"long context on elevenlabs",
			entry(`{"service": "elevenlabs", "model": "v", "effective_from": "2025-01-01", "rates": {"characters": "0.1"}, "long_context_threshold": 5}`),
			`apply only to anthropic entries`},
		{"threshold without rates", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", ` + rates + `, "long_context_threshold": 200000}`),
			`long_context_threshold without long_context_rates`},
		{"long rates without threshold", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", ` + rates + `, "long_context_rates": {}}`),
			`long_context_rates without long_context_threshold`},
		{"zero threshold", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", ` + rates + `, "long_context_threshold": 0, "long_context_rates": {}}`),
			`long_context_threshold must be a positive number`},
		{"incomplete long rates", entry(`{"service": "anthropic", "model": "m", "effective_from": "2025-01-01", ` + rates + `, "long_context_threshold": 10, "long_context_rates": {"input": "1"}}`),
			`long_context_rates: missing rate "output"`},
		{"wrong type", entry(`{"service": "anthropic", "model": 5}`), `entries[0] (anthropic): field "model" must be a string, got number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(strings.NewReader(tc.file))
			if err == nil {
				t.Fatalf("Load succeeded (%d entries), want error containing %q", len(c.Entries()), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "pricing: ") {
				t.Errorf("error %q lacks the pricing: prefix", err)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(good, []byte(haikuOverride), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	runCost(t, c, []costCase{{"override applied", anth("claude-haiku-4-5", 1000, 0), 2000, true}})

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"entries": [{"service": "nope"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "entries[0]") {
		t.Errorf("LoadFile(bad) error = %v, want the path and the entry", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadFile(missing) succeeded")
	}
}

// The defaults follow the documented multipliers: 5m write 1.25×input, 1h
// write 2×input, read 0.1×input, except where Anthropic publishes another
// cache-read multiplier (listed in readMult: claude-3-haiku's 5m write and
// read are its published 0.30 and 0.03). Long-context tiers start above
// 200,000 input tokens, except Claude Haiku 5.5's above 100,000.
func TestDefaultCatalogConsistent(t *testing.T) {
	rat := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("bad rate %q", s)
		}
		return r
	}
	// Published cache-read multipliers other than 0.1× (pricing page,
	// "Prompt caching"; release notes of 2026-09-01 and 2026-10-07).
	readMult := map[string]*big.Rat{
		"claude-fable-5-1":             big.NewRat(1, 40), // $0.25 on $10
		"claude-mythos-5-1":            big.NewRat(1, 40),
		"claude-fable-5-2":             big.NewRat(1, 40), // $0.20 on $8
		"claude-mythos-5-2":            big.NewRat(1, 40),
		"claude-opus-5-5":              big.NewRat(1, 20), // $0.20 on $4
		"claude-sonnet-5-5 2026-10-07": big.NewRat(1, 20), // $0.10 on $2, from 2026-10-07
	}
	check := func(model, key string, r map[string]string) {
		in := rat(r["input"])
		read := big.NewRat(1, 10)
		if m, ok := readMult[key]; ok {
			read = m
		}
		want := map[string]*big.Rat{
			"cache_write_5m": new(big.Rat).Mul(in, big.NewRat(5, 4)),
			"cache_write_1h": new(big.Rat).Mul(in, big.NewRat(2, 1)),
			"cache_read":     new(big.Rat).Mul(in, read),
		}
		if model == "claude-3-haiku" {
			want["cache_write_5m"], want["cache_read"] = rat("0.30"), rat("0.03")
		}
		for name, w := range want {
			if rat(r[name]).Cmp(w) != 0 {
				t.Errorf("%s %s = %s, want %s", model, name, r[name], w.FloatString(3))
			}
		}
	}
	counts := map[analytics.Service]int{}
	used := map[string]bool{}
	for _, e := range Default().Entries() {
		counts[e.Service]++
		if e.Service != analytics.ServiceAnthropic {
			continue
		}
		key := e.Model
		if _, ok := readMult[e.Model+" "+e.EffectiveFrom.String()]; ok {
			key = e.Model + " " + e.EffectiveFrom.String()
		}
		used[key] = true
		check(e.Model, key, e.Rates)
		if e.LongContextRates != nil {
			threshold := int64(200000)
			if e.Model == "claude-haiku-5-5" {
				threshold = 100000
			}
			if e.LongContextThreshold != threshold {
				t.Errorf("%s threshold %d, want %d", e.Model, e.LongContextThreshold, threshold)
			}
			check(e.Model+" long", key, e.LongContextRates)
		}
	}
	for key := range readMult {
		if !used[key] {
			t.Errorf("read multiplier for %q names no default entry", key)
		}
	}
	if counts[analytics.ServiceAnthropic] != 28 || counts[analytics.ServiceElevenLabs] != 8 || counts[analytics.ServiceS3] != 1 {
		t.Errorf("default entries per service = %v", counts)
	}
}

func TestEntriesRoundTrip(t *testing.T) {
	entries := Default().Entries()
	for i := 1; i < len(entries); i++ {
		a, b := entries[i-1], entries[i]
		if serviceIndex(a.Service) > serviceIndex(b.Service) ||
			(a.Service == b.Service && a.Model > b.Model) {
			t.Errorf("entries out of order: %s/%s before %s/%s", a.Service, a.Model, b.Service, b.Model)
		}
	}
	// Entries is a copy.
	entries[0].Rates["input"] = "999"
	entries[0].Aliases = append(entries[0].Aliases, "x")
	if Default().Entries()[0].Rates["input"] == "999" {
		t.Error("Entries shares its maps with the catalog")
	}
	// {"entries": Entries()} is a valid catalog file describing the same catalog.
	b, err := json.Marshal(map[string]any{"entries": Default().Entries()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("reloading Entries: %v", err)
	}
	got, _ := json.Marshal(c.Entries())
	want, _ := json.Marshal(Default().Entries())
	if string(got) != string(want) {
		t.Errorf("round trip changed the catalog:\n%s\n%s", got, want)
	}
	if !strings.Contains(string(b), `"effective_from":"2025-09-29"`) {
		t.Errorf("effective_from not written as a date: %.300s", b)
	}
}

func TestKnownAndLookup(t *testing.T) {
	c := Default()
	cases := []struct {
		service analytics.Service
		model   string
		want    bool
	}{
		{analytics.ServiceAnthropic, "claude-sonnet-4-5-20250929", true},
		{analytics.ServiceAnthropic, "CLAUDE-OPUS-4", true},
		{analytics.ServiceAnthropic, "gpt-4o", false},
		{analytics.ServiceElevenLabs, "eleven_turbo_v2_5", true},
		{analytics.ServiceS3, "", true},
		{analytics.ServiceS3, "glacier", false},
		{"openai", "gpt-4o", false},
	}
	for _, tc := range cases {
		if got := c.Known(tc.service, tc.model, now); got != tc.want {
			t.Errorf("Known(%s, %q) = %v, want %v", tc.service, tc.model, got, tc.want)
		}
	}
	e, ok := c.Lookup(analytics.ServiceAnthropic, "claude-opus-4-20250514", now)
	if !ok || e.Model != "claude-opus-4-0" || e.Rates["output"] != "75.00" {
		t.Errorf("Lookup(claude-opus-4-20250514) = %+v, %v", e, ok)
	}
	// Old events use the earliest version.
	if !c.Known(analytics.ServiceAnthropic, "claude-opus-4-6", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("an event older than every version should be priced")
	}
}

func TestCostDoesNotAllocate(t *testing.T) {
	c := Default()
	evs := benchEvents()
	allocs := testing.AllocsPerRun(100, func() {
		for i := range evs {
			c.Cost(&evs[i])
		}
	})
	if allocs != 0 {
		t.Errorf("Cost allocates %.1f times per %d events", allocs, len(evs))
	}
}

func benchEvents() []analytics.Event {
	cache := with(anth("claude-sonnet-4-5-20250929", 12000, 800), func(e *analytics.Event) {
		e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens = 3000, 1000, 150000
	})
	return []analytics.Event{
		cache,
		anth("claude-haiku-4-5", 500, 200),
		anth("claude-opus-4-6", 250000, 4000),
		eleven("eleven_multilingual_v2", 1800),
		s3("GetObject", "", 3<<20, 1),
		s3("PutObject", "", 3<<20, 1),
		anth("unknown-model", 1, 1),
	}
}

func BenchmarkCost(b *testing.B) {
	c := Default()
	evs := benchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Cost(&evs[i%len(evs)])
	}
}

func BenchmarkCostParallel(b *testing.B) {
	c := Default()
	evs := benchEvents()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Cost(&evs[i%len(evs)])
			i++
		}
	})
}

// today is the date the built-in catalog was last checked against the
// published list prices (2026-11-29).
var today = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// call is one Messages call at time at: 1,000 input tokens, 100 output
// tokens, 2,000 cache-write tokens of which 500 are 1-hour writes (so 1,500
// are 5-minute writes) and 10,000 cache reads. The prompt (13,000 tokens) is
// below every long-context threshold. At rates $I/$O/$W5/$W1/$R per million
// tokens (R micro-dollars per token) it costs
// 1,000·I + 100·O + 1,500·W5 + 500·W1 + 10,000·R micro-dollars.
func call(model string, at time.Time) analytics.Event {
	e := anth(model, 1000, 100)
	e.Timestamp = at
	e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens = 2000, 500, 10000
	return e
}

// Every current Claude model id and alias, priced from the catalog as
// checked on 2026-11-29 against platform.claude.com/docs/en/about-claude/pricing,
// the models overview and the release notes. Figures computed by hand.
func TestCurrentCatalog(t *testing.T) {
	const (
		opus5     = 26875 // $5/$25/$6.25/$10/$0.50: 5,000 + 2,500 + 9,375 + 5,000 + 5,000
		fable5    = 53750 // $10/$50/$12.50/$20/$1: 10,000 + 5,000 + 18,750 + 10,000 + 10,000
		fable51   = 46250 // $10/$50/$12.50/$20/$0.25: 10,000 + 5,000 + 18,750 + 10,000 + 2,500
		fable52   = 37000 // $8/$40/$10/$16/$0.20: 8,000 + 4,000 + 15,000 + 8,000 + 2,000
		opus55    = 19500 // $4/$20/$5/$8/$0.20: 4,000 + 2,000 + 7,500 + 4,000 + 2,000
		sonnet5   = 10750 // $2/$10/$2.50/$4/$0.20: 2,000 + 1,000 + 3,750 + 2,000 + 2,000
		sonnet55  = 9750  // $2/$10/$2.50/$4/$0.10: 2,000 + 1,000 + 3,750 + 2,000 + 1,000
		haiku55   = 538   // $0.10/$0.50/$0.125/$0.20/$0.01: 100 + 50 + 187.5 + 100 + 100 = 537.5 → 538
		sonnet    = 16125 // $3/$15/$3.75/$6/$0.30: 3,000 + 1,500 + 5,625 + 3,000 + 3,000
		opus15    = 80625 // $15/$75/$18.75/$30/$1.50: 15,000 + 7,500 + 28,125 + 15,000 + 15,000
		haiku45   = 5375  // $1/$5/$1.25/$2/$0.10: 1,000 + 500 + 1,875 + 1,000 + 1,000
		haiku35   = 4300  // $0.80/$4/$1/$1.60/$0.08: 800 + 400 + 1,500 + 800 + 800
		haiku3    = 1375  // $0.25/$1.25/$0.30/$0.50/$0.03: 250 + 125 + 450 + 250 + 300
		beforeCut = "2026-10-06T23:59:59Z"
		cut       = "2026-10-07T00:00:00Z"
	)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []costCase{
		// The 4.6 generation and later: dateless ids, no aliases.
		{"claude-fable-5-2", call("claude-fable-5-2", today), fable52, true},
		{"claude-mythos-5-2", call("claude-mythos-5-2", today), fable52, true},
		{"claude-fable-5-1", call("claude-fable-5-1", today), fable51, true},
		{"claude-mythos-5-1", call("claude-mythos-5-1", today), fable51, true},
		{"claude-fable-5", call("claude-fable-5", today), fable5, true},
		{"claude-mythos-5", call("claude-mythos-5", today), fable5, true},
		{"claude-opus-5-5", call("claude-opus-5-5", today), opus55, true},
		{"claude-opus-5", call("claude-opus-5", today), opus5, true},
		{"claude-opus-4-8", call("claude-opus-4-8", today), opus5, true},
		{"claude-opus-4-7", call("claude-opus-4-7", today), opus5, true},
		{"claude-opus-4-6", call("claude-opus-4-6", today), opus5, true},
		{"claude-sonnet-5-5", call("claude-sonnet-5-5", today), sonnet55, true},
		{"claude-sonnet-5-5 before the cache-read cut", call("claude-sonnet-5-5", at(beforeCut)), sonnet5, true},
		{"claude-sonnet-5-5 from the cache-read cut", call("claude-sonnet-5-5", at(cut)), sonnet55, true},
		{"claude-sonnet-5", call("claude-sonnet-5", today), sonnet5, true},
		{"claude-sonnet-4-6", call("claude-sonnet-4-6", today), sonnet, true},
		{"claude-haiku-5-5", call("claude-haiku-5-5", today), haiku55, true},
		// Before the 4.6 generation: model aliases and dated snapshot ids.
		{"claude-opus-4-5", call("claude-opus-4-5", today), opus5, true},
		{"claude-opus-4-5-20251101", call("claude-opus-4-5-20251101", today), opus5, true},
		{"claude-opus-4-1", call("claude-opus-4-1", today), opus15, true},
		{"claude-opus-4-1-20250805", call("claude-opus-4-1-20250805", today), opus15, true},
		{"claude-opus-4-0", call("claude-opus-4-0", today), opus15, true},
		{"claude-opus-4", call("claude-opus-4", today), opus15, true},
		{"claude-opus-4-20250514", call("claude-opus-4-20250514", today), opus15, true},
		{"claude-sonnet-4-5", call("claude-sonnet-4-5", today), sonnet, true},
		{"claude-sonnet-4-5-20250929", call("claude-sonnet-4-5-20250929", today), sonnet, true},
		{"claude-sonnet-4-0", call("claude-sonnet-4-0", today), sonnet, true},
		{"claude-sonnet-4", call("claude-sonnet-4", today), sonnet, true},
		{"claude-sonnet-4-20250514", call("claude-sonnet-4-20250514", today), sonnet, true},
		{"claude-haiku-4-5", call("claude-haiku-4-5", today), haiku45, true},
		{"claude-haiku-4-5-20251001", call("claude-haiku-4-5-20251001", today), haiku45, true},
		{"claude-3-7-sonnet-20250219", call("claude-3-7-sonnet-20250219", today), sonnet, true},
		{"claude-3-7-sonnet-latest", call("claude-3-7-sonnet-latest", today), sonnet, true},
		{"claude-3-5-sonnet-20241022", call("claude-3-5-sonnet-20241022", today), sonnet, true},
		{"claude-3-5-sonnet-20240620", call("claude-3-5-sonnet-20240620", today), sonnet, true},
		{"claude-3-5-haiku-20241022", call("claude-3-5-haiku-20241022", today), haiku35, true},
		{"claude-3-5-haiku-latest", call("claude-3-5-haiku-latest", today), haiku35, true},
		{"claude-3-opus-20240229", call("claude-3-opus-20240229", today), opus15, true},
		{"claude-3-opus-latest", call("claude-3-opus-latest", today), opus15, true},
		{"claude-3-sonnet-20240229", call("claude-3-sonnet-20240229", today), sonnet, true},
		{"claude-3-haiku-20240307", call("claude-3-haiku-20240307", today), haiku3, true},

		// Claude Haiku 5.5 is priced by prompt length (input + cache writes
		// + cache reads): up to 100,000 tokens at the base rates, over it
		// every token of the request, output included, at $0.50/$2.50/
		// $0.625/$1/$0.05.
		// Exactly 100,000: base. 100,000×0.10 + 1,000×0.50 = 10,000 + 500
		{"haiku-5-5 prompt of exactly 100,000", with(anth("claude-haiku-5-5", 100000, 1000), func(e *analytics.Event) { e.Timestamp = today }), 10500, true},
		// 90,000 + 10,001 reads = 100,001: long.
		// 90,000×0.50 + 10,001×0.05 + 1,000×2.50 = 45,000 + 500.05 + 2,500 → 48,000
		{"haiku-5-5 prompt of 100,001", with(anth("claude-haiku-5-5", 90000, 1000), func(e *analytics.Event) {
			e.Timestamp, e.CacheReadInputTokens = today, 10001
		}), 48000, true},
		// 50,000 + 60,000 writes (20,000 of them 1h) = 110,000: long.
		// 50,000×0.50 + 40,000×0.625 + 20,000×1 + 100×2.50 = 25,000 + 25,000 + 20,000 + 250
		{"haiku-5-5 long with a 5m/1h split", with(anth("claude-haiku-5-5", 50000, 100), func(e *analytics.Event) {
			e.Timestamp, e.CacheCreationInputTokens, e.CacheCreation1hTokens = today, 60000, 20000
		}), 70250, true},

		// Not API model ids: unpriced rather than guessed.
		{"claude code [1m] suffix", call("claude-opus-5-5[1m]", today), 0, false},
		{"bedrock id", call("anthropic.claude-opus-5", today), 0, false},
		{"no such version", call("claude-opus-5-6", today), 0, false},
		{"no such model", call("claude-haiku-5", today), 0, false},
		{"mythos preview has no published list price", call("claude-mythos-preview", today), 0, false},

		// ElevenLabs, per 1,000 characters: $0.10 → 100 micro-dollars a
		// character, $0.05 → 50.
		{"eleven_multilingual_v2", with(eleven("eleven_multilingual_v2", 1234), func(e *analytics.Event) { e.Timestamp = today }), 123400, true},
		{"eleven_v3", with(eleven("eleven_v3", 1234), func(e *analytics.Event) { e.Timestamp = today }), 123400, true},
		{"eleven_flash_v2_5", with(eleven("eleven_flash_v2_5", 1234), func(e *analytics.Event) { e.Timestamp = today }), 61700, true},
		{"eleven_turbo_v2_5", with(eleven("eleven_turbo_v2_5", 1234), func(e *analytics.Event) { e.Timestamp = today }), 61700, true},
		// Eleven v4 and v4 Turbo have no list price readable on an official
		// page in the stored material; secondary sources disagree.
		{"eleven_v4 unpriced", with(eleven("eleven_v4", 1234), func(e *analytics.Event) { e.Timestamp = today }), 0, false},
		{"eleven_v4_turbo unpriced", with(eleven("eleven_v4_turbo", 1234), func(e *analytics.Event) { e.Timestamp = today }), 0, false},

		// S3 Standard us-east-1: $0.09 per GB out (90,000 per 2^30 bytes),
		// $0.005 per 1,000 tier-1 requests (5 each), $0.0004 per 1,000
		// tier-2 requests (0.4 each).
		// 2 GiB: 180,000 + 0.4 → 180,000
		{"s3 GetObject 2 GiB", with(s3("GetObject", "standard", 2<<30, 1), func(e *analytics.Event) { e.Timestamp = today }), 180000, true},
		// 1,000 × 5
		{"s3 PutObject ×1,000", with(s3("PutObject", "", 1<<20, 1000), func(e *analytics.Event) { e.Timestamp = today }), 5000, true},
		// 10 × 5
		{"s3 ListObjectsV2 ×10", with(s3("ListObjectsV2", "", 0, 10), func(e *analytics.Event) { e.Timestamp = today }), 50, true},
		// 5,000 × 0.4
		{"s3 HeadObject ×5,000", with(s3("HeadObject", "", 0, 5000), func(e *analytics.Event) { e.Timestamp = today }), 2000, true},
	}
	runCost(t, Default(), cases)

	// Each entry names where its figures come from and when they were checked.
	for _, e := range Default().Entries() {
		if !strings.Contains(e.Note, "2026-11-29") {
			t.Errorf("%s %s from %s: note does not date its check: %q", e.Service, e.Model, e.EffectiveFrom, e.Note)
		}
	}
}
