package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/codestory/analytics/internal/poll"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/alerts"
	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/storetest"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// budgetFlags make the background work quick in tests; private webhooks
// are allowed because the receivers listen on 127.0.0.1.
var budgetTestFlags = []string{"--allow-private-webhooks", "--webhook-retry-base", "100ms", "--budget-interval", "500ms"}

func callEvent(id, user string, cents float64) map[string]any {
	return map[string]any{"id": id, "type": "api_call", "timestamp": time.Now().UTC().Add(-time.Second).Format(time.RFC3339),
		"user_id": user, "service": "anthropic", "operation": "chapter", "model": "claude-sonnet-4-5", "cost_cents": cents}
}

func createBudget(t *testing.T, ts *testServer, token string, body map[string]any) (response, analytics.Budget) {
	t.Helper()
	b, _ := json.Marshal(body)
	res := ts.do("POST", "/admin/budgets", token, bytes.NewReader(b), "Content-Type", "application/json")
	var out analytics.Budget
	if res.Status == 201 {
		res.json(t, &out)
	}
	return res, out
}

// waitReceived polls until the receiver accepted n messages.
func waitReceived(t *testing.T, rc *storetest.Receiver, n int, within time.Duration) []storetest.Received {
	t.Helper()
	var got []storetest.Received
	if !poll.Within(within, 20*time.Millisecond, func() bool { got = rc.Got(); return len(got) >= n }) {
		t.Fatalf("receiver got %d of %d messages in %s", len(got), n, within)
	}
	return got
}

// verified checks every message with the Standard Webhooks library and
// returns the threshold percents, failing on a repeated webhook-id.
func verified(t *testing.T, got []storetest.Received, secret string) []int {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []int
	for _, g := range got {
		h := http.Header{}
		h.Set("webhook-id", g.ID)
		h.Set("webhook-timestamp", g.Timestamp)
		h.Set("webhook-signature", g.Signature)
		if err := wh.Verify(g.Body, h); err != nil {
			t.Errorf("message %s: %v", g.ID, err)
		}
		if seen[g.ID] {
			t.Errorf("message %s delivered twice", g.ID)
		}
		seen[g.ID] = true
		var m struct {
			Type string
			Data alerts.ThresholdData
		}
		json.Unmarshal(g.Body, &m)
		if m.Type != analytics.AlertThresholdCrossed {
			t.Errorf("message type %q", m.Type)
		}
		out = append(out, m.Data.ThresholdPercent)
	}
	return out
}

func sortedInts(xs []int) string {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
	return fmt.Sprint(xs)
}

