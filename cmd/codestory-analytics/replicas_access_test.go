package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/codestory/analytics/internal/pgtest"
	"github.com/codestory/analytics/internal/redistest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestTwoReplicasAccess runs two servers on one PostgreSQL and one Redis:
// 100 wrong passwords spread over both get 5 password checks in all, and
// disabling an admin through one replica stops their token and open MCP
// session on the other at the next request.
func TestTwoReplicasAccess(t *testing.T) {
	db := pgtest.NewDatabase(t)
	_, prefix := redistest.Require(t)
	env := map[string]string{"ANALYTICS_REDIS_PREFIX": prefix}
	r1 := startServerEnv(t, db, env, "--redis", redistest.URL())
	r2 := startServerEnv(t, db, env, "--redis", redistest.URL())
	owner := r1.adminToken("owner@example.com", "owner")
	analyst := r1.adminToken("analyst@example.com", "analyst")

	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[int]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(r *testServer) {
			defer wg.Done()
			res := doWith(t, nil, "POST", r.URL+"/login", "", strings.NewReader(`{"email":"analyst@example.com","password":"wrong-password-x"}`),
				"Content-Type", "application/json")
			mu.Lock()
			count[res.Status]++
			mu.Unlock()
		}([]*testServer{r1, r2}[i%2])
	}
	wg.Wait()
	if count[401] != 5 || count[429] != 95 {
		t.Errorf("100 wrong passwords over two replicas: %v, want 5×401 and 95×429", count)
	}

	sess := r2.mcpClient(analyst)
	if res := mcpCall(t, sess, "get_user_growth", nil); res.IsError {
		t.Fatalf("MCP before disabling: %s", mcpText(res))
	}
	id := r1.adminID(owner, "analyst@example.com")
	if res := r1.do("PATCH", fmt.Sprintf("/admin/admins/%d", id), owner, strings.NewReader(`{"disabled":true}`)); res.Status != 200 {
		t.Fatalf("disable on replica 1: %d %s", res.Status, res.Body)
	}
	if res := r2.do("GET", "/admin/analytics/costs", analyst, nil); res.Status != 401 {
		t.Errorf("disabled admin's token on replica 2: %d %s", res.Status, res.Body)
	}
	if _, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_user_growth"}); err == nil {
		t.Error("disabled admin's open MCP session on replica 2 still works")
	}
}
