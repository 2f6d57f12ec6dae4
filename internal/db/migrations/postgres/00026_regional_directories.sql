-- +goose Up
-- The regional directories' lists that the Secretariat imports, and each
-- of their contacts with the PoC it matches (suggested, then confirmed or
-- rejected). match_key identifies a contact from one import to the next.
CREATE TABLE regional_imports (
    id          BIGSERIAL PRIMARY KEY,
    body        TEXT NOT NULL,
    total       INTEGER NOT NULL,
    done        INTEGER NOT NULL,
    added       INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    removed     INTEGER NOT NULL,
    imported_by BIGINT REFERENCES users(id),
    imported_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE TABLE regional_contacts (
    id             BIGSERIAL PRIMARY KEY,
    body           TEXT NOT NULL,
    state_code     TEXT NOT NULL REFERENCES states(code),
    ref            TEXT NOT NULL,
    agency         TEXT NOT NULL,
    function_title TEXT NOT NULL,
    level          TEXT NOT NULL,
    channels       TEXT NOT NULL,
    status         TEXT NOT NULL,
    poc_id         BIGINT REFERENCES pocs(id),
    reason         TEXT NOT NULL,
    import_id      BIGINT NOT NULL REFERENCES regional_imports(id),
    updated_at     TIMESTAMPTZ NOT NULL,
    match_key      TEXT NOT NULL,
    UNIQUE (body, match_key)
);
CREATE INDEX regional_contacts_state ON regional_contacts (state_code, status);
CREATE INDEX regional_contacts_status ON regional_contacts (status, id);

-- +goose Down
DROP TABLE regional_contacts;
DROP TABLE regional_imports;
