package main

import (
	"strings"
	"testing"
)

// TestAskSpendingRules: a question counts against the admin's 30/min budget
// before any Claude call, and each admin's Ask spend per day is capped
// (--ask-daily-limit): checked before the question and before every
// further Claude call of a run, refused with the reason once reached.
func TestAskSpendingRules(t *testing.T) {
	var fake fakeMessages
	// Sonnet 4.5 at $3 / $15 per million tokens: 10,000 in + 1,000 out =
	// $0.03 + $0.015 = $0.045 a call.
	url := fake.start(t, func(n int) map[string]any {
		if n == 1 {
			return claudeReply(n, "tool_use", 10000, 1000,
				map[string]any{"type": "tool_use", "id": "toolu_1", "name": "get_dashboard_metrics", "input": map[string]any{}})
		}
		return claudeReply(n, "end_turn", 10000, 1000, map[string]any{"type": "text", "text": "Fine."})
	})
	calls := func() int {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return len(fake.bodies)
	}
	ts := startServerEnv(t, "", map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": url,
		"ANALYTICS_ASK_DAILY_LIMIT": "0.04"})
	owner := ts.adminToken("owner@example.com", "owner")
	viewer := ts.adminToken("viewer@example.com", "viewer")
	analyst := ts.adminToken("analyst@example.com", "analyst")
	ask := func(tok string) response {
		return ts.do("POST", "/admin/analytics/ask", tok, strings.NewReader(`{"question": "How are we doing?"}`),
			"Content-Type", "application/json", "Accept", "application/json")
	}

	// The first call spends $0.045, past the $0.04 cap: the run stops
	// before its second Claude call.
	res := ask(owner)
	if res.Status != 429 || !strings.Contains(res.errorText(t), "Ask's daily Claude budget is used up: $0.0450 of $0.04") || calls() != 1 {
		t.Fatalf("first question: %d %s; %d Claude calls, want 1", res.Status, res.Body, calls())
	}
	res = ask(owner)
	if res.Status != 429 || !strings.Contains(res.errorText(t), "daily Claude budget is used up") || res.Header.Get("Retry-After") == "" || calls() != 1 {
		t.Errorf("question past the cap: %d %s (Retry-After %q); %d Claude calls, want still 1", res.Status, res.Body, res.Header.Get("Retry-After"), calls())
	}

	// An admin who used up the 30/min budget cannot start a paid call.
	for i := 0; i < 30; i++ {
		if r := ts.do("GET", "/admin/analytics/dashboard", viewer, nil); r.Status != 200 {
			t.Fatalf("dashboard call %d: %d", i+1, r.Status)
		}
	}
	res = ask(viewer)
	if res.Status != 429 || res.errorText(t) != "Rate limit exceeded: 30 analytics requests per minute" || calls() != 1 {
		t.Errorf("rate-limited admin asks: %d %s; %d Claude calls, want still 1", res.Status, res.Body, calls())
	}

	// The cap is per admin; the question itself uses one of the 30.
	for i := 0; i < 29; i++ {
		ts.do("GET", "/admin/analytics/costs", analyst, nil)
	}
	if res := ask(analyst); res.Status != 200 || calls() != 2 {
		t.Fatalf("another admin's question: %d %s; %d Claude calls", res.Status, res.Body, calls())
	}
	if r := ts.do("GET", "/admin/analytics/costs", analyst, nil); r.Status != 429 {
		t.Errorf("29 calls and a question, then one more: %d; want 429 (the question counted)", r.Status)
	}

	var page auditPage
	ts.do("GET", "/admin/audit?action=analytics_asked", owner, nil).json(t, &page)
	denied := 0
	for _, e := range page.Entries {
		if e.Outcome == "denied" {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("denied questions audited: %d, want 2 (over the cap, over the rate limit)", denied)
	}
}
