package guard

import (
	"context"

	analytics "github.com/codestory/analytics"
)

// The credential-lifecycle tools need MANAGE_ADMINS (owners); each has its
// own audit action.
func init() {
	for tool, action := range map[string]string{
		analytics.ToolListAdmins:         "admins_listed",
		analytics.ToolUpdateAdmin:        "admin_updated",
		analytics.ToolDeleteAdmin:        "admin_deleted",
		analytics.ToolResetAdminPassword: "admin_password_reset",
		analytics.ToolListTokens:         "tokens_listed",
		analytics.ToolRevokeToken:        "token_revoked",
		analytics.ToolListIngestKeys:     "ingest_keys_listed",
		analytics.ToolRevokeIngestKey:    "ingest_key_revoked",
	} {
		RequiredPermission[tool] = analytics.PermManageAdmins
		Actions[tool] = action
	}
}

// AuditDetailer is a tool input that adds its own fields to the details of
// the call's audit entry (e.g. the admin a change is made to).
type AuditDetailer interface {
	AuditDetails() map[string]any
}

// Recheck returns a PreToolUse hook that checks the caller's credential
// against the database again on every call through a long-lived door (an
// MCP session, an Ask run), so that disabling or deleting an admin, or
// revoking or expiring a token or key, stops open sessions at their next
// call. REST resolves its credential from the database on every request
// already and is not checked twice.
func Recheck(check func(ctx context.Context, c analytics.Credential) error) HookFunc {
	return func(ctx context.Context, in *HookInput) (*Decision, error) {
		if in.Principal == nil || in.Door == analytics.DoorREST {
			return nil, nil
		}
		err := check(ctx, analytics.CredentialOf(in.Principal))
		switch {
		case err == nil:
			return nil, nil
		case analytics.ErrorKind(err) == analytics.KindUnauthenticated:
			return Deny(analytics.KindUnauthenticated, analytics.ErrorMessage(err)), nil
		}
		return nil, err
	}
}
