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

// UserDayDelta is what a batch adds to one user's day. Events counts the
// user's live events that day: a user-day whose count falls to zero (its
// events were voided) is no longer an active day.
type UserDayDelta struct {
	Events      int64
	Stories     int64
	APICalls    int64
	AudioMillis int64
	Cost        Micros
	// RevenueCents is payments minus refunds, in whole cents; PayEvents
	// counts both (a user with a payment and an equal refund still appears
	// in the per-user P&L).
	RevenueCents int64
	PayEvents    int64
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
	PriceRef  string // PriceRef.String() of the entry that priced the calls
}

// Signup is the earliest signup of a user seen in a batch (the smaller email
// breaks a tie, so the winner never depends on arrival order).
type Signup struct {
	Email string
	At    time.Time
	Day   Day // At's reporting day: the user's cohort is its week or month
}

// RollupDelta is what a batch of newly stored events adds to every rollup,
// aggregated in memory so a store does one upsert per touched row.
//
// A delta may subtract as well as add (AddEvents with sign −1): voids and
// reprices take events back out. Every addition is overflow-checked.
type RollupDelta struct {
	Daily      map[Day]*DailyRow
	UserDays   map[UserDay]*UserDayDelta
	UserMonths map[UserMonth]*UserDayDelta
	// Users sums each user's days: the lifetime totals (user_totals) that
	// get_user_economics starts from when a range holds most of the data.
	Users   map[string]*UserDayDelta
	Costs   map[CostKey]*CostRow
	Signups map[string]Signup
	// Stories holds each touched story's delta (see StoryDelta).
	Stories map[string]*StoryDelta
	// ResignUsers are users one of whose signups was taken out: the store
	// recomputes their earliest live signup from the events.
	ResignUsers map[string]bool

	overflow bool
}

// EventDay is the reporting day of an event.
func EventDay(e *Event, loc *time.Location) Day { return DayOf(e.Timestamp, loc) }

// NewRollupDelta returns an empty delta.
func NewRollupDelta() *RollupDelta {
	return &RollupDelta{
		Daily:       map[Day]*DailyRow{},
		UserDays:    map[UserDay]*UserDayDelta{},
		UserMonths:  map[UserMonth]*UserDayDelta{},
		Users:       map[string]*UserDayDelta{},
		Costs:       map[CostKey]*CostRow{},
		Signups:     map[string]Signup{},
		Stories:     map[string]*StoryDelta{},
		ResignUsers: map[string]bool{},
	}
}

// BuildRollupDelta aggregates events (already deduplicated) into deltas.
// DailyRow.ActiveUsers is left to the store, which alone knows whether a
// user-day is new. It fails with ErrOverflow when a sum overflows.
func BuildRollupDelta(events []Event, loc *time.Location) (*RollupDelta, error) {
	d := NewRollupDelta()
	d.AddEvents(events, loc, 1)
	return d, d.Finish()
}

// AddEvents adds (sign 1) or subtracts (sign −1) events stored with the day
// of their own timestamp in loc. Voids carry no figures and are skipped.
func (d *RollupDelta) AddEvents(events []Event, loc *time.Location, sign int64) {
	for i := range events {
		d.AddEvent(&events[i], EventDay(&events[i], loc), sign)
	}
}

