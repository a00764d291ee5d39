// Package alerts runs the background work of budgets inside serve: the
// evaluator that makes each alert exactly once (a unique key in the
// database, so replicas, restarts, rebuilds and reprices never double one)
// and the outbox worker that delivers its webhook messages.
package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	analytics "github.com/codestory/analytics"
)

// DefaultInterval is how often the evaluator runs without a nudge; a
// crossing is alerted within it even when another replica took the ingest.
const DefaultInterval = 5 * time.Second

// Evaluator compares each budget's spend in its current period with its
// thresholds and fires the alerts not yet made, and sends each anomaly of
// today (and yesterday) to the budgets that ask for them.
type Evaluator struct {
	Budgets  *analytics.Budgets
	Interval time.Duration
	Log      *slog.Logger
	// Fired, if set, is told that new alerts are in the outbox.
	Fired func()
	// Now stamps alerts and their messages (default time.Now); which day
	// it is comes from Budgets.
	Now func() time.Time

	once   sync.Once
	kick   chan struct{}
	mu     sync.Mutex
	known  map[string]bool // keys known to be fired (alerts are never un-fired)
	loaded bool            // known holds the stored keys of recent periods
}

func (e *Evaluator) init() {
	e.once.Do(func() {
		e.kick = make(chan struct{}, 1)
		e.known = map[string]bool{}
		if e.Interval <= 0 {
			e.Interval = DefaultInterval
		}
		if e.Log == nil {
			e.Log = slog.New(slog.DiscardHandler)
		}
		if e.Now == nil {
			e.Now = time.Now
		}
	})
}

