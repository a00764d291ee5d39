package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/access"
)

// accessRoutes are the owners' credential-lifecycle endpoints; each is a
// guarded tool needing MANAGE_ADMINS.
func (s *Server) accessRoutes() []Route {
	none := func(*http.Request) *struct{} { return &struct{}{} }
	id := func(r *http.Request) *access.IDInput { return &access.IDInput{ID: r.PathValue("id")} }
	a := func() *access.Service { return s.Access }
	return []Route{
		{"GET", "/admin/admins", lifecycleTool(s, analytics.ToolListAdmins, http.StatusOK, none,
			func(ctx context.Context, _ struct{}) (*access.AdminList, error) { return a().ListAdmins(ctx) })},
		{"PATCH", "/admin/admins/{id}", lifecycleTool(s, analytics.ToolUpdateAdmin, http.StatusOK, updateAdminInput,
			func(ctx context.Context, in access.UpdateAdminInput) (*access.AdminView, error) {
				return a().UpdateAdmin(ctx, in)
			})},
		{"DELETE", "/admin/admins/{id}", lifecycleTool(s, analytics.ToolDeleteAdmin, http.StatusNoContent, id,
			func(ctx context.Context, in access.IDInput) (*access.AdminView, error) {
				return a().DeleteAdmin(ctx, in)
			})},
		{"POST", "/admin/admins/{id}/reset-password", lifecycleTool(s, analytics.ToolResetAdminPassword, http.StatusOK, id,
			func(ctx context.Context, in access.IDInput) (*access.PasswordReset, error) {
				return a().ResetPassword(ctx, in)
			})},
		{"GET", "/admin/tokens", lifecycleTool(s, analytics.ToolListTokens, http.StatusOK, none,
			func(ctx context.Context, _ struct{}) (*access.TokenList, error) { return a().ListTokens(ctx) })},
		{"DELETE", "/admin/tokens/{id}", lifecycleTool(s, analytics.ToolRevokeToken, http.StatusNoContent, id,
			func(ctx context.Context, in access.IDInput) (*access.TokenView, error) {
				return a().RevokeToken(ctx, in)
			})},
		{"GET", "/admin/ingest-keys", lifecycleTool(s, analytics.ToolListIngestKeys, http.StatusOK, none,
			func(ctx context.Context, _ struct{}) (*access.KeyList, error) { return a().ListIngestKeys(ctx) })},
		{"DELETE", "/admin/ingest-keys/{id}", lifecycleTool(s, analytics.ToolRevokeIngestKey, http.StatusNoContent, id,
			func(ctx context.Context, in access.IDInput) (*access.KeyView, error) {
				return a().RevokeIngestKey(ctx, in)
			})},
	}
}

// lifecycleTool adapts a lifecycle tool: input → guard → tool → JSON, or
// an empty 204. The input is only read, never judged, before the guard: a
// caller without MANAGE_ADMINS gets 403 whatever they sent.
func lifecycleTool[I, T any](s *Server, name string, status int, input func(*http.Request) *I, tool func(context.Context, I) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := input(r)
		res, err := runTool(s, r, s.call(r, name, in), func(ctx context.Context) (T, error) { return tool(ctx, *in) })
		if err != nil {
			s.writeToolError(w, r, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, res)
	})
}

// updateAdminInput reads PATCH /admin/admins/{id}'s body; a bad body is
// reported by the tool.
func updateAdminInput(r *http.Request) *access.UpdateAdminInput {
	in := &access.UpdateAdminInput{ID: r.PathValue("id")}
	var body struct {
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		msg := `body must be JSON {"role": "viewer|analyst|owner"} and/or {"disabled": true|false}`
		if errors.Is(err, io.EOF) {
			msg = "empty body: " + msg
		}
		in.BodyError = analytics.Errorf(analytics.KindInvalid, "%s", msg)
		return in
	}
	in.Role, in.Disabled = body.Role, body.Disabled
	return in
}

func pathID(what string) map[string]any {
	return map[string]any{"name": "id", "in": "path", "required": true, "description": what + " id", "schema": tInt}
}

var tTimeOrNull = map[string]any{"type": []string{"string", "null"}, "format": "date-time"}

func init() {
	owners := "Owners only (MANAGE_ADMINS); a cookie session needs the X-CSRF-Token header. Audited."
	conflict := "409 when the change would leave no enabled owner."
	for k, v := range map[string]map[string]any{
		"GET /admin/admins": op("list_admins: every admin", "access", owners, resp("200", "AdminList"), toolErrs()),
		"PATCH /admin/admins/{id}": op("update_admin: change a role and/or disable or enable", "access",
			"Body {\"role\": \"viewer|analyst|owner\"} and/or {\"disabled\": true|false}. Disabling ends the admin's sessions at once; their tokens stop working until enabled again. "+conflict+" "+owners,
			params(pathID("admin")), withBody("AdminChange"), resp("200", "Admin"), toolErrs("404", "409")),
		"DELETE /admin/admins/{id}": op("delete_admin: remove an admin with their sessions and tokens", "access", conflict+" "+owners,
			params(pathID("admin")), resp("204", ""), toolErrs("404", "409")),
		"POST /admin/admins/{id}/reset-password": op("reset_admin_password: a new generated password, shown once", "access",
			"Revokes the admin's sessions and tokens. "+owners, params(pathID("admin")), resp("200", "PasswordReset"), toolErrs("404")),
		"GET /admin/tokens": op("list_tokens: every admin API token with its last use", "access", owners, resp("200", "TokenList"), toolErrs()),
		"DELETE /admin/tokens/{id}": op("revoke_token: revoke an admin API token", "access", owners,
			params(pathID("token")), resp("204", ""), toolErrs("404")),
		"GET /admin/ingest-keys": op("list_ingest_keys: every ingest key with its last use", "access", owners, resp("200", "IngestKeyList"), toolErrs()),
		"DELETE /admin/ingest-keys/{id}": op("revoke_ingest_key: revoke an ingest key", "access", owners,
			params(pathID("ingest key")), resp("204", ""), toolErrs("404")),
	} {
		openAPIOps[k] = v
	}
	admin := obj(map[string]any{"id": tInt, "email": tStr, "role": tStr, "disabled": map[string]any{"type": "boolean"},
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "last_login_at": tTimeOrNull})
	token := obj(map[string]any{"id": tInt, "admin_id": tInt, "admin_email": tStr, "name": tStr,
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "expires_at": tTimeOrNull, "last_used_at": tTimeOrNull, "revoked_at": tTimeOrNull})
	key := obj(map[string]any{"id": tInt, "name": tStr,
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "expires_at": tTimeOrNull, "last_used_at": tTimeOrNull, "revoked_at": tTimeOrNull})
	openAPISchemas["Admin"] = admin
	openAPISchemas["AdminList"] = obj(map[string]any{"admins": arr(admin)})
	openAPISchemas["AdminChange"] = obj(map[string]any{"role": tStr, "disabled": map[string]any{"type": "boolean"}})
	openAPISchemas["PasswordReset"] = obj(map[string]any{"password": tStr})
	openAPISchemas["TokenList"] = obj(map[string]any{"tokens": arr(token)})
	openAPISchemas["IngestKeyList"] = obj(map[string]any{"ingest_keys": arr(key)})
}
