package analytics

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Leader is one user's value in a month's ranking.
type Leader struct {
	UserID string
	Value  int64
}

// MonthRankings is what a store offers for top users over long ranges: each
// month's users ranked by a sort key, and exact totals for given users.
type MonthRankings interface {
	// MonthLeaders returns up to n users of month ordered by the sort key
	// descending, then user id descending (any fixed order of ties would
	// do), starting after the given leader (nil: from the top).
	MonthLeaders(ctx context.Context, month int32, by SortBy, after *Leader, n int) ([]Leader, error)
	// UserTotals sums the activity of the given users inside r; users
	// without activity in r are left out.
	UserTotals(ctx context.Context, users []string, r Range) ([]TopUserRow, error)
}

// MonthSplit divides a range for UserTotals: the whole calendar months
// inside it (FirstMonth..LastMonth, empty when FirstMonth > LastMonth) read
// from the monthly rollup, and the days before and after them read day by
// day (an empty edge has End < Start).
type MonthSplit struct {
	FirstMonth, LastMonth int32
	Before, After         Range
}

// monthStart is the first day of a month number (see MonthOf).
func monthStart(m int32) Day { return DayFromDate(int(m/12), time.Month(m%12+1), 1) }

// SplitByMonth splits r into whole months and edge days.
func SplitByMonth(r Range) MonthSplit {
	fm, lm := MonthOf(r.Start), MonthOf(r.End)
	if monthStart(fm) != r.Start {
		fm++
	}
	if monthStart(lm+1)-1 != r.End {
		lm--
	}
	empty := Range{Start: 1, End: 0}
	if fm > lm {
		return MonthSplit{FirstMonth: fm, LastMonth: lm, Before: r, After: empty}
	}
	sp := MonthSplit{FirstMonth: fm, LastMonth: lm, Before: empty, After: empty}
	if r.Start < monthStart(fm) {
		sp.Before = Range{Start: r.Start, End: monthStart(fm) - 1}
	}
	if end := monthStart(lm+1) - 1; r.End > end {
		sp.After = Range{Start: end + 1, End: r.End}
	}
	return sp
}

// SortValue is the row's value for a sort key.
func (u TopUserRow) SortValue(by SortBy) int64 {
	switch by {
	case SortByStories:
		return u.Stories
	case SortByAPICalls:
		return u.APICalls
	}
	return int64(u.Cost)
}

// TopUsersByThreshold finds the exact top users of r with Fagin's threshold
// algorithm over the monthly rankings of the months r touches. A user's
// total over r is at most the sum of their values in those months (values
// are never negative), so once the limit-th best exact total beats the sum
// of the last values read from every ranking, no unread user can enter the
// list. Skewed usage — a few heavy users — ends it after a few pages
// instead of a scan of every user-day. ok is false when ties at zero make
// the rankings useless (fewer users with a positive value than limit): the
// caller then aggregates directly.
func TopUsersByThreshold(ctx context.Context, src MonthRankings, r Range, by SortBy, limit int) (rows []TopUserRow, ok bool, err error) {
	type list struct {
		month     int32
		after     *Leader
		exhausted bool
	}
	var lists []*list
	for m := MonthOf(r.Start); m <= MonthOf(r.End); m++ {
		lists = append(lists, &list{month: m})
	}
	seen := map[string]bool{}
	var exact []TopUserRow
	page := 64
	for {
		var fresh []string
		for _, l := range lists {
			if l.exhausted {
				continue
			}
			ls, err := src.MonthLeaders(ctx, l.month, by, l.after, page)
			if err != nil {
				return nil, false, err
			}
			if len(ls) < page {
				l.exhausted = true
			}
			if len(ls) > 0 {
				last := ls[len(ls)-1]
				l.after = &last
			}
			for _, x := range ls {
				if !seen[x.UserID] {
					seen[x.UserID] = true
					fresh = append(fresh, x.UserID)
				}
			}
		}
		if len(fresh) > 0 {
			got, err := src.UserTotals(ctx, fresh, r)
			if err != nil {
				return nil, false, err
			}
			exact = append(exact, got...)
			slices.SortFunc(exact, func(a, b TopUserRow) int {
				return cmp.Or(cmp.Compare(b.SortValue(by), a.SortValue(by)), cmp.Compare(a.UserID, b.UserID))
			})
		}
		var threshold int64
		open := false
		for _, l := range lists {
			if !l.exhausted && l.after != nil {
				threshold += l.after.Value
				open = true
			}
		}
		switch {
		case !open:
			return exact[:min(limit, len(exact))], true, nil
		case len(exact) >= limit && exact[limit-1].SortValue(by) > threshold:
			return exact[:limit], true, nil
		case threshold == 0:
			return nil, false, nil
		}
		page = min(page*2, 4096)
	}
}
