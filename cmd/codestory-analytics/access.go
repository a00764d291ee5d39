package main

import (
	"github.com/codestory/analytics/guard"
)

// recheckCredentials makes the guard check the caller's credential against
// the database on every call of a long-lived door (MCP sessions, Ask), so a
// disabled or deleted admin, or a revoked or expired token or key, stops
// working at once on every replica: the database is the one they share.
func (a *app) recheckCredentials() {
	a.guard.PreToolUse = append([]*guard.HookMatcher{{
		Matcher: guard.ToolPrefix + ".*",
		Hooks:   []guard.HookFunc{guard.Recheck(a.store.CheckCredential)},
	}}, a.guard.PreToolUse...)
}
