-- +goose Up
-- The States' national lists of critical information infrastructure: each
-- version as published by the State's focal point, with its sectors and
-- criteria (JSON), and the log entry that commits to it.
CREATE TABLE cii_lists (
    id             BIGSERIAL PRIMARY KEY,
    state_code     TEXT NOT NULL REFERENCES states(code),
    version        INTEGER NOT NULL,
    effective_date TEXT NOT NULL,
    body           TEXT NOT NULL,
    published_by   BIGINT REFERENCES users(id),
    published_at   TIMESTAMPTZ NOT NULL,
    commit_salt    TEXT NOT NULL,
    log_index      BIGINT,
    UNIQUE (state_code, version)
);

-- +goose Down
DROP TABLE cii_lists;
