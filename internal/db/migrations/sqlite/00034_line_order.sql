-- +goose Up
-- A recipient line carries, beside its communication's respond_by, what
-- orders the inbox and the lists (fixed once sent): the communication's
-- urgency as a rank (critical 0, high 1, medium 2, low 3, else 4), when it
-- was sent and when it was created. A State's inbox then reads its first
-- page along an index in the inbox's order, and its list of
-- communications received along another, however many years of lines
-- wait behind them (issue 19 §4).
ALTER TABLE comm_recipients ADD COLUMN urgency_rank INTEGER NOT NULL DEFAULT 4;
ALTER TABLE comm_recipients ADD COLUMN sent_at TIMESTAMP;
ALTER TABLE comm_recipients ADD COLUMN comm_created_at TIMESTAMP;
UPDATE comm_recipients SET sent_at = c.sent_at, comm_created_at = c.created_at,
    urgency_rank = CASE c.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END
    FROM comms c WHERE c.id = comm_recipients.comm_id;
DROP INDEX comm_recipients_waiting;
CREATE INDEX comm_recipients_waiting ON comm_recipients(state_code, respond_by, urgency_rank, sent_at DESC, comm_id)
    WHERE moved_at IS NULL AND outcome = '' AND (acked_at IS NULL OR respond_by IS NOT NULL);
CREATE INDEX comm_recipients_list ON comm_recipients(state_code, comm_created_at, comm_id);

-- +goose Down
DROP INDEX comm_recipients_list;
DROP INDEX comm_recipients_waiting;
CREATE INDEX comm_recipients_waiting ON comm_recipients(state_code, comm_id) WHERE moved_at IS NULL AND outcome = '' AND (acked_at IS NULL OR respond_by IS NOT NULL);
ALTER TABLE comm_recipients DROP COLUMN comm_created_at;
ALTER TABLE comm_recipients DROP COLUMN sent_at;
ALTER TABLE comm_recipients DROP COLUMN urgency_rank;
