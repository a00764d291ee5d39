package analytics

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Tool names, as the seed's MCP server "analytics" names them.
const (
	ToolDashboardMetrics = "get_dashboard_metrics"
	ToolCostBreakdown    = "get_cost_breakdown"
	ToolUserGrowth       = "get_user_growth"
	ToolTopUsers         = "get_top_users"
	ToolExportAnalytics  = "export_analytics"
	ToolLogAPICall       = "log_api_call"
)

// DefaultRangeDays is how far back a range reaches when no start is given
// (the seed's "today − 30 days").
const DefaultRangeDays = 30

// RangeInput is the input of every range tool.
type RangeInput struct {
	StartDate string `json:"start_date,omitempty" jsonschema:"first day of the range, YYYY-MM-DD, in the reporting time zone (default: 30 days before end_date)"`
	EndDate   string `json:"end_date,omitempty" jsonschema:"last day of the range (inclusive), YYYY-MM-DD (default: today)"`
}

// TopUsersInput is the input of get_top_users.
type TopUsersInput struct {
	RangeInput
	Limit  *int   `json:"limit,omitempty" jsonschema:"how many users, 1 to 100 (default 10; 0 is refused)"`
	SortBy string `json:"sort_by,omitempty" jsonschema:"cost, stories or api_calls (default cost)"`
}

// ExportInput is the input of export_analytics.
type ExportInput struct {
	RangeInput
	Format string `json:"format,omitempty" jsonschema:"csv or json (default csv)"`
	Table  string `json:"table,omitempty" jsonschema:"daily (the seed's daily rows, default), users (per-user P&L), stories (per-story cost) or cohorts"`
	Period string `json:"period,omitempty" jsonschema:"cohorts table: week (default) or month"`
}

// Limits of get_top_users.
const (
	DefaultTopUsersLimit = 10
	MaxTopUsersLimit     = 100
)

// Normalize fills the seed's defaults: end is today in loc, start is 30 days
// before end.
func (in *RangeInput) Normalize(now time.Time, loc *time.Location) {
	if in.EndDate == "" {
		in.EndDate = DayOf(now, loc).String()
	}
	if in.StartDate == "" {
		if end, err := ParseDay(in.EndDate); err == nil {
			in.StartDate = (end - DefaultRangeDays).String()
		}
	}
}

// Range parses and validates the input's dates.
func (in RangeInput) Range() (Range, error) { return ParseRange(in.StartDate, in.EndDate) }

// Normalize fills defaults for limit and sort_by.
func (in *TopUsersInput) Normalize(now time.Time, loc *time.Location) {
	in.RangeInput.Normalize(now, loc)
	if in.Limit == nil {
		n := DefaultTopUsersLimit
		in.Limit = &n
	}
	if in.SortBy == "" {
		in.SortBy = string(SortByCost)
	}
}

// Validate checks limit and sort_by.
func (in TopUsersInput) Validate() error {
	if in.Limit == nil {
		return Errorf(KindInvalid, "limit is required")
	}
	if *in.Limit < 1 || *in.Limit > MaxTopUsersLimit {
		return Errorf(KindInvalid, "limit must be between 1 and %d (got %d)", MaxTopUsersLimit, *in.Limit)
	}
	switch SortBy(in.SortBy) {
	case SortByCost, SortByStories, SortByAPICalls:
		return nil
	}
	return Errorf(KindInvalid, "sort_by must be one of cost, stories, api_calls (got %q)", in.SortBy)
}

// Normalize fills the default format.
func (in *ExportInput) Normalize(now time.Time, loc *time.Location) {
	in.RangeInput.Normalize(now, loc)
	if in.Format == "" {
		in.Format = "csv"
	}
	if in.Table == "" {
		in.Table = ExportDaily
	}
	if in.Table == ExportCohorts && in.Period == "" {
		in.Period = string(GranularityWeek)
	}
}

// Validate checks the format, table and period.
func (in ExportInput) Validate() error {
	if in.Format != "csv" && in.Format != "json" {
		return Errorf(KindInvalid, "format must be csv or json (got %q)", in.Format)
	}
	switch in.Table {
	case ExportDaily, ExportUsers, ExportStories:
		if in.Period != "" {
			return Errorf(KindInvalid, "period applies to table=cohorts only")
		}
	case ExportCohorts:
		return CohortsInput{Period: in.Period}.Validate()
	default:
		return Errorf(KindInvalid, "table must be one of daily, users, stories, cohorts (got %q)", in.Table)
	}
	return nil
}

