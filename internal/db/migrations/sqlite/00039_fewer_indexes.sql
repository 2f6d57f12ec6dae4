-- +goose Up
-- Two indexes that every communication wrote and no query needs (issue 19
-- §5: a crisis burst writes ten lines and ten e-mails a communication):
-- - comm_recipients_state (state_code, comm_id) answers what
--   comm_recipients_comm (comm_id, state_code) answers as well: the lines
--   of some communications for one State, or whether a State received one;
--   the lists by State walk comm_recipients_list and _waiting. It cost a
--   write in a random page of the index for each line.
-- - outbox_due (sent_at, failed_at, next_attempt_at) held every e-mail ever
--   sent; outbox_pending holds the unsent only, in the order the sender
--   claims them, and answers the queue's count and its oldest.
DROP INDEX comm_recipients_state;
DROP INDEX outbox_due;

-- +goose Down
CREATE INDEX comm_recipients_state ON comm_recipients(state_code, comm_id);
CREATE INDEX outbox_due ON outbox(sent_at, failed_at, next_attempt_at);
