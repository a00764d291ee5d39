-- Budgets (issue 12). Spend is read from the rollups; these tables hold the
-- budgets, the alerts made once per key, and the webhook outbox.
CREATE TABLE budgets (
    id               bigserial PRIMARY KEY,
    name             text    NOT NULL,
    scope            text    NOT NULL,
    scope_value      text    NOT NULL DEFAULT '',
    period           text    NOT NULL,
    amount           bigint  NOT NULL, -- micro-dollars
    thresholds       jsonb   NOT NULL, -- array of percents
    notify_anomalies boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE budget_webhooks (
    id        bigserial PRIMARY KEY,
    budget_id bigint NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
    url       text   NOT NULL,
    format    text   NOT NULL,
    secret    text   NOT NULL
);

CREATE INDEX budget_webhooks_by_budget ON budget_webhooks (budget_id);

-- One row per (budget, period, threshold, user) or (budget, day, service):
-- the unique key makes each alert exactly once, whichever replica evaluates.
CREATE TABLE alerts (
    id           bigserial PRIMARY KEY,
    dedup_key    text COLLATE "C" NOT NULL UNIQUE,
    type         text    NOT NULL,
    budget_id    bigint  NOT NULL, -- no foreign key: history outlives the budget
    budget_name  text    NOT NULL,
    user_id      text    NOT NULL DEFAULT '',
    service      text    NOT NULL DEFAULT '',
    period_start integer NOT NULL,
    period_end   integer NOT NULL,
    threshold    integer NOT NULL DEFAULT 0,
    body         text    NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE INDEX alerts_by_budget ON alerts (budget_id, id);

-- The transactional outbox: written with its alert, claimed with FOR UPDATE
-- SKIP LOCKED and a lease (claimed_until) by one replica at a time.
CREATE TABLE webhook_outbox (
    id              bigserial PRIMARY KEY,
    alert_id        bigint  NOT NULL REFERENCES alerts (id),
    message_id      text    NOT NULL UNIQUE,
    url             text    NOT NULL,
    format          text    NOT NULL,
    secret          text    NOT NULL,
    body            text    NOT NULL,
    state           text    NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text    NOT NULL DEFAULT ''
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_by_alert ON webhook_outbox (alert_id);

CREATE TABLE webhook_attempts (
    outbox_id   bigint  NOT NULL REFERENCES webhook_outbox (id),
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer NOT NULL DEFAULT 0,
    error       text    NOT NULL DEFAULT '',
    duration_ms bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (outbox_id, attempt)
);
