-- +goose Up
-- The requests to share a communication with a third State that its sender
-- has not answered, by sender (issue 19 §4): what waits for a State on what
-- it sent read every communication the State ever sent, to find the few
-- with an open request. Written with the request's event, removed with its
-- answer's; `pocdir audit check` and the tests list them again.
CREATE TABLE comm_consent_open (
    request_id   BIGINT PRIMARY KEY REFERENCES comm_events(id),
    sender_state TEXT NOT NULL,
    comm_id      BIGINT NOT NULL REFERENCES comms(id)
);
CREATE INDEX comm_consent_open_sender ON comm_consent_open(sender_state, request_id);
INSERT INTO comm_consent_open (request_id, sender_state, comm_id)
SELECT e.id, c.sender_state, e.comm_id FROM comm_events e JOIN comms c ON c.id = e.comm_id
WHERE e.kind = 'consent-requested'
    AND NOT EXISTS (SELECT 1 FROM comm_events x WHERE x.ref_id = e.id AND x.kind IN ('consent-granted', 'consent-refused'));

-- +goose Down
DROP TABLE comm_consent_open;
