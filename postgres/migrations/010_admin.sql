-- Admins, their tokens and dashboard sessions, and the audit log.
CREATE TABLE admins (
    id            bigserial PRIMARY KEY,
    email         text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('viewer', 'analyst', 'owner')),
    password_hash text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX admins_email ON admins (lower(email));

CREATE TABLE api_tokens (
    id         bigserial PRIMARY KEY,
    admin_id   bigint      NOT NULL REFERENCES admins (id),
    name       text        NOT NULL,
    hash       bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE TABLE sessions (
    hash       bytea PRIMARY KEY,
    admin_id   bigint      NOT NULL REFERENCES admins (id),
    csrf_token text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Append-only; each row's hash covers its fields and the previous row's
-- hash. details is text, not jsonb: the hash covers its exact bytes.
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    ts          timestamptz NOT NULL,
    admin_id    bigint,
    admin_email text        NOT NULL DEFAULT '',
    door        text        NOT NULL,
    action      text        NOT NULL,
    outcome     text        NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    details     text        NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL
);
CREATE INDEX audit_log_by_admin ON audit_log (lower(admin_email), id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
