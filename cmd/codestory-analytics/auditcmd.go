package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/codestory/analytics/audit"
)

const auditUsage = "usage: codestory-analytics audit verify [--checkpoint LINE] | audit head"

// auditCommand is `audit verify [--checkpoint LINE]` and `audit head`.
// Neither writes: they open the log without generating a key or anchoring.
func (e env) auditCommand(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{auditUsage}
	}
	var c common
	switch args[0] {
	case "verify":
		fs := e.flags("audit verify", &c)
		cpLine := fs.String("checkpoint", "", "a line printed by 'audit head' (or logged by the server): fail if any entry up to it was removed or changed")
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		var cp *audit.Checkpoint
		if *cpLine != "" {
			p, err := audit.ParseCheckpoint(*cpLine)
			if err != nil {
				return usageError{"audit verify --checkpoint: " + err.Error()}
			}
			cp = &p
		}
		a, err := c.openApp(ctx, appOptions{readOnlyAudit: true})
		if err != nil {
			return err
		}
		defer a.Close()
		rep, err := audit.VerifyKeyed(ctx, a.store, a.audit.Key, cp)
		if err != nil {
			return err
		}
		if a.audit.Key == nil && rep.Keyed > 0 {
			return errors.New("the audit log is keyed but no audit key was found: pass --audit-key-file or ANALYTICS_AUDIT_KEY")
		}
		how := fmt.Sprintf("%d keyed (HMAC-SHA256, key id %s)", rep.Keyed, keyID(a.audit.Key))
		if a.audit.Key == nil {
			how = "unkeyed: SHA-256 links only (no audit key yet)"
		}
		fmt.Fprintf(e.stdout, "ok: audit chain of %d entries verified; %d before the key (SHA-256 links), %s\n", rep.Entries, rep.Unkeyed, how)
		if cp != nil {
			fmt.Fprintf(e.stdout, "ok: the log holds entry %d exactly as the checkpoint vouches\n", cp.Seq)
		}
		return nil
	case "head":
		fs := e.flags("audit head", &c)
		if _, err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		a, err := c.openApp(ctx, appOptions{readOnlyAudit: true})
		if err != nil {
			return err
		}
		defer a.Close()
		cp, ok, err := audit.Head(ctx, a.store)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("the audit log is empty: there is nothing to vouch for yet")
		}
		fmt.Fprintln(e.stdout, cp.String())
		return nil
	}
	return usageError{auditUsage}
}

func keyID(k []byte) string {
	if k == nil {
		return "-"
	}
	return audit.KeyID(k)
}