// TestBudgetsEndToEnd: a budget created over REST, one ingest that crosses
// 50, 80 and 100 → three signed messages at a real receiver, alerts with
// their delivery state, status, budget-check and the CLI.
func TestBudgetsEndToEnd(t *testing.T) {
	ts := startServer(t, "", budgetTestFlags...)
	owner := ts.adminToken("owner@example.com", "owner")
	viewer := ts.adminToken("viewer@example.com", "viewer")
	key := ts.ingestKey()
	rc := storetest.NewReceiver(t)
	res, b := createBudget(t, ts, owner, map[string]any{"name": "Claude this month", "scope": "service", "scope_value": "anthropic",
		"period": "month", "amount_dollars": "10.00", "webhooks": []map[string]any{{"url": rc.URL, "format": "standard"}}})
	if res.Status != 201 || len(b.Webhooks) != 1 || !strings.HasPrefix(b.Webhooks[0].Secret, "whsec_") || b.AmountDollars != "10.00" {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	res, _ = createBudget(t, ts, owner, map[string]any{"name": "per user", "scope": "each_user", "period": "day", "amount_dollars": "5"})
	if res.Status != 201 {
		t.Fatalf("create each_user: %d %s", res.Status, res.Body)
	}
	if r := ts.ingest(key, callEvent("e1", "u1", 600), callEvent("e2", "u2", 450)); r.Status != 200 {
		t.Fatalf("ingest: %d %s", r.Status, r.Body)
	}
	got := waitReceived(t, rc, 3, 10*time.Second)
	if p := sortedInts(verified(t, got, b.Webhooks[0].Secret)); p != "[50 80 100]" {
		t.Errorf("thresholds delivered %s, want [50 80 100]", p)
	}

	var st analytics.BudgetStatus
	ts.do("GET", fmt.Sprintf("/admin/budgets/%d/status", b.ID), viewer, nil).json(t, &st)
	if st.SpendDollars != "10.50" || st.Percent != 105 || fmt.Sprint(st.ThresholdsFired) != "[50 80 100]" || st.Budget.Webhooks[0].Secret != "" {
		t.Errorf("status %+v", st)
	}
	// Polled every 500 ms: the viewer's rate limit is 30 calls a minute.
	var alerts, delivered int
	if !poll.Within(10*time.Second, 500*time.Millisecond, func() bool {
		var al analytics.AlertList
		r := ts.do("GET", "/admin/alerts", viewer, nil)
		if r.Status != 200 {
			t.Fatalf("GET /admin/alerts: %d %s", r.Status, r.Body)
		}
		r.json(t, &al)
		alerts, delivered = len(al.Alerts), 0
		for _, a := range al.Alerts {
			if len(a.Deliveries) == 1 && a.Deliveries[0].State == analytics.DeliveryDelivered && a.Deliveries[0].Attempts == 1 {
				delivered++
			}
		}
		// Besides the three above, the each_user $5/day cap: u1's $6 crosses
		// 50, 80 and 100%, u2's $4.50 crosses 50 and 80%.
		return alerts == 8 && delivered == 3
	}) {
		t.Fatalf("alerts: %d alerts, %d delivered; want 8 and 3", alerts, delivered)
	}

	var an analytics.AnomalyList
	ts.do("GET", "/admin/anomalies", owner, nil).json(t, &an)
	if f := an.Forecast; f == nil || f.SpendDollars != "10.50" || f.ForecastDollars != "10.50" || !strings.HasSuffix(f.PeriodStart.String(), "-01") {
		t.Errorf("month forecast %+v: want $10.50 spent and projected (no spend in the 7 days before)", an.Forecast)
	}

	var chk analytics.BudgetCheck
	ts.do("GET", "/v1/budget-check?user_id=u1", key, nil).json(t, &chk)
	if chk.Allowed || len(chk.Budgets) != 1 || chk.Budgets[0].Percent != 120 || chk.Budgets[0].RemainingDollars != "0.00" {
		t.Errorf("budget-check u1: %+v", chk)
	}
	ts.do("GET", "/v1/budget-check?user_id=u2", key, nil).json(t, &chk)
	if !chk.Allowed || chk.Budgets[0].RemainingDollars != "0.50" {
		t.Errorf("budget-check u2: %+v", chk)
	}
	if r := ts.do("GET", "/v1/budget-check?user_id=u1", owner, nil); r.Status != 403 {
		t.Errorf("budget-check with an admin token: %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/v1/budget-check", key, nil); r.Status != 400 {
		t.Errorf("budget-check without user_id: %d %s", r.Status, r.Body)
	}

	if out := ts.mustCLI("", "budget", "list"); !strings.Contains(out, "Claude this month") || !strings.Contains(out, "each_user") {
		t.Errorf("budget list:\n%s", out)
	}
	if out := ts.mustCLI("", "budget", "status", "--id", fmt.Sprint(b.ID)); !strings.Contains(out, "spent $10.50 of $10.00") {
		t.Errorf("budget status:\n%s", out)
	}
	ts.mustCLI("", "budget", "delete", "--id", fmt.Sprint(b.ID))
	if r := ts.do("GET", fmt.Sprintf("/admin/budgets/%d", b.ID), viewer, nil); r.Status != 404 {
		t.Errorf("after delete: %d", r.Status)
	}
	var al analytics.AlertList
	ts.do("GET", fmt.Sprintf("/admin/alerts?budget_id=%d", b.ID), viewer, nil).json(t, &al)
	if len(al.Alerts) != 3 {
		t.Errorf("alert history after delete: %d alerts, want 3", len(al.Alerts))
	}
}

// TestBudgetPrivateURLRefused: without --allow-private-webhooks, serve
// refuses webhook URLs on loopback, private and link-local addresses.
func TestBudgetPrivateURLRefused(t *testing.T) {
	ts := startServer(t, "")
	owner := ts.adminToken("owner@example.com", "owner")
	for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost:8080/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://192.168.0.10/hook"} {
		res, _ := createBudget(t, ts, owner, map[string]any{"name": "x", "scope": "total", "period": "day", "amount_dollars": "1",
			"webhooks": []map[string]any{{"url": u}}})
		if res.Status != 400 || !strings.Contains(res.errorText(t), "--allow-private-webhooks") {
			t.Errorf("%s: %d %s; want 400 naming --allow-private-webhooks", u, res.Status, res.Body)
		}
	}
	res, _ := createBudget(t, ts, owner, map[string]any{"name": "x", "scope": "total", "period": "day", "amount_dollars": "1",
		"webhooks": []map[string]any{{"url": "https://8.8.8.8/hook", "format": "slack"}}})
	if res.Status != 201 {
		t.Errorf("public address: %d %s", res.Status, res.Body)
	}
	// The delivery path checks the dialed address too (DNS rebinding).
	_, err := alerts.NewClient(false).Get(storetest.NewReceiver(t).URL)
	if err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("delivery to a loopback receiver without the flag: %v, want refused", err)
	}
}

