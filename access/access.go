// Package access is the credential lifecycle: listing, disabling, enabling,
// deleting and re-roling admins, resetting their passwords, and listing and
// revoking API tokens and ingest keys. Its functions are the guarded tools
// behind the owners' REST endpoints (/admin/admins, /admin/tokens,
// /admin/ingest-keys) and the CLI's admin, token and ingest-key commands.
package access

import (
	"context"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/auth"
)

// Store is what the lifecycle needs of a database.
type Store interface {
	analytics.AdminStore
	analytics.LifecycleStore
}

// Service runs the lifecycle tools over a store.
type Service struct {
	Store Store
}

func (s *Service) store() (Store, error) {
	if s == nil || s.Store == nil {
		return nil, analytics.Errorf(analytics.KindUnavailable, "credential management is not configured on this server")
	}
	return s.Store, nil
}

// AdminView is an admin as the API shows it (never the password hash).
type AdminView struct {
	ID          int64          `json:"id"`
	Email       string         `json:"email"`
	Role        analytics.Role `json:"role"`
	Disabled    bool           `json:"disabled"`
	CreatedAt   time.Time      `json:"created_at"`
	LastLoginAt *time.Time     `json:"last_login_at"`
}

func sec(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func secPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := sec(*t)
	return &u
}

// ViewAdmin is the API view of a.
func ViewAdmin(a analytics.Admin) AdminView {
	return AdminView{ID: a.ID, Email: a.Email, Role: a.Role, Disabled: a.DisabledAt != nil, CreatedAt: sec(a.CreatedAt), LastLoginAt: secPtr(a.LastLoginAt)}
}

// AdminList is the answer of list_admins.
type AdminList struct {
	Admins []AdminView `json:"admins"`
}

// TokenView is an API token as the API shows it (never its hash).
type TokenView struct {
	ID         int64      `json:"id"`
	AdminID    int64      `json:"admin_id"`
	AdminEmail string     `json:"admin_email"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ViewToken is the API view of t.
func ViewToken(t analytics.APIToken) TokenView {
	return TokenView{ID: t.ID, AdminID: t.AdminID, AdminEmail: t.AdminEmail, Name: t.Name, CreatedAt: sec(t.CreatedAt),
		ExpiresAt: secPtr(t.ExpiresAt), LastUsedAt: secPtr(t.LastUsedAt), RevokedAt: secPtr(t.RevokedAt)}
}

// TokenList is the answer of list_tokens.
type TokenList struct {
	Tokens []TokenView `json:"tokens"`
}

// KeyView is an ingest key as the API shows it (never its hash).
type KeyView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ViewKey is the API view of k.
func ViewKey(k analytics.IngestKey) KeyView {
	return KeyView{ID: k.ID, Name: k.Name, CreatedAt: sec(k.CreatedAt), ExpiresAt: secPtr(k.ExpiresAt),
		LastUsedAt: secPtr(k.LastUsedAt), RevokedAt: secPtr(k.RevokedAt)}
}

// KeyList is the answer of list_ingest_keys.
type KeyList struct {
	IngestKeys []KeyView `json:"ingest_keys"`
}

// PasswordReset is the answer of reset_admin_password: the new password,
// shown once.
type PasswordReset struct {
	Password string `json:"password"`
}

// IDInput names one admin, token or key by the id in the request path; the
// tool validates it, after the guard has authorized the caller.
type IDInput struct {
	ID string `json:"id"`
}

// AuditDetails are the details of the call's audit entry.
func (in *IDInput) AuditDetails() map[string]any { return map[string]any{"target_id": in.ID} }

func parseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id < 1 {
		return 0, analytics.Errorf(analytics.KindInvalid, "%s id must be a positive integer (got %q)", what, cut(s))
	}
	return id, nil
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// UpdateAdminInput changes an admin: a role, the disabled flag, or both.
type UpdateAdminInput struct {
	ID       string  `json:"-"`
	Role     *string `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
	// BodyError is why the request body could not be read; the tool reports
	// it, after the guard has authorized the caller.
	BodyError error `json:"-"`
}

// AuditDetails are the details of the call's audit entry.
func (in *UpdateAdminInput) AuditDetails() map[string]any {
	d := map[string]any{"target_id": in.ID}
	if in.Role != nil {
		d["role"] = cut(*in.Role)
	}
	if in.Disabled != nil {
		d["disabled"] = *in.Disabled
	}
	return d
}

