-- +goose Up
-- An index that every communication wrote and no query needs (issue 19 §5:
-- a crisis burst writes ten lines a communication): comm_recipients_state
-- (state_code, comm_id) answers what comm_recipients_comm (comm_id,
-- state_code) answers as well, the lines of some communications for one
-- State or whether a State received one, and the lists by State walk
-- comm_recipients_list and _waiting. It cost a write in a random page of
-- the index for each line. (outbox_due stays: the outbox's page counts
-- every message through it, a narrow scan where the table is wide.)
DROP INDEX comm_recipients_state;

-- +goose Down
CREATE INDEX comm_recipients_state ON comm_recipients(state_code, comm_id);
