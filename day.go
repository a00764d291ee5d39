package analytics

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Day is a calendar date counted in days since 1970-01-01. Rollups are keyed
// by Day in the reporting time zone; a Day has no zone of its own.
type Day int32

// DayOf returns the calendar day of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return DayFromDate(y, m, d)
}

// DayFromDate returns the Day of a civil date.
func DayFromDate(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDay parses YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != 10 {
		var pe *time.ParseError
		if len(s) == 10 && errors.As(err, &pe) && strings.Contains(pe.Message, "out of range") {
			return 0, Errorf(KindInvalid, "Invalid date: %s does not exist (%s)", s, strings.TrimPrefix(pe.Message, ": "))
		}
		return 0, fmt.Errorf("%q: %w", s, ErrDateFormat)
	}
	return DayFromDate(t.Date()), nil
}

// Date returns the day as a time at midnight UTC (for formatting).
func (d Day) Date() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Start returns the first instant of the day in loc.
func (d Day) Start(loc *time.Location) time.Time {
	y, m, dd := d.Date().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// String formats the day as YYYY-MM-DD.
func (d Day) String() string { return d.Date().Format(time.DateOnly) }

// MarshalText writes YYYY-MM-DD.
func (d Day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MaxRangeDays is the largest allowed end − start, in days (a range is
// inclusive of both ends, so at most 366 calendar days).
const MaxRangeDays = 365

// Range is an inclusive range of days.
type Range struct {
	Start, End Day
}

// Days is the number of days in the range, both ends included.
func (r Range) Days() int { return int(r.End-r.Start) + 1 }

// Validate applies the seed's date-range rules.
func (r Range) Validate() error {
	if r.End < r.Start {
		return ErrEndBeforeStart
	}
	if r.End-r.Start > MaxRangeDays {
		return ErrRangeTooLong
	}
	return nil
}

// ParseRange parses and validates two YYYY-MM-DD strings.
func ParseRange(start, end string) (Range, error) {
	s, err := ParseDay(start)
	if err != nil {
		return Range{}, err
	}
	e, err := ParseDay(end)
	if err != nil {
		return Range{}, err
	}
	r := Range{s, e}
	return r, r.Validate()
}
