package analytics

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Budget tools. Every admin role reads; changing budgets needs
// MANAGE_BUDGETS (owners).
const (
	ToolCreateBudget    = "create_budget"
	ToolListBudgets     = "list_budgets"
	ToolGetBudget       = "get_budget"
	ToolUpdateBudget    = "update_budget"
	ToolDeleteBudget    = "delete_budget"
	ToolGetBudgetStatus = "get_budget_status"
	ToolListAlerts      = "list_alerts"
	ToolListAnomalies   = "list_anomalies"
)

// PermManageBudgets creates, changes and deletes budgets (owners).
const PermManageBudgets Permission = "MANAGE_BUDGETS"

func init() {
	rolePermissions[RoleOwner] = append(rolePermissions[RoleOwner], PermManageBudgets)
}

// BudgetScope says whose spend a budget caps.
type BudgetScope string

// Budget scopes.
const (
	BudgetScopeTotal    BudgetScope = "total"     // all spend
	BudgetScopeService  BudgetScope = "service"   // one service
	BudgetScopeModel    BudgetScope = "model"     // one model (aliases resolve as in pricing)
	BudgetScopeUser     BudgetScope = "user"      // one user
	BudgetScopeEachUser BudgetScope = "each_user" // the same cap for every user separately
)

// BudgetPeriod is the calendar period a budget resets on.
type BudgetPeriod string

// Budget periods (calendar days and months in the reporting zone).
const (
	BudgetPeriodDay   BudgetPeriod = "day"
	BudgetPeriodMonth BudgetPeriod = "month"
)

// Webhook formats.
const (
	WebhookStandard = "standard" // Standard Webhooks, signed
	WebhookSlack    = "slack"    // a Slack incoming-webhook body {"text": …}
)

// Alert types, as the webhook bodies name them.
const (
	AlertThresholdCrossed = "budget.threshold_crossed"
	AlertCostAnomaly      = "cost.anomaly"
)

// DefaultThresholds are a budget's thresholds when none are given.
var DefaultThresholds = []int{50, 80, 100}

// Bounds of a budget.
const (
	MaxBudgetAmount  = Micros(1_000_000_000) * 1_000_000 // $1,000,000,000
	MaxThreshold     = 1000                              // percent
	MaxThresholds    = 10
	MaxBudgetHooks   = 5
	MaxWebhookURLLen = 2048
	maxBudgetName    = 200
)

// Webhook is where a budget's alerts are sent. Secret is shown once, when
// the webhook is created; lists never show it.
type Webhook struct {
	ID     int64  `json:"id"`
	URL    string `json:"url"`
	Format string `json:"format"`
	Secret string `json:"secret,omitempty"`
}