// Period describes the range a result covers.
type Period struct {
	Start    Day    `json:"start"`
	End      Day    `json:"end"`
	Days     int    `json:"days"`
	TimeZone string `json:"timezone"`
}

// DashboardTotals are the KPI figures of a range.
type DashboardTotals struct {
	NewUsers          int64   `json:"new_users"`
	ActiveUsers       int64   `json:"active_users"`
	ChurnedUsers      int64   `json:"churned_users"`
	StoriesCreated    int64   `json:"stories_created"`
	StoriesCompleted  int64   `json:"stories_completed"`
	StoriesFailed     int64   `json:"stories_failed"`
	TotalChapters     int64   `json:"total_chapters"`
	TotalAudioMinutes float64 `json:"total_audio_minutes"`
	APIRequests       int64   `json:"api_requests"`
	APIErrors         int64   `json:"api_errors"`
	UnpricedCalls     int64   `json:"unpriced_calls"`
	TotalCost         Cents   `json:"total_cost_cents"`
	Revenue           Cents   `json:"revenue_cents"`
	ProfitMargin      float64 `json:"profit_margin"`
}

// DashboardDay is one day of the dashboard's daily series.
type DashboardDay struct {
	Date        Day     `json:"date"`
	NewUsers    int64   `json:"new_users"`
	ActiveUsers int64   `json:"active_users"`
	Stories     int64   `json:"stories"`
	Cost        Dollars `json:"cost"`
	Revenue     Dollars `json:"revenue"`
}

// DashboardMetrics is the result of get_dashboard_metrics.
type DashboardMetrics struct {
	Totals DashboardTotals `json:"totals"`
	Daily  []DashboardDay  `json:"daily"`
	Period Period          `json:"period"`
}

// ServiceCost is one service's share of the cost.
type ServiceCost struct {
	Cost        Cents   `json:"cost_cents"`
	CostDollars Dollars `json:"cost_dollars"`
	Percentage  float64 `json:"percentage"`
}

// TotalCost is the cost of all services.
type TotalCost struct {
	Cost        Cents   `json:"cost_cents"`
	CostDollars Dollars `json:"cost_dollars"`
}

// CostBreakdownByService is the seed's breakdown object.
type CostBreakdownByService struct {
	Anthropic  ServiceCost `json:"anthropic"`
	ElevenLabs ServiceCost `json:"elevenlabs"`
	S3         ServiceCost `json:"s3"`
	Total      TotalCost   `json:"total"`
}

// CostDay is one day of per-service costs, in dollars.
type CostDay struct {
	Date       Day     `json:"date"`
	Anthropic  Dollars `json:"anthropic"`
	ElevenLabs Dollars `json:"elevenlabs"`
	S3         Dollars `json:"s3"`
}

// ModelCost is the cost of one service and model over the range.
type ModelCost struct {
	Service          Service `json:"service"`
	Model            string  `json:"model"`
	Calls            int64   `json:"calls"`
	Errors           int64   `json:"errors"`
	UnpricedCalls    int64   `json:"unpriced_calls"`
	InputTokens      int64   `json:"input_tokens"`
	OutputTokens     int64   `json:"output_tokens"`
	CacheWriteTokens int64   `json:"cache_creation_input_tokens"`
	CacheReadTokens  int64   `json:"cache_read_input_tokens"`
	Characters       int64   `json:"characters"`
	BytesTransferred int64   `json:"bytes_transferred"`
	Requests         int64   `json:"requests"`
	Cost             Cents   `json:"cost_cents"`
	CostDollars      Dollars `json:"cost_dollars"`
	Percentage       float64 `json:"percentage"`
	// PricedBy lists the catalog entries (or the caller's own cost) that
	// priced these calls in the range.
	PricedBy []PriceRef `json:"priced_by"`
}

