package main

import (
	"context"
	"fmt"
	"strings"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/audit"
)

// AuditKeySuffix names the key file generated next to a SQLite database.
const AuditKeySuffix = ".audit-key"

// auditKey finds the audit key: ANALYTICS_AUDIT_KEY (the key itself), else
// --audit-key-file, else for SQLite the file next to the database, which is
// generated (mode 0600) when absent and create is set, unless the log is
// already keyed (a new key would break the chain: the old one must be
// restored). PostgreSQL needs the key given, the same on every replica. A
// nil key without error means: no key yet, and read-only use.
func (c common) auditKey(ctx context.Context, s analytics.AuditStore, create bool) ([]byte, string, error) {
	if c.auditKeyEnv != "" {
		k, err := audit.ParseKey(c.auditKeyEnv)
		if err != nil {
			return nil, "", fmt.Errorf("ANALYTICS_AUDIT_KEY: %w", err)
		}
		return k, "ANALYTICS_AUDIT_KEY", nil
	}
	if c.auditKeyFile != "" {
		k, err := audit.LoadKeyFile(c.auditKeyFile)
		return k, c.auditKeyFile, err
	}
	path, ok := strings.CutPrefix(c.db, "sqlite:")
	if !ok {
		return nil, "", usageError{"PostgreSQL needs an audit key: pass --audit-key-file PATH (ANALYTICS_AUDIT_KEY_FILE) or set ANALYTICS_AUDIT_KEY " +
			"to 64 hex digits (e.g. from 'openssl rand -hex 32'); every replica must use the same key"}
	}
	path += AuditKeySuffix
	if audit.KeyFileExists(path) {
		k, err := audit.LoadKeyFile(path)
		return k, path, err
	}
	keyed, err := audit.IsKeyed(ctx, s)
	if err != nil {
		return nil, "", fmt.Errorf("read audit log: %w", err)
	}
	if keyed {
		return nil, "", fmt.Errorf("the audit log is keyed but its key file %s is missing: restore it, or pass --audit-key-file / ANALYTICS_AUDIT_KEY", path)
	}
	if !create {
		return nil, path, nil
	}
	k, err := audit.CreateKeyFile(path)
	return k, path, err
}