// Notify asks for an evaluation soon; it never blocks (an ingest calls it
// after its commit).
func (e *Evaluator) Notify() {
	e.init()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// MinGap is the least time between two evaluations: nudges that come
// faster (one per ingested batch) are coalesced, so the evaluator's load
// stays bounded however fast events arrive.
const MinGap = time.Second

// Run evaluates on every nudge (at most once per MinGap) and every
// Interval until ctx ends.
func (e *Evaluator) Run(ctx context.Context) {
	e.init()
	t := time.NewTicker(e.Interval)
	defer t.Stop()
	for {
		if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.Log.Warn("budget evaluation failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(MinGap):
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.kick:
		}
	}
}

// Evaluate runs one pass over every budget.
func (e *Evaluator) Evaluate(ctx context.Context) error {
	e.init()
	bs, err := e.Budgets.Store.Budgets(ctx)
	if err != nil {
		return fmt.Errorf("list budgets: %w", err)
	}
	today := e.Budgets.Today()
	if !e.loaded {
		// After a restart, skip the alerts already made without trying to
		// insert each again (an each_user budget may have many).
		keys, err := e.Budgets.Store.AlertKeys(ctx, analytics.PeriodOf(analytics.BudgetPeriodMonth, today).Start-1)
		if err != nil {
			return fmt.Errorf("load alert keys: %w", err)
		}
		for _, k := range keys {
			e.remember(k)
		}
		e.loaded = true
	}
	fired := 0
	var anomalous []*analytics.Budget
	for i := range bs {
		b := &bs[i]
		n, err := e.evaluate(ctx, b, today)
		fired += n
		if err != nil {
			return fmt.Errorf("budget %d: %w", b.ID, err)
		}
		if b.NotifyAnomalies {
			anomalous = append(anomalous, b)
		}
	}
	if len(anomalous) > 0 {
		n, err := e.anomalies(ctx, anomalous, today)
		fired += n
		if err != nil {
			return err
		}
	}
	if fired > 0 && e.Fired != nil {
		e.Fired()
	}
	return nil
}

func (e *Evaluator) isKnown(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.known[key]
}

func (e *Evaluator) remember(key string) {
	e.mu.Lock()
	e.known[key] = true
	e.mu.Unlock()
}

// ThresholdKey is the unique key of a threshold alert.
func ThresholdKey(budgetID int64, periodStart analytics.Day, threshold int, user string) string {
	return fmt.Sprintf("threshold:%d:%s:%d:%s", budgetID, periodStart, threshold, user)
}

// AnomalyKey is the unique key of an anomaly notice to a budget's webhooks.
func AnomalyKey(budgetID int64, day analytics.Day, service analytics.Service) string {
	return fmt.Sprintf("anomaly:%d:%s:%s", budgetID, day, service)
}

func (e *Evaluator) evaluate(ctx context.Context, b *analytics.Budget, today analytics.Day) (int, error) {
	period := analytics.PeriodOf(b.Period, today)
	var users []analytics.UserSpend
	if b.Scope == analytics.BudgetScopeEachUser {
		low := max(analytics.Micros((int64(b.Amount)*int64(b.Thresholds[0])+99)/100), 1)
		var err error
		if users, err = e.Budgets.Store.UsersAtOrOver(ctx, b.Period, period.Start, low); err != nil {
			return 0, err
		}
	} else {
		spend, err := e.Budgets.Spend(ctx, b, "", analytics.Range{Start: period.Start, End: today})
		if err != nil {
			return 0, err
		}
		users = []analytics.UserSpend{{Cost: spend}}
	}
	fired := 0
	for _, u := range users {
		var pending []int
		for _, t := range b.Crossed(u.Cost) {
			if !e.isKnown(ThresholdKey(b.ID, period.Start, t, u.UserID)) {
				pending = append(pending, t)
			}
		}
		if len(pending) == 0 {
			continue
		}
		p, err := e.Budgets.Progress(ctx, b, u.UserID, today)
		if err != nil {
			return fired, err
		}
		for _, t := range pending {
			key := ThresholdKey(b.ID, period.Start, t, u.UserID)
			data := ThresholdData{BudgetID: b.ID, BudgetName: b.Name, Scope: b.Scope, ScopeValue: b.ScopeValue, UserID: u.UserID,
				PeriodStart: period.Start, PeriodEnd: period.End, ThresholdPercent: t, AmountDollars: analytics.FormatDollars(b.Amount),
				SpendDollars: p.SpendDollars, ForecastDollars: p.ForecastDollars}
			text := fmt.Sprintf("Budget %q crossed %d%%: $%s of $%s spent %s to %s", b.Name, t, p.SpendDollars, data.AmountDollars, period.Start, period.End)
			if u.UserID != "" {
				text += " by user " + u.UserID
			}
			text += fmt.Sprintf("; forecast for the period $%s.", p.ForecastDollars)
			a := &analytics.Alert{Key: key, Type: analytics.AlertThresholdCrossed, BudgetID: b.ID, BudgetName: b.Name, UserID: u.UserID,
				PeriodStart: period.Start, PeriodEnd: period.End, Threshold: t}
			isNew, err := e.fire(ctx, b, a, data, text)
			if err != nil {
				return fired, err
			}
			if isNew {
				fired++
				e.Log.Info("budget alert", "budget", b.ID, "threshold", t, "user", u.UserID, "period_start", period.Start.String())
			}
			e.remember(key)
		}
	}
	return fired, nil
}

func (e *Evaluator) anomalies(ctx context.Context, bs []*analytics.Budget, today analytics.Day) (int, error) {
	as, err := analytics.Anomalies(ctx, e.Budgets.Rollups, analytics.Range{Start: today - 1, End: today})
	if err != nil {
		return 0, fmt.Errorf("anomalies: %w", err)
	}
	fired := 0
	for _, an := range as {
		for _, b := range bs {
			key := AnomalyKey(b.ID, an.Date, an.Service)
			if e.isKnown(key) {
				continue
			}
			data := AnomalyData{Service: an.Service, Date: an.Date, CostDollars: an.CostDollars, BaselineDollars: an.BaselineDollars, ThresholdDollars: an.ThresholdDollars}
			text := fmt.Sprintf("Cost anomaly: %s spent $%s on %s, above the $%s threshold (28-day median $%s).", an.Service, an.CostDollars, an.Date, an.ThresholdDollars, an.BaselineDollars)
			a := &analytics.Alert{Key: key, Type: analytics.AlertCostAnomaly, BudgetID: b.ID, BudgetName: b.Name, Service: string(an.Service),
				PeriodStart: an.Date, PeriodEnd: an.Date}
			isNew, err := e.fire(ctx, b, a, data, text)
			if err != nil {
				return fired, err
			}
			if isNew {
				fired++
			}
			e.remember(key)
		}
	}
	return fired, nil
}

// ThresholdData is the data of a budget.threshold_crossed message.
type ThresholdData struct {
	BudgetID         int64                 `json:"budget_id"`
	BudgetName       string                `json:"budget_name"`
	Scope            analytics.BudgetScope `json:"scope"`
	ScopeValue       string                `json:"scope_value"`
	UserID           string                `json:"user_id"`
	PeriodStart      analytics.Day         `json:"period_start"`
	PeriodEnd        analytics.Day         `json:"period_end"`
	ThresholdPercent int                   `json:"threshold_percent"`
	AmountDollars    string                `json:"amount_dollars"`
	SpendDollars     string                `json:"spend_dollars"`
	ForecastDollars  string                `json:"forecast_dollars"`
}

// AnomalyData is the data of a cost.anomaly message.
type AnomalyData struct {
	Service          analytics.Service `json:"service"`
	Date             analytics.Day     `json:"date"`
	CostDollars      string            `json:"cost_dollars"`
	BaselineDollars  string            `json:"baseline_dollars"`
	ThresholdDollars string            `json:"threshold_dollars"`
}

// Message is the body of a standard webhook.
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// NewMessageID returns a webhook-id: the same on every attempt of a message.
func NewMessageID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

func (e *Evaluator) fire(ctx context.Context, b *analytics.Budget, a *analytics.Alert, data any, text string) (bool, error) {
	now := e.Now().UTC()
	body, err := json.Marshal(Message{Type: a.Type, Timestamp: now.Truncate(time.Second), Data: data})
	if err != nil {
		return false, err
	}
	slack, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return false, err
	}
	a.Body, a.CreatedAt = body, now
	msgs := make([]analytics.Delivery, 0, len(b.Webhooks))
	for _, w := range b.Webhooks {
		m := analytics.Delivery{MessageID: NewMessageID(), URL: w.URL, Format: w.Format, Secret: w.Secret, Body: body, CreatedAt: now,
			State: analytics.DeliveryPending, NextAttemptAt: &now}
		if w.Format == analytics.WebhookSlack {
			m.Body = slack
		}
		msgs = append(msgs, m)
	}
	return e.Budgets.Store.FireAlert(ctx, a, msgs)
}
