-- +goose Up
-- Lists read a page at a time, by keyset on (created_at, id), newest
-- first (issue 19 §4): these indexes let a page walk to its rows rather
-- than sort a State's whole history.
CREATE INDEX comms_sent_list ON comms(created_at, id) WHERE status = 'sent';
CREATE INDEX comms_sender_list ON comms(sender_state, status, created_at, id);
-- A line carries its communication's respond_by (fixed once sent), so
-- that the lines that wait for their State (not acknowledged, or asked for
-- an answer and not answered) are an index of their own.
ALTER TABLE comm_recipients ADD COLUMN respond_by TIMESTAMPTZ;
UPDATE comm_recipients SET respond_by = (SELECT c.respond_by FROM comms c WHERE c.id = comm_recipients.comm_id)
    WHERE comm_id IN (SELECT id FROM comms WHERE respond_by IS NOT NULL);
CREATE INDEX comm_recipients_waiting ON comm_recipients(state_code, comm_id) WHERE moved_at IS NULL AND outcome = '' AND (acked_at IS NULL OR respond_by IS NOT NULL);
-- Requests to share and their answers: the inbox looked for them by
-- reading every event of every communication.
CREATE INDEX comm_events_consent ON comm_events(comm_id) WHERE kind = 'consent-requested';
CREATE INDEX comm_events_ref ON comm_events(ref_id) WHERE ref_id IS NOT NULL;
-- The disputes and requests for more information (a few among millions).
CREATE INDEX comm_recipients_disputes ON comm_recipients(outcome_at) WHERE outcome IN ('disputed', 'more-info');
-- Whether a State wrote in a thread since a recipient disputed or asked.
CREATE INDEX comms_thread_sent ON comms(thread_id, sender_state, sent_at) WHERE status = 'sent';

-- +goose Down
DROP INDEX comm_recipients_disputes;
DROP INDEX comms_thread_sent;
DROP INDEX comm_events_ref;
DROP INDEX comm_events_consent;
DROP INDEX comm_recipients_waiting;
ALTER TABLE comm_recipients DROP COLUMN respond_by;
DROP INDEX comms_sender_list;
DROP INDEX comms_sent_list;
