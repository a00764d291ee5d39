package analytics

import "math/bits"

// ErrOverflow is returned when a sum does not fit an int64: the batch or
// query that produced it is refused, never wrapped.
var ErrOverflow = &Error{KindInvalid, "a sum exceeds the range of a 64-bit integer; nothing was stored"}

// ErrSumOverflow is returned by a query whose total does not fit an int64.
var ErrSumOverflow = &Error{KindInternal, "a total exceeds the range of a 64-bit integer"}

// addChecked returns a + b, or ok = false when the sum overflows.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	// Overflow happens only when a and b have the same sign and s differs.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}

// mulChecked returns a × b, or ok = false when the product overflows.
func mulChecked(a, b int64) (int64, bool) {
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = uint64(-a)
	}
	if b < 0 {
		ub = uint64(-b)
	}
	hi, lo := bits.Mul64(ua, ub)
	if hi != 0 || lo > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}

// Sum accumulates int64 values and remembers whether any addition
// overflowed, so that a long chain of additions needs one check at its end.
type Sum struct {
	V        int64
	Overflow bool
}

// Add adds v to the sum.
func (s *Sum) Add(v int64) {
	r, ok := addChecked(s.V, v)
	if !ok {
		s.Overflow = true
		return
	}
	s.V = r
}

// acc adds v to *dst, setting *bad on overflow.
func acc(dst *int64, v int64, bad *bool) {
	r, ok := addChecked(*dst, v)
	if !ok {
		*bad = true
		return
	}
	*dst = r
}

// accM is acc for Micros.
func accM(dst *Micros, v Micros, bad *bool) {
	acc((*int64)(dst), int64(v), bad)
}
