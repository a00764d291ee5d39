package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
	"github.com/codestory/analytics/auth"
)

func init() {
	extraCommands["admin"] = (env).admin
	extraCommands["token"] = (env).token
	extraCommands["audit"] = (env).auditCmd
}

func (e env) cliAudit(ctx context.Context, a *app, adminID *int64, email, action string, details map[string]any) error {
	_, err := a.audit.Append(ctx, analytics.AuditEntry{AdminID: adminID, AdminEmail: email, Door: analytics.DoorCLI,
		Action: action, Outcome: analytics.OutcomeAllowed, Details: audit.Details(details)})
	return err
}

func (e env) admin(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics admin create --email E --role viewer|analyst|owner [--password-stdin] | admin list\n" + adminLifecycleHelp
	if len(args) == 0 {
		return usageError{help}
	}
	var c common
	switch args[0] {
	case "create":
		fs := e.flags("admin create", &c)
		email := fs.String("email", "", "the admin's email (their login)")
		role := fs.String("role", "", "viewer, analyst or owner")
		pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (otherwise one is generated and printed)")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		addr := strings.ToLower(strings.TrimSpace(*email))
		if addr == "" || !strings.Contains(addr, "@") {
			return usageError{"admin create: --email must be an email address"}
		}
		r, err := analytics.ParseRole(*role)
		if err != nil {
			return usageError{"admin create: --" + err.Error()}
		}
		pw := ""
		if *pwStdin {
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			pw = strings.TrimRight(line, "\r\n")
			if pw == "" && err != nil {
				return fmt.Errorf("admin create: no password on stdin")
			}
		} else {
			pw = auth.NewSecret("")[:20]
		}
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		adm, err := a.store.CreateAdmin(ctx, addr, r, hash)
		if err != nil {
			return err
		}
		id := adm.ID
		if err := e.cliAudit(ctx, a, &id, adm.Email, "admin_created", map[string]any{"role": adm.Role}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "admin %s created with role %s (id %d)\n", adm.Email, adm.Role, adm.ID)
		if !*pwStdin {
			fmt.Fprintf(e.stdout, "password: %s\n", pw)
		}
		return nil
	case "list":
		fs := e.flags("admin list", &c)
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		admins, err := a.store.ListAdmins(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tCREATED\tLAST LOGIN\tSTATUS")
		for _, adm := range admins {
			status := "active"
			if adm.DisabledAt != nil {
				status = "disabled " + adm.DisabledAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", adm.ID, adm.Email, adm.Role, adm.CreatedAt.Format(time.RFC3339), fmtTime(adm.LastLoginAt, "never"), status)
		}
		return tw.Flush()
	}
	if ok, err := e.adminLifecycle(ctx, args[0], args[1:]); ok {
		return err
	}
	return usageError{help}
}

func (e env) token(ctx context.Context, args []string) error {
	const help = "usage: codestory-analytics token create --email E --name N [--expires 90d|never] | token list [--email E] | token revoke ID"
	if len(args) == 0 {
		return usageError{help}
	}
	var c common
	switch args[0] {
	case "create":
		fs := e.flags("token create", &c)
		email := fs.String("email", "", "the admin the token acts as")
		name := fs.String("name", "", "what the token is for, e.g. grafana")
		expires := fs.String("expires", "90d", "lifetime: 90d, 12h, 30m… or never")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		expiry, err := tokenExpiry(*expires, time.Now())
		if err != nil {
			return err
		}
		if *email == "" || strings.TrimSpace(*name) == "" {
			return usageError{"token create: --email and --name are required"}
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		adm, err := a.store.AdminByEmail(ctx, strings.TrimSpace(*email))
		if err != nil {
			return fmt.Errorf("token create: %s: %w", *email, err)
		}
		secret := auth.NewSecret(auth.AdminTokenPrefix)
		tok, err := a.store.CreateTokenExpiring(ctx, adm.ID, *name, auth.HashSecret(secret), expiry)
		if err != nil {
			return err
		}
		id := adm.ID
		if err := e.cliAudit(ctx, a, &id, adm.Email, "token_created", map[string]any{"token_id": tok.ID, "name": tok.Name, "expires_at": fmtTime(tok.ExpiresAt, "never")}); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, secret)
		fmt.Fprintf(e.stderr, "token %d %q for %s (%s) created, expires %s; it is shown only once. Send it as 'Authorization: Bearer <token>'.\n",
			tok.ID, tok.Name, adm.Email, adm.Role, fmtTime(tok.ExpiresAt, "never"))
		return nil
	case "list":
		fs := e.flags("token list", &c)
		email := fs.String("email", "", "only this admin's tokens")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		var adminID int64
		if *email != "" {
			adm, err := a.store.AdminByEmail(ctx, *email)
			if err != nil {
				return fmt.Errorf("token list: %s: %w", *email, err)
			}
			adminID = adm.ID
		}
		toks, err := a.store.ListTokens(ctx, adminID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tADMIN\tNAME\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
		now := time.Now()
		for _, t := range toks {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.AdminEmail, t.Name, t.CreatedAt.Format(time.RFC3339),
				fmtTime(t.ExpiresAt, "never"), fmtTime(t.LastUsedAt, "never"), status(t.RevokedAt, t.ExpiresAt, now))
		}
		return tw.Flush()
	case "revoke":
		id, err := e.idArg(&c, "token revoke", args[1:], "a token id (see 'token list')")
		if err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{})
		if err != nil {
			return err
		}
		defer a.Close()
		tok, err := a.store.RevokeToken(ctx, id)
		if err != nil {
			return err
		}
		adminID := tok.AdminID
		if err := e.cliAudit(ctx, a, &adminID, tok.AdminEmail, "token_revoked", map[string]any{"token_id": tok.ID, "name": tok.Name}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %d %q of %s revoked\n", tok.ID, tok.Name, tok.AdminEmail)
		return nil
	}
	return usageError{help}
}

func (e env) auditCmd(ctx context.Context, args []string) error {
	return e.auditCommand(ctx, args) // auditcmd.go
}

// idArg parses the flags and the one numeric ID argument of a revoke command.
func (e env) idArg(c *common, name string, args []string, what string) (int64, error) {
	fs := e.flags(name, c)
	pos, err := parse(fs, args, 1)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return 0, usageError{name + ": ID must be " + what}
	}
	return id, nil
}
