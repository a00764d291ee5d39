-- Each user's activity per calendar month (month = year * 12 + month - 1),
-- ranked by every sort key of get_top_users: the threshold algorithm reads
-- these rankings instead of every user-day of a long range.
CREATE TABLE user_month (
    user_id         text COLLATE "C" NOT NULL,
    month           integer NOT NULL,
    stories_created bigint NOT NULL DEFAULT 0,
    api_calls       bigint NOT NULL DEFAULT 0,
    audio_ms        bigint NOT NULL DEFAULT 0,
    cost            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, month)
);

CREATE INDEX user_month_by_cost ON user_month (month, cost, user_id);
CREATE INDEX user_month_by_stories ON user_month (month, stories_created, user_id);
CREATE INDEX user_month_by_calls ON user_month (month, api_calls, user_id);

INSERT INTO user_month (user_id, month, stories_created, api_calls, audio_ms, cost)
SELECT user_id,
       (extract(year FROM DATE '1970-01-01' + day) * 12 + extract(month FROM DATE '1970-01-01' + day) - 1)::integer,
       sum(stories_created)::bigint, sum(api_calls)::bigint, sum(audio_ms)::bigint, sum(cost)::bigint
FROM user_activity GROUP BY 1, 2;
