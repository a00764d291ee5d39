package analytics

import (
	"fmt"
	"strconv"
	"strings"
)

// Micros is an amount of US dollars in millionths (1 USD = 1,000,000).
// Every cost and revenue figure is kept in Micros so that a Claude call that
// costs a fraction of a cent is never rounded away.
type Micros int64

// MicrosPerCent is the number of Micros in one US cent.
const MicrosPerCent = 10_000

// MicrosFromCents converts whole cents to Micros.
func MicrosFromCents(c int64) Micros { return Micros(c * MicrosPerCent) }

// Cents is a money amount held in micro-dollars (like Micros) that marshals
// to JSON as a decimal number of cents (up to four fractional digits),
// exactly, without passing through a float. Fields of this type are named
// for what they hold (Cost, Revenue), not "…Cents": their value is not cents.
type Cents Micros

// Dollars is a money amount held in micro-dollars that marshals to JSON as a
// decimal number of dollars (up to six fractional digits), exactly.
type Dollars Micros

// MarshalJSON writes the amount in cents.
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(FormatScaled(int64(c), 4)), nil }

// MarshalJSON writes the amount in dollars.
func (d Dollars) MarshalJSON() ([]byte, error) { return []byte(FormatScaled(int64(d), 6)), nil }

// UnmarshalJSON reads a decimal number of cents.
func (c *Cents) UnmarshalJSON(b []byte) error {
	v, err := ParseScaled(string(b), 4)
	if err != nil {
		return err
	}
	*c = Cents(v)
	return nil
}

// UnmarshalJSON reads a decimal number of dollars.
func (d *Dollars) UnmarshalJSON(b []byte) error {
	v, err := ParseScaled(string(b), 6)
	if err != nil {
		return err
	}
	*d = Dollars(v)
	return nil
}

// String formats Micros as dollars, e.g. "12.345678".
func (m Micros) String() string { return "$" + FormatScaled(int64(m), 6) }

// FormatScaled formats v / 10^scale as a decimal with trailing zeros trimmed
// ("1.5", "0.0001", "-3", "0").
func FormatScaled(v int64, scale int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	pow := uint64(1)
	for i := 0; i < scale; i++ {
		pow *= 10
	}
	whole, frac := u/pow, u%pow
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		f := fmt.Sprintf("%0*d", scale, frac)
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseScaled parses a plain decimal number (optionally negative, no
// exponent) into an integer of units 10^-scale. It refuses more fractional
// digits than scale rather than rounding them away.
func ParseScaled(s string, scale int) (int64, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || strings.ContainsAny(s, "eE+") {
		return 0, fmt.Errorf("%q is not a plain decimal number", orig)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > scale {
		return 0, fmt.Errorf("%q has more than %d decimal places", orig, scale)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a plain decimal number", orig)
		}
	}
	frac += strings.Repeat("0", scale-len(frac))
	if len(whole) > 1 && whole[0] == '0' {
		whole = strings.TrimLeft(whole, "0")
		if whole == "" {
			whole = "0"
		}
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", orig)
	}
	if neg {
		n = -n
	}
	return n, nil
}
