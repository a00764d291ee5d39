package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/demo"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/httpapi"
)

// ShutdownGrace is how long in-flight requests may take to finish on stop.
const ShutdownGrace = 30 * time.Second

// defaultAddr is serve's listen address unless --addr says otherwise; with
// --demo only its port is used, on 127.0.0.1.
var defaultAddr = ":8080"

func (e env) serve(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("serve", &c)
	addr := fs.String("addr", e.envOr("ANALYTICS_ADDR", defaultAddr), "listen address (ANALYTICS_ADDR); with --demo the default is 127.0.0.1 only")
	redisURL := fs.String("redis", e.envOr("ANALYTICS_REDIS", ""), "Redis URL for rate limits shared by several replicas, e.g. redis://127.0.0.1:6379/0 (ANALYTICS_REDIS)")
	withDemo := fs.Bool("demo", e.envOr("ANALYTICS_DEMO", "") == "true", "fill an empty database with demo data and create a demo owner (ANALYTICS_DEMO=true)")
	askModel := fs.String("ask-model", e.envOr("ANALYTICS_ASK_MODEL", DefaultAskModel), "Claude model of the Ask agent (ANALYTICS_ASK_MODEL); Ask runs only when ANTHROPIC_API_KEY is set")
	logLevel := fs.String("log-level", e.envOr("ANALYTICS_LOG_LEVEL", "info"), "debug, info, warn or error (ANALYTICS_LOG_LEVEL)")
	askLimit := fs.String("ask-daily-limit", e.envOr("ANALYTICS_ASK_DAILY_LIMIT", "1.00"), "each admin's daily cap on Ask's own Claude spend, in US dollars; 0 turns Ask off (ANALYTICS_ASK_DAILY_LIMIT)")
	proxies := fs.String("trusted-proxies", e.envOr("ANALYTICS_TRUSTED_PROXIES", ""), "CIDRs or addresses of reverse proxies whose X-Forwarded-For names the client, e.g. 10.0.0.0/8 (ANALYTICS_TRUSTED_PROXIES; default: none, the TCP peer is the client)")
	rateLimit := fs.String("rate-limit", e.envOr("ANALYTICS_RATE_LIMIT", strconv.Itoa(guard.AnalyticsRate.Burst)), "analytics calls each admin may make per minute, on every door (ANALYTICS_RATE_LIMIT; the seed's 30 by default)")
	budgetOpts := e.budgetFlags(fs)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	perMinute, err := strconv.Atoi(*rateLimit)
	if err != nil || perMinute < 1 {
		return usageError{fmt.Sprintf("--rate-limit: %q is not a number of calls per minute (a whole number, at least 1)", *rateLimit)}
	}
	c.create = true
	trusted, err := httpapi.ParseTrustedProxies(*proxies)
	if err != nil {
		return usageError{err.Error()}
	}
	limit, err := parseDollars(*askLimit)
	if err != nil {
		return usageError{"--ask-daily-limit: " + err.Error()}
	}
	if *withDemo {
		*addr = demoAddr(fs, e.getenv, *addr)
	}
	log := e.logger(*logLevel)
	a, err := c.openApp(ctx, appOptions{redisURL: *redisURL, redisPrefix: e.getenv("ANALYTICS_REDIS_PREFIX"), log: log, askModel: *askModel, getenv: e.getenv,
		askDailyLimit: &limit, rate: guard.Rate{Burst: perMinute, Period: time.Minute}})
	if err != nil {
		return err
	}
	defer a.Close()
	a.trustedProxies = trusted
	defer a.runBudgets(ctx, budgetOpts)()
	s := a.store
	if *withDemo {
		if err := e.seedDemo(ctx, s, a.ingester); err != nil {
			return err
		}
		if err := e.ensureDemoOwner(ctx, a); err != nil {
			return err
		}
	}
	srv := a.handler()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second, // slow clients cannot hold connections open
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{})
	go func() { defer close(bgDone); a.runAuditBackground(bgCtx) }()
	defer func() { stopBG(); <-bgDone }()
	host := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = fmt.Sprintf("localhost:%d", tcp.Port)
	}
	log.Info("serving", "addr", ln.Addr().String(), "db", c.db, "timezone", s.Location().String())
	fmt.Fprintf(e.stdout, "listening on http://%s\n", host)
	fmt.Fprintf(e.stdout, "dashboard: http://%s/admin/analytics\n", host)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopBG()
	<-bgDone
	a.auditShutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// seedDemo fills an empty database with the default demo data set.
func (e env) seedDemo(ctx context.Context, s analytics.Store, in *analytics.Ingester) error {
	n, err := s.EventCount(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(e.stdout, "demo: database already has %d events; not adding demo data\n", n)
		return nil
	}
	fmt.Fprintln(e.stdout, "demo: generating 90 days of data for 2,000 users…")
	start := time.Now()
	res, err := loadDemo(ctx, in, demo.Options{Days: 90, Users: 2000, Seed: 1, End: time.Now()}, e.stderr)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	fmt.Fprintf(e.stdout, "demo: %d events stored in %s\n", res.Accepted, time.Since(start).Round(time.Millisecond))
	return nil
}
