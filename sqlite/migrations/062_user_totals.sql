-- Each user's lifetime totals, the sums of their user_activity rows (issue
-- 13). get_user_economics over a range that holds most of the data starts
-- from these, one row per user, and subtracts the months and days outside
-- the range, instead of summing every month inside it. A user without
-- user-days has no row.
CREATE TABLE user_totals (
    user_id         TEXT    NOT NULL PRIMARY KEY,
    events          INTEGER NOT NULL DEFAULT 0, -- live events
    stories_created INTEGER NOT NULL DEFAULT 0,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    pay_events      INTEGER NOT NULL DEFAULT 0, -- payments and refunds
    revenue_cents   INTEGER NOT NULL DEFAULT 0, -- payments − refunds, whole cents
    cost            INTEGER NOT NULL DEFAULT 0  -- micro-dollars
) STRICT, WITHOUT ROWID;
INSERT INTO user_totals (user_id, events, stories_created, api_calls, pay_events, revenue_cents, cost)
SELECT user_id, SUM(events), SUM(stories_created), SUM(api_calls), SUM(pay_events), SUM(revenue_cents), SUM(cost)
FROM user_activity GROUP BY user_id;
