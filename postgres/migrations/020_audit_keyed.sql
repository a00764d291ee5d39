-- Issue 11: the keyed audit chain, aggregated unauthenticated denials and
-- Ask's daily Claude spend per admin.
ALTER TABLE audit_log ADD COLUMN mac text NOT NULL DEFAULT '';

-- Unauthenticated denials per source address and window: n counted,
-- reported = how many of them an entry already accounts for. Shared by
-- every replica, so the limit per address holds across them.
CREATE TABLE audit_denials (
    source       text        NOT NULL,
    window_start timestamptz NOT NULL,
    n            bigint      NOT NULL,
    reported     bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (source, window_start)
);

-- day: days since 1970-01-01 in the reporting zone; cost in micro-dollars.
CREATE TABLE ask_spend (
    admin_id bigint NOT NULL,
    day      integer NOT NULL,
    cost     bigint NOT NULL,
    PRIMARY KEY (admin_id, day)
);
