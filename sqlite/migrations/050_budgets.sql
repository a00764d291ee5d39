-- Budgets (issue 12). Spend is read from the rollups; these tables hold the
-- budgets, the alerts made once per key, and the webhook outbox.
CREATE TABLE budgets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: alert keys name the budget
    name             TEXT    NOT NULL,
    scope            TEXT    NOT NULL,
    scope_value      TEXT    NOT NULL DEFAULT '',
    period           TEXT    NOT NULL,
    amount           INTEGER NOT NULL, -- micro-dollars
    thresholds       TEXT    NOT NULL, -- JSON array of percents
    notify_anomalies INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE budget_webhooks (
    id        INTEGER PRIMARY KEY,
    budget_id INTEGER NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
    url       TEXT    NOT NULL,
    format    TEXT    NOT NULL,
    secret    TEXT    NOT NULL
) STRICT;

CREATE INDEX budget_webhooks_by_budget ON budget_webhooks (budget_id);

-- One row per (budget, period, threshold, user) or (budget, day, service):
-- the unique key makes each alert exactly once, whoever evaluates.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    dedup_key    TEXT    NOT NULL UNIQUE,
    type         TEXT    NOT NULL,
    budget_id    INTEGER NOT NULL, -- no foreign key: history outlives the budget
    budget_name  TEXT    NOT NULL,
    user_id      TEXT    NOT NULL DEFAULT '',
    service      TEXT    NOT NULL DEFAULT '',
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    threshold    INTEGER NOT NULL DEFAULT 0,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX alerts_by_budget ON alerts (budget_id, id);

-- The transactional outbox: written with its alert, delivered by whichever
-- worker holds the lease (claimed_until).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id),
    message_id      TEXT    NOT NULL UNIQUE,
    url             TEXT    NOT NULL,
    format          TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    claimed_until   INTEGER,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_by_alert ON webhook_outbox (alert_id);

CREATE TABLE webhook_attempts (
    outbox_id   INTEGER NOT NULL REFERENCES webhook_outbox (id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (outbox_id, attempt)
) STRICT, WITHOUT ROWID;
