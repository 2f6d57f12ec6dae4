-- +goose Up
-- The outbox's page counted every message ever sent or failed, on each
-- view: ten years of a busy directory leave millions of rows (a message's
-- row stays once sent, its body dropped). The totals are kept instead,
-- moved by the statements that mark a message sent or failed.
CREATE TABLE outbox_tally (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    sent   BIGINT NOT NULL,
    failed BIGINT NOT NULL
);
INSERT INTO outbox_tally (id, sent, failed) SELECT 1, COUNT(sent_at), COUNT(failed_at) FROM outbox;

-- +goose Down
DROP TABLE outbox_tally;
