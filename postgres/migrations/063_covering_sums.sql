-- Per-user sums over a span of days or months (get_user_economics's edges
-- and outside months, get_top_users's scan) read these indexes alone (an
-- index-only scan where the visibility map allows): each carries every
-- column those sums add up, so a span is one index scan, not a bitmap of
-- heap pages (as in SQLite's 063_covering_sums.sql). The month index keeps
-- its key (month, cost, user_id), which the top-users ranking and the
-- budget checks walk.
DROP INDEX user_activity_by_day;
CREATE INDEX user_activity_by_day ON user_activity (day, user_id)
    INCLUDE (cost, revenue_cents, stories_created, api_calls, pay_events, audio_ms);
DROP INDEX user_month_by_cost;
CREATE INDEX user_month_by_cost ON user_month (month, cost, user_id)
    INCLUDE (revenue_cents, stories_created, api_calls, pay_events, audio_ms);