// OperationCost is the cost of one service and operation over the range.
type OperationCost struct {
	Service       Service `json:"service"`
	Operation     string  `json:"operation"`
	Calls         int64   `json:"calls"`
	Errors        int64   `json:"errors"`
	UnpricedCalls int64   `json:"unpriced_calls"`
	Cost          Cents   `json:"cost_cents"`
	CostDollars   Dollars `json:"cost_dollars"`
	Percentage    float64 `json:"percentage"`
}

// CostBreakdown is the result of get_cost_breakdown.
type CostBreakdown struct {
	Breakdown     CostBreakdownByService `json:"breakdown"`
	Daily         []CostDay              `json:"daily"`
	ByModel       []ModelCost            `json:"by_model"`
	ByOperation   []OperationCost        `json:"by_operation"`
	UnpricedCalls int64                  `json:"unpriced_calls"`
	Period        Period                 `json:"period"`
}

// GrowthDay is one day of get_user_growth.
type GrowthDay struct {
	Date        Day   `json:"date"`
	NewUsers    int64 `json:"new_users"`
	TotalUsers  int64 `json:"total_users"`
	ActiveUsers int64 `json:"active_users"`
	Churned     int64 `json:"churned"`
}

// UserGrowth is the result of get_user_growth.
type UserGrowth struct {
	Daily        []GrowthDay `json:"daily"`
	GrowthRate   float64     `json:"growth_rate"`
	TotalNew     int64       `json:"total_new"`
	TotalChurned int64       `json:"total_churned"`
	UsersBefore  int64       `json:"users_before"`
	UsersAtEnd   int64       `json:"users_at_end"`
	ActiveUsers  int64       `json:"active_users"`
	Period       Period      `json:"period"`
}

// TopUser is one row of get_top_users.
type TopUser struct {
	UserID       string  `json:"user_id"`
	Email        *string `json:"email"`
	Stories      int64   `json:"stories"`
	APICalls     int64   `json:"api_calls"`
	AudioMinutes float64 `json:"audio_minutes"`
	CostDollars  Dollars `json:"cost_dollars"`
}

// TopUsers is the result of get_top_users. REST returns Users alone (the
// seed's bare list); MCP needs an object and returns the whole struct.
type TopUsers struct {
	Users  []TopUser `json:"users"`
	SortBy SortBy    `json:"sort_by"`
	Limit  int       `json:"limit"`
	Period Period    `json:"period"`
}

// ExportRow is one day of export_analytics (the seed's columns).
type ExportRow = DashboardDay

// Export is the result of export_analytics as a tool (MCP, agent): the CSV
// text or the JSON rows.
type Export struct {
	Format   string      `json:"format"`
	Table    string      `json:"table,omitempty"`
	Content  string      `json:"content,omitempty"`
	Filename string      `json:"filename,omitempty"`
	Data     []ExportRow `json:"data,omitempty"`
	// The JSON rows of the other tables, each under its table's name.
	Users   []UserEconomics `json:"users,omitempty"`
	Stories []StoryCost     `json:"stories,omitempty"`
	Cohorts []Cohort        `json:"cohorts,omitempty"`
}

// Tools are the analytics tools as plain functions over a Store. Front doors
// call them only through the guard.
type Tools struct {
	Store  Store
	Prices PriceBook // nil: the price tools answer "unavailable"
	Now    func() time.Time

	// Budgets serves the budget tools; nil: they answer "unavailable".
	Budgets *Budgets
}

func (t *Tools) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tools) period(r Range) Period {
	return Period{Start: r.Start, End: r.End, Days: r.Days(), TimeZone: t.Store.Location().String()}
}

// checkedInput is a tool input with defaults and checks of its own.
type checkedInput interface {
	Normalize(now time.Time, loc *time.Location)
	Range() (Range, error)
	Validate() error
}

// checkInput fills an input's defaults and validates its range and the
// rest, as the guard does before any door calls a tool.
func (t *Tools) checkInput(in checkedInput) (Range, error) {
	in.Normalize(t.now(), t.Store.Location())
	r, err := in.Range()
	if err != nil {
		return r, err
	}
	return r, in.Validate()
}

// rangeDays normalizes and validates a range input and returns its days,
// zero-filled.
func (t *Tools) rangeDays(ctx context.Context, in RangeInput) (Range, []DailyRow, error) {
	in.Normalize(t.now(), t.Store.Location())
	r, err := in.Range()
	if err != nil {
		return r, nil, err
	}
	days, err := t.dailyFilled(ctx, r)
	return r, days, err
}