// Budget caps the spend of a scope per calendar period.
type Budget struct {
	ID              int64        `json:"id"`
	Name            string       `json:"name"`
	Scope           BudgetScope  `json:"scope"`
	ScopeValue      string       `json:"scope_value"`
	Period          BudgetPeriod `json:"period"`
	Amount          Micros       `json:"-"`
	AmountDollars   string       `json:"amount_dollars"`
	Thresholds      []int        `json:"thresholds"`
	Webhooks        []Webhook    `json:"webhooks"`
	NotifyAnomalies bool         `json:"notify_anomalies"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
}

// withoutSecrets is the budget as every later answer shows it.
func (b Budget) withoutSecrets() Budget {
	b.Webhooks = slices.Clone(b.Webhooks)
	for i := range b.Webhooks {
		b.Webhooks[i].Secret = ""
	}
	if b.Webhooks == nil {
		b.Webhooks = []Webhook{}
	}
	b.AmountDollars = FormatDollars(b.Amount)
	return b
}

// FormatDollars writes an amount as an exact decimal string with at least
// two decimals ("500.00", "0.000125").
func FormatDollars(m Micros) string {
	s := FormatScaled(int64(m), 6)
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

// ParseDollars reads a non-negative exact decimal dollar amount (at most six
// decimals).
func ParseDollars(s string) (Micros, error) {
	v, err := ParseScaled(strings.TrimSpace(s), 6)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Micros(v), nil
}

// BudgetInput is the body of POST /admin/budgets and PATCH
// /admin/budgets/{id} (where every field is optional).
type BudgetInput struct {
	ID              int64          `json:"id,omitempty" jsonschema:"the budget's id (PATCH and the MCP/CLI doors)"`
	Name            *string        `json:"name,omitempty" jsonschema:"a name for people"`
	Scope           *string        `json:"scope,omitempty" jsonschema:"total, service, model, user or each_user"`
	ScopeValue      *string        `json:"scope_value,omitempty" jsonschema:"the service, model id or user_id the scope names"`
	Period          *string        `json:"period,omitempty" jsonschema:"day or month (calendar, in the reporting zone)"`
	AmountDollars   *string        `json:"amount_dollars,omitempty" jsonschema:"the cap as an exact decimal string, e.g. 500.00"`
	Thresholds      []int          `json:"thresholds,omitempty" jsonschema:"percents of the cap that alert (default 50, 80, 100)"`
	Webhooks        []WebhookInput `json:"webhooks,omitempty" jsonschema:"where alerts go (PATCH replaces the list)"`
	NotifyAnomalies *bool          `json:"notify_anomalies,omitempty" jsonschema:"also send cost anomalies to these webhooks"`
	// BodyError is why the request body could not be read; the guard
	// reports it after authentication, as it does every invalid input.
	BodyError string `json:"-"`
	// Patch marks an update: absent fields keep their values.
	Patch bool `json:"-"`
}

// WebhookInput names a webhook to create.
type WebhookInput struct {
	URL    string `json:"url"`
	Format string `json:"format,omitempty" jsonschema:"standard (default) or slack"`
}

// Validate checks the input as far as it can without the stored budget.
func (in BudgetInput) Validate() error {
	if in.BodyError != "" {
		return Errorf(KindInvalid, "%s", in.BodyError)
	}
	if in.Patch {
		if in.ID <= 0 {
			return Errorf(KindInvalid, "budget id must be a positive integer")
		}
		if in.Scope != nil || in.ScopeValue != nil || in.Period != nil {
			return Errorf(KindInvalid, "scope, scope_value and period cannot change; create a new budget instead")
		}
		_, err := in.apply(Budget{Scope: BudgetScopeTotal, Period: BudgetPeriodMonth, Name: "x", Amount: 1, Thresholds: DefaultThresholds})
		return err
	}
	_, err := in.apply(Budget{})
	return err
}

// apply returns b with the input's fields set, validated.
func (in BudgetInput) apply(b Budget) (Budget, error) {
	if in.Name != nil {
		b.Name = strings.TrimSpace(*in.Name)
	}
	if b.Name == "" {
		return b, Errorf(KindInvalid, "name is required")
	}
	if len(b.Name) > maxBudgetName {
		return b, Errorf(KindInvalid, "name is longer than %d bytes", maxBudgetName)
	}
	if in.Scope != nil {
		b.Scope = BudgetScope(*in.Scope)
	}
	if in.ScopeValue != nil {
		b.ScopeValue = strings.TrimSpace(*in.ScopeValue)
	}
	switch b.Scope {
	case BudgetScopeTotal, BudgetScopeEachUser:
		if b.ScopeValue != "" {
			return b, Errorf(KindInvalid, "scope %s takes no scope_value (got %q)", b.Scope, b.ScopeValue)
		}
	case BudgetScopeService:
		switch Service(b.ScopeValue) {
		case ServiceAnthropic, ServiceElevenLabs, ServiceS3:
		default:
			return b, Errorf(KindInvalid, "scope_value of a service budget must be anthropic, elevenlabs or s3 (got %q)", b.ScopeValue)
		}
	case BudgetScopeModel, BudgetScopeUser:
		if b.ScopeValue == "" {
			return b, Errorf(KindInvalid, "scope %s needs a scope_value (the %s)", b.Scope, map[BudgetScope]string{BudgetScopeModel: "model id", BudgetScopeUser: "user_id"}[b.Scope])
		}
		if err := checkText("scope_value", b.ScopeValue, MaxIDLen, true); err != nil {
			return b, Errorf(KindInvalid, "%s", err)
		}
	default:
		return b, Errorf(KindInvalid, "scope must be total, service, model, user or each_user (got %q)", b.Scope)
	}
	if in.Period != nil {
		b.Period = BudgetPeriod(*in.Period)
	}
	if b.Period != BudgetPeriodDay && b.Period != BudgetPeriodMonth {
		return b, Errorf(KindInvalid, "period must be day or month (got %q)", b.Period)
	}
	if in.AmountDollars != nil {
		v, err := ParseDollars(*in.AmountDollars)
		if err != nil {
			return b, Errorf(KindInvalid, "amount_dollars must be an exact decimal string such as \"500.00\": %v", err)
		}
		b.Amount = v
	}
	if b.Amount <= 0 || b.Amount > MaxBudgetAmount {
		return b, Errorf(KindInvalid, "amount_dollars must be more than 0 and at most %s", FormatDollars(MaxBudgetAmount))
	}
	if in.Thresholds != nil {
		b.Thresholds = slices.Clone(in.Thresholds)
	}
	if len(b.Thresholds) == 0 {
		b.Thresholds = slices.Clone(DefaultThresholds)
	}
	if len(b.Thresholds) > MaxThresholds {
		return b, Errorf(KindInvalid, "at most %d thresholds", MaxThresholds)
	}
	slices.Sort(b.Thresholds)
	b.Thresholds = slices.Compact(b.Thresholds)
	for _, t := range b.Thresholds {
		if t < 1 || t > MaxThreshold {
			return b, Errorf(KindInvalid, "thresholds are percents between 1 and %d (got %d)", MaxThreshold, t)
		}
	}
	if in.Webhooks != nil || !in.Patch {
		if len(in.Webhooks) > MaxBudgetHooks {
			return b, Errorf(KindInvalid, "at most %d webhooks", MaxBudgetHooks)
		}
		b.Webhooks = make([]Webhook, 0, len(in.Webhooks))
		for i, w := range in.Webhooks {
			if w.Format == "" {
				w.Format = WebhookStandard
			}
			if w.Format != WebhookStandard && w.Format != WebhookSlack {
				return b, Errorf(KindInvalid, "webhooks[%d].format must be standard or slack (got %q)", i, w.Format)
			}
			if err := checkWebhookURL(w.URL); err != nil {
				return b, Errorf(KindInvalid, "webhooks[%d].url: %v", i, err)
			}
			b.Webhooks = append(b.Webhooks, Webhook{URL: w.URL, Format: w.Format})
		}
	}
	if in.NotifyAnomalies != nil {
		b.NotifyAnomalies = *in.NotifyAnomalies
	}
	return b, nil
}

func checkWebhookURL(s string) error {
	if len(s) > MaxWebhookURLLen {
		return fmt.Errorf("longer than %d bytes", MaxWebhookURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q must be an http or https URL with a host and no credentials", s)
	}
	return nil
}

// BudgetIDInput names one budget.
type BudgetIDInput struct {
	ID int64 `json:"id" jsonschema:"the budget's id"`
}

// Validate checks the id.
func (in BudgetIDInput) Validate() error {
	if in.ID <= 0 {
		return Errorf(KindInvalid, "budget id must be a positive integer")
	}
	return nil
}

// BudgetList is the answer of GET /admin/budgets.
type BudgetList struct {
	Budgets []Budget `json:"budgets"`
}

// BudgetDeleted is the answer of delete_budget.
type BudgetDeleted struct {
	Deleted int64 `json:"deleted"`
}

// AuditSummary names the budget created or changed (never its secrets).
func (b *Budget) AuditSummary() map[string]any {
	return map[string]any{"budget": b.withoutSecrets()}
}

// UserSpend is one user's spend in a period.
type UserSpend struct {
	UserID string
	Cost   Micros
}

// DayCost is a cost on one day.
type DayCost struct {
	Day  Day
	Cost Micros
}

// Alert is a fired threshold crossing or anomaly, made once per dedup key.
type Alert struct {
	ID          int64           `json:"id"`
	Key         string          `json:"key"`
	Type        string          `json:"type"`
	BudgetID    int64           `json:"budget_id"`
	BudgetName  string          `json:"budget_name"`
	UserID      string          `json:"user_id"`
	Service     string          `json:"service"`
	PeriodStart Day             `json:"period_start"`
	PeriodEnd   Day             `json:"period_end"`
	Threshold   int             `json:"threshold_percent"`
	Body        json.RawMessage `json:"body"`
	CreatedAt   time.Time       `json:"created_at"`
	Deliveries  []Delivery      `json:"deliveries"`
}

// Outbox message states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after the retry window
)

// Delivery is one webhook message of an alert and its attempts.
type Delivery struct {
	ID            int64      `json:"id"`
	MessageID     string     `json:"message_id"`
	URL           string     `json:"url"`
	Format        string     `json:"format"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	LastError     string     `json:"last_error"`
	AttemptLog    []Attempt  `json:"attempt_log"`
	// Secret and Body are for the worker; they are never shown.
	Secret    string    `json:"-"`
	Body      []byte    `json:"-"`
	CreatedAt time.Time `json:"-"`
}

