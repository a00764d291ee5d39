-- Unit economics (issue 13), as in SQLite's 060_economics.sql: revenue per
-- user-day and user-month, each user's signup day (their cohort), and a
-- rollup of stories. Existing data is backfilled from the live events with
-- the queries Rebuild uses, so no rebuild is needed.
--
-- Columns with a constant default only change the catalog (PostgreSQL 11+);
-- the backfills then rewrite just the rows that have something to add.
ALTER TABLE user_activity ADD COLUMN revenue_cents bigint NOT NULL DEFAULT 0; -- payments − refunds, whole cents
ALTER TABLE user_activity ADD COLUMN pay_events    bigint NOT NULL DEFAULT 0; -- payment and refund events
ALTER TABLE user_month    ADD COLUMN revenue_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE user_month    ADD COLUMN pay_events    bigint NOT NULL DEFAULT 0;
ALTER TABLE users         ADD COLUMN signup_day    integer;                   -- reporting-zone day of signup_ts

UPDATE user_activity ua SET revenue_cents = p.r, pay_events = p.n
FROM (SELECT user_id, day,
             sum(CASE WHEN type = 'payment' THEN amount_cents ELSE -amount_cents END)::bigint AS r, count(*) AS n
      FROM events WHERE type IN ('payment', 'refund') AND voided_by IS NULL AND user_id <> ''
      GROUP BY user_id, day) p
WHERE p.user_id = ua.user_id AND p.day = ua.day;

UPDATE user_month um SET revenue_cents = p.r, pay_events = p.n
FROM (SELECT user_id,
             (extract(year FROM DATE '1970-01-01' + day) * 12 + extract(month FROM DATE '1970-01-01' + day) - 1)::integer AS month,
             sum(revenue_cents)::bigint AS r, sum(pay_events)::bigint AS n
      FROM user_activity WHERE pay_events <> 0 GROUP BY 1, 2) p
WHERE p.user_id = um.user_id AND p.month = um.month;

-- The row the users table holds is the earliest live signup (the smaller
-- email breaks a tie): its day.
UPDATE users u SET signup_day = f.day
FROM (SELECT DISTINCT ON (user_id) user_id, email, ts, day FROM events
      WHERE type = 'user_signup' AND voided_by IS NULL ORDER BY user_id, ts, email) f
WHERE f.user_id = u.user_id;

-- Cohorts select their users by signup day.
CREATE INDEX users_by_signup_day ON users (signup_day);

-- One row per story: every live api_call, story_created, story_completed
-- and story_failed carrying its story_id. The anchor (the earliest
-- story_created, else the earliest event; rank 0 and 1, ties to the smaller
-- user id) gives the story its day and user.
CREATE TABLE stories (
    story_id        text COLLATE "C" PRIMARY KEY,
    user_id         text COLLATE "C" NOT NULL,
    anchor_rank     bigint NOT NULL,
    anchor_ts       timestamptz NOT NULL,
    day             integer NOT NULL, -- the anchor's reporting-zone day
    events          bigint NOT NULL DEFAULT 0,
    created         bigint NOT NULL DEFAULT 0,
    completed       bigint NOT NULL DEFAULT 0,
    failed          bigint NOT NULL DEFAULT 0,
    chapters        bigint NOT NULL DEFAULT 0,
    audio_ms        bigint NOT NULL DEFAULT 0,
    anthropic_cost  bigint NOT NULL DEFAULT 0,
    elevenlabs_cost bigint NOT NULL DEFAULT 0,
    s3_cost         bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 80);

CREATE INDEX stories_by_day ON stories (day);

-- A void recomputes its story from the story's live events.
CREATE INDEX events_by_story ON events (story_id) WHERE story_id <> '';

INSERT INTO stories (story_id, user_id, anchor_rank, anchor_ts, day, events, created, completed, failed, chapters,
    audio_ms, anthropic_cost, elevenlabs_cost, s3_cost)
SELECT a.story_id, a.user_id, a.anchor_rank, a.ts, a.day, g.n, g.cr, g.co, g.fa, g.ch, g.au, g.an, g.el, g.s3
FROM (SELECT DISTINCT ON (story_id) story_id, user_id, (type <> 'story_created')::integer::bigint AS anchor_rank, ts, day
      FROM events WHERE story_id <> '' AND voided_by IS NULL
          AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')
      ORDER BY story_id, type <> 'story_created', ts, user_id) a
JOIN (SELECT story_id, count(*) AS n,
             count(*) FILTER (WHERE type = 'story_created') AS cr,
             count(*) FILTER (WHERE type = 'story_completed') AS co,
             count(*) FILTER (WHERE type = 'story_failed') AS fa,
             COALESCE(sum(chapters) FILTER (WHERE type = 'story_completed'), 0)::bigint AS ch,
             COALESCE(sum(audio_ms) FILTER (WHERE type = 'story_completed'), 0)::bigint AS au,
             COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 'anthropic'), 0)::bigint AS an,
             COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 'elevenlabs'), 0)::bigint AS el,
             COALESCE(sum(cost) FILTER (WHERE type = 'api_call' AND service = 's3'), 0)::bigint AS s3
      FROM events WHERE story_id <> '' AND voided_by IS NULL
          AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')
      GROUP BY story_id) g ON g.story_id = a.story_id;
