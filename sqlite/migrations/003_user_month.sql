-- Each user's activity per calendar month (month = year * 12 + month - 1),
-- ranked by every sort key of get_top_users: the threshold algorithm reads
-- these rankings instead of every user-day of a long range.
CREATE TABLE user_month (
    user_id         TEXT    NOT NULL,
    month           INTEGER NOT NULL,
    stories_created INTEGER NOT NULL DEFAULT 0,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    audio_ms        INTEGER NOT NULL DEFAULT 0,
    cost            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, month)
) WITHOUT ROWID;

CREATE INDEX user_month_by_cost ON user_month (month, cost, user_id);
CREATE INDEX user_month_by_stories ON user_month (month, stories_created, user_id);
CREATE INDEX user_month_by_calls ON user_month (month, api_calls, user_id);

INSERT INTO user_month (user_id, month, stories_created, api_calls, audio_ms, cost)
SELECT user_id,
       CAST(strftime('%Y', day * 86400, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', day * 86400, 'unixepoch') AS INTEGER) - 1,
       SUM(stories_created), SUM(api_calls), SUM(audio_ms), SUM(cost)
FROM user_activity GROUP BY 1, 2;