// dailyFilled returns one row per day of r, zero rows where the store has none.
func (t *Tools) dailyFilled(ctx context.Context, r Range) ([]DailyRow, error) {
	rows, err := t.Store.Daily(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("daily rollup: %w", err)
	}
	out := make([]DailyRow, r.Days())
	for i := range out {
		out[i].Day = r.Start + Day(i)
	}
	for _, row := range rows {
		if row.Day >= r.Start && row.Day <= r.End {
			out[row.Day-r.Start] = row
		}
	}
	return out, nil
}

func percent(part, whole Micros) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

func minutes(ms int64) float64 { return float64(ms) / 60000 }

// DashboardMetrics implements get_dashboard_metrics.
func (t *Tools) DashboardMetrics(ctx context.Context, in RangeInput) (*DashboardMetrics, error) {
	r, days, err := t.rangeDays(ctx, in)
	if err != nil {
		return nil, err
	}
	active, err := t.Store.ActiveUsers(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("active users: %w", err)
	}
	res := &DashboardMetrics{Daily: make([]DashboardDay, len(days)), Period: t.period(r)}
	tot := &res.Totals
	tot.ActiveUsers = active
	var cost, revenue Micros
	var audio int64
	bad := false
	for i, d := range days {
		tot.NewUsers += d.NewUsers
		tot.ChurnedUsers += d.ChurnedUsers
		tot.StoriesCreated += d.StoriesCreated
		tot.StoriesCompleted += d.StoriesCompleted
		tot.StoriesFailed += d.StoriesFailed
		tot.TotalChapters += d.Chapters
		tot.APIRequests += d.APIRequests
		tot.APIErrors += d.APIErrors
		tot.UnpricedCalls += d.UnpricedCalls
		acc(&audio, d.AudioMillis, &bad)
		accM(&cost, d.AnthropicCost, &bad)
		accM(&cost, d.ElevenLabsCost, &bad)
		accM(&cost, d.S3Cost, &bad)
		accM(&revenue, MicrosFromCents(d.PaymentsCents), &bad)
		accM(&revenue, -MicrosFromCents(d.RefundsCents), &bad)
		res.Daily[i] = dashboardDay(d)
	}
	if bad {
		return nil, ErrSumOverflow
	}
	tot.TotalAudioMinutes = minutes(audio)
	tot.TotalCost = Cents(cost)
	tot.Revenue = Cents(revenue)
	if revenue != 0 {
		tot.ProfitMargin = float64(revenue-cost) / float64(revenue) * 100
	}
	return res, nil
}

func dashboardDay(d DailyRow) DashboardDay {
	return DashboardDay{
		Date:        d.Day,
		NewUsers:    d.NewUsers,
		ActiveUsers: d.ActiveUsers,
		Stories:     d.StoriesCreated,
		Cost:        Dollars(d.TotalCost()),
		Revenue:     Dollars(d.Revenue()),
	}
}

