-- +goose NO TRANSACTION
-- +goose Up
-- A response received by email has no account behind it: the State's PoC
-- answered from its mail client (sender_email says who). SQLite cannot drop
-- a NOT NULL, so the table is rebuilt as its documentation says (the
-- foreign keys of the other tables name "comms" and keep pointing at it).
-- +goose StatementBegin
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE comms_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    ref              TEXT NOT NULL UNIQUE,
    thread_id        INTEGER NOT NULL DEFAULT 0,
    parent_id        INTEGER REFERENCES comms(id),
    forwarded_from   INTEGER REFERENCES comms(id),
    template_id      INTEGER NOT NULL REFERENCES comm_templates(id),
    template_version INTEGER NOT NULL,
    sender_state     TEXT NOT NULL REFERENCES states(code),
    sender_user      INTEGER REFERENCES users(id),  -- NULL for a response received by email
    sender_email     TEXT NOT NULL,
    sender_tz        TEXT NOT NULL DEFAULT '',
    to_states        TEXT NOT NULL,
    level            TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    tlp              TEXT NOT NULL,
    respond_by       TIMESTAMP,
    onward_consent   INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    content          TEXT NOT NULL,
    idem_key         TEXT NOT NULL DEFAULT '',
    commit_salt      TEXT NOT NULL DEFAULT '',
    log_index        INTEGER,
    escalated_at     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
INSERT INTO comms_rebuilt (id, ref, thread_id, parent_id, forwarded_from, template_id, template_version, sender_state, sender_user, sender_email,
    sender_tz, to_states, level, urgency, tlp, respond_by, onward_consent, status, content, idem_key, commit_salt, log_index, escalated_at,
    created_at, updated_at, sent_at)
SELECT id, ref, thread_id, parent_id, forwarded_from, template_id, template_version, sender_state, sender_user, sender_email,
    sender_tz, to_states, level, urgency, tlp, respond_by, onward_consent, status, content, idem_key, commit_salt, log_index, escalated_at,
    created_at, updated_at, sent_at FROM comms;
DROP TABLE comms;
ALTER TABLE comms_rebuilt RENAME TO comms;
CREATE INDEX comms_thread ON comms(thread_id, id);
CREATE INDEX comms_sender ON comms(sender_state, id);
CREATE UNIQUE INDEX comms_idem ON comms(sender_user, idem_key) WHERE idem_key <> '';
CREATE INDEX comms_respond_by ON comms(respond_by) WHERE status = 'sent';
COMMIT;
PRAGMA foreign_keys = ON;
-- +goose StatementEnd

-- +goose Down
-- A response received by email cannot be given an account: nothing to undo
-- but the constraint, which the rows may no longer meet.
SELECT 1;
