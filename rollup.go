package analytics

import (
	"cmp"
	"slices"
	"time"
)

// UserDay identifies one user's activity on one day.
type UserDay struct {
	UserID string
	Day    Day
}

// UserDayDelta is what a batch adds to one user's day.
type UserDayDelta struct {
	Stories     int64
	APICalls    int64
	AudioMillis int64
	Cost        Micros
}

// UserMonth identifies one user's activity in one calendar month (see
// MonthOf): the per-month lists that let top users avoid scanning every
// user-day of a long range.
type UserMonth struct {
	UserID string
	Month  int32
}

// MonthOf numbers the calendar month of a day: year × 12 + month − 1.
func MonthOf(d Day) int32 {
	y, m, _ := d.Date().Date()
	return int32(y*12 + int(m) - 1)
}

// CostKey identifies one row of the per-model cost rollup.
type CostKey struct {
	Day       Day
	Service   Service
	Model     string
	Operation string
}

// Signup is the earliest signup of a user seen in a batch (the smaller email
// breaks a tie, so the winner never depends on arrival order).
type Signup struct {
	Email string
	At    time.Time
}

// RollupDelta is what a batch of newly stored events adds to every rollup,
// aggregated in memory so a store does one upsert per touched row.
type RollupDelta struct {
	Daily      map[Day]*DailyRow
	UserDays   map[UserDay]*UserDayDelta
	UserMonths map[UserMonth]*UserDayDelta
	Costs      map[CostKey]*CostRow
	Signups    map[string]Signup
}

// EventDay is the reporting day of an event.
func EventDay(e *Event, loc *time.Location) Day { return DayOf(e.Timestamp, loc) }

// BuildRollupDelta aggregates events (already deduplicated) into deltas.
// DailyRow.ActiveUsers is left to the store, which alone knows whether a
// user-day is new.
func BuildRollupDelta(events []Event, loc *time.Location) *RollupDelta {
	d := &RollupDelta{
		Daily:      map[Day]*DailyRow{},
		UserDays:   map[UserDay]*UserDayDelta{},
		UserMonths: map[UserMonth]*UserDayDelta{},
		Costs:      map[CostKey]*CostRow{},
		Signups:    map[string]Signup{},
	}
	for i := range events {
		e := &events[i]
		day := EventDay(e, loc)
		row := d.Daily[day]
		if row == nil {
			row = &DailyRow{Day: day}
			d.Daily[day] = row
		}
		var ud *UserDayDelta
		if e.UserID != "" {
			k := UserDay{e.UserID, day}
			ud = d.UserDays[k]
			if ud == nil {
				ud = &UserDayDelta{}
				d.UserDays[k] = ud
			}
		}
		switch e.Type {
		case EventUserSignup:
			row.NewUsers++
			if s, ok := d.Signups[e.UserID]; !ok || e.Timestamp.Before(s.At) || (e.Timestamp.Equal(s.At) && e.Email < s.Email) {
				d.Signups[e.UserID] = Signup{Email: e.Email, At: e.Timestamp}
			}
		case EventUserChurned:
			row.ChurnedUsers++
		case EventStoryCreated:
			row.StoriesCreated++
			ud.Stories++
		case EventStoryCompleted:
			row.StoriesCompleted++
			row.Chapters += e.Chapters
			row.AudioMillis += e.AudioMillis
			ud.AudioMillis += e.AudioMillis
		case EventStoryFailed:
			row.StoriesFailed++
		case EventPayment:
			row.PaymentsCents += e.AmountCents
		case EventRefund:
			row.RefundsCents += e.AmountCents
		case EventAPICall:
			row.APIRequests++
			if e.Status == StatusError {
				row.APIErrors++
			}
			if !e.Priced {
				row.UnpricedCalls++
			}
			switch e.Service {
			case ServiceAnthropic:
				row.AnthropicCost += e.Cost
			case ServiceElevenLabs:
				row.ElevenLabsCost += e.Cost
			case ServiceS3:
				row.S3Cost += e.Cost
			}
			if ud != nil {
				ud.APICalls++
				ud.Cost += e.Cost
			}
			ck := CostKey{day, e.Service, e.Model, e.Operation}
			c := d.Costs[ck]
			if c == nil {
				c = &CostRow{Service: e.Service, Model: e.Model, Operation: e.Operation}
				d.Costs[ck] = c
			}
			c.Calls++
			if e.Status == StatusError {
				c.Errors++
			}
			if !e.Priced {
				c.UnpricedCalls++
			}
			c.InputTokens += e.InputTokens
			c.OutputTokens += e.OutputTokens
			c.CacheWriteTokens += e.CacheCreationInputTokens
			c.CacheReadTokens += e.CacheReadInputTokens
			c.Characters += e.Characters
			c.BytesTransferred += e.BytesTransferred
			c.Requests += e.Requests
			c.Cost += e.Cost
		}
	}
	for k, ud := range d.UserDays {
		mk := UserMonth{k.UserID, MonthOf(k.Day)}
		um := d.UserMonths[mk]
		if um == nil {
			um = &UserDayDelta{}
			d.UserMonths[mk] = um
		}
		um.Stories += ud.Stories
		um.APICalls += ud.APICalls
		um.AudioMillis += ud.AudioMillis
		um.Cost += ud.Cost
	}
	return d
}

// SortedUserMonths returns the delta's user-months ordered by month, then
// user (the order stores upsert them in).
func (d *RollupDelta) SortedUserMonths() []UserMonth {
	out := make([]UserMonth, 0, len(d.UserMonths))
	for k := range d.UserMonths {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b UserMonth) int {
		if c := cmp.Compare(a.Month, b.Month); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	return out
}

// SortedUserDays returns the delta's user-days ordered by user, then day, the
// order in which stores lock and link them.
func (d *RollupDelta) SortedUserDays() []UserDay {
	out := make([]UserDay, 0, len(d.UserDays))
	for k := range d.UserDays {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b UserDay) int {
		if c := cmp.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		return cmp.Compare(a.Day, b.Day)
	})
	return out
}

// NoPrevDay marks a user's first active day in the active-span rollup.
const NoPrevDay Day = -1

// SpanKey is a row of the active-span rollup: users active on Day whose
// previous active day was Prev (NoPrevDay for none). Distinct users active in
// [s, e] are then the sum over Day in [s, e] with Prev < s — each user counts
// once, on their first active day inside the range — which keeps the query
// proportional to days, not events.
type SpanKey struct {
	Day  Day
	Prev Day
}
