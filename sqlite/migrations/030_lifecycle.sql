-- Credential lifecycle (issue 11): disabled admins, expiring credentials
-- with their last use, and device cookies for the login throttle.
ALTER TABLE admins ADD COLUMN disabled_at INTEGER;
ALTER TABLE admins ADD COLUMN last_login_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE ingest_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE ingest_keys ADD COLUMN last_used_at INTEGER;

-- A device cookie is issued at a successful login; only its hash is kept.
-- It lets that browser past a flood of failures on its account.
CREATE TABLE devices (
    hash       BLOB    PRIMARY KEY,
    admin_id   INTEGER NOT NULL REFERENCES admins (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX devices_by_admin ON devices (admin_id);
