-- +goose Up
-- Passkeys (WebAuthn) beside TOTP: several per user, each named; an
-- account may accept passkeys only. A ceremony's challenge waits on the
-- browser's session; a lost second factor is reset on a second person's
-- approval.
ALTER TABLE users ADD COLUMN passkeys_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN passkey_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ceremony TEXT;
-- After an approved reset, the time to set up a second factor again counts
-- from then, not from the account's creation.
ALTER TABLE users ADD COLUMN enrol_from TIMESTAMP;

CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,  -- base64url
    credential    TEXT NOT NULL,         -- the WebAuthn credential record, JSON
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE INDEX passkeys_user ON passkeys(user_id);

CREATE TABLE factor_resets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    requested_at TIMESTAMP NOT NULL,
    requested_ip TEXT NOT NULL DEFAULT '',
    decided_by   INTEGER REFERENCES users(id),
    decided_at   TIMESTAMP,
    approved     INTEGER
);
CREATE INDEX factor_resets_user ON factor_resets(user_id);

-- +goose Down
DROP TABLE factor_resets;
DROP TABLE passkeys;
ALTER TABLE sessions DROP COLUMN ceremony;
ALTER TABLE users DROP COLUMN enrol_from;
ALTER TABLE users DROP COLUMN passkey_count;
ALTER TABLE users DROP COLUMN passkeys_only;
