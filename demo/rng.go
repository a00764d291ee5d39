package demo

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is a PCG (math/rand/v2) with the few distributions the generator
// needs, as value methods without interface calls or allocations.
type rng struct{ p rand.PCG }

func newRNG(a, b uint64) rng {
	var r rng
	r.p.Seed(a, b)
	return r
}

// mix is the splitmix64 finaliser: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.p.Uint64()>>11) * (1.0 / (1 << 53)) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// intn returns a uniform int in [0, n) (n > 0; the bias is below 2^-32 for
// the small n used here).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.p.Uint64(), uint64(n))
	return int(hi)
}

// between returns a uniform float64 in [a, b).
func (r *rng) between(a, b float64) float64 { return a + (b-a)*r.float() }

// ibetween returns a uniform int64 in [a, b] (a <= b).
func (r *rng) ibetween(a, b int64) int64 {
	hi, _ := bits.Mul64(r.p.Uint64(), uint64(b-a+1))
	return a + int64(hi)
}

// norm returns a standard normal deviate (Box–Muller).
func (r *rng) norm() float64 {
	u1 := 1 - r.float() // (0, 1]
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// lognorm returns a log-normal deviate with the given median.
func (r *rng) lognorm(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.norm())
}

// clampLognorm is lognorm clamped to [lo, hi], as an integer.
func (r *rng) clampLognorm(median, sigma float64, lo, hi int64) int64 {
	v := int64(r.lognorm(median, sigma))
	return min(max(v, lo), hi)
}

// poisson returns a Poisson deviate (Knuth's method: the rates here are
// small; large ones use a normal approximation).
func (r *rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.norm())))
	}
	l := math.Exp(-lambda)
	k := 0
	p := r.float()
	for p > l {
		k++
		p *= r.float()
	}
	return k
}

// pick returns an index drawn from cumulative weights cum (ascending, last
// element the total).
func (r *rng) pick(cum []float64) int {
	u := r.float() * cum[len(cum)-1]
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}