// CostBreakdown implements get_cost_breakdown.
func (t *Tools) CostBreakdown(ctx context.Context, in RangeInput) (*CostBreakdown, error) {
	r, days, err := t.rangeDays(ctx, in)
	if err != nil {
		return nil, err
	}
	rows, err := t.Store.CostRows(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("cost rows: %w", err)
	}
	res := &CostBreakdown{Daily: make([]CostDay, len(days)), Period: t.period(r),
		ByModel: []ModelCost{}, ByOperation: []OperationCost{}}
	var an, el, s3, total Micros
	bad := false
	for i, d := range days {
		accM(&an, d.AnthropicCost, &bad)
		accM(&el, d.ElevenLabsCost, &bad)
		accM(&s3, d.S3Cost, &bad)
		res.UnpricedCalls += d.UnpricedCalls
		res.Daily[i] = CostDay{Date: d.Day, Anthropic: Dollars(d.AnthropicCost), ElevenLabs: Dollars(d.ElevenLabsCost), S3: Dollars(d.S3Cost)}
	}
	accM(&total, an, &bad)
	accM(&total, el, &bad)
	accM(&total, s3, &bad)
	if bad {
		return nil, ErrSumOverflow
	}
	svc := func(m Micros) ServiceCost {
		return ServiceCost{Cost: Cents(m), CostDollars: Dollars(m), Percentage: percent(m, total)}
	}
	res.Breakdown = CostBreakdownByService{
		Anthropic: svc(an), ElevenLabs: svc(el), S3: svc(s3),
		Total: TotalCost{Cost: Cents(total), CostDollars: Dollars(total)},
	}

	type key struct {
		svc  Service
		name string
	}
	// Maps hold indexes, not pointers: append may move the slice.
	models := map[key]int{}
	ops := map[key]int{}
	for _, c := range rows {
		mk := key{c.Service, c.Model}
		i, ok := models[mk]
		if !ok {
			i = len(res.ByModel)
			res.ByModel = append(res.ByModel, ModelCost{Service: c.Service, Model: c.Model, PricedBy: []PriceRef{}})
			models[mk] = i
		}
		m := &res.ByModel[i]
		m.Calls += c.Calls
		m.Errors += c.Errors
		m.UnpricedCalls += c.UnpricedCalls
		m.InputTokens += c.InputTokens
		m.OutputTokens += c.OutputTokens
		m.CacheWriteTokens += c.CacheWriteTokens
		m.CacheReadTokens += c.CacheReadTokens
		m.Characters += c.Characters
		m.BytesTransferred += c.BytesTransferred
		m.Requests += c.Requests
		accM((*Micros)(&m.Cost), c.Cost, &bad)
		if ref, err := ParsePriceRef(c.PriceRef); err == nil && !ref.IsZero() && !slices.Contains(m.PricedBy, ref) {
			m.PricedBy = append(m.PricedBy, ref)
		}
	}
	for _, c := range rows {
		ok := key{c.Service, c.Operation}
		i, found := ops[ok]
		if !found {
			i = len(res.ByOperation)
			res.ByOperation = append(res.ByOperation, OperationCost{Service: c.Service, Operation: c.Operation})
			ops[ok] = i
		}
		o := &res.ByOperation[i]
		o.Calls += c.Calls
		o.Errors += c.Errors
		o.UnpricedCalls += c.UnpricedCalls
		accM((*Micros)(&o.Cost), c.Cost, &bad)
	}
	if bad {
		return nil, ErrSumOverflow
	}
	for i := range res.ByModel {
		m := &res.ByModel[i]
		m.CostDollars = Dollars(m.Cost)
		m.Percentage = percent(Micros(m.Cost), total)
	}
	for i := range res.ByOperation {
		o := &res.ByOperation[i]
		o.CostDollars = Dollars(o.Cost)
		o.Percentage = percent(Micros(o.Cost), total)
	}
	sortCosts(res.ByModel, func(m ModelCost) (Micros, string) { return Micros(m.Cost), string(m.Service) + "\x00" + m.Model })
	sortCosts(res.ByOperation, func(o OperationCost) (Micros, string) {
		return Micros(o.Cost), string(o.Service) + "\x00" + o.Operation
	})
	return res, nil
}

// UserGrowth implements get_user_growth.
func (t *Tools) UserGrowth(ctx context.Context, in RangeInput) (*UserGrowth, error) {
	r, days, err := t.rangeDays(ctx, in)
	if err != nil {
		return nil, err
	}
	before, err := t.Store.SignupsBefore(ctx, r.Start)
	if err != nil {
		return nil, fmt.Errorf("signups before range: %w", err)
	}
	active, err := t.Store.ActiveUsers(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("active users: %w", err)
	}
	res := &UserGrowth{Daily: make([]GrowthDay, len(days)), UsersBefore: before, ActiveUsers: active, Period: t.period(r)}
	total := before
	for i, d := range days {
		total += d.NewUsers
		res.TotalNew += d.NewUsers
		res.TotalChurned += d.ChurnedUsers
		res.Daily[i] = GrowthDay{Date: d.Day, NewUsers: d.NewUsers, TotalUsers: total, ActiveUsers: d.ActiveUsers, Churned: d.ChurnedUsers}
	}
	res.UsersAtEnd = total
	if before > 0 {
		res.GrowthRate = float64(total-before) / float64(before) * 100
	}
	return res, nil
}

