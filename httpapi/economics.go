package httpapi

import (
	"context"
	"net/http"

	analytics "github.com/codestory/analytics"
)

func init() {
	nullNum := map[string]any{"type": []string{"number", "null"}}
	nullStr := map[string]any{"type": []string{"string", "null"}}
	openAPIOps["GET /admin/analytics/users/economics"] = op("get_user_economics", "analytics",
		"Per-user P&L over the range: revenue (payments − refunds), cost of the user's api_calls, margin, margin_pct (null without revenue), stories and cost per story (null without stories), for users with an api_call, payment or refund in the range; the summary covers all of them. Keyset-paged by next_cursor. Needs VIEW_ANALYTICS.",
		rangeParams(param("sort_by", "string", "margin (default), cost, revenue or stories"),
			param("order", "string", "asc (default) or desc; ties by user_id"),
			param("limit", "integer", "1 to 500, default 50"), param("cursor", "string", "next_cursor of the previous page")),
		resp("200", "UserEconomics"), toolErrs())
	openAPIOps["GET /admin/analytics/stories"] = op("get_story_costs", "analytics",
		"Stories whose day (their story_created's, else their earliest event's) lies in the range: counts by status, cost (every api_call with the story_id, whatever its day), nearest-rank percentiles of completed stories' cost, cost per audio minute, a 20-bucket histogram and the most expensive stories split by service. Needs VIEW_ANALYTICS.",
		rangeParams(param("limit", "integer", "how many top stories, 1 to 100, default 10")), resp("200", "StoryCosts"), toolErrs())
	openAPIOps["GET /admin/analytics/cohorts"] = op("get_cohorts", "analytics",
		"Signup cohorts (week, Monday first, or month of the first user_signup) whose first day lies in the range: retained users per period and cumulative revenue and cost per period, counting nothing after end_date. Needs VIEW_ANALYTICS.",
		rangeParams(param("period", "string", "week (default) or month")), resp("200", "Cohorts"), toolErrs())
	openAPISchemas["UserEconomics"] = obj(map[string]any{
		"users": arr(obj(map[string]any{"user_id": tStr, "email": nullStr, "revenue_cents": tNum, "cost_cents": tNum,
			"margin_cents": tNum, "margin_pct": nullNum, "stories": tInt, "cost_per_story_cents": nullNum})),
		"summary": obj(map[string]any{"users": tInt, "paying_users": tInt, "users_losing_money": tInt, "loss_cents": tNum,
			"revenue_cents": tNum, "cost_cents": tNum, "margin_cents": tNum}),
		"next_cursor": nullStr, "sort_by": tStr, "order": tStr, "limit": tInt, "period": ref("Period")})
	split := obj(map[string]any{"anthropic": tNum, "elevenlabs": tNum, "s3": tNum})
	openAPISchemas["StoryCosts"] = obj(map[string]any{
		"stories": tInt, "completed": tInt, "failed": tInt, "in_progress": tInt, "cost_cents": tNum, "failed_cost_cents": tNum,
		"cost_per_completed_story_cents": obj(map[string]any{"mean": nullNum, "p50": nullNum, "p90": nullNum, "p99": nullNum, "max": nullNum}),
		"cost_per_audio_minute_cents":    nullNum,
		"histogram":                      arr(obj(map[string]any{"from_cents": tNum, "to_cents": tNum, "stories": tInt})),
		"top": arr(obj(map[string]any{"story_id": tStr, "user_id": tStr, "date": tDate, "status": tStr, "chapters": tInt,
			"audio_seconds": tNum, "cost_cents": tNum, "by_service": split})),
		"period": ref("Period")})
	openAPISchemas["Cohorts"] = obj(map[string]any{
		"granularity": tStr,
		"cohorts": arr(obj(map[string]any{"cohort": tDate, "size": tInt, "retained": arr(tInt),
			"revenue_cents": arr(tNum), "cost_cents": arr(tNum)})),
		"unattributed_users": tInt, "period": ref("Period")})
}

func (s *Server) economicsRoutes() []Route {
	return []Route{
		{"GET", "/admin/analytics/users/economics", http.HandlerFunc(s.handleUserEconomics)},
		{"GET", "/admin/analytics/stories", http.HandlerFunc(s.handleStoryCosts)},
		{"GET", "/admin/analytics/cohorts", http.HandlerFunc(s.handleCohorts)},
	}
}

func (s *Server) handleUserEconomics(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	in := analytics.EconomicsInput{RangeInput: rangeInput(r), SortBy: q.Get("sort_by"), Order: q.Get("order"), Limit: limit,
		Cursor: q.Get("cursor")}
	serveTool(s, w, r, analytics.ToolUserEconomics, &in, func(ctx context.Context) (*analytics.Economics, error) {
		return s.Tools.UserEconomics(ctx, in)
	})
}

func (s *Server) handleStoryCosts(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := analytics.StoryCostsInput{RangeInput: rangeInput(r), Limit: limit}
	serveTool(s, w, r, analytics.ToolStoryCosts, &in, func(ctx context.Context) (*analytics.StoryCosts, error) {
		return s.Tools.StoryCosts(ctx, in)
	})
}

func (s *Server) handleCohorts(w http.ResponseWriter, r *http.Request) {
	in := analytics.CohortsInput{RangeInput: rangeInput(r), Period: r.URL.Query().Get("period")}
	serveTool(s, w, r, analytics.ToolCohorts, &in, func(ctx context.Context) (*analytics.Cohorts, error) {
		return s.Tools.Cohorts(ctx, in)
	})
}

// serveTool guards and runs a tool for a request and writes its JSON.
func serveTool[T any](s *Server, w http.ResponseWriter, r *http.Request, name string, in any, tool func(context.Context) (T, error)) {
	res, err := runTool(s, r, s.call(r, name, in), tool)
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
