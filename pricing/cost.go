package pricing

import (
	"math"
	"math/bits"

	"github.com/codestory/analytics"
)

// Cost prices an api_call event (analytics.Pricer).
//
//   - An explicit cost from the caller (e.ExplicitCost) wins and is returned
//     as priced.
//   - An unknown service, model or S3 storage class gives (0, false): the
//     caller stores the event and counts it as unpriced.
//   - A call with status "error" is priced like any other (its usage is
//     usually zero).
//   - The whole event's cost is computed exactly and rounded once, to the
//     nearest micro-dollar, half away from zero.
//   - A negative count, or a cost too large for analytics.Micros (more than
//     about 9.2 trillion dollars), gives (0, false) rather than a wrapped
//     figure.
//
// Anthropic: InputTokens excludes cache tokens (as the API reports it);
// CacheCreationInputTokens are 5-minute cache writes except the
// CacheCreation1hTokens part, which are 1-hour writes (if the 1-hour part
// exceeds the total, the total is taken to be the 1-hour part);
// CacheReadInputTokens are cache reads. When input + cache-write +
// cache-read tokens exceed the entry's long-context threshold, every token of
// the request is priced at the long-context rates.
//
// ElevenLabs: Characters at the per-1,000-character rate.
//
// S3: e.Operation is classified case-insensitively by substring: "delete" is
// free; "put", "copy", "post", "list", "upload", "multipart" or "create" is a
// tier-1 request (bytes uploaded are free); anything else is a tier-2 request
// whose BytesTransferred are charged at the transfer_out rate. e.Requests
// requests are charged (the decoder defaults it to 1).
func (c *Catalog) Cost(e *analytics.Event) (analytics.Micros, bool) {
	if e.ExplicitCost != nil {
		return *e.ExplicitCost, true
	}
	v := c.find(e.Service, e.Model, e.Timestamp)
	if v == nil {
		return 0, false
	}
	return v.cost(e)
}

// cost prices e with one resolved version.
func (v *version) cost(e *analytics.Event) (analytics.Micros, bool) {
	var a acc
	t := &v.base
	switch e.Service {
	case analytics.ServiceAnthropic:
		in, out, cw, c1h, cr := e.InputTokens, e.OutputTokens, e.CacheCreationInputTokens, e.CacheCreation1hTokens, e.CacheReadInputTokens
		if in < 0 || out < 0 || cw < 0 || c1h < 0 || cr < 0 {
			return 0, false
		}
		if c1h > cw {
			cw = c1h
		}
		if v.threshold > 0 {
			// The three int64 counts sum to less than 2^65: a carry means
			// "above any threshold".
			s, carry := bits.Add64(uint64(in), uint64(cw), 0)
			s, carry2 := bits.Add64(s, uint64(cr), 0)
			if carry|carry2 != 0 || s > v.threshold {
				t = &v.long
			}
		}
		a.add(uint64(in), t.k[rInput])
		a.add(uint64(out), t.k[rOutput])
		a.add(uint64(cw-c1h), t.k[rWrite5m])
		a.add(uint64(c1h), t.k[rWrite1h])
		a.add(uint64(cr), t.k[rRead])
	case analytics.ServiceElevenLabs:
		if e.Characters < 0 {
			return 0, false
		}
		a.add(uint64(e.Characters), t.k[rCharacters])
	case analytics.ServiceS3:
		if e.Requests < 0 || e.BytesTransferred < 0 {
			return 0, false
		}
		switch s3Class(e.Operation) {
		case s3Free:
			return 0, true
		case s3Tier1:
			a.add(uint64(e.Requests), t.k[rTier1])
		default:
			a.add(uint64(e.Requests), t.k[rTier2])
			a.add(uint64(e.BytesTransferred), t.k[rTransferOut])
		}
	}
	return a.round(t.den)
}

// acc is an unsigned 128-bit accumulator of count × rate products.
type acc struct {
	hi, lo uint64
	over   bool // the sum reached 2^128
}

func (a *acc) add(n, k uint64) {
	hi, lo := bits.Mul64(n, k)
	var carry uint64
	a.lo, carry = bits.Add64(a.lo, lo, 0)
	a.hi, carry = bits.Add64(a.hi, hi, carry)
	if carry != 0 {
		a.over = true
	}
}

// round returns the accumulated sum divided by den, rounded to the nearest
// integer with halves rounded up (away from zero: the sum is never
// negative), or false when the result does not fit in analytics.Micros.
func (a *acc) round(den uint64) (analytics.Micros, bool) {
	// A sum of 2^128 or more, or a high word at or above den, means a
	// quotient of at least 2^64 (den < 2^64).
	if a.over || a.hi >= den {
		return 0, false
	}
	q, r := bits.Div64(a.hi, a.lo, den)
	if q > math.MaxInt64 {
		return 0, false
	}
	if r >= den-r { // 2r >= den without overflowing
		q++
		if q > math.MaxInt64 {
			return 0, false
		}
	}
	return analytics.Micros(q), true
}

type s3Op int

const (
	s3Tier2 s3Op = iota
	s3Tier1
	s3Free
)

var s3Tier1Words = [...]string{"put", "copy", "post", "list", "upload", "multipart", "create"}

func s3Class(op string) s3Op {
	if containsFold(op, "delete") {
		return s3Free
	}
	for _, w := range s3Tier1Words {
		if containsFold(op, w) {
			return s3Tier1
		}
	}
	return s3Tier2
}

// containsFold reports whether s contains the lowercase ASCII word w, ASCII
// case-insensitively, without allocating.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for ; j < len(w); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
		}
		if j == len(w) {
			return true
		}
	}
	return false
}
