package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/httpapi"
	mcpserver "github.com/codestory/analytics/mcp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The MCP door: `codestory-analytics mcp` (stdio) and /mcp (Streamable HTTP).
func init() {
	extraCommands["mcp"] = func(e env, ctx context.Context, args []string) error { return e.mcp(ctx, args) }
	extraRoutes = append(extraRoutes, func(a *app) []httpapi.Route {
		srv := a.mcpServer()
		a.closers = append(a.closers, srv.Close) // end open sessions (their Stop runs) before the store closes
		h := srv.HTTPHandler(a.auth.Bearer)
		return []httpapi.Route{
			{Method: "POST", Pattern: "/mcp", Handler: h},
			{Method: "GET", Pattern: "/mcp", Handler: h},
			{Method: "DELETE", Pattern: "/mcp", Handler: h},
		}
	})
}

// mcpServer is the MCP server "analytics" over the app's guard and tools.
func (a *app) mcpServer() *mcpserver.Server {
	return mcpserver.New(mcpserver.Config{Guard: a.guard, Tools: a.tools, Ingester: a.ingester, Log: a.log, Audit: a.store})
}

// ErrNoMCPToken explains how to run the stdio server.
var errNoMCPToken = errors.New("mcp: ANALYTICS_TOKEN is not set: set it to an admin API token " +
	"('codestory-analytics token create --email E --name N') or, for log_api_call only, an ingest key")

// mcp serves MCP on stdin/stdout as the credential in ANALYTICS_TOKEN.
// stdout carries the protocol only: every log line goes to stderr.
func (e env) mcp(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("mcp", &c)
	redisURL := fs.String("redis", e.envOr("ANALYTICS_REDIS", ""), "Redis URL, to share the 30/min limit with the servers (ANALYTICS_REDIS)")
	logLevel := fs.String("log-level", e.envOr("ANALYTICS_LOG_LEVEL", "warn"), "debug, info, warn or error; logs go to stderr (ANALYTICS_LOG_LEVEL)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	token := strings.TrimSpace(e.getenv("ANALYTICS_TOKEN"))
	if token == "" {
		return errNoMCPToken
	}
	log := e.logger(*logLevel)
	a, err := c.openApp(ctx, appOptions{redisURL: *redisURL, log: log})
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.auth.Bearer(ctx, token)
	if err != nil {
		if analytics.ErrorKind(err) == analytics.KindInternal {
			return fmt.Errorf("mcp: checking ANALYTICS_TOKEN: %w", err)
		}
		return fmt.Errorf("mcp: ANALYTICS_TOKEN: %s", analytics.ErrorMessage(err))
	}
	log.Info("MCP server \"analytics\" on stdio", "as", p.Email(), "via", p.Via)
	drain := newStdioDrain(ctx, e.stdin, e.stdout)
	t := &mcp.IOTransport{Reader: io.NopCloser(drain), Writer: nopWriteCloser{drain}}
	return a.mcpServer().Run(ctx, p, t)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
