package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/access"
	"github.com/codestory/analytics/auth"
)

// The credential lifecycle on the command line: admin disable|enable|
// delete|set-role|reset-password, ingest-key list|revoke. Each change is
// audited with door "cli", like the owners' REST endpoints.

const adminLifecycleHelp = `  admin disable --email E          no credential of E works until 'admin enable'; sessions end now
  admin enable --email E
  admin set-role --email E --role viewer|analyst|owner
  admin delete --email E           remove E with their sessions and tokens (the audit log keeps the email)
  admin reset-password --email E [--password-stdin]   new password (printed once unless read from stdin); sessions and tokens revoked
  (--id N instead of --email E names the admin by id; the last enabled owner cannot be disabled, demoted or deleted)`

// adminLifecycle runs an admin sub-command other than create and list;
// ok is false for an unknown one.
func (e env) adminLifecycle(ctx context.Context, sub string, args []string) (ok bool, err error) {
	switch sub {
	case "disable", "enable", "delete", "set-role", "reset-password":
	default:
		return false, nil
	}
	var c common
	fs := e.flags("admin "+sub, &c)
	email := fs.String("email", "", "the admin's email")
	id := fs.Int64("id", 0, "the admin's id (instead of --email)")
	var role *string
	var fromStdin *bool
	if sub == "set-role" {
		role = fs.String("role", "", "viewer, analyst or owner")
	}
	if sub == "reset-password" {
		fromStdin = fs.Bool("password-stdin", false, "read the new password from the first line of stdin (otherwise one is generated and printed)")
	}
	if _, err := parse(fs, args, 0); err != nil {
		return true, err
	}
	if (*email == "") == (*id == 0) {
		return true, usageError{fmt.Sprintf("admin %s: give --email E or --id N", sub)}
	}
	var newRole analytics.Role
	if role != nil {
		r, err := analytics.ParseRole(*role)
		if err != nil {
			return true, usageError{"admin set-role: --" + err.Error()}
		}
		newRole = r
	}
	a, err := c.openApp(ctx, appOptions{})
	if err != nil {
		return true, err
	}
	defer a.Close()
	target, err := e.findAdmin(ctx, a, *email, *id)
	if err != nil {
		return true, err
	}
	tid := target.ID
	switch sub {
	case "disable", "enable":
		disabled := sub == "disable"
		adm, err := a.store.UpdateAdmin(ctx, target.ID, analytics.AdminChange{Disabled: &disabled})
		if err != nil {
			return true, err
		}
		if err := e.cliAudit(ctx, a, &tid, adm.Email, "admin_updated", map[string]any{"target_id": adm.ID, "disabled": disabled}); err != nil {
			return true, err
		}
		fmt.Fprintf(e.stdout, "admin %s (id %d) %sd\n", adm.Email, adm.ID, sub)
	case "set-role":
		adm, err := a.store.UpdateAdmin(ctx, target.ID, analytics.AdminChange{Role: &newRole})
		if err != nil {
			return true, err
		}
		if err := e.cliAudit(ctx, a, &tid, adm.Email, "admin_updated", map[string]any{"target_id": adm.ID, "role": adm.Role, "previous_role": target.Role}); err != nil {
			return true, err
		}
		fmt.Fprintf(e.stdout, "admin %s (id %d) is now %s (was %s)\n", adm.Email, adm.ID, adm.Role, target.Role)
	case "delete":
		adm, err := a.store.DeleteAdmin(ctx, target.ID)
		if err != nil {
			return true, err
		}
		if err := e.cliAudit(ctx, a, &tid, adm.Email, "admin_deleted", map[string]any{"target_id": adm.ID, "role": adm.Role}); err != nil {
			return true, err
		}
		fmt.Fprintf(e.stdout, "admin %s (id %d) deleted with their sessions and tokens\n", adm.Email, adm.ID)
	case "reset-password":
		pw := access.NewPassword()
		if *fromStdin {
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			pw = strings.TrimRight(line, "\r\n")
			if pw == "" && err != nil {
				return true, fmt.Errorf("admin reset-password: no password on stdin")
			}
		}
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return true, err
		}
		adm, err := a.store.SetPassword(ctx, target.ID, hash)
		if err != nil {
			return true, err
		}
		if err := e.cliAudit(ctx, a, &tid, adm.Email, "admin_password_reset", map[string]any{"target_id": adm.ID}); err != nil {
			return true, err
		}
		fmt.Fprintf(e.stdout, "password of %s (id %d) reset; their sessions and tokens are revoked\n", adm.Email, adm.ID)
		if !*fromStdin {
			fmt.Fprintf(e.stdout, "password: %s\n", pw)
		}
	}
	return true, nil
}

func (e env) findAdmin(ctx context.Context, a *app, email string, id int64) (analytics.Admin, error) {
	if id != 0 {
		adm, err := a.store.AdminByID(ctx, id)
		if analytics.ErrorKind(err) == analytics.KindNotFound {
			return adm, fmt.Errorf("no admin with id %d (see 'codestory-analytics admin list')", id)
		}
		return adm, err
	}
	adm, err := a.store.AdminByEmail(ctx, strings.TrimSpace(email))
	if analytics.ErrorKind(err) == analytics.KindNotFound {
		return adm, fmt.Errorf("no admin with email %s (see 'codestory-analytics admin list')", email)
	}
	return adm, err
}

// tokenExpiry is the expiry of a new token from --expires (zero: never).
func tokenExpiry(flag string, now time.Time) (time.Time, error) {
	ttl, err := access.ParseTTL(flag)
	if err != nil {
		return time.Time{}, usageError{analytics.ErrorMessage(err)}
	}
	if ttl == 0 {
		return time.Time{}, nil
	}
	return now.Add(ttl), nil
}

func fmtTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func status(revoked, expires *time.Time, now time.Time) string {
	switch {
	case revoked != nil:
		return "revoked " + revoked.UTC().Format(time.RFC3339)
	case expires != nil && !expires.After(now):
		return "expired"
	}
	return "active"
}

// ingestKeyLifecycle runs ingest-key list and revoke.
func (e env) ingestKeyLifecycle(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics ingest-key create --name N [--expires 90d|never] | ingest-key list | ingest-key revoke ID"
	var c common
	switch args[0] {
	case "list":
		fs := e.flags("ingest-key list", &c)
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		keys, err := a.store.ListIngestKeys(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
		for _, k := range keys {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.Format(time.RFC3339), fmtTime(k.ExpiresAt, "never"),
				fmtTime(k.LastUsedAt, "never"), status(k.RevokedAt, k.ExpiresAt, now))
		}
		return tw.Flush()
	case "revoke":
		id, err := e.idArg(&c, "ingest-key revoke", args[1:], "an ingest key id (see 'ingest-key list')")
		if err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		k, err := a.store.RevokeIngestKey(ctx, id)
		if err != nil {
			return err
		}
		if err := e.cliAudit(ctx, a, nil, "ingest-key:"+k.Name, "ingest_key_revoked", map[string]any{"target_id": k.ID, "name": k.Name}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "ingest key %d %q revoked: requests with it now get 401\n", k.ID, k.Name)
		return nil
	}
	return usageError{help}
}
