package analytics

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// ToolUserEconomics is get_user_economics (issue 13): profit and loss per user.
const ToolUserEconomics = "get_user_economics"

// Sort keys and orders of get_user_economics.
const (
	EconomicsByMargin  = "margin"
	EconomicsByCost    = "cost"
	EconomicsByRevenue = "revenue"
	EconomicsByStories = "stories"
)

// Limits of get_user_economics.
const (
	DefaultEconomicsLimit = 50
	MaxEconomicsLimit     = 500
)

// UserEconomicsRow is one user's figures over a range, as a store sums them
// from the per-user-day and per-user-month rollups. Email is filled in
// afterwards (UserEmails), for the rows a page shows.
type UserEconomicsRow struct {
	UserID       string
	Email        string
	RevenueCents int64 // payments − refunds, whole cents
	Cost         Micros
	Stories      int64 // story_created events
	// Calls counts the api_call, payment and refund events: a user with
	// none in the range does not appear in it.
	Calls int64
}

// Margin is revenue − cost.
func (u UserEconomicsRow) Margin() Micros { return MicrosFromCents(u.RevenueCents) - u.Cost }

// EconomicsInput is the input of get_user_economics.
type EconomicsInput struct {
	RangeInput
	SortBy string `json:"sort_by,omitempty" jsonschema:"margin, cost, revenue or stories (default margin)"`
	Order  string `json:"order,omitempty" jsonschema:"asc or desc (default asc: the biggest losers first when sorting by margin)"`
	Limit  *int   `json:"limit,omitempty" jsonschema:"users per page, 1 to 500 (default 50)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page, to read the next one"`
}

// Normalize fills the defaults.
func (in *EconomicsInput) Normalize(now time.Time, loc *time.Location) {
	in.RangeInput.Normalize(now, loc)
	if in.SortBy == "" {
		in.SortBy = EconomicsByMargin
	}
	if in.Order == "" {
		in.Order = "asc"
	}
	if in.Limit == nil {
		n := DefaultEconomicsLimit
		in.Limit = &n
	}
}

// Validate checks sort_by, order, limit and the cursor's form.
func (in EconomicsInput) Validate() error {
	switch in.SortBy {
	case EconomicsByMargin, EconomicsByCost, EconomicsByRevenue, EconomicsByStories:
	default:
		return Errorf(KindInvalid, "sort_by must be one of margin, cost, revenue, stories (got %q)", in.SortBy)
	}
	if in.Order != "asc" && in.Order != "desc" {
		return Errorf(KindInvalid, "order must be asc or desc (got %q)", in.Order)
	}
	if in.Limit == nil {
		return Errorf(KindInvalid, "limit is required")
	}
	if *in.Limit < 1 || *in.Limit > MaxEconomicsLimit {
		return Errorf(KindInvalid, "limit must be between 1 and %d (got %d)", MaxEconomicsLimit, *in.Limit)
	}
	if in.Cursor != "" {
		r, err := in.Range()
		if err != nil {
			return err
		}
		if _, err := in.decodeCursor(r); err != nil {
			return err
		}
	}
	return nil
}

// UserEconomics is one row of get_user_economics.
type UserEconomics struct {
	UserID       string   `json:"user_id"`
	Email        *string  `json:"email"`
	Revenue      Cents    `json:"revenue_cents"`
	Cost         Cents    `json:"cost_cents"`
	Margin       Cents    `json:"margin_cents"`
	MarginPct    *float64 `json:"margin_pct"`
	Stories      int64    `json:"stories"`
	CostPerStory *Cents   `json:"cost_per_story_cents"`
}

// EconomicsSummary sums every user of the range, not only the page.
type EconomicsSummary struct {
	Users            int64 `json:"users"`
	PayingUsers      int64 `json:"paying_users"`
	UsersLosingMoney int64 `json:"users_losing_money"`
	Loss             Cents `json:"loss_cents"`
	Revenue          Cents `json:"revenue_cents"`
	Cost             Cents `json:"cost_cents"`
	Margin           Cents `json:"margin_cents"`
}

// Economics is the result of get_user_economics.
type Economics struct {
	Users      []UserEconomics  `json:"users"`
	Summary    EconomicsSummary `json:"summary"`
	NextCursor *string          `json:"next_cursor"`
	SortBy     string           `json:"sort_by"`
	Order      string           `json:"order"`
	Limit      int              `json:"limit"`
	Period     Period           `json:"period"`
}

