-- Events are the source of truth; every other table here is derived from them
-- except meta, event_ids, user_locks and ingest_keys. Text columns use the "C"
-- collation so that ordering and comparisons are byte-wise, as in SQLite and Go.
CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

-- One row per stored event id. A primary key on the partitioned events table
-- would have to include the partition key (ts), so it could not stop a retry
-- with another timestamp; this table is the dedup index instead. An ingest
-- inserts a batch's ids here first (ON CONFLICT DO NOTHING RETURNING id): only
-- returned ids are new.
CREATE TABLE event_ids (
    id text COLLATE "C" PRIMARY KEY
);

-- Raw events, partitioned by month of ts (UTC). The store creates the monthly
-- partitions (events_pYYYYMM) ahead of need; the default partition is a safety
-- net that stays empty as long as they exist.
CREATE TABLE events (
    id                    text COLLATE "C" NOT NULL,
    type                  text COLLATE "C" NOT NULL,
    ts                    timestamptz NOT NULL,
    day                   integer NOT NULL, -- reporting-zone day (days since 1970-01-01)
    user_id               text COLLATE "C" NOT NULL DEFAULT '',
    service               text COLLATE "C" NOT NULL DEFAULT '',
    operation             text COLLATE "C" NOT NULL DEFAULT '',
    model                 text COLLATE "C" NOT NULL DEFAULT '',
    input_tokens          bigint NOT NULL DEFAULT 0,
    output_tokens         bigint NOT NULL DEFAULT 0,
    cache_write_tokens    bigint NOT NULL DEFAULT 0,
    cache_write_1h_tokens bigint NOT NULL DEFAULT 0,
    cache_read_tokens     bigint NOT NULL DEFAULT 0,
    characters            bigint NOT NULL DEFAULT 0,
    bytes_transferred     bigint NOT NULL DEFAULT 0,
    requests              bigint NOT NULL DEFAULT 0,
    status                text COLLATE "C" NOT NULL DEFAULT '',
    explicit_cost         bigint,           -- micro-dollars, the caller's cost_cents
    cost                  bigint NOT NULL DEFAULT 0, -- micro-dollars
    priced                boolean NOT NULL DEFAULT true,
    story_id              text COLLATE "C" NOT NULL DEFAULT '',
    chapters              bigint NOT NULL DEFAULT 0,
    audio_ms              bigint NOT NULL DEFAULT 0,
    amount_cents          bigint NOT NULL DEFAULT 0,
    email                 text COLLATE "C" NOT NULL DEFAULT '',
    received_at           timestamptz NOT NULL
) PARTITION BY RANGE (ts);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- The rollups are updated in place all day long: spare room in each page
-- (fillfactor) lets an update stay on its page without touching the indexes
-- (a HOT update), as no indexed column ever changes.

CREATE TABLE daily_metrics (
    day               integer PRIMARY KEY,
    new_users         bigint NOT NULL DEFAULT 0,
    active_users      bigint NOT NULL DEFAULT 0,
    churned_users     bigint NOT NULL DEFAULT 0,
    stories_created   bigint NOT NULL DEFAULT 0,
    stories_completed bigint NOT NULL DEFAULT 0,
    stories_failed    bigint NOT NULL DEFAULT 0,
    chapters          bigint NOT NULL DEFAULT 0,
    audio_ms          bigint NOT NULL DEFAULT 0,
    api_requests      bigint NOT NULL DEFAULT 0,
    api_errors        bigint NOT NULL DEFAULT 0,
    unpriced_calls    bigint NOT NULL DEFAULT 0,
    anthropic_cost    bigint NOT NULL DEFAULT 0,
    elevenlabs_cost   bigint NOT NULL DEFAULT 0,
    s3_cost           bigint NOT NULL DEFAULT 0,
    payments_cents    bigint NOT NULL DEFAULT 0,
    refunds_cents     bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 70);

-- One row per user and active day. prev_day links to the user's previous
-- active day (NULL for the first) and feeds active_spans.
CREATE TABLE user_activity (
    user_id         text COLLATE "C" NOT NULL,
    day             integer NOT NULL,
    prev_day        integer,
    stories_created bigint NOT NULL DEFAULT 0,
    api_calls       bigint NOT NULL DEFAULT 0,
    audio_ms        bigint NOT NULL DEFAULT 0,
    cost            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITH (fillfactor = 80);

CREATE INDEX user_activity_by_day ON user_activity (day, user_id);

-- Users active on day whose previous active day was prev_day (-1: none).
CREATE TABLE active_spans (
    day      integer NOT NULL,
    prev_day integer NOT NULL,
    users    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, prev_day)
) WITH (fillfactor = 70);

CREATE TABLE cost_daily (
    day                integer NOT NULL,
    service            text COLLATE "C" NOT NULL,
    model              text COLLATE "C" NOT NULL,
    operation          text COLLATE "C" NOT NULL,
    calls              bigint NOT NULL DEFAULT 0,
    errors             bigint NOT NULL DEFAULT 0,
    unpriced_calls     bigint NOT NULL DEFAULT 0,
    input_tokens       bigint NOT NULL DEFAULT 0,
    output_tokens      bigint NOT NULL DEFAULT 0,
    cache_write_tokens bigint NOT NULL DEFAULT 0,
    cache_read_tokens  bigint NOT NULL DEFAULT 0,
    characters         bigint NOT NULL DEFAULT 0,
    bytes_transferred  bigint NOT NULL DEFAULT 0,
    requests           bigint NOT NULL DEFAULT 0,
    cost               bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, service, model, operation)
) WITH (fillfactor = 70);

-- Users known from their signups: the earliest signup's email wins.
CREATE TABLE users (
    user_id   text COLLATE "C" PRIMARY KEY,
    email     text COLLATE "C" NOT NULL,
    signup_ts timestamptz NOT NULL
);

-- One row per user ever seen, locked (never updated) by every ingest that
-- touches the user, so that the user's prev_day chain is read and relinked by
-- one transaction at a time across all replicas. Row locks live in the tuple
-- headers, so a batch may lock 10,000 users without filling the shared lock
-- table that advisory locks would use.
CREATE TABLE user_locks (
    user_id text COLLATE "C" PRIMARY KEY
);

CREATE TABLE ingest_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
