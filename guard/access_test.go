package guard_test

import (
	"context"
	"errors"
	"testing"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/guard"
)

// TestRecheck: a long-lived door's calls are checked against the database
// again; REST, which resolved its credential on this very request, is not.
func TestRecheck(t *testing.T) {
	var checked []analytics.Credential
	live := map[int64]bool{1: true}
	hook := guard.Recheck(func(_ context.Context, c analytics.Credential) error {
		checked = append(checked, c)
		if !live[c.AdminID] {
			return analytics.Errorf(analytics.KindUnauthenticated, "this admin account is disabled")
		}
		return nil
	})
	p := func(id int64) *analytics.Principal {
		return &analytics.Principal{Admin: &analytics.Admin{ID: id, Role: analytics.RoleOwner}, Via: "token", TokenID: 10 + id}
	}
	for _, tc := range []struct {
		name   string
		door   analytics.Door
		p      *analytics.Principal
		denied bool
	}{
		{"live admin over MCP", analytics.DoorMCP, p(1), false},
		{"disabled admin over MCP", analytics.DoorMCP, p(2), true},
		{"disabled admin in an Ask run", analytics.DoorAgent, p(2), true},
		{"REST is checked at the request", analytics.DoorREST, p(2), false},
		{"no principal: authenticate denies", analytics.DoorMCP, nil, false},
	} {
		d, err := hook(context.Background(), &guard.HookInput{ToolName: guard.ToolName("get_user_growth"), Door: tc.door, Principal: tc.p})
		if err != nil || (d != nil && d.Deny) != tc.denied {
			t.Errorf("%s: decision %+v, err %v; want denied=%v", tc.name, d, err, tc.denied)
		}
		if tc.denied && (d.Kind != analytics.KindUnauthenticated || d.Reason != "this admin account is disabled") {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
	if len(checked) != 3 || checked[0] != (analytics.Credential{AdminID: 1, TokenID: 11}) {
		t.Errorf("checked %+v", checked)
	}
	// A database failure is an internal error, not a denial with its text.
	failing := guard.Recheck(func(context.Context, analytics.Credential) error { return errors.New("db down") })
	if _, err := failing(context.Background(), &guard.HookInput{Door: analytics.DoorMCP, Principal: p(1)}); err == nil {
		t.Error("a failed check was not an error")
	}
	if guard.RequiredPermission[analytics.ToolUpdateAdmin] != analytics.PermManageAdmins || guard.Action(analytics.ToolRevokeIngestKey) != "ingest_key_revoked" {
		t.Error("lifecycle tools are not registered with the guard")
	}
}
