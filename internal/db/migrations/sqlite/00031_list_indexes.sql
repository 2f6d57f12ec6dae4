-- +goose Up
-- Lists read a page at a time, by keyset on (created_at, id), newest
-- first (issue 19 §4): these indexes let a page walk to its rows rather
-- than sort a State's whole history. The last one serves what waits for a
-- State to acknowledge or answer (the inbox and its count in the
-- navigation), which only lines without an outcome can need.
CREATE INDEX comms_sent_list ON comms(created_at, id) WHERE status = 'sent';
CREATE INDEX comms_sender_list ON comms(sender_state, status, created_at, id);
CREATE INDEX comm_recipients_waiting ON comm_recipients(state_code, comm_id, acked_at) WHERE moved_at IS NULL AND outcome = '';
-- Requests to share and their answers: the inbox looked for them by
-- reading every event of every communication.
CREATE INDEX comm_events_consent ON comm_events(comm_id) WHERE kind = 'consent-requested';
CREATE INDEX comm_events_ref ON comm_events(ref_id) WHERE ref_id IS NOT NULL;
-- The lines not yet acknowledged (what the navigation counts), and the
-- disputes and requests for more information (a few among millions).
CREATE INDEX comm_recipients_unacked ON comm_recipients(state_code, comm_id) WHERE moved_at IS NULL AND acked_at IS NULL AND outcome = '';
CREATE INDEX comm_recipients_disputes ON comm_recipients(outcome_at) WHERE outcome IN ('disputed', 'more-info');
-- Whether a State wrote in a thread since a recipient disputed or asked.
CREATE INDEX comms_thread_sent ON comms(thread_id, sender_state, sent_at) WHERE status = 'sent';

-- +goose Down
DROP INDEX comm_recipients_disputes;
DROP INDEX comm_recipients_unacked;
DROP INDEX comms_thread_sent;
DROP INDEX comm_events_ref;
DROP INDEX comm_events_consent;
DROP INDEX comm_recipients_waiting;
DROP INDEX comms_sender_list;
DROP INDEX comms_sent_list;
