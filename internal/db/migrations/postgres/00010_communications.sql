-- +goose Up
-- Communications between States (issue 4). What a communication says (its
-- subject, fields, indicators), the notes of replies and the attachments
-- are sealed (internal/seal): the database holds them only encrypted, bound
-- to their row. What the Secretariat may see to run the system (who sent to
-- whom, when, and how far each recipient got) is in clear.
CREATE TABLE comms (
    id               BIGSERIAL PRIMARY KEY,
    ref              TEXT NOT NULL UNIQUE,          -- e.g. PC-2026-000042, the reference in emails
    thread_id        BIGINT NOT NULL DEFAULT 0,     -- the first communication of the exchange
    parent_id        BIGINT REFERENCES comms(id),   -- what a response answers
    forwarded_from   BIGINT REFERENCES comms(id),   -- a copy shared with a third State, with consent
    template_id      BIGINT NOT NULL REFERENCES comm_templates(id),
    template_version INTEGER NOT NULL,
    sender_state     TEXT NOT NULL REFERENCES states(code),
    sender_user      BIGINT NOT NULL REFERENCES users(id),
    sender_email     TEXT NOT NULL,
    sender_tz        TEXT NOT NULL DEFAULT '',       -- the sender State's time zone, for deadlines
    to_states        TEXT NOT NULL,                  -- codes separated by commas
    level            TEXT NOT NULL,                  -- technical | diplomatic
    urgency          TEXT NOT NULL,
    tlp              TEXT NOT NULL,
    respond_by       TIMESTAMPTZ,
    onward_consent   BOOLEAN NOT NULL DEFAULT FALSE,
    status           TEXT NOT NULL,                  -- draft | sent
    content          TEXT NOT NULL,                  -- sealed JSON
    idem_key         TEXT NOT NULL DEFAULT '',
    commit_salt      TEXT NOT NULL DEFAULT '',
    log_index        BIGINT,
    escalated_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
);
CREATE INDEX comms_thread ON comms(thread_id, id);
CREATE INDEX comms_sender ON comms(sender_state, id);
CREATE UNIQUE INDEX comms_idem ON comms(sender_user, idem_key) WHERE idem_key <> '';
-- The job that reminds before deadlines looks at sent ones still to come.
CREATE INDEX comms_respond_by ON comms(respond_by) WHERE status = 'sent';

-- One row per recipient PoC. Opening, acknowledging and the outcome are
-- acts of the recipient State, recorded on each of its rows with who acted.
CREATE TABLE comm_recipients (
    id              BIGSERIAL PRIMARY KEY,
    comm_id         BIGINT NOT NULL REFERENCES comms(id),
    state_code      TEXT NOT NULL REFERENCES states(code),
    poc_id          BIGINT REFERENCES pocs(id),
    level           TEXT NOT NULL,
    agency          TEXT NOT NULL,
    address         TEXT NOT NULL DEFAULT '',
    time_zone       TEXT NOT NULL DEFAULT '',       -- the PoC's, to show the deadline in it
    route           TEXT NOT NULL,                  -- level | alternate | other-level | tension | escalated | moved
    encrypted       BOOLEAN NOT NULL DEFAULT FALSE,     -- the email carried the content under OpenPGP
    notified_at     TIMESTAMPTZ,
    outbox_id       BIGINT,
    delivered_at    TIMESTAMPTZ,
    bounced_at      TIMESTAMPTZ,
    bounce_error    TEXT NOT NULL DEFAULT '',
    opened_at       TIMESTAMPTZ,
    opened_by       TEXT NOT NULL DEFAULT '',
    acked_at        TIMESTAMPTZ,
    acked_by        TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL DEFAULT '',       -- responded | declined | disputed | more-info
    outcome_at      TIMESTAMPTZ,
    outcome_by      TEXT NOT NULL DEFAULT '',
    reminded_at     TIMESTAMPTZ,
    moved_at        TIMESTAMPTZ                       -- the PoC left: its alternate took over
);
CREATE INDEX comm_recipients_comm ON comm_recipients(comm_id, state_code);
CREATE INDEX comm_recipients_state ON comm_recipients(state_code, comm_id);
CREATE INDEX comm_recipients_outbox ON comm_recipients(outbox_id) WHERE delivered_at IS NULL AND bounced_at IS NULL;
-- The job that hands a departed PoC's items over looks up the open ones by PoC.
CREATE INDEX comm_recipients_open ON comm_recipients(poc_id) WHERE moved_at IS NULL AND acked_at IS NULL AND outcome = '';

-- The thread's events: every act on an exchange, in order.
CREATE TABLE comm_events (
    id          BIGSERIAL PRIMARY KEY,
    thread_id   BIGINT NOT NULL,
    comm_id     BIGINT NOT NULL REFERENCES comms(id),
    kind        TEXT NOT NULL,
    state_code  TEXT NOT NULL DEFAULT '',           -- the acting State; '' for pocdir itself
    actor       TEXT NOT NULL DEFAULT '',
    actor_id    BIGINT,
    target      TEXT NOT NULL DEFAULT '',           -- a third State (consent, forward), a level (escalation)
    note        TEXT NOT NULL DEFAULT '',           -- sealed when set
    ref_id      BIGINT,                            -- the consent request answered, the forward made
    log_index   BIGINT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX comm_events_thread ON comm_events(thread_id, id);

CREATE TABLE comm_attachments (
    id          BIGSERIAL PRIMARY KEY,
    comm_id     BIGINT NOT NULL REFERENCES comms(id),
    size        BIGINT NOT NULL,
    meta        TEXT NOT NULL DEFAULT '',           -- sealed: name and media type, read without the bytes
    data        TEXT NOT NULL                       -- sealed: name, media type, bytes
);
CREATE INDEX comm_attachments_comm ON comm_attachments(comm_id);

-- A State's routing preference: while it declares tension with another
-- State, requests between the two go to the diplomatic level first (the
-- algorithm of the Russian presentation, December 2022).
CREATE TABLE comm_tensions (
    state_code   TEXT NOT NULL REFERENCES states(code),
    counterpart  TEXT NOT NULL REFERENCES states(code),
    declared_by  TEXT NOT NULL,
    declared_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (state_code, counterpart)
);

-- A message whose body is an OpenPGP message goes out as PGP/MIME.
ALTER TABLE outbox ADD COLUMN pgp BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE outbox DROP COLUMN pgp;
DROP TABLE comm_tensions;
DROP TABLE comm_attachments;
DROP TABLE comm_events;
DROP TABLE comm_recipients;
DROP TABLE comms;
