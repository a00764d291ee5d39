-- Each user's lifetime totals, the sums of their user_activity rows (as in
-- SQLite's 062_user_totals.sql). get_user_economics over a range that holds
-- most of the data starts from these, one row per user, and subtracts the
-- months and days outside the range. A user without user-days has no row.
CREATE TABLE user_totals (
    user_id         text COLLATE "C" PRIMARY KEY,
    events          bigint NOT NULL DEFAULT 0, -- live events
    stories_created bigint NOT NULL DEFAULT 0,
    api_calls       bigint NOT NULL DEFAULT 0,
    pay_events      bigint NOT NULL DEFAULT 0, -- payments and refunds
    revenue_cents   bigint NOT NULL DEFAULT 0, -- payments − refunds, whole cents
    cost            bigint NOT NULL DEFAULT 0  -- micro-dollars
);
INSERT INTO user_totals (user_id, events, stories_created, api_calls, pay_events, revenue_cents, cost)
SELECT user_id, sum(events)::bigint, sum(stories_created)::bigint, sum(api_calls)::bigint, sum(pay_events)::bigint,
       sum(revenue_cents)::bigint, sum(cost)::bigint
FROM user_activity GROUP BY user_id;
