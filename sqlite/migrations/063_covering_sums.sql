-- Per-user sums over a span of days or months (get_user_economics's edges
-- and outside months, get_top_users's scan) read these indexes alone: each
-- carries every column those sums add up, so a range of days or months is
-- one index scan, not one table lookup per user-day (about 6 µs each on the
-- 140,000-user set). The month index keeps its leading (month, cost,
-- user_id), which the top-users ranking and the budget checks walk; it
-- changes only when one of its columns does, and cost changes with most.
DROP INDEX user_activity_by_day;
CREATE INDEX user_activity_by_day ON user_activity
    (day, user_id, cost, revenue_cents, stories_created, api_calls, pay_events, audio_ms);
DROP INDEX user_month_by_cost;
CREATE INDEX user_month_by_cost ON user_month
    (month, cost, user_id, revenue_cents, stories_created, api_calls, pay_events, audio_ms);
