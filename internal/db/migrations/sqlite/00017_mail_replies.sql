-- +goose Up
-- Functional equivalence by e-mail: a PoC answers from its mail client.
-- Each notification and check e-mail carries a reply address unique to its
-- recipient line (the token is stored hashed); what arrives is recorded
-- once, whichever instance receives it; an act received by e-mail says so
-- in its thread, and whether its signature was verified.
CREATE TABLE reply_addresses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,                 -- comm | check
    object_id   INTEGER NOT NULL,              -- the recipient line, the check target
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

CREATE TABLE inbound_mail (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key   TEXT NOT NULL UNIQUE,         -- the Message-ID, or the hash of the message
    received_at  TIMESTAMP NOT NULL,
    via          TEXT NOT NULL,                -- smtp | imap
    sender       TEXT NOT NULL DEFAULT '',
    address_id   INTEGER,                      -- the reply address it came to
    object       TEXT NOT NULL DEFAULT '',     -- what it concerned: comm:REF, check_target:ID, outbox:ID
    result       TEXT NOT NULL,                -- recorded | auto-reply | bounce | unclear | refused
    act          TEXT NOT NULL DEFAULT '',     -- acknowledge | respond | decline | dispute | more-info | check
    signature    TEXT NOT NULL DEFAULT '',     -- verified | unverified | bad
    encrypted    BOOLEAN NOT NULL DEFAULT FALSE,
    answered     BOOLEAN NOT NULL DEFAULT FALSE, -- an explanation went back
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inbound_mail_address ON inbound_mail(address_id, received_at);

ALTER TABLE comm_events ADD COLUMN via TEXT NOT NULL DEFAULT '';           -- email, or '' for the portal and the API
ALTER TABLE comm_events ADD COLUMN verification TEXT NOT NULL DEFAULT '';  -- verified | unverified | confirmed | rejected
ALTER TABLE comm_events ADD COLUMN verified_by TEXT NOT NULL DEFAULT '';

ALTER TABLE outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN auto_reply BOOLEAN NOT NULL DEFAULT FALSE;
-- The random part of the Message-ID it goes out with: a bounce names it.
ALTER TABLE outbox ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
-- A bounce that came back after the relay accepted the message (RFC 3464).
ALTER TABLE outbox ADD COLUMN bounced_at TIMESTAMP;

-- +goose Down
ALTER TABLE outbox DROP COLUMN bounced_at;
ALTER TABLE outbox DROP COLUMN message_id;
ALTER TABLE outbox DROP COLUMN auto_reply;
ALTER TABLE outbox DROP COLUMN in_reply_to;
ALTER TABLE outbox DROP COLUMN reply_to;
ALTER TABLE comm_events DROP COLUMN verified_by;
ALTER TABLE comm_events DROP COLUMN verification;
ALTER TABLE comm_events DROP COLUMN via;
DROP TABLE inbound_mail;
DROP TABLE reply_addresses;
