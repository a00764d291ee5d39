package mcpserver_test

import (
	"reflect"
	"testing"
	"time"

	analytics "github.com/codestory/analytics"
)

// TestGetBudgetStatus: get_budget_status answers every admin role with what
// the tool computes, through the guard.
func TestGetBudgetStatus(t *testing.T) {
	f := newFixture(t)
	f.tools.Budgets = &analytics.Budgets{Store: f.store, Rollups: f.store, Now: func() time.Time { return now }}
	name, scope, period, amount := "users", "each_user", "month", "0.01"
	b, err := f.tools.CreateBudget(ctx, analytics.BudgetInput{Name: &name, Scope: &scope, Period: &period, AmountDollars: &amount})
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.tools.GetBudgetStatus(ctx, analytics.BudgetIDInput{ID: b.ID})
	if err != nil || len(want.Users) != 1 || want.Users[0].UserID != "u2" {
		t.Fatalf("status %+v, %v: want u2 over the cap", want, err)
	}
	for _, role := range []string{"viewer", "owner"} {
		cs, _ := f.connect(role)
		res := call(t, cs, "get_budget_status", map[string]any{"id": b.ID})
		if res.IsError || !reflect.DeepEqual(jsonOf(t, res.StructuredContent), jsonOf(t, want)) {
			t.Errorf("%s: %s", role, text(res))
		}
		if res := call(t, cs, "get_budget_status", map[string]any{"id": 999}); !res.IsError {
			t.Errorf("%s: unknown budget answered %s", role, text(res))
		}
	}
}