// TestBudgetsTwoReplicas: two servers on one PostgreSQL ingest concurrently;
// each threshold is alerted and delivered once.
func TestBudgetsTwoReplicas(t *testing.T) {
	db := pgtest.NewDatabase(t)
	r1 := startServer(t, db, budgetTestFlags...)
	r2 := startServer(t, db, budgetTestFlags...)
	owner := r1.adminToken("owner@example.com", "owner")
	key := r1.ingestKey()
	rc := storetest.NewReceiver(t)
	_, b := createBudget(t, r1, owner, map[string]any{"name": "all", "scope": "total", "period": "month", "amount_dollars": "20",
		"webhooks": []map[string]any{{"url": rc.URL}}})
	_, each := createBudget(t, r2, owner, map[string]any{"name": "each", "scope": "each_user", "period": "month", "amount_dollars": "2"})
	var wg sync.WaitGroup
	for i, r := range []*testServer{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				// 40 calls of 60¢ over 4 users: $24 in all, $6 each.
				if res := r.ingest(key, callEvent(fmt.Sprintf("r%d-%d", i, j), fmt.Sprintf("u%d", j%4), 60)); res.Status != 200 {
					t.Errorf("ingest: %d %s", res.Status, res.Body)
				}
			}
		}()
	}
	wg.Wait()
	got := waitReceived(t, rc, 3, 15*time.Second)
	if p := sortedInts(verified(t, got, b.Webhooks[0].Secret)); p != "[50 80 100]" {
		t.Errorf("thresholds delivered %s, want [50 80 100]", p)
	}
	// Both replicas keep evaluating (every 500ms); the counts must stay put.
	// Polled every 250 ms, within the 30 calls a minute rate limit.
	if !poll.Within(3*time.Second, 250*time.Millisecond, func() bool {
		var al analytics.AlertList
		res := r2.do("GET", "/admin/alerts?limit=1000", owner, nil)
		if res.Status != 200 {
			t.Fatalf("GET /admin/alerts: %d %s", res.Status, res.Body)
		}
		res.json(t, &al)
		perBudget := map[int64]int{}
		keys := map[string]bool{}
		for _, a := range al.Alerts {
			perBudget[a.BudgetID]++
			keys[a.Key] = true
		}
		if perBudget[b.ID] > 3 || perBudget[each.ID] > 12 || len(keys) != len(al.Alerts) || len(rc.Got()) > 3 {
			t.Fatalf("alerts per budget %v, %d keys for %d alerts, %d deliveries; want ≤3, ≤12, distinct, 3", perBudget, len(keys), len(al.Alerts), len(rc.Got()))
		}
		return perBudget[b.ID] == 3 && perBudget[each.ID] == 12
	}) {
		t.Fatal("the each_user budget did not reach 12 alerts (4 users × 3 thresholds)")
	}
}

// TestBudgetKill9BeforeDelivery kills the server with SIGKILL after the
// alert and its message are committed but before the receiver accepted it;
// the restarted server delivers it, under the same webhook-id.
func TestBudgetKill9BeforeDelivery(t *testing.T) {
	for name, newDB := range faultDBs(t) {
		t.Run(name, func(t *testing.T) {
			p := &process{t: t, bin: binary(t), db: newDB(t), addr: freePort(t), env: []string{
				"ANALYTICS_ALLOW_PRIVATE_WEBHOOKS=true", "ANALYTICS_WEBHOOK_RETRY_BASE=100ms", "ANALYTICS_WEBHOOK_LEASE=2s", "ANALYTICS_BUDGET_INTERVAL=500ms"}}
			p.cli("migrate")
			p.cli("admin", "create", "--email", "owner@example.com", "--role", "owner", "--password-stdin")
			owner := p.cli("token", "create", "--email", "owner@example.com", "--name", "t")
			key := p.cli("ingest-key", "create", "--name", "k")
			p.start()
			defer p.kill()
			ts := &testServer{t: t, URL: "http://" + p.addr}
			rc := storetest.NewReceiver(t)
			rc.Down.Store(true)
			res, b := createBudget(t, ts, owner, map[string]any{"name": "all", "scope": "total", "period": "day", "amount_dollars": "1",
				"thresholds": []int{100}, "webhooks": []map[string]any{{"url": rc.URL}}})
			if res.Status != 201 {
				t.Fatalf("create: %d %s", res.Status, res.Body)
			}
			if r := ts.ingest(key, callEvent("k1", "u1", 150)); r.Status != 200 {
				t.Fatalf("ingest: %d %s", r.Status, r.Body)
			}
			poll.Until(t, 10*time.Second, 10*time.Millisecond, "a delivery attempt after the crossing", func() bool { return rc.Hits() > 0 })
			p.kill()
			rc.Down.Store(false)
			p.start()
			got := waitReceived(t, rc, 1, 20*time.Second)
			if p := sortedInts(verified(t, got, b.Webhooks[0].Secret)); p != "[100]" {
				t.Errorf("delivered %s, want [100]", p)
			}
			for _, id := range rc.Refused() {
				if id != got[0].ID {
					t.Errorf("an attempt before the kill used webhook-id %s, the delivery %s", id, got[0].ID)
				}
			}
		})
	}
}
