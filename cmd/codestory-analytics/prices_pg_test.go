package main

import (
	"testing"

	"github.com/codestory/analytics/internal/pgtest"
)

// TestLatePriceFlowPostgres is TestLatePriceFlow on two replicas sharing a
// PostgreSQL database: the price added on one replica prices the other's
// next batch, and the reprice takes the stored call to its price.
func TestLatePriceFlowPostgres(t *testing.T) { latePriceFlow(t, pgtest.NewDatabase(t)) }
