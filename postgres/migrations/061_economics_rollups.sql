-- Unit economics, second step (as in SQLite's 061_economics_rollups.sql):
-- rollups that keep get_story_costs and get_cohorts proportional to days,
-- not to stories or user-days. Backfilled with the queries Rebuild uses.

-- Each story's total cost, indexed with its day and completion: percentiles
-- are read from one cost bucket of it, the most expensive stories from its
-- top. A generated column, so no write can let it drift from its parts.
ALTER TABLE stories ADD COLUMN cost bigint GENERATED ALWAYS AS (anthropic_cost + elevenlabs_cost + s3_cost) STORED;
CREATE INDEX stories_by_cost ON stories (cost, day, completed);

-- Stories, cost and completed audio per anchor day and status.
CREATE TABLE story_daily (
    day      integer NOT NULL,
    status   text COLLATE "C" NOT NULL,
    stories  bigint NOT NULL DEFAULT 0,
    cost     bigint NOT NULL DEFAULT 0,
    audio_ms bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, status)
);
INSERT INTO story_daily (day, status, stories, cost, audio_ms)
SELECT day, CASE WHEN completed > 0 THEN 'completed' WHEN failed > 0 THEN 'failed' ELSE 'in_progress' END,
       count(*), sum(cost)::bigint, COALESCE(sum(audio_ms) FILTER (WHERE completed > 0), 0)::bigint
FROM stories GROUP BY 1, 2;

-- Completed stories per anchor day and cost bucket (analytics.StoryCostBucket:
-- the number of bucket lower bounds at or below the cost, less one).
CREATE TABLE story_buckets (
    day     integer NOT NULL,
    bucket  integer NOT NULL,
    stories bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, bucket)
);
INSERT INTO story_buckets (day, bucket, stories)
SELECT day, GREATEST(width_bucket(cost, ARRAY(
           SELECT b FROM generate_series(0::bigint, 15) AS b
           UNION ALL
           SELECT (16 + i % 16) * (1::bigint << (i / 16)) FROM generate_series(0, 58 * 16 + 15) AS i
           ORDER BY 1)) - 1, 0),
       count(*)
FROM stories WHERE completed > 0 GROUP BY 1, 2;

-- Signup cohorts: per granularity, cohort (a CohortPeriodOf number) and
-- day, the cohort's users whose first active day of the day's period it is,
-- and their revenue and cost that day. A period's retained users, revenue
-- and cost up to any end day are sums over its days.
CREATE TABLE cohort_days (
    granularity   text COLLATE "C" NOT NULL,
    cohort        integer NOT NULL,
    day           integer NOT NULL,
    firsts        bigint NOT NULL DEFAULT 0,
    revenue_cents bigint NOT NULL DEFAULT 0,
    cost          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (granularity, cohort, day)
);
INSERT INTO cohort_days (granularity, cohort, day, firsts, revenue_cents, cost)
SELECT 'week', c, day, f, r, k FROM (
    SELECT (u.signup_day + 3 - (((u.signup_day + 3) % 7) + 7) % 7) / 7 AS c, a.day,
           count(*) FILTER (WHERE a.prev_day IS NULL OR (a.prev_day + 3 - (((a.prev_day + 3) % 7) + 7) % 7) / 7
                                                     <> (a.day + 3 - (((a.day + 3) % 7) + 7) % 7) / 7) AS f,
           sum(a.revenue_cents)::bigint AS r, sum(a.cost)::bigint AS k
    FROM user_activity a JOIN users u ON u.user_id = a.user_id
    WHERE (a.day + 3 - (((a.day + 3) % 7) + 7) % 7) / 7 >= (u.signup_day + 3 - (((u.signup_day + 3) % 7) + 7) % 7) / 7
    GROUP BY 1, 2) w
WHERE (f, r, k) <> (0, 0, 0);
INSERT INTO cohort_days (granularity, cohort, day, firsts, revenue_cents, cost)
SELECT 'month', c, day, f, r, k FROM (
    SELECT m.c, m.day, count(*) FILTER (WHERE m.first) AS f, sum(m.revenue_cents)::bigint AS r, sum(m.cost)::bigint AS k
    FROM (SELECT a.day, a.revenue_cents, a.cost,
                 (date_part('year', DATE '1970-01-01' + u.signup_day) * 12 + date_part('month', DATE '1970-01-01' + u.signup_day) - 1)::integer AS c,
                 (date_part('year', DATE '1970-01-01' + a.day) * 12 + date_part('month', DATE '1970-01-01' + a.day) - 1)::integer AS p,
                 a.prev_day IS NULL OR (date_part('year', DATE '1970-01-01' + a.prev_day) * 12 + date_part('month', DATE '1970-01-01' + a.prev_day) - 1)::integer
                     <> (date_part('year', DATE '1970-01-01' + a.day) * 12 + date_part('month', DATE '1970-01-01' + a.day) - 1)::integer AS first
          FROM user_activity a JOIN users u ON u.user_id = a.user_id) m
    WHERE m.p >= m.c GROUP BY 1, 2) w
WHERE (f, r, k) <> (0, 0, 0);

-- Users with events and no live signup (get_cohorts' unattributed users).
CREATE TABLE unsigned_users (
    user_id text COLLATE "C" PRIMARY KEY
);
INSERT INTO unsigned_users (user_id)
SELECT DISTINCT a.user_id FROM user_activity a WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = a.user_id);
