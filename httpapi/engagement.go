package httpapi

func init() {
	openAPIOps["GET /admin/analytics/engagement"] = op("get_engagement", "analytics",
		"DAU, WAU (7 days ending each day) and MAU (30 days), stickiness = DAU / MAU (0 without MAU) and its mean over the range. Needs VIEW_ANALYTICS.",
		rangeParams(), resp("200", "Engagement"), toolErrs())
	openAPISchemas["Engagement"] = obj(map[string]any{
		"daily":              arr(obj(map[string]any{"date": tDate, "dau": tInt, "wau": tInt, "mau": tInt, "stickiness": tNum})),
		"average_stickiness": tNum, "period": ref("Period")})
}