// Attempt is one delivery attempt.
type Attempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error"`
	DurationMS int64     `json:"duration_ms"`
}

// AlertList is the answer of GET /admin/alerts.
type AlertList struct {
	Alerts []Alert `json:"alerts"`
}

// AlertsInput pages the alert history.
type AlertsInput struct {
	BudgetID int64 `json:"budget_id,omitempty" jsonschema:"only this budget's alerts"`
	Limit    int   `json:"limit,omitempty" jsonschema:"how many, newest first (default 100, at most 1000)"`
}

// Validate checks the limit.
func (in AlertsInput) Validate() error {
	if in.BudgetID < 0 {
		return Errorf(KindInvalid, "budget_id must be a positive integer")
	}
	if in.Limit < 0 || in.Limit > 1000 {
		return Errorf(KindInvalid, "limit must be between 1 and 1000 (got %d)", in.Limit)
	}
	return nil
}

// BudgetStore keeps budgets, their alerts and the webhook outbox. Spend is
// read from the rollups of Store.
type BudgetStore interface {
	// CreateBudget stores b and its webhooks (secrets included), setting
	// their ids.
	CreateBudget(ctx context.Context, b *Budget) error
	Budgets(ctx context.Context) ([]Budget, error)
	// Budget returns one budget; KindNotFound if there is none.
	Budget(ctx context.Context, id int64) (Budget, error)
	// UpdateBudget stores b's fields; replaceHooks also replaces its webhooks
	// (their new ids are set).
	UpdateBudget(ctx context.Context, b *Budget, replaceHooks bool) error
	DeleteBudget(ctx context.Context, id int64) error

	// UserDaily is a user's cost per day inside r (days without any are absent).
	UserDaily(ctx context.Context, userID string, r Range) ([]DayCost, error)
	// UsersAtOrOver lists the users whose spend in the period starting at
	// start is at least min (> 0), from the month or day rollup.
	UsersAtOrOver(ctx context.Context, period BudgetPeriod, start Day, min Micros) ([]UserSpend, error)
	// UserSpendNow is a user's spend in the month and on the day given, in
	// one indexed read.
	UserSpendNow(ctx context.Context, userID string, month int, day Day) (monthCost, dayCost Micros, err error)

	// FireAlert inserts the alert unless its key exists, and with it one
	// outbox message per delivery, in one transaction. It reports whether
	// the alert is new.
	FireAlert(ctx context.Context, a *Alert, msgs []Delivery) (bool, error)
	// ClaimDeliveries leases up to limit due pending messages to the caller
	// until now+lease; another worker cannot claim them meanwhile.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishAttempt records an attempt and the message's next state: next
	// is when to retry (state pending), or nil with state delivered or failed.
	FinishAttempt(ctx context.Context, id int64, a Attempt, state string, next *time.Time) error
	// Alerts lists alerts newest first with their deliveries.
	Alerts(ctx context.Context, budgetID int64, limit int) ([]Alert, error)
	// AlertKeys lists the keys of the alerts whose period starts on or
	// after since (a restarted evaluator skips them without a write).
	AlertKeys(ctx context.Context, since Day) ([]string, error)
}

