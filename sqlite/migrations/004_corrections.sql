-- Corrections and repricing (issue 10).
--
-- events: a voided event keeps its row and names the void that took it out
-- (voided_by); a void stores its target and reason; price_ref records which
-- catalog entry priced an api_call (model@effective_from/source, "caller"
-- for a caller-given cost, "" for unpriced or not a call).
ALTER TABLE events ADD COLUMN voided_by TEXT;
ALTER TABLE events ADD COLUMN voids     TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN reason    TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN price_ref TEXT NOT NULL DEFAULT '';

-- Voiding a signup recomputes the user's earliest live signup.
CREATE INDEX events_signups ON events (user_id, ts) WHERE type = 'user_signup';

-- Runtime price entries (prices add/remove, POST /admin/prices); the version
-- row in meta tells every process when to reload them.
CREATE TABLE price_entries (
    service        TEXT    NOT NULL,
    model          TEXT    NOT NULL,
    effective_from INTEGER NOT NULL,
    entry          TEXT    NOT NULL, -- the entry as JSON, in the --prices file format
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (service, model, effective_from)
) STRICT, WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('prices_version', '0') ON CONFLICT (key) DO NOTHING;

-- The rollups become STRICT: SQLite turns an integer sum that overflows into
-- a REAL, which a STRICT INTEGER column refuses, so an overflowing upsert
-- fails its batch instead of storing a wrong figure.
CREATE TABLE daily_metrics_new (
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
) STRICT;
INSERT INTO daily_metrics_new SELECT * FROM daily_metrics;
DROP TABLE daily_metrics;
ALTER TABLE daily_metrics_new RENAME TO daily_metrics;

-- user_activity gains events: the user's live events that day. A user-day
-- whose count falls to zero through voids is removed and unlinked.
CREATE TABLE user_activity_new (
    user_id         TEXT    NOT NULL,
    day             INTEGER NOT NULL,
    prev_day        INTEGER,
    events          INTEGER NOT NULL DEFAULT 0,
    stories_created INTEGER NOT NULL DEFAULT 0,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    audio_ms        INTEGER NOT NULL DEFAULT 0,
    cost            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) STRICT, WITHOUT ROWID;
INSERT INTO user_activity_new (user_id, day, prev_day, events, stories_created, api_calls, audio_ms, cost)
SELECT ua.user_id, ua.day, ua.prev_day, c.n, ua.stories_created, ua.api_calls, ua.audio_ms, ua.cost
FROM user_activity ua
JOIN (SELECT user_id, day, count(*) AS n FROM events WHERE user_id != '' GROUP BY user_id, day) c
  ON c.user_id = ua.user_id AND c.day = ua.day;
DROP TABLE user_activity;
ALTER TABLE user_activity_new RENAME TO user_activity;
CREATE INDEX user_activity_by_day ON user_activity (day, user_id);

CREATE TABLE active_spans_new (
    day      INTEGER NOT NULL,
    prev_day INTEGER NOT NULL,
    users    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, prev_day)
) STRICT, WITHOUT ROWID;
INSERT INTO active_spans_new SELECT * FROM active_spans;
DROP TABLE active_spans;
ALTER TABLE active_spans_new RENAME TO active_spans;

-- cost_daily is keyed by the price entry too, so the cost breakdown can say
-- which entries priced a model's calls.
CREATE TABLE cost_daily_new (
    day                INTEGER NOT NULL,
    service            TEXT    NOT NULL,
    model              TEXT    NOT NULL,
    operation          TEXT    NOT NULL,
    price_ref          TEXT    NOT NULL DEFAULT '',
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
    PRIMARY KEY (day, service, model, operation, price_ref)
) STRICT, WITHOUT ROWID;
INSERT INTO cost_daily_new (day, service, model, operation, price_ref, calls, errors, unpriced_calls, input_tokens,
    output_tokens, cache_write_tokens, cache_read_tokens, characters, bytes_transferred, requests, cost)
SELECT day, service, model, operation, '', calls, errors, unpriced_calls, input_tokens,
    output_tokens, cache_write_tokens, cache_read_tokens, characters, bytes_transferred, requests, cost
FROM cost_daily;
DROP TABLE cost_daily;
ALTER TABLE cost_daily_new RENAME TO cost_daily;

CREATE TABLE user_month_new (
    user_id         TEXT    NOT NULL,
    month           INTEGER NOT NULL,
    stories_created INTEGER NOT NULL DEFAULT 0,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    audio_ms        INTEGER NOT NULL DEFAULT 0,
    cost            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, month)
) STRICT, WITHOUT ROWID;
INSERT INTO user_month_new SELECT user_id, month, stories_created, api_calls, audio_ms, cost FROM user_month;
DROP TABLE user_month;
ALTER TABLE user_month_new RENAME TO user_month;
CREATE INDEX user_month_by_cost ON user_month (month, cost, user_id);
CREATE INDEX user_month_by_stories ON user_month (month, stories_created, user_id);
CREATE INDEX user_month_by_calls ON user_month (month, api_calls, user_id);
