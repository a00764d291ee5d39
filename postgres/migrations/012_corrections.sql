-- Corrections and repricing (issue 10), as in SQLite's 004_corrections.sql.
--
-- Adding a column with a constant default (or none) only changes the
-- catalog on PostgreSQL 11+: no table is rewritten, however many events.
--
-- events: a voided event keeps its row and names the void that took it out
-- (voided_by); a void stores its target and reason; price_ref records which
-- catalog entry priced an api_call (model@effective_from/source, "caller"
-- for a caller-given cost, "" for unpriced or not a call).
ALTER TABLE events ADD COLUMN voided_by text COLLATE "C";
ALTER TABLE events ADD COLUMN voids     text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN reason    text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN price_ref text COLLATE "C" NOT NULL DEFAULT '';

-- event_ids learns each event's timestamp (NULL for events stored before
-- this migration): with it, a void finds its target through the index
-- below in the one partition that holds it.
ALTER TABLE event_ids ADD COLUMN ts timestamptz;

-- Voids find their targets by (ts, id); reprice walks a range in (ts, id)
-- order, a bounded batch per transaction. The index is built once here, in
-- time proportional to the events; ingest then appends to its right edge.
-- It holds ts alone: with event ids of 36 characters (UUIDs) an index on
-- (ts, id) would be three times the size, and two events rarely share a
-- microsecond, so ties are sorted cheaply after the index scan.
CREATE INDEX events_by_ts ON events (ts);

-- Voiding a signup recomputes the user's earliest live signup.
CREATE INDEX events_signups ON events (user_id, ts) WHERE type = 'user_signup';

-- Runtime price entries (prices add/remove, POST /admin/prices); the version
-- row in meta tells every replica when to reload them. entry is text, not
-- jsonb, so it reads back byte for byte as it was validated.
CREATE TABLE price_entries (
    service        text COLLATE "C" NOT NULL,
    model          text COLLATE "C" NOT NULL,
    effective_from integer NOT NULL,
    entry          text NOT NULL, -- the entry as JSON, in the --prices file format
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (service, model, effective_from)
);
INSERT INTO meta (key, value) VALUES ('prices_version', '0') ON CONFLICT (key) DO NOTHING;

-- user_activity gains events: the user's live events that day. A user-day
-- whose count falls to zero through voids is removed and unlinked. Before
-- this migration no event was voided, so the count is every event's.
ALTER TABLE user_activity ADD COLUMN events bigint NOT NULL DEFAULT 0;
UPDATE user_activity ua SET events = c.n
FROM (SELECT user_id, day, count(*) AS n FROM events WHERE user_id <> '' GROUP BY user_id, day) c
WHERE c.user_id = ua.user_id AND c.day = ua.day;

-- cost_daily is keyed by the price entry too, so the cost breakdown can say
-- which entries priced a model's calls. Rows from before are unattributed ('').
ALTER TABLE cost_daily ADD COLUMN price_ref text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE cost_daily DROP CONSTRAINT cost_daily_pkey;
ALTER TABLE cost_daily ADD PRIMARY KEY (day, service, model, operation, price_ref);
