package main

import (
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// economicsEvents is a small stream whose unit economics are worked out by
// hand in TestUnitEconomicsREST.
func economicsEvents() []map[string]any {
	ev := func(id, typ, ts, user string, kv ...any) map[string]any {
		m := map[string]any{"id": id, "type": typ, "timestamp": ts, "user_id": user}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	call := func(id, ts, user, svc, story string, cents float64) map[string]any {
		return ev(id, "api_call", ts, user, "service", svc, "operation", "op", "model", "m", "story_id", story, "cost_cents", cents)
	}
	return []map[string]any{
		// Out of order on purpose: the story's completion first.
		ev("e7", "story_completed", "2026-03-04T12:00:00Z", "u1", "story_id", "s1", "chapters", 3, "audio_seconds", 120),
		ev("e1", "user_signup", "2026-03-02T09:00:00Z", "u1", "email", "=HYPERLINK(\"x\")@evil.io"),
		ev("e2", "payment", "2026-03-03T10:00:00Z", "u1", "amount_cents", 1000),
		ev("e3", "story_created", "2026-03-03T10:05:00Z", "u1", "story_id", "s1"),
		call("e4", "2026-03-03T10:06:00Z", "u1", "anthropic", "s1", 150.5),
		call("e5", "2026-03-04T11:00:00Z", "u1", "elevenlabs", "s1", 300),
		ev("e8", "user_signup", "2026-03-04T08:00:00Z", "u2", "email", "b@example.com"),
		call("e9", "2026-03-10T10:00:00Z", "u2", "anthropic", "s2", 2000),
		ev("e10", "story_created", "2026-03-10T09:59:00Z", "u2", "story_id", "s2"),
		ev("e11", "story_failed", "2026-03-10T10:01:00Z", "u2", "story_id", "s2"),
		ev("e12", "payment", "2026-03-11T10:00:00Z", "u3", "amount_cents", 500),
		ev("e13", "refund", "2026-03-12T10:00:00Z", "u3", "amount_cents", 100),
		call("e14", "2026-03-12T10:00:00Z", "u1", "s3", "s3", 10),
		// After the range: counts nowhere below.
		call("e15", "2026-03-16T10:00:00Z", "u1", "anthropic", "s1", 99),
	}
}

func toolJSON(t *testing.T, r response) string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var v any
	r.json(t, &v)
	delete(v.(map[string]any), "period")
	b, _ := json.Marshal(v)
	return string(b)
}

// TestUnitEconomicsREST checks every figure of the three tools and the
// exports against values worked out by hand, through the real server.
func TestUnitEconomicsREST(t *testing.T) {
	ts := startServer(t, "")
	key := ts.ingestKey()
	tok := ts.adminToken("a@example.com", "analyst")
	if r := ts.ingest(key, economicsEvents()...); r.Status != 200 || !strings.Contains(string(r.Body), `"accepted":14`) {
		t.Fatalf("ingest: %d %s", r.Status, r.Body)
	}
	rng := "start_date=2026-03-01&end_date=2026-03-15"

	// P&L: u2 loses 20.00 $, u3 earns 4.00 $, u1 earns 5.395 $; biggest losers first.
	page1 := ts.do("GET", "/admin/analytics/users/economics?limit=2&"+rng, tok, nil)
	var p1 struct {
		Users []struct {
			UserID string `json:"user_id"`
		}
		NextCursor *string `json:"next_cursor"`
	}
	page1.json(t, &p1)
	want1 := `{"limit":2,"next_cursor":"` + derefOr(p1.NextCursor) + `","order":"asc","sort_by":"margin",` +
		`"summary":{"cost_cents":2460.5,"loss_cents":-2000,"margin_cents":-1060.5,"paying_users":2,"revenue_cents":1400,"users":3,"users_losing_money":1},` +
		`"users":[{"cost_cents":2000,"cost_per_story_cents":2000,"email":"b@example.com","margin_cents":-2000,"margin_pct":null,"revenue_cents":0,"stories":1,"user_id":"u2"},` +
		`{"cost_cents":0,"cost_per_story_cents":null,"email":null,"margin_cents":400,"margin_pct":100,"revenue_cents":400,"stories":0,"user_id":"u3"}]}`
	if got := toolJSON(t, page1); got != want1 || p1.NextCursor == nil {
		t.Fatalf("economics page 1:\n got %s\nwant %s", got, want1)
	}
	page2 := ts.do("GET", "/admin/analytics/users/economics?limit=2&cursor="+url.QueryEscape(*p1.NextCursor)+"&"+rng, tok, nil)
	if got := toolJSON(t, page2); !strings.Contains(got, `"next_cursor":null`) ||
		!strings.Contains(got, `"users":[{"cost_cents":460.5,"cost_per_story_cents":460.5,"email":"=HYPERLINK(\"x\")@evil.io","margin_cents":539.5,"margin_pct":53.95,"revenue_cents":1000,"stories":1,"user_id":"u1"}]`) {
		t.Fatalf("economics page 2: %s", got)
	}
	if r := ts.do("GET", "/admin/analytics/users/economics?limit=2&order=desc&cursor="+url.QueryEscape(*p1.NextCursor)+"&"+rng, tok, nil); r.Status != 400 ||
		!strings.Contains(r.errorText(t), "another range, sort_by or order") {
		t.Fatalf("a cursor of another order: %d %s", r.Status, r.Body)
	}

	// Stories: s1 completed (3/3), s2 failed (3/10), s3 in progress (3/12,
	// no story_created: its first call anchors it). e15 falls after the
	// range, but a story's cost counts all its calls, whatever their day:
	// s1 costs 150.5 + 300 + 99.
	st := toolJSON(t, ts.do("GET", "/admin/analytics/stories?limit=2&"+rng, tok, nil))
	wantSt := `{"completed":1,"cost_cents":2559.5,"cost_per_audio_minute_cents":274.75,` +
		`"cost_per_completed_story_cents":{"max":549.5,"mean":549.5,"p50":549.5,"p90":549.5,"p99":549.5},"failed":1,"failed_cost_cents":2000,`
	if !strings.HasPrefix(st, wantSt) || !strings.Contains(st, `"in_progress":1,"stories":3,`) ||
		!strings.Contains(st, `"top":[{"audio_seconds":0,"by_service":{"anthropic":2000,"elevenlabs":0,"s3":0},"chapters":0,"cost_cents":2000,"date":"2026-03-10","status":"failed","story_id":"s2","user_id":"u2"},`+
			`{"audio_seconds":120,"by_service":{"anthropic":249.5,"elevenlabs":300,"s3":0},"chapters":3,"cost_cents":549.5,"date":"2026-03-03","status":"completed","story_id":"s1","user_id":"u1"}]`) {
		t.Fatalf("stories:\n got %s\nwant prefix %s", st, wantSt)
	}

	// Cohorts: u1 (3/2) and u2 (3/4) in the week of Monday 3/2; u3 never signed up.
	co := toolJSON(t, ts.do("GET", "/admin/analytics/cohorts?"+rng, tok, nil))
	if want := `{"cohorts":[{"cohort":"2026-03-02","cost_cents":[450.5,2460.5],"retained":[2,2],"revenue_cents":[1000,1000],"size":2}],"granularity":"week","unattributed_users":1}`; co != want {
		t.Fatalf("weekly cohorts:\n got %s\nwant %s", co, want)
	}
	co = toolJSON(t, ts.do("GET", "/admin/analytics/cohorts?period=month&"+rng, tok, nil))
	if want := `{"cohorts":[{"cohort":"2026-03-01","cost_cents":[2460.5],"retained":[2],"revenue_cents":[1000],"size":2}],"granularity":"month","unattributed_users":1}`; co != want {
		t.Fatalf("monthly cohorts:\n got %s\nwant %s", co, want)
	}

	// The users table as CSV: the email that looks like a formula is defused.
	r := ts.do("GET", "/admin/analytics/export?table=users&"+rng, tok, nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), "analytics_users_2026-03-01_2026-03-15.csv") {
		t.Fatalf("users export: %d %v", r.Status, r.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "user_id,email,revenue_cents,cost_cents,margin_cents,margin_pct,stories,cost_per_story_cents" ||
		strings.Join(recs[1], ",") != "u2,b@example.com,0,2000,-2000,,1,2000" || recs[3][1] != `'=HYPERLINK("x")@evil.io` {
		t.Fatalf("users CSV %q %v", recs, err)
	}
	for table, want := range map[string]string{
		"stories": "s2,u2,2026-03-10,failed,0,0,2000,2000,0,0",
		"cohorts": "2026-03-02,week,2,1,2,1000,2460.5",
	} {
		r := ts.do("GET", "/admin/analytics/export?table="+table+"&"+rng, tok, nil)
		if recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll(); err != nil || len(recs) < 2 || !containsRecord(recs, want) {
			t.Fatalf("%s CSV: %q %v, want a row %s", table, recs, err, want)
		}
	}
	// The stories stream out the most expensive first: s2 (2000), s1
	// (549.5), then s3.
	r = ts.do("GET", "/admin/analytics/export?table=stories&"+rng, tok, nil)
	if recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll(); err != nil || len(recs) != 4 ||
		recs[1][0] != "s2" || recs[2][0] != "s1" || recs[3][0] != "s3" || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "analytics_stories_2026-03-01_2026-03-15.csv") {
		t.Fatalf("stories CSV in cost order: %q %v %v", recs, err, r.Header)
	}
	r = ts.do("GET", "/admin/analytics/export?format=json&table=stories&"+rng, tok, nil)
	if body := string(r.Body); r.Status != 200 || r.Header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(body, `{"format":"json","table":"stories","stories":[{"story_id":"s2","user_id":"u2","date":"2026-03-10","status":"failed",`) ||
		!(strings.Index(body, `"story_id":"s1"`) < strings.Index(body, `"story_id":"s3"`)) || !strings.HasSuffix(body, "}]}\n") {
		t.Fatalf("stories JSON export: %d %v %s", r.Status, r.Header, body)
	}
	if got := toolJSON(t, ts.do("GET", "/admin/analytics/export?format=json&table=cohorts&period=month&"+rng, tok, nil)); !strings.Contains(got, `"table":"cohorts"`) ||
		!strings.Contains(got, `"cohorts":[{"cohort":"2026-03-01"`) {
		t.Fatalf("cohorts JSON export: %s", got)
	}

	// The CLI answers as REST does.
	out := ts.mustCLI("", "query", "economics", "--start", "2026-03-01", "--end", "2026-03-15", "--limit", "1", "--sort-by", "cost", "--order", "desc")
	if !strings.Contains(out, `"user_id": "u2"`) || strings.Contains(out, `"user_id": "u1"`) {
		t.Fatalf("query economics: %s", out)
	}
	if out := ts.mustCLI("", "query", "export", "--table", "stories", "--start", "2026-03-01", "--end", "2026-03-15"); !strings.Contains(out, "s1,u1,2026-03-03,completed,3,120,549.5,249.5,300,0") {
		t.Fatalf("query export --table stories: %s", out)
	}

	// A void takes the failed story's call out of every figure.
	void := map[string]any{"id": "v1", "type": "event_voided", "timestamp": "2026-03-20T00:00:00Z", "voids": "e9", "reason": "test"}
	if r := ts.ingest(key, void); r.Status != 200 || !strings.Contains(string(r.Body), `"accepted":1`) {
		t.Fatalf("void: %d %s", r.Status, r.Body)
	}
	if st := toolJSON(t, ts.do("GET", "/admin/analytics/stories?"+rng, tok, nil)); !strings.Contains(st, `"failed_cost_cents":0`) {
		t.Fatalf("stories after the void: %s", st)
	}
	if got := toolJSON(t, ts.do("GET", "/admin/analytics/users/economics?"+rng, tok, nil)); !strings.Contains(got, `"users":2,"users_losing_money":0`) {
		t.Fatalf("economics after the void: %s", got)
	}
	if out := ts.mustCLI("", "verify"); !strings.Contains(out, "ok: rollups equal") {
		t.Fatalf("verify: %s", out)
	}
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func containsRecord(recs [][]string, want string) bool {
	for _, r := range recs {
		if strings.Join(r, ",") == want {
			return true
		}
	}
	return false
}
