-- +goose Up
-- The index of the lines that wait for their State holds every column the
-- inbox's window reads of them (issue 19 §4): whether a line was
-- acknowledged, and the columns of the index's own condition, which SQLite
-- reads again. A window of fifty then reads the index alone, where it read
-- fifty lines scattered over the table, each from its own page on disk at
-- ten years.
DROP INDEX comm_recipients_waiting;
CREATE INDEX comm_recipients_waiting ON comm_recipients(state_code, respond_by, urgency_rank, sent_at DESC, comm_id, acked_at, moved_at, outcome)
    WHERE moved_at IS NULL AND outcome = '' AND (acked_at IS NULL OR respond_by IS NOT NULL);

-- +goose Down
DROP INDEX comm_recipients_waiting;
CREATE INDEX comm_recipients_waiting ON comm_recipients(state_code, respond_by, urgency_rank, sent_at DESC, comm_id)
    WHERE moved_at IS NULL AND outcome = '' AND (acked_at IS NULL OR respond_by IS NOT NULL);
