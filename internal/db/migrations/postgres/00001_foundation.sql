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
    updated_at    TIMESTAMPTZ
);

CREATE TABLE pocs (
    id              BIGSERIAL PRIMARY KEY,
    state_code      TEXT NOT NULL REFERENCES states(code),
    level           TEXT NOT NULL,
    is_alternate    BOOLEAN NOT NULL DEFAULT FALSE,
    agency          TEXT NOT NULL,
    function_title  TEXT NOT NULL DEFAULT '',
    person_name     TEXT NOT NULL DEFAULT '',
    channels        TEXT NOT NULL DEFAULT '[]',  -- JSON array, parsed in Go
    languages       TEXT NOT NULL DEFAULT '',    -- comma-separated BCP 47 tags
    time_zone       TEXT NOT NULL,
    available_247   BOOLEAN NOT NULL DEFAULT FALSE,
    working_hours   TEXT NOT NULL DEFAULT '',
    pgp_key         TEXT NOT NULL DEFAULT '',
    pgp_fingerprint TEXT NOT NULL DEFAULT '',
    pgp_expires_at  TIMESTAMPTZ,
    notes           TEXT NOT NULL DEFAULT '',
    notes_lang      TEXT NOT NULL DEFAULT '',
    notes_en        TEXT NOT NULL DEFAULT '',
    regional_refs   TEXT NOT NULL DEFAULT '[]',  -- JSON array, parsed in Go
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    removed_at      TIMESTAMPTZ
);
CREATE INDEX pocs_state ON pocs(state_code, removed_at);

CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL,
    state_code     TEXT REFERENCES states(code),
    password_hash  TEXT NOT NULL DEFAULT '',
    totp_secret    TEXT NOT NULL DEFAULT '',
    totp_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    language       TEXT NOT NULL DEFAULT 'en',
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    last_login_at  TIMESTAMPTZ,
    disabled_at    TIMESTAMPTZ
);

CREATE TABLE entry_changes (
    id             BIGSERIAL PRIMARY KEY,
    state_code     TEXT NOT NULL REFERENCES states(code),
    poc_id         BIGINT REFERENCES pocs(id),
    action         TEXT NOT NULL,
    actor_id       BIGINT REFERENCES users(id),
    actor_email    TEXT NOT NULL,
    changed_at     TIMESTAMPTZ NOT NULL,
    effective_date TEXT NOT NULL,              -- YYYY-MM-DD
    diff           TEXT NOT NULL DEFAULT '[]'  -- JSON array of {field, old, new}
);
CREATE INDEX entry_changes_state ON entry_changes(state_code, id);

CREATE TABLE invitations (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    state_code  TEXT REFERENCES states(code),
    invited_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    user_id     BIGINT REFERENCES users(id),
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    mfa_done     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,   -- read | write
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Login throttling per client address, shared by every instance.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
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
