-- +goose Up
CREATE TABLE states (
    code          TEXT PRIMARY KEY,          -- ISO 3166-1 alpha-3
    iso2          TEXT NOT NULL,
    m49           TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,             -- member | observer
    un_group      TEXT NOT NULL,
    bodies        TEXT NOT NULL DEFAULT '',  -- semicolon-separated regional bodies
    initiate_via  TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    notes_lang    TEXT NOT NULL DEFAULT '',
    notes_en      TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1,
    updated_at    TIMESTAMP
);

CREATE TABLE pocs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    state_code      TEXT NOT NULL REFERENCES states(code),
    level           TEXT NOT NULL,
    is_alternate    INTEGER NOT NULL DEFAULT 0,
    agency          TEXT NOT NULL,
    function_title  TEXT NOT NULL DEFAULT '',
    person_name     TEXT NOT NULL DEFAULT '',
    channels        TEXT NOT NULL DEFAULT '[]',  -- JSON array, parsed in Go
    languages       TEXT NOT NULL DEFAULT '',    -- comma-separated BCP 47 tags
    time_zone       TEXT NOT NULL,
    available_247   INTEGER NOT NULL DEFAULT 0,
    working_hours   TEXT NOT NULL DEFAULT '',
    pgp_key         TEXT NOT NULL DEFAULT '',
    pgp_fingerprint TEXT NOT NULL DEFAULT '',
    pgp_expires_at  TIMESTAMP,
    notes           TEXT NOT NULL DEFAULT '',
    notes_lang      TEXT NOT NULL DEFAULT '',
    notes_en        TEXT NOT NULL DEFAULT '',
    regional_refs   TEXT NOT NULL DEFAULT '[]',  -- JSON array, parsed in Go
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    removed_at      TIMESTAMP
);
CREATE INDEX pocs_state ON pocs(state_code, removed_at);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL,
    state_code     TEXT REFERENCES states(code),
    password_hash  TEXT NOT NULL DEFAULT '',
    totp_secret    TEXT NOT NULL DEFAULT '',
    totp_enabled   INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    language       TEXT NOT NULL DEFAULT 'en',
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    last_login_at  TIMESTAMP,
    disabled_at    TIMESTAMP
);

CREATE TABLE entry_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    state_code     TEXT NOT NULL REFERENCES states(code),
    poc_id         INTEGER REFERENCES pocs(id),
    action         TEXT NOT NULL,
    actor_id       INTEGER REFERENCES users(id),
    actor_email    TEXT NOT NULL,
    changed_at     TIMESTAMP NOT NULL,
    effective_date TEXT NOT NULL,              -- YYYY-MM-DD
    diff           TEXT NOT NULL DEFAULT '[]'  -- JSON array of {field, old, new}
);
CREATE INDEX entry_changes_state ON entry_changes(state_code, id);

CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    state_code  TEXT REFERENCES states(code),
    invited_by  INTEGER REFERENCES users(id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    user_id     INTEGER REFERENCES users(id),
    revoked_at  TIMESTAMP
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    mfa_done     INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    revoked_at   TIMESTAMP
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,   -- read | write
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- Login throttling per client address, shared by every instance.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    window_start TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE login_throttle;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE invitations;
DROP TABLE entry_changes;
DROP TABLE users;
DROP TABLE pocs;
DROP TABLE states;
