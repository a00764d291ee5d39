package analytics

import (
	"context"
	"time"
)

// LastUseGranularity is how stale a credential's recorded last use may get
// before a use writes it again: one write per credential per minute, not
// one per request.
const LastUseGranularity = time.Minute

// AdminChange is a change to an admin; nil fields stay as they are.
type AdminChange struct {
	Role     *Role
	Disabled *bool
}

// Credential names what a principal authenticated with, so that it can be
// checked again against the database on every call of a long-lived door
// (an MCP stdio session, an Ask run).
type Credential struct {
	AdminID     int64 // 0 for an ingest key
	TokenID     int64 // an API token, or 0
	IngestKeyID int64 // an ingest key, or 0
}

// LifecycleStore changes admins and their credentials over their lifetime.
// Every change that could leave no enabled owner is refused with
// KindConflict, atomically with respect to concurrent changes.
type LifecycleStore interface {
	// UpdateAdmin changes an admin's role and/or disabled state. Disabling
	// ends the admin's sessions; tokens stay but do not work while the admin
	// is disabled.
	UpdateAdmin(ctx context.Context, id int64, ch AdminChange) (Admin, error)
	// DeleteAdmin removes an admin with their sessions, tokens and device
	// cookies (the audit log keeps their email).
	DeleteAdmin(ctx context.Context, id int64) (Admin, error)
	// SetPassword replaces an admin's password hash and revokes their
	// sessions, tokens and device cookies.
	SetPassword(ctx context.Context, id int64, hash string) (Admin, error)
	// RecordLogin notes a successful password login.
	RecordLogin(ctx context.Context, id int64, at time.Time) error

	// CreateTokenExpiring is CreateToken with an expiry (zero: never).
	CreateTokenExpiring(ctx context.Context, adminID int64, name string, hash []byte, expires time.Time) (APIToken, error)
	// CreateIngestKeyExpiring is CreateIngestKey with an expiry (zero: never).
	CreateIngestKeyExpiring(ctx context.Context, name string, hash []byte, expires time.Time) (IngestKey, error)
	ListIngestKeys(ctx context.Context) ([]IngestKey, error)
	// RevokeIngestKey revokes a key; KindNotFound if there is no such live key.
	RevokeIngestKey(ctx context.Context, id int64) (IngestKey, error)

	// CheckCredential fails with KindUnauthenticated when c no longer works:
	// the admin is disabled or deleted, the token or key revoked or expired.
	CheckCredential(ctx context.Context, c Credential) error

	// CreateDevice stores the hash of a device cookie issued to an admin's
	// browser at a successful login.
	CreateDevice(ctx context.Context, hash []byte, adminID int64, created, expires time.Time) error
	// DeviceAdmin returns the admin a live device cookie was issued to;
	// KindNotFound otherwise.
	DeviceAdmin(ctx context.Context, hash []byte, now time.Time) (int64, error)
}

// CredentialOf is what p authenticated with.
func CredentialOf(p *Principal) Credential {
	switch {
	case p == nil:
		return Credential{}
	case p.IngestKey != nil:
		return Credential{IngestKeyID: p.IngestKey.ID}
	case p.Admin != nil:
		return Credential{AdminID: p.Admin.ID, TokenID: p.TokenID}
	}
	return Credential{}
}

// The credential-lifecycle tools (owners only: MANAGE_ADMINS).
const (
	ToolListAdmins         = "list_admins"
	ToolUpdateAdmin        = "update_admin"
	ToolDeleteAdmin        = "delete_admin"
	ToolResetAdminPassword = "reset_admin_password"
	ToolListTokens         = "list_tokens"
	ToolRevokeToken        = "revoke_token"
	ToolListIngestKeys     = "list_ingest_keys"
	ToolRevokeIngestKey    = "revoke_ingest_key"
)
