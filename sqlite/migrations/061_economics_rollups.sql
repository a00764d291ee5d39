-- Unit economics, second step: rollups that keep get_story_costs and
-- get_cohorts proportional to days, not to stories or user-days.

-- Each story's total cost, indexed with its day and completion: percentiles
-- are read from one cost bucket of it, the most expensive stories from its
-- top.
ALTER TABLE stories ADD COLUMN cost INTEGER NOT NULL DEFAULT 0;
UPDATE stories SET cost = anthropic_cost + elevenlabs_cost + s3_cost;
CREATE INDEX stories_by_cost ON stories (cost, day, completed);

-- Stories, cost and completed audio per anchor day and status.
CREATE TABLE story_daily (
    day      INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    stories  INTEGER NOT NULL DEFAULT 0,
    cost     INTEGER NOT NULL DEFAULT 0,
    audio_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, status)
) STRICT, WITHOUT ROWID;
INSERT INTO story_daily (day, status, stories, cost, audio_ms)
SELECT day, CASE WHEN completed > 0 THEN 'completed' WHEN failed > 0 THEN 'failed' ELSE 'in_progress' END,
       count(*), SUM(cost), SUM(CASE WHEN completed > 0 THEN audio_ms ELSE 0 END)
FROM stories GROUP BY 1, 2;

-- Completed stories per anchor day and cost bucket (analytics.StoryCostBucket).
CREATE TABLE story_buckets (
    day     INTEGER NOT NULL,
    bucket  INTEGER NOT NULL,
    stories INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, bucket)
) STRICT, WITHOUT ROWID;
INSERT INTO story_buckets (day, bucket, stories)
SELECT day, story_bucket(cost), count(*) FROM stories WHERE completed > 0 GROUP BY 1, 2;

-- Signup cohorts: per granularity, cohort (a CohortPeriodOf number) and
-- day, the cohort's users whose first active day of the day's period it is,
-- and their revenue and cost that day. A period's retained users, revenue
-- and cost up to any end day are sums over its days.
CREATE TABLE cohort_days (
    granularity   TEXT    NOT NULL,
    cohort        INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    firsts        INTEGER NOT NULL DEFAULT 0,
    revenue_cents INTEGER NOT NULL DEFAULT 0,
    cost          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (granularity, cohort, day)
) STRICT, WITHOUT ROWID;
INSERT INTO cohort_days (granularity, cohort, day, firsts, revenue_cents, cost)
SELECT 'week', (u.signup_day + 3) / 7, a.day, SUM(a.prev_day IS NULL OR (a.prev_day + 3) / 7 != (a.day + 3) / 7),
       SUM(a.revenue_cents), SUM(a.cost)
FROM user_activity a JOIN users u ON u.user_id = a.user_id
WHERE (a.day + 3) / 7 >= (u.signup_day + 3) / 7 GROUP BY 2, 3
HAVING SUM(a.prev_day IS NULL OR (a.prev_day + 3) / 7 != (a.day + 3) / 7) != 0 OR SUM(a.revenue_cents) != 0 OR SUM(a.cost) != 0;
INSERT INTO cohort_days (granularity, cohort, day, firsts, revenue_cents, cost)
SELECT 'month', m.c, m.day, SUM(m.first), SUM(m.revenue_cents), SUM(m.cost) FROM (
    SELECT a.day, a.revenue_cents, a.cost,
        CAST(strftime('%Y', u.signup_day * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', u.signup_day * 86400, 'unixepoch') AS INTEGER) - 1 AS c,
        CAST(strftime('%Y', a.day * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', a.day * 86400, 'unixepoch') AS INTEGER) - 1 AS p,
        a.prev_day IS NULL OR strftime('%Y-%m', a.prev_day * 86400, 'unixepoch') != strftime('%Y-%m', a.day * 86400, 'unixepoch') AS first
    FROM user_activity a JOIN users u ON u.user_id = a.user_id) m
WHERE m.p >= m.c GROUP BY 2, 3
HAVING SUM(m.first) != 0 OR SUM(m.revenue_cents) != 0 OR SUM(m.cost) != 0;

-- Users with events and no live signup (get_cohorts' unattributed users).
CREATE TABLE unsigned_users (
    user_id TEXT NOT NULL PRIMARY KEY
) STRICT, WITHOUT ROWID;
INSERT INTO unsigned_users (user_id)
SELECT DISTINCT user_id FROM user_activity WHERE user_id NOT IN (SELECT user_id FROM users);