// ModelResolver names the catalog model a model id prices as, so that a
// model budget counts calls logged under an alias or a dated id.
type ModelResolver interface {
	CanonicalModel(service Service, model string) string
}

// Budgets is the budget service: the tools read and change budgets through
// it, the evaluator computes spend with it, and budget-check answers from it.
type Budgets struct {
	Store   BudgetStore
	Rollups Store
	Models  ModelResolver // nil: model ids compare lowercased
	Now     func() time.Time
	// CheckURL refuses webhook URLs the server will not call (loopback,
	// private, link-local); nil accepts every URL.
	CheckURL func(ctx context.Context, rawURL string) error
	// Changed is called after a budget is created, changed or deleted.
	Changed func()

	mu     sync.Mutex
	cached []Budget
	cacheT time.Time
	totals map[string]cachedSpend
}

type cachedSpend struct {
	at    time.Time
	spend Micros
}

func (s *Budgets) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// budgetCacheTTL bounds how stale budget-check's view of the budgets and of
// total spend may be (other replicas' changes included).
const budgetCacheTTL = 2 * time.Second

func (s *Budgets) list(ctx context.Context) ([]Budget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && s.now().Sub(s.cacheT) < budgetCacheTTL {
		return s.cached, nil
	}
	bs, err := s.Store.Budgets(ctx)
	if err != nil {
		return nil, err
	}
	if bs == nil {
		bs = []Budget{}
	}
	s.cached, s.cacheT = bs, s.now()
	return bs, nil
}

