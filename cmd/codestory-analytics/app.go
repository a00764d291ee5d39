package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/access"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/httpapi"
	"github.com/codestory/analytics/metrics"
	"github.com/codestory/analytics/pricing"
	"github.com/codestory/analytics/redis"
	"github.com/codestory/analytics/web"
)

// fullStore is what the server needs of a database.
type fullStore interface {
	analytics.Store
	analytics.AdminStore
	analytics.AuditStore
	analytics.LifecycleStore
}

// app is the wired service: one store, one guard, the tools and the doors.
type app struct {
	store    fullStore
	auth     *auth.Authenticator
	audit    *audit.Log
	guard    *guard.Guard
	limiter  guard.Limiter
	tools    *analytics.Tools
	ingester *analytics.Ingester
	log      *slog.Logger
	metrics  *metrics.Metrics
	ready    map[string]func(context.Context) error
	closers  []func() error
	askModel string
	getenv   func(string) string
	// askBudget caps each admin's daily Ask spend (nil: the store keeps none).
	askBudget *guard.AskBudget
	// login counts login attempts (in Redis with --redis); trustedProxies
	// may set X-Forwarded-For (serve --trusted-proxies).
	login          auth.LoginCounter
	trustedProxies []netip.Prefix
	// bw is the budget service and its evaluator (budget.go).
	bw *budgetWork
}

type appOptions struct {
	askModel    string
	getenv      func(string) string
	redisURL    string
	redisPrefix string // keeps tests apart on one Redis
	log         *slog.Logger
	// readOnlyAudit opens the audit log without generating a key or
	// anchoring an unkeyed chain (audit verify, audit head).
	readOnlyAudit bool
	// askDailyLimit is --ask-daily-limit; nil means the default.
	askDailyLimit *analytics.Micros
	// rate is each admin's analytics rate limit (--rate-limit); zero
	// means the seed's, guard.AnalyticsRate.
	rate guard.Rate
}

func (c common) openApp(ctx context.Context, o appOptions) (*app, error) {
	s, err := c.openStore(ctx)
	if err != nil {
		return nil, err
	}
	fs, ok := s.(fullStore)
	if !ok {
		s.Close()
		return nil, errors.New("this database engine does not support admin accounts yet")
	}
	pricer, err := c.pricer(ctx, fs)
	if err != nil {
		s.Close()
		return nil, err
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	a := &app{store: fs, log: o.log, ready: map[string]func(context.Context) error{}, metrics: metrics.New(), login: &auth.MemoryCounter{}}
	a.closers = append(a.closers, s.Close)
	a.askModel, a.getenv = o.askModel, o.getenv
	a.auth = &auth.Authenticator{Admins: fs, Keys: fs}
	if err := a.openAudit(ctx, c, o); err != nil { // auditwire.go
		a.Close()
		return nil, err
	}
	a.tools = &analytics.Tools{Store: fs, Prices: &pricing.Book{Live: pricer, Store: fs}}
	a.ingester = &analytics.Ingester{Store: fs, Pricer: pricer}
	a.wireBudgets(pricer)
	gc := guard.Config{Audit: a.audit, Location: fs.Location}
	rate := o.rate
	if rate.Burst <= 0 {
		rate = guard.AnalyticsRate
	}
	if o.redisURL == "" {
		a.limiter = guard.NewMemory(rate, nil)
	} else {
		rc, err := redis.Open(ctx, o.redisURL)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.closers = append(a.closers, rc.Close)
		lim := redis.NewLimiter(rc, rate, o.redisPrefix, o.log)
		lim.OnFallback = a.metrics.LimiterFallbacks.Inc
		a.limiter = lim
		lc := redis.NewLoginCounter(rc, o.redisPrefix, o.log)
		lc.OnFallback = a.metrics.LimiterFallbacks.Inc
		a.login = lc
		a.closers = append(a.closers, lc.Close)
		sessions := &redis.Sessions{Client: rc, Prefix: o.redisPrefix, Log: o.log}
		gc.PostHooks = append(gc.PostHooks, sessions.Record)
		gc.StopHooks = append(gc.StopHooks, sessions.Stop)
		a.ready["redis"] = func(ctx context.Context) error {
			cctx, cancel := context.WithTimeout(ctx, redis.Timeout)
			defer cancel()
			return rc.Ping(cctx).Err()
		}
	}
	gc.Limiter = a.limiter
	a.guard = guard.New(gc)
	a.addAskBudget(o) // auditwire.go
	a.recheckCredentials()
	a.guard.OnDecision = func(tool string, door analytics.Door, outcome string) {
		a.metrics.GuardDecisions.WithLabelValues(tool, string(door), outcome).Inc()
	}
	return a, nil
}

func (a *app) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// extraRoutes are added by other front doors (mcp.go, ask.go).
var extraRoutes []func(a *app) []httpapi.Route

func (a *app) handler() *httpapi.Server {
	var assets fs.FS
	if sub, err := fs.Sub(web.Dist, "dist"); err == nil {
		assets = sub
	}
	d := httpapi.Deps{
		Store: a.store, Admins: a.store, AuditStore: a.store, Audit: a.audit, Auth: a.auth, Guard: a.guard,
		Ingester: a.ingester, Tools: a.tools, Log: a.log, Assets: assets, Ready: a.ready, Metrics: a.metrics,
	}
	d.Access = &access.Service{Store: a.store}
	d.Login = &auth.LoginGate{Auth: a.auth, Devices: a.store, Counter: a.login}
	d.TrustedProxies = a.trustedProxies
	for _, f := range extraRoutes {
		d.Extra = append(d.Extra, f(a)...)
	}
	return httpapi.NewServer(d)
}

// DemoOwner is the account `serve --demo` creates.
const DemoOwner = "demo@codestory.local"

// ensureDemoOwner creates the demo owner when the database has no owner.
func (e env) ensureDemoOwner(ctx context.Context, a *app) error {
	admins, err := a.store.ListAdmins(ctx)
	if err != nil {
		return err
	}
	for _, adm := range admins {
		if adm.Role == analytics.RoleOwner {
			fmt.Fprintf(e.stdout, "demo: owner %s already exists; log in with its password\n", adm.Email)
			return nil
		}
	}
	pw := e.getenv("ANALYTICS_DEMO_PASSWORD")
	if pw == "" {
		pw = auth.NewSecret("")[:20]
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return fmt.Errorf("ANALYTICS_DEMO_PASSWORD: %w", err)
	}
	adm, err := a.store.CreateAdmin(ctx, DemoOwner, analytics.RoleOwner, hash)
	if err != nil {
		return err
	}
	id := adm.ID
	if _, err := a.audit.Append(ctx, analytics.AuditEntry{AdminID: &id, AdminEmail: adm.Email, Door: analytics.DoorCLI,
		Action: "admin_created", Outcome: analytics.OutcomeAllowed, Details: audit.Details(map[string]any{"role": adm.Role, "demo": true})}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo: owner login  email: %s  password: %s\n", DemoOwner, pw)
	return nil
}

// handlerRoutesForTest lists the routes of a server wired like production.
func (a *app) handlerRoutesForTest() []httpapi.Route {
	return httpapi.NewServer(httpapi.Deps{Tools: &analytics.Tools{}, Guard: guard.New(guard.Config{})}).Routes()
}
