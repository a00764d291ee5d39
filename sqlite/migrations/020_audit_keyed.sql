-- Issue 11: the keyed audit chain, aggregated unauthenticated denials and
-- Ask's daily Claude spend per admin.
ALTER TABLE audit_log ADD COLUMN mac TEXT NOT NULL DEFAULT '';

-- Unauthenticated denials per source address and window (start, Unix µs):
-- n counted, reported = how many of them an entry already accounts for.
CREATE TABLE audit_denials (
    source       TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    reported     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, window_start)
);

-- day: days since 1970-01-01 in the reporting zone; cost in micro-dollars.
CREATE TABLE ask_spend (
    admin_id INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    cost     INTEGER NOT NULL,
    PRIMARY KEY (admin_id, day)
);