// TopUsers implements get_top_users.
func (t *Tools) TopUsers(ctx context.Context, in TopUsersInput) (*TopUsers, error) {
	r, err := t.checkInput(&in)
	if err != nil {
		return nil, err
	}
	rows, err := t.Store.TopUsers(ctx, r, SortBy(in.SortBy), *in.Limit)
	if err != nil {
		return nil, fmt.Errorf("top users: %w", err)
	}
	res := &TopUsers{Users: make([]TopUser, len(rows)), SortBy: SortBy(in.SortBy), Limit: *in.Limit, Period: t.period(r)}
	for i, u := range rows {
		tu := TopUser{UserID: u.UserID, Stories: u.Stories, APICalls: u.APICalls, AudioMinutes: minutes(u.AudioMillis), CostDollars: Dollars(u.Cost)}
		if u.Email != "" {
			email := u.Email
			tu.Email = &email
		}
		res.Users[i] = tu
	}
	return res, nil
}

// ExportFilename is the seed's attachment name.
func ExportFilename(r Range, format string) string {
	return fmt.Sprintf("analytics_%s_%s.%s", r.Start, r.End, format)
}

// ExportRows returns the rows export_analytics writes, one per day of the
// validated input's range.
func (t *Tools) ExportRows(ctx context.Context, in ExportInput) (Range, []ExportRow, error) {
	in.Normalize(t.now(), t.Store.Location())
	if _, err := in.Range(); err != nil {
		return Range{}, nil, err
	}
	if err := in.Validate(); err != nil {
		return Range{}, nil, err
	}
	r, days, err := t.rangeDays(ctx, in.RangeInput)
	if err != nil {
		return r, nil, err
	}
	rows := make([]ExportRow, len(days))
	for i, d := range days {
		rows[i] = dashboardDay(d)
	}
	return r, rows, nil
}

// ExportCSVHeader is the seed's CSV header.
var ExportCSVHeader = []string{"Date", "New Users", "Active Users", "Stories", "Cost", "Revenue"}

// WriteExportCSV streams rows as CSV, escaping cells that a spreadsheet would
// read as a formula.
func WriteExportCSV(w io.Writer, rows []ExportRow) error {
	recs := make([][]string, len(rows))
	for i, r := range rows {
		recs[i] = []string{
			r.Date.String(),
			strconv.FormatInt(r.NewUsers, 10),
			strconv.FormatInt(r.ActiveUsers, 10),
			strconv.FormatInt(r.Stories, 10),
			FormatScaled(int64(r.Cost), 6),
			FormatScaled(int64(r.Revenue), 6),
		}
	}
	return WriteCSV(w, ExportCSVHeader, recs)
}

// WriteCSV writes a header and records, every cell escaped with
// EscapeCSVCell (user ids, emails and story ids come from the platform's
// users).
func WriteCSV(w io.Writer, header []string, records [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, rec := range records {
		if err := writeEscaped(cw, rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeEscaped writes one record, every cell escaped in place.
func writeEscaped(cw *csv.Writer, rec []string) error {
	for i := range rec {
		rec[i] = EscapeCSVCell(rec[i])
	}
	return cw.Write(rec)
}

// EscapeCSVCell defuses formula injection: a cell starting with = + - @ (or a
// tab or carriage return) gets a leading apostrophe, as OWASP advises. A
// plain negative number stays a number.
func EscapeCSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if s[0] == '-' && plainNegative.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

var plainNegative = regexp.MustCompile(`^-[0-9]+(\.[0-9]+)?$`)

// ExportAnalytics implements export_analytics as a tool result (MCP, agent).
func (t *Tools) ExportAnalytics(ctx context.Context, in ExportInput) (*Export, error) {
	in.Normalize(t.now(), t.Store.Location())
	if in.Table != ExportDaily {
		return t.exportTable(ctx, in)
	}
	r, rows, err := t.ExportRows(ctx, in)
	if err != nil {
		return nil, err
	}
	if in.Format == "json" {
		return &Export{Format: "json", Data: rows}, nil
	}
	var b bytesBuffer
	if err := WriteExportCSV(&b, rows); err != nil {
		return nil, err
	}
	return &Export{Format: "csv", Content: string(b), Filename: ExportFilename(r, "csv")}, nil
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
