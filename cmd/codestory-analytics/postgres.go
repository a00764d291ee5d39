package main

import (
	"context"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/postgres"
)

func init() {
	openPostgres = func(ctx context.Context, url string, loc *time.Location) (analytics.Store, error) {
		return postgres.Open(ctx, url, postgres.Options{Location: loc})
	}
}
