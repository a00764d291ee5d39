-- Events are the source of truth; every other table here is derived from them.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE events (
    id                    TEXT PRIMARY KEY,
    type                  TEXT    NOT NULL,
    ts                    INTEGER NOT NULL, -- unix microseconds, UTC
    day                   INTEGER NOT NULL, -- reporting-zone day (days since 1970-01-01)
    user_id               TEXT    NOT NULL DEFAULT '',
    service               TEXT    NOT NULL DEFAULT '',
    operation             TEXT    NOT NULL DEFAULT '',
    model                 TEXT    NOT NULL DEFAULT '',
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    characters            INTEGER NOT NULL DEFAULT 0,
    bytes_transferred     INTEGER NOT NULL DEFAULT 0,
    requests              INTEGER NOT NULL DEFAULT 0,
    status                TEXT    NOT NULL DEFAULT '',
    explicit_cost         INTEGER,          -- micro-dollars, the caller's cost_cents
    cost                  INTEGER NOT NULL DEFAULT 0, -- micro-dollars
    priced                INTEGER NOT NULL DEFAULT 1,
    story_id              TEXT    NOT NULL DEFAULT '',
    chapters              INTEGER NOT NULL DEFAULT 0,
    audio_ms              INTEGER NOT NULL DEFAULT 0,
    amount_cents          INTEGER NOT NULL DEFAULT 0,
    email                 TEXT    NOT NULL DEFAULT '',
    received_at           INTEGER NOT NULL
);

CREATE TABLE daily_metrics (
    day               INTEGER PRIMARY KEY,
    new_users         INTEGER NOT NULL DEFAULT 0,
    active_users      INTEGER NOT NULL DEFAULT 0,
    churned_users     INTEGER NOT NULL DEFAULT 0,
    stories_created   INTEGER NOT NULL DEFAULT 0,
    stories_completed INTEGER NOT NULL DEFAULT 0,
    stories_failed    INTEGER NOT NULL DEFAULT 0,
    chapters          INTEGER NOT NULL DEFAULT 0,
    audio_ms          INTEGER NOT NULL DEFAULT 0,
    api_requests      INTEGER NOT NULL DEFAULT 0,
    api_errors        INTEGER NOT NULL DEFAULT 0,
    unpriced_calls    INTEGER NOT NULL DEFAULT 0,
    anthropic_cost    INTEGER NOT NULL DEFAULT 0,
    elevenlabs_cost   INTEGER NOT NULL DEFAULT 0,
    s3_cost           INTEGER NOT NULL DEFAULT 0,
    payments_cents    INTEGER NOT NULL DEFAULT 0,
    refunds_cents     INTEGER NOT NULL DEFAULT 0
);

-- One row per user and active day. prev_day links to the user's previous
-- active day (NULL for the first) and feeds active_spans.
CREATE TABLE user_activity (
    user_id         TEXT    NOT NULL,
    day             INTEGER NOT NULL,
    prev_day        INTEGER,
    stories_created INTEGER NOT NULL DEFAULT 0,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    audio_ms        INTEGER NOT NULL DEFAULT 0,
    cost            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

CREATE INDEX user_activity_by_day ON user_activity (day, user_id);

-- users active on day whose previous active day was prev_day (-1: none).
CREATE TABLE active_spans (
    day      INTEGER NOT NULL,
    prev_day INTEGER NOT NULL,
    users    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, prev_day)
) WITHOUT ROWID;

CREATE TABLE cost_daily (
    day                INTEGER NOT NULL,
    service            TEXT    NOT NULL,
    model              TEXT    NOT NULL,
    operation          TEXT    NOT NULL,
    calls              INTEGER NOT NULL DEFAULT 0,
    errors             INTEGER NOT NULL DEFAULT 0,
    unpriced_calls     INTEGER NOT NULL DEFAULT 0,
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    characters         INTEGER NOT NULL DEFAULT 0,
    bytes_transferred  INTEGER NOT NULL DEFAULT 0,
    requests           INTEGER NOT NULL DEFAULT 0,
    cost               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, service, model, operation)
) WITHOUT ROWID;

-- Users known from their signups: the earliest signup's email wins.
CREATE TABLE users (
    user_id   TEXT PRIMARY KEY,
    email     TEXT    NOT NULL,
    signup_ts INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE ingest_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