// economicsKey is a row's sort value.
func economicsKey(u *UserEconomicsRow, by string) int64 {
	switch by {
	case EconomicsByCost:
		return int64(u.Cost)
	case EconomicsByRevenue:
		return u.RevenueCents
	case EconomicsByStories:
		return u.Stories
	}
	return int64(u.Margin())
}

// cursor is the position after the last row of a page: its sort value and
// user id, and a digest of the query it belongs to.
type cursor struct {
	value  int64
	userID string
}

func (in EconomicsInput) queryDigest(r Range) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%d|%d|%s|%s", r.Start, r.End, in.SortBy, in.Order))
	return h[:8]
}

func (in EconomicsInput) encodeCursor(r Range, c cursor) string {
	b := in.queryDigest(r)
	b = binary.BigEndian.AppendUint64(b, uint64(c.value))
	b = append(b, c.userID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (in EconomicsInput) decodeCursor(r Range) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(in.Cursor)
	if err != nil || len(b) < 16 {
		return cursor{}, Errorf(KindInvalid, "cursor is not a next_cursor of this endpoint")
	}
	if string(b[:8]) != string(in.queryDigest(r)) {
		return cursor{}, Errorf(KindInvalid, "cursor belongs to another range, sort_by or order: start again without it")
	}
	return cursor{value: int64(binary.BigEndian.Uint64(b[8:16])), userID: string(b[16:])}, nil
}

// UserEconomics implements get_user_economics.
func (t *Tools) UserEconomics(ctx context.Context, in EconomicsInput) (*Economics, error) {
	r, err := t.checkInput(&in)
	if err != nil {
		return nil, err
	}
	rows, err := t.Store.UserEconomics(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("user economics: %w", err)
	}
	res, err := PageEconomics(rows, in, t.period(r))
	if err != nil {
		return nil, err
	}
	return res, t.fillEmails(ctx, res.Users)
}

// fillEmails sets the email of every signed-up user of a page.
func (t *Tools) fillEmails(ctx context.Context, users []UserEconomics) error {
	ids := make([]string, len(users))
	for i := range users {
		ids[i] = users[i].UserID
	}
	emails, err := t.Store.UserEmails(ctx, ids)
	if err != nil {
		return fmt.Errorf("user emails: %w", err)
	}
	for i := range users {
		if e := emails[users[i].UserID]; e != "" {
			users[i].Email = &e
		}
	}
	return nil
}

// compareEconomics orders rows by the sort key in the given order, ties by
// user id ascending.
func compareEconomics(by, order string) func(a, b *UserEconomicsRow) int {
	return func(a, b *UserEconomicsRow) int {
		c := cmp.Compare(economicsKey(a, by), economicsKey(b, by))
		if order == "desc" {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.UserID, b.UserID))
	}
}

// SortEconomics orders rows by the sort key in the given order, ties by
// user id ascending.
func SortEconomics(rows []UserEconomicsRow, by, order string) {
	c := compareEconomics(by, order)
	slices.SortFunc(rows, func(a, b UserEconomicsRow) int { return c(&a, &b) })
}

