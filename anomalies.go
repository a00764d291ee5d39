package analytics

import (
	"context"
	"math"
	"slices"
)

// Anomaly rule: for each service, a day is anomalous when its cost exceeds
// median + max(AnomalyMADs × 1.4826 × MAD, AnomalyMinShare × median,
// AnomalyMinDollars) of the AnomalyWindow days before it (days without
// spend count as zero; the current day is judged as it accumulates).
const (
	AnomalyWindow     = 28
	AnomalyMADs       = 4.0
	AnomalyMinShare   = 0.20
	AnomalyMinDollars = Micros(1_000_000)
	madToSigma        = 1.4826
)

// Anomaly is one service's anomalous day.
type Anomaly struct {
	Service          Service `json:"service"`
	Date             Day     `json:"date"`
	CostDollars      string  `json:"cost_dollars"`
	BaselineDollars  string  `json:"baseline_dollars"`
	ThresholdDollars string  `json:"threshold_dollars"`

	Cost, Baseline, Threshold Micros `json:"-"`
}

// AnomalyList is the answer of GET /admin/anomalies.
type AnomalyList struct {
	Period    Period    `json:"period"`
	Anomalies []Anomaly `json:"anomalies"`
	// Forecast projects the current month's total spend (for the Costs
	// tab); absent when the server has no budget service.
	Forecast *MonthForecast `json:"forecast,omitempty"`
}

// MonthForecast is the current month's total spend and its projection:
// spend so far + mean daily spend of the last 7 complete days × days left.
type MonthForecast struct {
	PeriodStart     Day    `json:"period_start"`
	PeriodEnd       Day    `json:"period_end"`
	SpendDollars    string `json:"spend_dollars"`
	ForecastDollars string `json:"forecast_dollars"`
}

// AnomalyThreshold returns the median of window and the cost above which a
// day is anomalous.
func AnomalyThreshold(window []Micros) (baseline, threshold Micros) {
	med := median(window)
	dev := make([]Micros, len(window))
	for i, c := range window {
		dev[i] = c - med
		if dev[i] < 0 {
			dev[i] = -dev[i]
		}
	}
	mad := median(dev)
	margin := max(math.Round(AnomalyMADs*madToSigma*float64(mad)), math.Round(AnomalyMinShare*float64(med)), float64(AnomalyMinDollars))
	return med, med + Micros(margin)
}

func median(xs []Micros) Micros {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// DetectAnomalies judges every day of r for every service. rows are the
// daily rollup rows from r.Start − AnomalyWindow to r.End (any order).
func DetectAnomalies(rows []DailyRow, r Range) []Anomaly {
	from := r.Start - AnomalyWindow
	n := int(r.End-from) + 1
	series := map[Service][]Micros{ServiceAnthropic: make([]Micros, n), ServiceElevenLabs: make([]Micros, n), ServiceS3: make([]Micros, n)}
	for _, row := range rows {
		if row.Day < from || row.Day > r.End {
			continue
		}
		i := row.Day - from
		series[ServiceAnthropic][i] += row.AnthropicCost
		series[ServiceElevenLabs][i] += row.ElevenLabsCost
		series[ServiceS3][i] += row.S3Cost
	}
	out := []Anomaly{}
	for d := r.Start; d <= r.End; d++ {
		i := int(d - from)
		for _, svc := range []Service{ServiceAnthropic, ServiceElevenLabs, ServiceS3} {
			s := series[svc]
			base, thr := AnomalyThreshold(s[i-AnomalyWindow : i])
			if s[i] > thr {
				out = append(out, Anomaly{Service: svc, Date: d, Cost: s[i], Baseline: base, Threshold: thr,
					CostDollars: FormatDollars(s[i]), BaselineDollars: FormatDollars(base), ThresholdDollars: FormatDollars(thr)})
			}
		}
	}
	return out
}

// Anomalies finds the anomalous days inside r.
func Anomalies(ctx context.Context, s Store, r Range) ([]Anomaly, error) {
	rows, err := s.Daily(ctx, Range{r.Start - AnomalyWindow, r.End})
	if err != nil {
		return nil, err
	}
	return DetectAnomalies(rows, r), nil
}

// ListAnomalies implements list_anomalies.
func (t *Tools) ListAnomalies(ctx context.Context, in RangeInput) (*AnomalyList, error) {
	in.Normalize(t.now(), t.Store.Location())
	r, err := in.Range()
	if err != nil {
		return nil, err
	}
	as, err := Anomalies(ctx, t.Store, r)
	if err != nil {
		return nil, err
	}
	out := &AnomalyList{Period: t.period(r), Anomalies: as}
	if t.Budgets != nil {
		today := t.Budgets.Today()
		month := &Budget{Scope: BudgetScopeTotal, Period: BudgetPeriodMonth, Amount: 1, Thresholds: DefaultThresholds}
		p, err := t.Budgets.Progress(ctx, month, "", today)
		if err != nil {
			return nil, err
		}
		period := PeriodOf(BudgetPeriodMonth, today)
		out.Forecast = &MonthForecast{PeriodStart: period.Start, PeriodEnd: period.End, SpendDollars: p.SpendDollars, ForecastDollars: p.ForecastDollars}
	}
	return out, nil
}
