-- Credential lifecycle (issue 11): disabled admins, expiring credentials
-- with their last use, and device cookies for the login throttle.
ALTER TABLE admins ADD COLUMN disabled_at timestamptz;
ALTER TABLE admins ADD COLUMN last_login_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;
ALTER TABLE ingest_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE ingest_keys ADD COLUMN last_used_at timestamptz;

-- A device cookie is issued at a successful login; only its hash is kept.
-- It lets that browser past a flood of failures on its account.
CREATE TABLE devices (
    hash       bytea PRIMARY KEY,
    admin_id   bigint      NOT NULL REFERENCES admins (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX devices_by_admin ON devices (admin_id);
