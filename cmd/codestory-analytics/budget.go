package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/alerts"
)

func init() {
	extraCommands["budget"] = (env).budget
}

// budgetWork is the budget side of the app: the service the tools use and
// the evaluator an ingest nudges.
type budgetWork struct {
	budgets   *analytics.Budgets
	evaluator *alerts.Evaluator
}

// wireBudgets gives the tools their budget service and hooks the ingest
// path to the evaluator. Webhook URLs to private addresses are refused
// until serve (or budget create) says otherwise.
func (a *app) wireBudgets(models analytics.ModelResolver) {
	bs, ok := a.store.(analytics.BudgetStore)
	if !ok {
		return
	}
	b := &analytics.Budgets{Store: bs, Rollups: a.store, Models: models, CheckURL: alerts.URLChecker(false)}
	ev := &alerts.Evaluator{Budgets: b, Log: a.log}
	a.tools.Budgets = b
	a.ingester.Committed = ev.Notify
	a.bw = &budgetWork{budgets: b, evaluator: ev}
}

// budgetOptions are serve's flags for the background work.
type budgetOptions struct {
	allowPrivate *bool
	retryBase    *time.Duration
	lease        *time.Duration
	interval     *time.Duration
}

func (e env) budgetFlags(fs *flag.FlagSet) budgetOptions {
	dur := func(name string, def time.Duration) time.Duration {
		if v := e.getenv(name); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
		return def
	}
	return budgetOptions{
		allowPrivate: fs.Bool("allow-private-webhooks", e.envOr("ANALYTICS_ALLOW_PRIVATE_WEBHOOKS", "") == "true",
			"allow budget webhooks to loopback, private and link-local addresses (ANALYTICS_ALLOW_PRIVATE_WEBHOOKS=true; for tests and closed networks)"),
		retryBase: fs.Duration("webhook-retry-base", dur("ANALYTICS_WEBHOOK_RETRY_BASE", alerts.DefaultBackoff),
			"first retry delay of a failed webhook; doubles each attempt (with jitter, at most 1h) for up to 24h (ANALYTICS_WEBHOOK_RETRY_BASE)"),
		lease: fs.Duration("webhook-lease", dur("ANALYTICS_WEBHOOK_LEASE", alerts.AttemptTimeout+20*time.Second),
			"how long a replica holds a claimed webhook message before another may retry it; keep it above the 10s attempt timeout (ANALYTICS_WEBHOOK_LEASE)"),
		interval: fs.Duration("budget-interval", dur("ANALYTICS_BUDGET_INTERVAL", alerts.DefaultInterval),
			"how often budgets are evaluated besides after each ingest, at most 5s (ANALYTICS_BUDGET_INTERVAL)"),
	}
}

// runBudgets starts the evaluator and the outbox worker; the returned
// function stops them and waits.
func (a *app) runBudgets(ctx context.Context, o budgetOptions) func() {
	if a.bw == nil {
		return func() {}
	}
	a.bw.budgets.CheckURL = alerts.URLChecker(*o.allowPrivate)
	d := &alerts.Deliverer{Store: a.bw.budgets.Store, Client: alerts.NewClient(*o.allowPrivate), Backoff: alerts.Backoff(*o.retryBase),
		Lease: *o.lease, Log: a.log}
	a.bw.evaluator.Interval = min(*o.interval, alerts.DefaultInterval)
	a.bw.evaluator.Fired = d.Notify
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.bw.evaluator.Run(ctx) }()
	go func() { defer wg.Done(); d.Run(ctx) }()
	return func() { cancel(); wg.Wait() }
}

type intList []int

func (l *intList) String() string { return fmt.Sprint([]int(*l)) }
func (l *intList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("%q is not a whole percent", p)
		}
		*l = append(*l, n)
	}
	return nil
}

type strList []string

func (l *strList) String() string     { return strings.Join(*l, ",") }
func (l *strList) Set(v string) error { *l = append(*l, v); return nil }