func (s *Budgets) invalidate() {
	s.mu.Lock()
	s.cached = nil
	s.mu.Unlock()
	if s.Changed != nil {
		s.Changed()
	}
}

// Today is the current day in the reporting zone.
func (s *Budgets) Today() Day { return DayOf(s.now(), s.Rollups.Location()) }

// PeriodOf is the calendar period of kind p containing d.
func PeriodOf(p BudgetPeriod, d Day) Range {
	if p == BudgetPeriodDay {
		return Range{d, d}
	}
	y, m, _ := d.Date().Date()
	start := DayFromDate(y, m, 1)
	return Range{start, DayFromDate(y, m+1, 1) - 1}
}

// MonthIndex is the user_month key of the month containing d.
func MonthIndex(d Day) int {
	y, m, _ := d.Date().Date()
	return y*12 + int(m) - 1
}

// dailySpend is the budget's spend (of user, for each_user) on every day of
// r, index 0 being r.Start.
func (s *Budgets) dailySpend(ctx context.Context, b *Budget, user string, r Range) ([]Micros, error) {
	out := make([]Micros, r.Days())
	switch b.Scope {
	case BudgetScopeTotal, BudgetScopeService:
		rows, err := s.Rollups.Daily(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			c := row.TotalCost()
			if b.Scope == BudgetScopeService {
				c = map[Service]Micros{ServiceAnthropic: row.AnthropicCost, ServiceElevenLabs: row.ElevenLabsCost, ServiceS3: row.S3Cost}[Service(b.ScopeValue)]
			}
			out[row.Day-r.Start] += c
		}
	case BudgetScopeModel:
		for d := r.Start; d <= r.End; d++ {
			rows, err := s.Rollups.CostRows(ctx, Range{d, d})
			if err != nil {
				return nil, err
			}
			for _, row := range rows {
				if s.canonical(row.Service, row.Model) == s.canonical(row.Service, b.ScopeValue) {
					out[d-r.Start] += row.Cost
				}
			}
		}
	case BudgetScopeUser, BudgetScopeEachUser:
		if b.Scope == BudgetScopeUser {
			user = b.ScopeValue
		}
		if user == "" {
			return out, nil
		}
		rows, err := s.Store.UserDaily(ctx, user, r)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			out[row.Day-r.Start] += row.Cost
		}
	}
	return out, nil
}

func (s *Budgets) canonical(svc Service, model string) string {
	if s.Models != nil {
		return s.Models.CanonicalModel(svc, model)
	}
	return strings.ToLower(model)
}

// Spend is the budget's spend (of user, for each_user) inside r.
func (s *Budgets) Spend(ctx context.Context, b *Budget, user string, r Range) (Micros, error) {
	if b.Scope == BudgetScopeModel { // one aggregate read instead of one per day
		rows, err := s.Rollups.CostRows(ctx, r)
		if err != nil {
			return 0, err
		}
		var spend Micros
		for _, row := range rows {
			if s.canonical(row.Service, row.Model) == s.canonical(row.Service, b.ScopeValue) {
				spend += row.Cost
			}
		}
		return spend, nil
	}
	daily, err := s.dailySpend(ctx, b, user, r)
	return sum(daily), err
}

