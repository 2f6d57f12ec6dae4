-- +goose Up
-- Entries made durable in the transaction of the change they record, and
-- integrated into the tree shortly after, in batches (internal/auditlog,
-- integrate.go), as Certificate Transparency logs do: the change's
-- transaction no longer holds the log head until its commit. owners names
-- the rows whose log_index is set when the entry gets its index
-- ("comms:12 comm_events:40"; empty when no row keeps it).
CREATE TABLE log_pending (
    id          BIGSERIAL PRIMARY KEY,
    data        TEXT NOT NULL,        -- the canonical encoding that will be hashed
    states      TEXT NOT NULL,        -- ";FRA;KEN;": the States the entry concerns
    owners      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL      -- the time of the event
);

-- Each State's bundles: the bundles (of 256 entries) holding an entry that
-- concerns the State, so that a State's page and its verification read its
-- bundles only, however long the log (filled when a bundle is stored; the
-- entries after the last full bundle, in log_tail, are few).
CREATE TABLE log_state_bundles (
    state_code TEXT NOT NULL,
    bundle     BIGINT NOT NULL,
    PRIMARY KEY (state_code, bundle)
);
INSERT INTO log_state_bundles (state_code, bundle)
SELECT DISTINCT s, idx FROM log_bundles, regexp_split_to_table(states, ';') AS s WHERE s <> '';

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
	-- Entries waiting in log_pending are committed with their changes:
	-- going back is refused until a running pocdir has integrated them.
	IF EXISTS (SELECT 1 FROM log_pending) THEN
		RAISE EXCEPTION 'log entries wait in log_pending: start pocdir once to integrate them, then undo this migration';
	END IF;
END
$$;
-- +goose StatementEnd
DROP TABLE log_state_bundles;
DROP TABLE log_pending;
