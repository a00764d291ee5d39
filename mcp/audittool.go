package mcpserver

import (
	"context"
	"encoding/json"
	"reflect"

	analytics "github.com/codestory/analytics"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const ownerInstructions = `
As an owner you also have get_audit_log: the tamper-evident audit log, newest first, paged with next_before.`

func init() {
	Descriptions[analytics.ToolAuditLog] = "Read the audit log (every analytics call, login, denial and credential change), newest first, filtered by admin, action and time. " +
		"Pages hold up to 500 entries (default 50); pass next_before as before for the next page. Needs VIEW_AUDIT (owners); counts against the 30/min limit like every tool."
	titles[analytics.ToolAuditLog] = "Audit log"
	// Audit details are a JSON object of their own shape per action.
	schemaTypes[reflect.TypeFor[json.RawMessage]()] = &jsonschema.Schema{Type: "object"}
}

// addOwnerTools registers the tools only owners are offered.
func (s *Server) addOwnerTools(srv *mcp.Server) {
	tool := &analytics.AuditLog{Store: s.cfg.Audit}
	addTool(s, srv, analytics.ToolAuditLog, readOnly, func(ctx context.Context, in *analytics.AuditLogInput) (*analytics.AuditLogPage, error) {
		return tool.GetAuditLog(ctx, *in)
	})
}
