package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strings"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/guard"
)

// openAudit wires the audit log: its key, the aggregation of
// unauthenticated denials and, unless read-only, the anchoring of a chain
// written before audit keys.
func (a *app) openAudit(ctx context.Context, c common, o appOptions) error {
	key, _, err := c.auditKey(ctx, a.store, !o.readOnlyAudit)
	if err != nil {
		return err
	}
	a.audit = &audit.Log{Store: a.store, Key: key, Window: audit.DefaultWindow, PerWindow: audit.DefaultPerWindow}
	if ss, ok := a.store.(analytics.AuditSuppressStore); ok {
		a.audit.Suppress = ss
	}
	if o.readOnlyAudit {
		return nil
	}
	return a.audit.Anchor(ctx)
}

// addAskBudget adds the daily Ask spend cap to the guard: a PreToolUse
// hook on the Ask question, after the shared rate limit.
func (a *app) addAskBudget(o appOptions) {
	ss, ok := a.store.(analytics.AskSpendStore)
	if !ok {
		return
	}
	limit := guard.DefaultAskDailyLimit
	if o.askDailyLimit != nil {
		limit = *o.askDailyLimit
	}
	a.askBudget = &guard.AskBudget{Store: ss, Limit: limit, Location: a.store.Location}
	a.guard.PreToolUse = append(a.guard.PreToolUse, a.askBudget.Matcher())
}

// demoAddr is the listen address of `serve --demo`: the demo owner's
// password is printed on the terminal, so unless --addr (or ANALYTICS_ADDR)
// says otherwise the server listens on 127.0.0.1 only.
func demoAddr(fs *flag.FlagSet, getenv func(string) string, addr string) string {
	given := getenv("ANALYTICS_ADDR") != ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "addr" {
			given = true
		}
	})
	if given {
		return addr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// parseDollars reads an amount like 1.00 or $0.50 into micro-dollars.
func parseDollars(s string) (analytics.Micros, error) {
	n, err := analytics.ParseScaled(strings.TrimPrefix(strings.TrimSpace(s), "$"), 6)
	if err != nil {
		return 0, fmt.Errorf("a dollar amount such as 1.00: %w", err)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return analytics.Micros(n), nil
}