// AddEvent adds (sign 1) or subtracts (sign −1) one event bucketed on day.
func (d *RollupDelta) AddEvent(e *Event, day Day, sign int64) {
	if e.Type == EventVoided {
		return
	}
	bad := &d.overflow
	one := sign
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
		ud.Events += one
	}
	if e.StoryID != "" && storyEvent(e.Type) {
		d.addStory(e, day, sign)
	}
	switch e.Type {
	case EventUserSignup:
		row.NewUsers += one
		if sign < 0 {
			d.ResignUsers[e.UserID] = true
		} else if s, ok := d.Signups[e.UserID]; !ok || e.Timestamp.Before(s.At) || (e.Timestamp.Equal(s.At) && e.Email < s.Email) {
			d.Signups[e.UserID] = Signup{Email: e.Email, At: e.Timestamp, Day: day}
		}
	case EventUserChurned:
		row.ChurnedUsers += one
	case EventStoryCreated:
		row.StoriesCreated += one
		ud.Stories += one
	case EventStoryCompleted:
		row.StoriesCompleted += one
		acc(&row.Chapters, sign*e.Chapters, bad)
		acc(&row.AudioMillis, sign*e.AudioMillis, bad)
		acc(&ud.AudioMillis, sign*e.AudioMillis, bad)
	case EventStoryFailed:
		row.StoriesFailed += one
	case EventPayment:
		acc(&row.PaymentsCents, sign*e.AmountCents, bad)
		if ud != nil {
			ud.PayEvents += one
			acc(&ud.RevenueCents, sign*e.AmountCents, bad)
		}
	case EventRefund:
		acc(&row.RefundsCents, sign*e.AmountCents, bad)
		if ud != nil {
			ud.PayEvents += one
			acc(&ud.RevenueCents, -sign*e.AmountCents, bad)
		}
	case EventAPICall:
		cost := Micros(sign) * e.Cost
		row.APIRequests += one
		if e.Status == StatusError {
			row.APIErrors += one
		}
		if !e.Priced {
			row.UnpricedCalls += one
		}
		switch e.Service {
		case ServiceAnthropic:
			accM(&row.AnthropicCost, cost, bad)
		case ServiceElevenLabs:
			accM(&row.ElevenLabsCost, cost, bad)
		case ServiceS3:
			accM(&row.S3Cost, cost, bad)
		}
		if ud != nil {
			ud.APICalls += one
			accM(&ud.Cost, cost, bad)
		}
		ck := CostKey{day, e.Service, e.Model, e.Operation, e.PriceRef.String()}
		c := d.Costs[ck]
		if c == nil {
			c = &CostRow{Service: e.Service, Model: e.Model, Operation: e.Operation, PriceRef: ck.PriceRef}
			d.Costs[ck] = c
		}
		c.Calls += one
		if e.Status == StatusError {
			c.Errors += one
		}
		if !e.Priced {
			c.UnpricedCalls += one
		}
		acc(&c.InputTokens, sign*e.InputTokens, bad)
		acc(&c.OutputTokens, sign*e.OutputTokens, bad)
		acc(&c.CacheWriteTokens, sign*e.CacheCreationInputTokens, bad)
		acc(&c.CacheReadTokens, sign*e.CacheReadInputTokens, bad)
		acc(&c.Characters, sign*e.Characters, bad)
		acc(&c.BytesTransferred, sign*e.BytesTransferred, bad)
		acc(&c.Requests, sign*e.Requests, bad)
		accM(&c.Cost, cost, bad)
	}
}

// Finish derives the per-month and per-user deltas from the per-day ones
// and reports ErrOverflow if any sum overflowed. Call it once, after the
// last AddEvent.
func (d *RollupDelta) Finish() error {
	bad := &d.overflow
	for k, ud := range d.UserDays {
		mk := UserMonth{k.UserID, MonthOf(k.Day)}
		um := d.UserMonths[mk]
		if um == nil {
			um = &UserDayDelta{}
			d.UserMonths[mk] = um
		}
		um.add(ud, bad)
		ut := d.Users[k.UserID]
		if ut == nil {
			ut = &UserDayDelta{}
			d.Users[k.UserID] = ut
		}
		ut.add(ud, bad)
	}
	for _, sd := range d.Stories {
		// A story that lost events (voids) may have lost its anchor: the
		// store recomputes it from its live events.
		sd.Recompute = sd.Events < 0
	}
	if d.overflow {
		return ErrOverflow
	}
	return nil
}

// add adds another delta to u, flagging an overflow in bad.
func (u *UserDayDelta) add(v *UserDayDelta, bad *bool) {
	acc(&u.Events, v.Events, bad)
	acc(&u.Stories, v.Stories, bad)
	acc(&u.APICalls, v.APICalls, bad)
	acc(&u.AudioMillis, v.AudioMillis, bad)
	accM(&u.Cost, v.Cost, bad)
	acc(&u.RevenueCents, v.RevenueCents, bad)
	acc(&u.PayEvents, v.PayEvents, bad)
}

// SortedUsers returns the users of the delta's per-user totals in id order.
func (d *RollupDelta) SortedUsers() []string {
	out := make([]string, 0, len(d.Users))
	for k := range d.Users {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// IsZero reports whether the user-day delta changes nothing.
func (u *UserDayDelta) IsZero() bool {
	return u.Events == 0 && u.Stories == 0 && u.APICalls == 0 && u.AudioMillis == 0 && u.Cost == 0 &&
		u.RevenueCents == 0 && u.PayEvents == 0
}

// IsZero reports whether the row holds no figure at all; a day without live
// events has no daily row.
func (r *DailyRow) IsZero() bool {
	return *r == DailyRow{Day: r.Day}
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

// SpanRow is a stored row of the active-span rollup.
type SpanRow struct {
	SpanKey
	Users int64
}

// ActiveIn counts the distinct users active in [start, end] from the rows
// of those days (as ActiveUsers does in SQL): each user counts on their
// first active day inside the range, where their previous day is before it.
func ActiveIn(rows []SpanRow, start, end Day) int64 {
	var n int64
	for _, r := range rows {
		if r.Day >= start && r.Day <= end && r.Prev < start {
			n += r.Users
		}
	}
	return n
}

// MonthDays returns the first and last day of a month numbered by MonthOf.
func MonthDays(m int32) (first, last Day) {
	y, mo := int(m)/12, time.Month(int(m)%12+1)
	first = DayFromDate(y, mo, 1)
	next := DayFromDate(y, mo+1, 1) // time.Date normalizes month 13
	return first, next - 1
}