func sum(xs []Micros) Micros {
	var t Micros
	for _, x := range xs {
		t += x
	}
	return t
}

// Progress is a budget's (or one user's) standing in the current period.
type Progress struct {
	UserID          string  `json:"user_id,omitempty"`
	SpendDollars    string  `json:"spend_dollars"`
	Percent         float64 `json:"percent"`
	RemainingDollar string  `json:"remaining_dollars"`
	ThresholdsFired []int   `json:"thresholds_fired"`
	ForecastDollars string  `json:"forecast_dollars"`
	// ProjectedDate is the day spend reaches 100% at the recent daily
	// rate: the day it did when it already has, null when it will not
	// within the period.
	ProjectedDate *Day `json:"projected_date"`

	spend, forecast Micros
}

// BudgetStatus is the answer of GET /admin/budgets/{id}/status.
type BudgetStatus struct {
	Budget      Budget `json:"budget"`
	PeriodStart Day    `json:"period_start"`
	PeriodEnd   Day    `json:"period_end"`
	Today       Day    `json:"today"`
	TimeZone    string `json:"timezone"`
	Progress
	// Users are, for an each_user budget, the users at or over its lowest
	// threshold, highest spend first (at most 100); the top-level figures
	// are those of the first.
	Users []Progress `json:"users,omitempty"`
}

// percentOf is spend as a percent of amount, to one decimal.
func percentOf(spend, amount Micros) float64 {
	if amount <= 0 {
		return 0
	}
	return math.Round(float64(spend)/float64(amount)*1000) / 10
}

// Crossed lists the thresholds spend has reached.
func (b *Budget) Crossed(spend Micros) []int {
	out := []int{}
	for _, t := range b.Thresholds {
		if int64(spend)*100 >= int64(b.Amount)*int64(t) {
			out = append(out, t)
		}
	}
	return out
}

// ForecastWindow is how many complete days before today the forecast's mean
// daily spend is taken over.
const ForecastWindow = 7

// Progress computes the standing of b (for user, with each_user) on today.
func (s *Budgets) Progress(ctx context.Context, b *Budget, user string, today Day) (Progress, error) {
	period := PeriodOf(b.Period, today)
	daily, err := s.dailySpend(ctx, b, user, Range{period.Start, today})
	if err != nil {
		return Progress{}, err
	}
	recent, err := s.dailySpend(ctx, b, user, Range{today - ForecastWindow, today - 1})
	if err != nil {
		return Progress{}, err
	}
	spend := sum(daily)
	mean := sum(recent) / ForecastWindow
	left := int64(period.End - today)
	forecast := spend + mean*Micros(left)
	p := Progress{UserID: user, spend: spend, forecast: forecast, SpendDollars: FormatDollars(spend),
		Percent: percentOf(spend, b.Amount), ForecastDollars: FormatDollars(forecast),
		RemainingDollar: FormatDollars(max(b.Amount-spend, 0)), ThresholdsFired: b.Crossed(spend)}
	if spend >= b.Amount {
		var run Micros
		for i, c := range daily {
			if run += c; run >= b.Amount {
				d := period.Start + Day(i)
				p.ProjectedDate = &d
				break
			}
		}
	} else if mean > 0 {
		days := (b.Amount - spend + mean - 1) / mean
		if d := today + Day(days); d <= period.End {
			p.ProjectedDate = &d
		}
	}
	return p, nil
}