// ListAdmins lists every admin.
func (s *Service) ListAdmins(ctx context.Context) (*AdminList, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	admins, err := st.ListAdmins(ctx)
	if err != nil {
		return nil, err
	}
	out := &AdminList{Admins: []AdminView{}}
	for _, a := range admins {
		out.Admins = append(out.Admins, ViewAdmin(a))
	}
	return out, nil
}

// UpdateAdmin changes an admin's role and/or disabled state; the last
// enabled owner cannot be demoted or disabled (KindConflict).
func (s *Service) UpdateAdmin(ctx context.Context, in UpdateAdminInput) (*AdminView, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	if in.BodyError != nil {
		return nil, in.BodyError
	}
	id, err := parseID(in.ID, "admin")
	if err != nil {
		return nil, err
	}
	var ch analytics.AdminChange
	if in.Role != nil {
		r, err := analytics.ParseRole(*in.Role)
		if err != nil {
			return nil, err
		}
		ch.Role = &r
	}
	ch.Disabled = in.Disabled
	if ch.Role == nil && ch.Disabled == nil {
		return nil, analytics.Errorf(analytics.KindInvalid, `nothing to change: send {"role": "viewer|analyst|owner"} and/or {"disabled": true|false}`)
	}
	a, err := st.UpdateAdmin(ctx, id, ch)
	if err != nil {
		return nil, err
	}
	v := ViewAdmin(a)
	return &v, nil
}

// DeleteAdmin removes an admin with their sessions, tokens and device
// cookies; the last enabled owner cannot be deleted (KindConflict).
func (s *Service) DeleteAdmin(ctx context.Context, in IDInput) (*AdminView, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	id, err := parseID(in.ID, "admin")
	if err != nil {
		return nil, err
	}
	a, err := st.DeleteAdmin(ctx, id)
	if err != nil {
		return nil, err
	}
	v := ViewAdmin(a)
	return &v, nil
}

// ResetPassword gives an admin a new generated password (returned once) and
// revokes their sessions and tokens.
func (s *Service) ResetPassword(ctx context.Context, in IDInput) (*PasswordReset, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	id, err := parseID(in.ID, "admin")
	if err != nil {
		return nil, err
	}
	pw := NewPassword()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return nil, err
	}
	if _, err := st.SetPassword(ctx, id, hash); err != nil {
		return nil, err
	}
	return &PasswordReset{Password: pw}, nil
}

// NewPassword is a generated password: 20 characters of base64url (120 bits).
func NewPassword() string { return auth.NewSecret("")[:20] }

// ListTokens lists every admin API token with its last use.
func (s *Service) ListTokens(ctx context.Context) (*TokenList, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	toks, err := st.ListTokens(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := &TokenList{Tokens: []TokenView{}}
	for _, t := range toks {
		out.Tokens = append(out.Tokens, ViewToken(t))
	}
	return out, nil
}

// RevokeToken revokes an admin API token.
func (s *Service) RevokeToken(ctx context.Context, in IDInput) (*TokenView, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	id, err := parseID(in.ID, "token")
	if err != nil {
		return nil, err
	}
	t, err := st.RevokeToken(ctx, id)
	if err != nil {
		return nil, err
	}
	v := ViewToken(t)
	return &v, nil
}

// ListIngestKeys lists every ingest key with its last use.
func (s *Service) ListIngestKeys(ctx context.Context) (*KeyList, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	keys, err := st.ListIngestKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := &KeyList{IngestKeys: []KeyView{}}
	for _, k := range keys {
		out.IngestKeys = append(out.IngestKeys, ViewKey(k))
	}
	return out, nil
}

// RevokeIngestKey revokes an ingest key: the platform's next request with it
// gets 401.
func (s *Service) RevokeIngestKey(ctx context.Context, in IDInput) (*KeyView, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	id, err := parseID(in.ID, "ingest key")
	if err != nil {
		return nil, err
	}
	k, err := st.RevokeIngestKey(ctx, id)
	if err != nil {
		return nil, err
	}
	v := ViewKey(k)
	return &v, nil
}

// DefaultTokenTTL is how long a new admin API token lives unless
// `token create --expires` says otherwise.
const DefaultTokenTTL = 90 * 24 * time.Hour

// ParseTTL reads a lifetime such as 90d, 12h, 30m or 1h30m; "never" (or
// "0") is no expiry, returned as 0.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "never" || s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 3650 {
			return 0, analytics.Errorf(analytics.KindInvalid, "--expires %q: days must be between 1 and 3650, e.g. 90d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, analytics.Errorf(analytics.KindInvalid, "--expires %q: use a lifetime such as 90d, 12h or 30m, or never", s)
	}
	return d, nil
}
