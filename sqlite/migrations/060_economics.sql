-- Unit economics (issue 13): revenue per user-day and user-month, each
-- user's signup day (their cohort), and a rollup of stories. Existing data
-- is backfilled from the live events, so no rebuild is needed.
ALTER TABLE user_activity ADD COLUMN revenue_cents INTEGER NOT NULL DEFAULT 0; -- payments − refunds, whole cents
ALTER TABLE user_activity ADD COLUMN pay_events    INTEGER NOT NULL DEFAULT 0; -- payment and refund events
ALTER TABLE user_month    ADD COLUMN revenue_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_month    ADD COLUMN pay_events    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users         ADD COLUMN signup_day    INTEGER;                    -- reporting-zone day of signup_ts

CREATE TEMP TABLE pay_backfill AS
SELECT user_id, day, SUM(CASE WHEN type = 'payment' THEN amount_cents ELSE -amount_cents END) AS r, count(*) AS n
FROM events WHERE type IN ('payment', 'refund') AND voided_by IS NULL AND user_id != '' GROUP BY user_id, day;
UPDATE user_activity SET revenue_cents = p.r, pay_events = p.n
FROM pay_backfill p WHERE p.user_id = user_activity.user_id AND p.day = user_activity.day;
DROP TABLE pay_backfill;

CREATE TEMP TABLE pay_month_backfill AS
SELECT user_id,
       CAST(strftime('%Y', day * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', day * 86400, 'unixepoch') AS INTEGER) - 1 AS month,
       SUM(revenue_cents) AS r, SUM(pay_events) AS n
FROM user_activity WHERE pay_events != 0 GROUP BY 1, 2;
UPDATE user_month SET revenue_cents = p.r, pay_events = p.n
FROM pay_month_backfill p WHERE p.user_id = user_month.user_id AND p.month = user_month.month;
DROP TABLE pay_month_backfill;

UPDATE users SET signup_day = (SELECT e.day FROM events e WHERE e.type = 'user_signup' AND e.user_id = users.user_id
    AND e.ts = users.signup_ts AND e.email = users.email AND e.voided_by IS NULL LIMIT 1);

CREATE INDEX users_by_signup_day ON users (signup_day);

-- One row per story: every live api_call, story_created, story_completed
-- and story_failed carrying its story_id. The anchor (the earliest
-- story_created, else the earliest event; rank 0 and 1, ties to the smaller
-- user id) gives the story its day and user.
CREATE TABLE stories (
    story_id        TEXT    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL,
    anchor_rank     INTEGER NOT NULL,
    anchor_ts       INTEGER NOT NULL, -- unix microseconds, UTC
    day             INTEGER NOT NULL, -- the anchor's reporting-zone day
    events          INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL DEFAULT 0,
    completed       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    chapters        INTEGER NOT NULL DEFAULT 0,
    audio_ms        INTEGER NOT NULL DEFAULT 0,
    anthropic_cost  INTEGER NOT NULL DEFAULT 0,
    elevenlabs_cost INTEGER NOT NULL DEFAULT 0,
    s3_cost         INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE INDEX stories_by_day ON stories (day);

-- A void recomputes its story from the story's live events.
CREATE INDEX events_by_story ON events (story_id) WHERE story_id != '';

INSERT INTO stories (story_id, user_id, anchor_rank, anchor_ts, day, events, created, completed, failed, chapters, audio_ms,
    anthropic_cost, elevenlabs_cost, s3_cost)
SELECT a.story_id, a.user_id, a.rank, a.ts, a.day, g.n, g.cr, g.co, g.fa, g.ch, g.au, g.an, g.el, g.s3
FROM (SELECT story_id, user_id, rank, ts, day FROM (
        SELECT story_id, user_id, (type != 'story_created') AS rank, ts, day,
            ROW_NUMBER() OVER (PARTITION BY story_id ORDER BY type != 'story_created', ts, user_id) AS rn
        FROM events WHERE story_id != '' AND voided_by IS NULL
            AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed')) WHERE rn = 1) a
JOIN (SELECT story_id, count(*) AS n, SUM(type = 'story_created') AS cr, SUM(type = 'story_completed') AS co,
        SUM(type = 'story_failed') AS fa,
        SUM(CASE WHEN type = 'story_completed' THEN chapters ELSE 0 END) AS ch,
        SUM(CASE WHEN type = 'story_completed' THEN audio_ms ELSE 0 END) AS au,
        SUM(CASE WHEN type = 'api_call' AND service = 'anthropic' THEN cost ELSE 0 END) AS an,
        SUM(CASE WHEN type = 'api_call' AND service = 'elevenlabs' THEN cost ELSE 0 END) AS el,
        SUM(CASE WHEN type = 'api_call' AND service = 's3' THEN cost ELSE 0 END) AS s3
      FROM events WHERE story_id != '' AND voided_by IS NULL
          AND type IN ('api_call', 'story_created', 'story_completed', 'story_failed') GROUP BY story_id) g
  ON g.story_id = a.story_id;