// Status computes a budget's status now.
func (s *Budgets) Status(ctx context.Context, b Budget) (*BudgetStatus, error) {
	today := s.Today()
	period := PeriodOf(b.Period, today)
	st := &BudgetStatus{Budget: b.withoutSecrets(), PeriodStart: period.Start, PeriodEnd: period.End, Today: today,
		TimeZone: s.Rollups.Location().String()}
	if b.Scope != BudgetScopeEachUser {
		p, err := s.Progress(ctx, &b, "", today)
		if err != nil {
			return nil, err
		}
		st.Progress = p
		return st, nil
	}
	low := Micros(int64(b.Amount) * int64(b.Thresholds[0]) / 100)
	users, err := s.Store.UsersAtOrOver(ctx, b.Period, period.Start, max(low, 1))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(users, func(a, c UserSpend) int {
		if a.Cost != c.Cost {
			return cmp.Compare(c.Cost, a.Cost)
		}
		return strings.Compare(a.UserID, c.UserID)
	})
	if len(users) > 100 {
		users = users[:100]
	}
	st.Users = []Progress{}
	for _, u := range users {
		p, err := s.Progress(ctx, &b, u.UserID, today)
		if err != nil {
			return nil, err
		}
		st.Users = append(st.Users, p)
	}
	if len(st.Users) > 0 {
		st.Progress = st.Users[0]
	} else {
		st.Progress = Progress{SpendDollars: FormatDollars(0), RemainingDollar: FormatDollars(b.Amount),
			ThresholdsFired: []int{}, ForecastDollars: FormatDollars(0)}
	}
	return st, nil
}

// BudgetCheckEntry is one budget covering the user in budget-check.
type BudgetCheckEntry struct {
	ID               int64   `json:"id"`
	Name             string  `json:"name"`
	Percent          float64 `json:"percent"`
	RemainingDollars string  `json:"remaining_dollars"`
}

// BudgetCheck is the answer of GET /v1/budget-check.
type BudgetCheck struct {
	Allowed bool               `json:"allowed"`
	UserID  string             `json:"user_id"`
	Budgets []BudgetCheckEntry `json:"budgets"`
}

// Check answers whether user may spend more: false when any total, user or
// each_user budget covering the user is at or over 100% in its current
// period. It reads the budgets and total spend from a short-lived cache and
// the user's spend in one indexed read.
func (s *Budgets) Check(ctx context.Context, user string) (*BudgetCheck, error) {
	if err := checkText("user_id", user, MaxIDLen, true); err != nil {
		return nil, Errorf(KindInvalid, "%s", err)
	}
	bs, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	res := &BudgetCheck{Allowed: true, UserID: user, Budgets: []BudgetCheckEntry{}}
	var monthCost, dayCost Micros
	read := false
	for i := range bs {
		b := &bs[i]
		var spend Micros
		switch {
		case b.Scope == BudgetScopeTotal:
			spend, err = s.cachedTotal(ctx, b, today)
			if err != nil {
				return nil, err
			}
		case b.Scope == BudgetScopeEachUser || (b.Scope == BudgetScopeUser && b.ScopeValue == user):
			if !read {
				if monthCost, dayCost, err = s.Store.UserSpendNow(ctx, user, MonthIndex(today), today); err != nil {
					return nil, err
				}
				read = true
			}
			spend = dayCost
			if b.Period == BudgetPeriodMonth {
				spend = monthCost
			}
		default:
			continue
		}
		res.Budgets = append(res.Budgets, BudgetCheckEntry{ID: b.ID, Name: b.Name, Percent: percentOf(spend, b.Amount),
			RemainingDollars: FormatDollars(max(b.Amount-spend, 0))})
		if spend >= b.Amount {
			res.Allowed = false
		}
	}
	return res, nil
}

func (s *Budgets) cachedTotal(ctx context.Context, b *Budget, today Day) (Micros, error) {
	period := PeriodOf(b.Period, today)
	key := fmt.Sprintf("%s:%d", b.Period, period.Start)
	s.mu.Lock()
	c, ok := s.totals[key]
	s.mu.Unlock()
	if ok && s.now().Sub(c.at) < budgetCacheTTL {
		return c.spend, nil
	}
	daily, err := s.dailySpend(ctx, b, "", Range{period.Start, today})
	if err != nil {
		return 0, err
	}
	spend := sum(daily)
	s.mu.Lock()
	if s.totals == nil {
		s.totals = map[string]cachedSpend{}
	}
	s.totals[key] = cachedSpend{at: s.now(), spend: spend}
	s.mu.Unlock()
	return spend, nil
}

// NewWebhookSecret returns a Standard Webhooks signing secret, whsec_<base64>.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// setSecrets gives each standard webhook a new signing secret (Slack
// webhooks are not signed).
func setSecrets(ws []Webhook) {
	for i := range ws {
		if ws[i].Format == WebhookStandard {
			ws[i].Secret = NewWebhookSecret()
		}
	}
}