// PageEconomics sums every row into the summary and cuts the page after the
// input's cursor: the limit first rows of the order that follow it, found
// without sorting the rest (a bounded heap, n·log(limit)).
func PageEconomics(rows []UserEconomicsRow, in EconomicsInput, p Period) (*Economics, error) {
	r := Range{Start: p.Start, End: p.End}
	res := &Economics{Users: []UserEconomics{}, SortBy: in.SortBy, Order: in.Order, Limit: *in.Limit, Period: p}
	var rev, cost, margin, loss Sum
	for i := range rows {
		u := &rows[i]
		if !u.fits() {
			return nil, ErrSumOverflow
		}
		m := u.Margin()
		rev.Add(int64(MicrosFromCents(u.RevenueCents)))
		cost.Add(int64(u.Cost))
		margin.Add(int64(m))
		if u.RevenueCents > 0 {
			res.Summary.PayingUsers++
		}
		if m < 0 {
			res.Summary.UsersLosingMoney++
			loss.Add(int64(m))
		}
	}
	if rev.Overflow || cost.Overflow || margin.Overflow || loss.Overflow {
		return nil, ErrSumOverflow
	}
	res.Summary.Users = int64(len(rows))
	res.Summary.Revenue, res.Summary.Cost, res.Summary.Margin, res.Summary.Loss = Cents(rev.V), Cents(cost.V), Cents(margin.V), Cents(loss.V)

	order := compareEconomics(in.SortBy, in.Order)
	after := rows
	if in.Cursor != "" {
		c, err := in.decodeCursor(r)
		if err != nil {
			return nil, err
		}
		// The cursor's row, rebuilt with its sort value: rows comparing
		// after it follow the previous page.
		at := cursorRow(c, in.SortBy)
		after = make([]UserEconomicsRow, 0, len(rows))
		for i := range rows {
			if order(&rows[i], &at) > 0 {
				after = append(after, rows[i])
			}
		}
	}
	page := firstK(after, *in.Limit, order)
	for i := range page {
		res.Users = append(res.Users, economicsRow(&page[i]))
	}
	if len(after) > len(page) && len(page) > 0 {
		last := &page[len(page)-1]
		next := in.encodeCursor(r, cursor{value: economicsKey(last, in.SortBy), userID: last.UserID})
		res.NextCursor = &next
	}
	return res, nil
}

// Bounds within which a user's margin, revenue × 10,000 − cost in
// micro-dollars, fits an int64: $4 trillion of revenue, $4 trillion of cost
// (beyond them, revenue × 10,000 used to wrap silently).
const (
	MaxEconomicsRevenueCents = 400_000_000_000_000
	MaxEconomicsCost         = Micros(4_000_000_000_000_000_000)
)

// fits says the row's margin can be computed without overflow.
func (u *UserEconomicsRow) fits() bool {
	return u.RevenueCents >= -MaxEconomicsRevenueCents && u.RevenueCents <= MaxEconomicsRevenueCents &&
		u.Cost >= -MaxEconomicsCost && u.Cost <= MaxEconomicsCost
}

// cursorRow is a row whose sort value by the key is the cursor's.
func cursorRow(c cursor, by string) UserEconomicsRow {
	u := UserEconomicsRow{UserID: c.userID}
	switch by {
	case EconomicsByCost:
		u.Cost = Micros(c.value)
	case EconomicsByRevenue:
		u.RevenueCents = c.value
	case EconomicsByStories:
		u.Stories = c.value
	default: // margin = revenue − cost: a cost of −margin and no revenue
		u.Cost = -Micros(c.value)
	}
	return u
}

