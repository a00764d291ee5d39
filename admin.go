package analytics

import (
	"context"
	"encoding/json"
	"time"
)

// Role is an admin's role; each grants a fixed set of permissions.
type Role string

// Roles, least to most powerful.
const (
	RoleViewer  Role = "viewer"
	RoleAnalyst Role = "analyst"
	RoleOwner   Role = "owner"
)

// Permission is a capability checked by the guard.
type Permission string

// Permissions of the seed.
const (
	PermViewAnalytics Permission = "VIEW_ANALYTICS"
	PermExportData    Permission = "EXPORT_DATA"
	PermManageAdmins  Permission = "MANAGE_ADMINS"
	PermViewAudit     Permission = "VIEW_AUDIT"
	// PermManagePrices changes prices, reprices and voids events (owners).
	PermManagePrices Permission = "MANAGE_PRICES"
)

var rolePermissions = map[Role][]Permission{
	RoleViewer:  {PermViewAnalytics},
	RoleAnalyst: {PermViewAnalytics, PermExportData},
	RoleOwner:   {PermViewAnalytics, PermExportData, PermManageAdmins, PermViewAudit, PermManagePrices},
}

// ParseRole accepts viewer, analyst or owner.
func ParseRole(s string) (Role, error) {
	if _, ok := rolePermissions[Role(s)]; !ok {
		return "", Errorf(KindInvalid, "role must be viewer, analyst or owner (got %q)", s)
	}
	return Role(s), nil
}

// Permissions lists what the role may do.
func (r Role) Permissions() []Permission { return append([]Permission(nil), rolePermissions[r]...) }

// Can reports whether the role grants p.
func (r Role) Can(p Permission) bool {
	for _, q := range rolePermissions[r] {
		if q == p {
			return true
		}
	}
	return false
}

// Admin is a person who reads the analytics.
type Admin struct {
	ID           int64
	Email        string
	Role         Role
	PasswordHash string // argon2id, PHC format; empty: no password login
	CreatedAt    time.Time
	DisabledAt   *time.Time // set: no credential of this admin works
	LastLoginAt  *time.Time // the last password login
}

// APIToken is an admin's bearer token; only its hash is stored.
type APIToken struct {
	ID         int64
	AdminID    int64
	AdminEmail string
	Name       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	ExpiresAt  *time.Time // nil: never
	LastUsedAt *time.Time // to the minute (see LastUseGranularity)
}

// Session is a dashboard login; only the hash of its cookie is stored.
type Session struct {
	AdminID   int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AdminStore keeps admins, their tokens and their dashboard sessions.
type AdminStore interface {
	// CreateAdmin adds an admin; KindConflict if the email is taken.
	CreateAdmin(ctx context.Context, email string, role Role, passwordHash string) (Admin, error)
	// AdminByEmail finds an admin (emails compare case-insensitively); KindNotFound otherwise.
	AdminByEmail(ctx context.Context, email string) (Admin, error)
	AdminByID(ctx context.Context, id int64) (Admin, error)
	ListAdmins(ctx context.Context) ([]Admin, error)

	CreateToken(ctx context.Context, adminID int64, name string, hash []byte) (APIToken, error)
	// AdminByTokenHash resolves an unrevoked token; KindUnauthenticated otherwise.
	AdminByTokenHash(ctx context.Context, hash []byte) (Admin, APIToken, error)
	// ListTokens lists tokens, of one admin when adminID is not 0.
	ListTokens(ctx context.Context, adminID int64) ([]APIToken, error)
	// RevokeToken revokes a token; KindNotFound if there is no such live token.
	RevokeToken(ctx context.Context, id int64) (APIToken, error)

	CreateSession(ctx context.Context, hash []byte, s Session) error
	// SessionByHash resolves a session unexpired at now; KindUnauthenticated otherwise.
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (Admin, Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
}

// Door is the front door a call came through.
type Door string

// Front doors.
const (
	DoorREST  Door = "rest"
	DoorMCP   Door = "mcp"
	DoorAgent Door = "agent"
	DoorCLI   Door = "cli"
)

// Audit outcomes.
const (
	OutcomeAllowed = "allowed"
	OutcomeDenied  = "denied"
)

// AuditEntry is one row of the tamper-evident audit log. Hash covers every
// other field and PrevHash, chaining each entry to the one before; MAC (an
// HMAC-SHA256 under a key kept outside the database) covers Hash and the
// previous entry's MAC, so the chain cannot be recomputed without the key.
// Entries written before the log was keyed have no MAC.
type AuditEntry struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	AdminID    *int64          `json:"admin_id"`
	AdminEmail string          `json:"admin_email"`
	Door       Door            `json:"door"`
	Action     string          `json:"action"`
	Outcome    string          `json:"outcome"`
	Reason     string          `json:"reason"`
	Details    json.RawMessage `json:"details"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
	MAC        string          `json:"mac"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	AdminEmail string
	Action     string
	Since      time.Time // inclusive; zero: no bound
	Until      time.Time // exclusive; zero: no bound
	BeforeID   int64     // entries with a smaller id (paging); 0: from the newest
	Limit      int
}

// AuditStore appends to and reads the audit log.
type AuditStore interface {
	// AppendAudit assigns the entry its id, calls link with the last stored
	// entry (nil for the first) to fill PrevHash, Hash and MAC, and stores
	// it, atomically with respect to other appends, so the chain stays one
	// line even with several writers.
	AppendAudit(ctx context.Context, e AuditEntry, link func(prev, e *AuditEntry)) (AuditEntry, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// ScanAudit calls fn for every entry in id order.
	ScanAudit(ctx context.Context, fn func(AuditEntry) error) error
}

// Principal is who a call comes from: an admin (by token or session) or the
// platform's backend (by ingest key).
type Principal struct {
	Admin     *Admin
	IngestKey *IngestKey
	// Via is how the caller authenticated: "token", "session" or "ingest_key".
	Via     string
	TokenID int64
}

// Can reports whether the principal holds permission p. Ingest keys hold
// none of the admin permissions.
func (p *Principal) Can(perm Permission) bool {
	return p != nil && p.Admin != nil && p.Admin.Role.Can(perm)
}

// IsIngest reports whether the principal is an ingest key.
func (p *Principal) IsIngest() bool { return p != nil && p.IngestKey != nil }

// AdminID is the admin's id, or nil.
func (p *Principal) AdminID() *int64 {
	if p == nil || p.Admin == nil {
		return nil
	}
	id := p.Admin.ID
	return &id
}

// Email is the admin's email, or the ingest key's name.
func (p *Principal) Email() string {
	switch {
	case p == nil:
		return ""
	case p.Admin != nil:
		return p.Admin.Email
	case p.IngestKey != nil:
		return "ingest-key:" + p.IngestKey.Name
	}
	return ""
}