func (s *Budgets) checkHooks(ctx context.Context, b *Budget) error {
	if s.CheckURL == nil {
		return nil
	}
	for i, w := range b.Webhooks {
		if err := s.CheckURL(ctx, w.URL); err != nil {
			return Errorf(KindInvalid, "webhooks[%d].url: %s", i, ErrorMessage(err))
		}
	}
	return nil
}

func (t *Tools) budgets() (*Budgets, error) {
	if t.Budgets == nil {
		return nil, Errorf(KindUnavailable, "this server has no budget store")
	}
	return t.Budgets, nil
}

// CreateBudget implements create_budget. The answer shows each webhook's
// secret, once.
func (t *Tools) CreateBudget(ctx context.Context, in BudgetInput) (*Budget, error) {
	in.Patch = false
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	b, err := in.apply(Budget{})
	if err != nil {
		return nil, err
	}
	if err := s.checkHooks(ctx, &b); err != nil {
		return nil, err
	}
	setSecrets(b.Webhooks)
	if err := s.Store.CreateBudget(ctx, &b); err != nil {
		return nil, err
	}
	s.invalidate()
	b.AmountDollars = FormatDollars(b.Amount)
	return &b, nil
}

// ListBudgets implements list_budgets.
func (t *Tools) ListBudgets(ctx context.Context) (*BudgetList, error) {
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	bs, err := s.Store.Budgets(ctx)
	if err != nil {
		return nil, err
	}
	out := &BudgetList{Budgets: []Budget{}}
	for _, b := range bs {
		out.Budgets = append(out.Budgets, b.withoutSecrets())
	}
	return out, nil
}

// GetBudget implements get_budget.
func (t *Tools) GetBudget(ctx context.Context, in BudgetIDInput) (*Budget, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	b, err := s.Store.Budget(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	b = b.withoutSecrets()
	return &b, nil
}

// UpdateBudget implements update_budget (PATCH): name, amount, thresholds,
// webhooks (replaced, with new secrets shown once) and notify_anomalies.
// Alerts already fired in this period stay fired.
func (t *Tools) UpdateBudget(ctx context.Context, in BudgetInput) (*Budget, error) {
	in.Patch = true
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	old, err := s.Store.Budget(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	b, err := in.apply(old)
	if err != nil {
		return nil, err
	}
	replace := in.Webhooks != nil
	if replace {
		if err := s.checkHooks(ctx, &b); err != nil {
			return nil, err
		}
		setSecrets(b.Webhooks)
	}
	if err := s.Store.UpdateBudget(ctx, &b, replace); err != nil {
		return nil, err
	}
	s.invalidate()
	if !replace {
		b = b.withoutSecrets()
	}
	b.AmountDollars = FormatDollars(b.Amount)
	return &b, nil
}

// DeleteBudget implements delete_budget. Its alert history stays.
func (t *Tools) DeleteBudget(ctx context.Context, in BudgetIDInput) (*BudgetDeleted, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteBudget(ctx, in.ID); err != nil {
		return nil, err
	}
	s.invalidate()
	return &BudgetDeleted{Deleted: in.ID}, nil
}

// GetBudgetStatus implements get_budget_status.
func (t *Tools) GetBudgetStatus(ctx context.Context, in BudgetIDInput) (*BudgetStatus, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	b, err := s.Store.Budget(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return s.Status(ctx, b)
}

// ListAlerts implements list_alerts.
func (t *Tools) ListAlerts(ctx context.Context, in AlertsInput) (*AlertList, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	s, err := t.budgets()
	if err != nil {
		return nil, err
	}
	if in.Limit == 0 {
		in.Limit = 100
	}
	as, err := s.Store.Alerts(ctx, in.BudgetID, in.Limit)
	if err != nil {
		return nil, err
	}
	if as == nil {
		as = []Alert{}
	}
	return &AlertList{Alerts: as}, nil
}

// PrivateAddress reports whether ip is one a server-side webhook must not
// reach: loopback, private, link-local, unspecified or multicast.
func PrivateAddress(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast()
}