// firstK returns the k first rows in order, sorted: a max-heap of the k
// best seen so far, each later row replacing its top when it comes first.
func firstK(rows []UserEconomicsRow, k int, order func(a, b *UserEconomicsRow) int) []UserEconomicsRow {
	if len(rows) <= k {
		out := slices.Clone(rows)
		slices.SortFunc(out, func(a, b UserEconomicsRow) int { return order(&a, &b) })
		return out
	}
	h := slices.Clone(rows[:k])
	down := func(i int) {
		for {
			l, top := 2*i+1, i
			if l < len(h) && order(&h[l], &h[top]) > 0 {
				top = l
			}
			if r := l + 1; r < len(h) && order(&h[r], &h[top]) > 0 {
				top = r
			}
			if top == i {
				return
			}
			h[i], h[top] = h[top], h[i]
			i = top
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for i := k; i < len(rows); i++ {
		if order(&rows[i], &h[0]) < 0 {
			h[0] = rows[i]
			down(0)
		}
	}
	slices.SortFunc(h, func(a, b UserEconomicsRow) int { return order(&a, &b) })
	return h
}

func economicsRow(u *UserEconomicsRow) UserEconomics {
	m := u.Margin()
	out := UserEconomics{UserID: u.UserID, Revenue: Cents(MicrosFromCents(u.RevenueCents)), Cost: Cents(u.Cost),
		Margin: Cents(m), Stories: u.Stories}
	if u.Email != "" {
		e := u.Email
		out.Email = &e
	}
	if u.RevenueCents != 0 {
		pct := float64(m) * 100 / float64(MicrosFromCents(u.RevenueCents))
		out.MarginPct = &pct
	}
	if u.Stories > 0 {
		c := Cents(u.Cost / Micros(u.Stories))
		out.CostPerStory = &c
	}
	return out
}

func dateRange(in RangeInput) map[string]string {
	return map[string]string{"start": in.StartDate, "end": in.EndDate}
}

// AuditDetails are the call's arguments for the audit log.
func (in *EconomicsInput) AuditDetails() map[string]any {
	return map[string]any{"date_range": dateRange(in.RangeInput), "sort_by": in.SortBy, "order": in.Order, "limit": in.Limit,
		"paged": in.Cursor != ""}
}

// AuditDetails are the call's arguments for the audit log.
func (in *StoryCostsInput) AuditDetails() map[string]any {
	return map[string]any{"date_range": dateRange(in.RangeInput), "limit": in.Limit}
}

// AuditDetails are the call's arguments for the audit log.
func (in *CohortsInput) AuditDetails() map[string]any {
	return map[string]any{"date_range": dateRange(in.RangeInput), "period": in.Period}
}

// EconomicsPlan is how a store sums a range's per-user P&L. A range holding
// fewer user-days than lie outside it is summed from its own whole months
// and edge days (PartsOf). Otherwise (FromTotals) the store starts from every
// user's lifetime totals and subtracts the months and days of Outside: a
// range over most of the data then reads one row per user, not one per
// user-month.
type EconomicsPlan struct {
	FromTotals bool
	Outside    []Range
}

// PlanEconomics chooses the cheaper plan for r, given the first and last
// day with any user-day and the user-days inside and outside r (the daily
// rollup's active users). The outside ranges are stretched to whole months:
// no user-day lies beyond first and last.
func PlanEconomics(r Range, first, last Day, inside, outside int64) EconomicsPlan {
	if outside >= inside {
		return EconomicsPlan{}
	}
	p := EconomicsPlan{FromTotals: true}
	if first < r.Start {
		p.Outside = append(p.Outside, Range{Start: monthStart(MonthOf(first)), End: r.Start - 1})
	}
	if last > r.End {
		p.Outside = append(p.Outside, Range{Start: r.End + 1, End: monthStart(MonthOf(last)+1) - 1})
	}
	return p
}

// PartGroup is one group of bounds a store sums for PartsOf: month-number
// or day bounds (inclusive pairs), read from the monthly rollup or the
// daily one, added or (Minus) subtracted.
type PartGroup struct {
	Monthly, Minus bool
	Bounds         [][2]int64
}

// PartsOf splits disjoint ranges into the non-empty groups a store sums:
// whole months, edge days, and days subtracted again. An edge covering more
// than half its month is read as the month less the days it leaves out, so
// an edge never reads more than half a month of user-days.
func PartsOf(rs ...Range) []PartGroup {
	months, days, minus := PartGroup{Monthly: true}, PartGroup{}, PartGroup{Minus: true}
	span := func(g *PartGroup, from, to Day) { g.Bounds = append(g.Bounds, [2]int64{int64(from), int64(to)}) }
	edge := func(e Range) {
		if e.Start > e.End {
			return
		}
		m := MonthOf(e.Start)
		first, last := MonthDays(m)
		if 2*(e.End-e.Start+1) <= last-first+1 {
			span(&days, e.Start, e.End)
			return
		}
		months.Bounds = append(months.Bounds, [2]int64{int64(m), int64(m)})
		if first < e.Start {
			span(&minus, first, e.Start-1)
		}
		if e.End < last {
			span(&minus, e.End+1, last)
		}
	}
	for _, r := range rs {
		sp := SplitByMonth(r)
		if sp.FirstMonth <= sp.LastMonth {
			months.Bounds = append(months.Bounds, [2]int64{int64(sp.FirstMonth), int64(sp.LastMonth)})
		}
		edge(sp.Before)
		edge(sp.After)
	}
	var out []PartGroup
	for _, g := range []PartGroup{months, days, minus} {
		if len(g.Bounds) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// SubtractEconomics takes each user's outside sums from their lifetime
// totals, in place, keeping the users with an api_call, payment or refund
// left in the range.
func SubtractEconomics(totals []UserEconomicsRow, outside map[string]UserEconomicsRow) []UserEconomicsRow {
	out := totals[:0]
	for _, u := range totals {
		if o, ok := outside[u.UserID]; ok {
			u.RevenueCents -= o.RevenueCents
			u.Cost -= o.Cost
			u.Stories -= o.Stories
			u.Calls -= o.Calls
		}
		if u.Calls > 0 {
			out = append(out, u)
		}
	}
	return out
}