func (e env) budget(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics budget create --name N --scope total|service|model|user|each_user [--scope-value V] --period day|month --amount DOLLARS [--thresholds 50,80,100] [--webhook URL]... [--slack URL]... [--notify-anomalies] | budget list [--json] | budget status --id N [--json] | budget delete --id N"
	if len(args) == 0 {
		return usageError{help}
	}
	var c common
	switch args[0] {
	case "create":
		fs := e.flags("budget create", &c)
		name := fs.String("name", "", "a name for people")
		scope := fs.String("scope", "total", "total, service, model, user or each_user")
		value := fs.String("scope-value", "", "the service, model id or user_id the scope names")
		period := fs.String("period", "month", "day or month (calendar, in the reporting zone)")
		amount := fs.String("amount", "", "the cap in dollars, e.g. 500.00")
		var thresholds intList
		var hooks, slacks strList
		fs.Var(&thresholds, "thresholds", "percents that alert, comma-separated (default 50,80,100)")
		fs.Var(&hooks, "webhook", "a Standard Webhooks URL (repeatable)")
		fs.Var(&slacks, "slack", "a Slack incoming-webhook URL (repeatable)")
		notify := fs.Bool("notify-anomalies", false, "also send cost anomalies to the webhooks")
		allowPrivate := fs.Bool("allow-private-webhooks", false, "accept webhook URLs on loopback, private or link-local addresses")
		asJSON := fs.Bool("json", false, "print the budget as JSON (as POST /admin/budgets answers)")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		in := analytics.BudgetInput{Name: name, Scope: scope, ScopeValue: value, Period: period, AmountDollars: amount,
			Thresholds: thresholds, NotifyAnomalies: notify}
		for _, u := range hooks {
			in.Webhooks = append(in.Webhooks, analytics.WebhookInput{URL: u, Format: analytics.WebhookStandard})
		}
		for _, u := range slacks {
			in.Webhooks = append(in.Webhooks, analytics.WebhookInput{URL: u, Format: analytics.WebhookSlack})
		}
		res, err := e.cliTool(ctx, c, analytics.ToolCreateBudget, in, func(ctx context.Context, a *app) (any, error) {
			if a.bw == nil {
				return nil, analytics.Errorf(analytics.KindUnavailable, "this database has no budget store")
			}
			a.bw.budgets.CheckURL = alerts.URLChecker(*allowPrivate)
			return a.tools.CreateBudget(ctx, in)
		})
		if err != nil {
			return err
		}
		b := res.(*analytics.Budget)
		if *asJSON {
			return e.printJSON(b)
		}
		covers := string(b.Scope)
		if b.ScopeValue != "" {
			covers += " " + b.ScopeValue
		}
		fmt.Fprintf(e.stdout, "budget %d %q: $%s per %s for %s, thresholds %v\n", b.ID, b.Name, b.AmountDollars, b.Period, covers, b.Thresholds)
		for _, w := range b.Webhooks {
			fmt.Fprintf(e.stdout, "webhook %d (%s) %s", w.ID, w.Format, w.URL)
			if w.Secret != "" {
				fmt.Fprintf(e.stdout, "  signing secret: %s  (shown once)", w.Secret)
			}
			fmt.Fprintln(e.stdout)
		}
		return nil
	case "list":
		fs := e.flags("budget list", &c)
		asJSON := fs.Bool("json", false, "print JSON (as GET /admin/budgets)")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		res, err := e.cliTool(ctx, c, analytics.ToolListBudgets, nil, func(ctx context.Context, a *app) (any, error) { return a.tools.ListBudgets(ctx) })
		if err != nil {
			return err
		}
		list := res.(*analytics.BudgetList)
		if *asJSON {
			return e.printJSON(list)
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tVALUE\tPERIOD\tAMOUNT $\tTHRESHOLDS\tWEBHOOKS")
		for _, b := range list.Budgets {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%v\t%d\n", b.ID, b.Name, b.Scope, b.ScopeValue, b.Period, b.AmountDollars, b.Thresholds, len(b.Webhooks))
		}
		return tw.Flush()
	case "status", "delete":
		fs := e.flags("budget "+args[0], &c)
		id := fs.Int64("id", 0, "the budget's id")
		asJSON := fs.Bool("json", false, "print JSON (as GET /admin/budgets/{id}/status)")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		in := analytics.BudgetIDInput{ID: *id}
		if args[0] == "delete" {
			if _, err := e.cliTool(ctx, c, analytics.ToolDeleteBudget, in, func(ctx context.Context, a *app) (any, error) { return a.tools.DeleteBudget(ctx, in) }); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "budget %d deleted (its alert history stays)\n", *id)
			return nil
		}
		res, err := e.cliTool(ctx, c, analytics.ToolGetBudgetStatus, in, func(ctx context.Context, a *app) (any, error) { return a.tools.GetBudgetStatus(ctx, in) })
		if err != nil {
			return err
		}
		st := res.(*analytics.BudgetStatus)
		if *asJSON {
			return e.printJSON(st)
		}
		fmt.Fprintf(e.stdout, "budget %d %q: %s to %s (%s)\n", st.Budget.ID, st.Budget.Name, st.PeriodStart, st.PeriodEnd, st.TimeZone)
		fmt.Fprintf(e.stdout, "spent $%s of $%s (%.1f%%), thresholds fired %v, forecast $%s", st.SpendDollars, st.Budget.AmountDollars, st.Percent, st.ThresholdsFired, st.ForecastDollars)
		if st.ProjectedDate != nil {
			fmt.Fprintf(e.stdout, ", reaches 100%% on %s", st.ProjectedDate)
		}
		fmt.Fprintln(e.stdout)
		for _, u := range st.Users {
			fmt.Fprintf(e.stdout, "  user %s: $%s (%.1f%%), fired %v, forecast $%s\n", u.UserID, u.SpendDollars, u.Percent, u.ThresholdsFired, u.ForecastDollars)
		}
		return nil
	}
	return usageError{help}
}
