-- +goose Up
-- The accountability log: an append-only Merkle tree (RFC 6962 hashing) of
-- every event. Entries hold metadata and a commitment to the content, never
-- the content itself.
CREATE TABLE log_head (
    id   INTEGER PRIMARY KEY,
    size BIGINT NOT NULL
);
INSERT INTO log_head (id, size) VALUES (1, 0);

CREATE TABLE log_entries (
    idx    BIGINT PRIMARY KEY,
    type   TEXT NOT NULL,
    states TEXT NOT NULL,       -- ";FRA;KEN;": the States the entry concerns
    object TEXT NOT NULL,
    at     TIMESTAMPTZ NOT NULL,
    data   TEXT NOT NULL         -- the canonical encoding that is hashed
);
CREATE INDEX log_entries_object ON log_entries(object);

-- Stored hashes of the tree, indexed as golang.org/x/mod/sumdb/tlog does.
CREATE TABLE log_hashes (
    id   BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE log_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE log_cosignatures (
    id         BIGSERIAL PRIMARY KEY,
    size       BIGINT NOT NULL REFERENCES log_checkpoints(size),
    witness    TEXT NOT NULL,    -- the witness's verifier key
    signature  TEXT NOT NULL,    -- the signature line of the cosigned note
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (size, witness)
);

-- The directory's version: bumped in every transaction that changes the
-- directory, under a row lock, so that instances compare versions in commit
-- order (ids of entry_changes are handed out before commit on PostgreSQL).
CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY,
    n  BIGINT NOT NULL
);
INSERT INTO directory_version (id, n) VALUES (1, 0);

ALTER TABLE entry_changes ADD COLUMN log_index BIGINT;
ALTER TABLE entry_changes ADD COLUMN commit_salt TEXT NOT NULL DEFAULT '';

-- +goose Down
DROP TABLE directory_version;
ALTER TABLE entry_changes DROP COLUMN commit_salt;
ALTER TABLE entry_changes DROP COLUMN log_index;
DROP TABLE log_cosignatures;
DROP TABLE log_checkpoints;
DROP TABLE log_hashes;
DROP TABLE log_entries;
DROP TABLE log_head;
