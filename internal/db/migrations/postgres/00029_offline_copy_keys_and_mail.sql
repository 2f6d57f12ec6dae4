-- +goose Up
-- A user's own OpenPGP public key, to which their offline copy is
-- encrypted (the fingerprint is shown on the account page).
ALTER TABLE users ADD COLUMN openpgp_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN openpgp_fingerprint TEXT NOT NULL DEFAULT '';
-- An e-mail's one attachment (the offline copy), dropped once sent as the
-- body is.
ALTER TABLE outbox ADD COLUMN attachment_name TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN attachment BYTEA;
-- The States whose PoCs receive a fresh offline copy by e-mail (a focal
-- point turned it on), and when each PoC last received one, with the
-- SHA-256 of the directory it held, to tell when the directory changed,
-- and its message in the outbox (to show whether it left).
CREATE TABLE offline_mailings (
    state_code TEXT PRIMARY KEY REFERENCES states(code),
    enabled_by BIGINT REFERENCES users(id),
    enabled_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE offline_mailed (
    poc_id     BIGINT PRIMARY KEY REFERENCES pocs(id),
    state_code TEXT NOT NULL REFERENCES states(code),
    sent_at    TIMESTAMPTZ NOT NULL,
    directory  TEXT NOT NULL,
    outbox_id  BIGINT
);
CREATE INDEX offline_mailed_state ON offline_mailed (state_code);

-- +goose Down
DROP TABLE offline_mailed;
DROP TABLE offline_mailings;
ALTER TABLE outbox DROP COLUMN attachment;
ALTER TABLE outbox DROP COLUMN attachment_name;
ALTER TABLE users DROP COLUMN openpgp_fingerprint;
ALTER TABLE users DROP COLUMN openpgp_key;
