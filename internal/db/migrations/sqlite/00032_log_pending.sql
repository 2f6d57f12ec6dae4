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

-- +goose Down
DROP TABLE log_pending;
