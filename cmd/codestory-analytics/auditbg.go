package main

import (
	"context"
	"time"

	"github.com/codestory/analytics/audit"
)

// Audit background work of `serve`.
const (
	auditFlushEvery      = 15 * time.Second
	auditCheckpointEvery = time.Hour
)

// runAuditBackground writes the "N similar suppressed" entries of closed
// windows every few seconds and logs a checkpoint every hour, until ctx
// ends. Replicas may all run it: each window is reported once.
func (a *app) runAuditBackground(ctx context.Context) {
	flush := time.NewTicker(auditFlushEvery)
	defer flush.Stop()
	cp := time.NewTicker(auditCheckpointEvery)
	defer cp.Stop()
	a.logCheckpoint(ctx, "start")
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			if _, err := a.audit.Flush(ctx, time.Now().Truncate(a.audit.Window)); err != nil {
				a.log.Error("audit: writing suppressed denials failed", "err", err)
			}
		case <-cp.C:
			a.logCheckpoint(ctx, "hourly")
		}
	}
}

// auditShutdown reports every suppressed denial, the open window's too, and
// logs the final checkpoint.
func (a *app) auditShutdown(ctx context.Context) {
	if _, err := a.audit.Flush(ctx, time.Time{}); err != nil {
		a.log.Error("audit: writing suppressed denials failed", "err", err)
	}
	a.logCheckpoint(ctx, "shutdown")
}

// logCheckpoint logs the one-line checkpoint of the log's newest entry:
// kept outside the database, it reveals later removal of entries
// (`audit verify --checkpoint LINE`).
func (a *app) logCheckpoint(ctx context.Context, why string) {
	cp, ok, err := audit.Head(ctx, a.store)
	switch {
	case err != nil:
		a.log.Error("audit: reading the checkpoint failed", "err", err)
	case ok:
		a.log.Info("audit checkpoint", "when", why, "checkpoint", cp.String())
	}
}
