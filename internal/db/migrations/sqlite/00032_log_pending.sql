-- +goose Up
-- Entries made durable in the transaction of the change they record, and
-- integrated into the tree shortly after, in batches (internal/auditlog,
-- integrate.go), as Certificate Transparency logs do: the change's
-- transaction no longer holds the log head until its commit. owners names
-- the rows whose log_index is set when the entry gets its index
-- ("comms:12 comm_events:40"; empty when no row keeps it).
CREATE TABLE log_pending (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    data        TEXT NOT NULL,        -- the canonical encoding that will be hashed
    states      TEXT NOT NULL,        -- ";FRA;KEN;": the States the entry concerns
    owners      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL        -- the time of the event
);

-- Each State's bundles: the bundles (of 256 entries) holding an entry that
-- concerns the State, so that a State's page and its verification read its
-- bundles only, however long the log (filled when a bundle is stored; the
-- entries after the last full bundle, in log_tail, are few).
CREATE TABLE log_state_bundles (
    state_code TEXT NOT NULL,
    bundle     INTEGER NOT NULL,
    PRIMARY KEY (state_code, bundle)
);
WITH RECURSIVE split(bundle, rest, s) AS (
    SELECT idx, substr(states, 2), '' FROM log_bundles
    UNION ALL
    SELECT bundle, substr(rest, instr(rest, ';') + 1), substr(rest, 1, instr(rest, ';') - 1) FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO log_state_bundles (state_code, bundle) SELECT s, bundle FROM split WHERE s <> '';

-- +goose Down
-- Entries waiting in log_pending are committed with their changes: going
-- back is refused (the CHECK fails) until a running pocdir has integrated
-- them.
CREATE TEMP TABLE log_pending_down_guard (pending INTEGER CHECK (pending = 0));
INSERT INTO log_pending_down_guard SELECT COUNT(*) FROM log_pending;
DROP TABLE log_pending_down_guard;
DROP TABLE log_state_bundles;
DROP TABLE log_pending;
