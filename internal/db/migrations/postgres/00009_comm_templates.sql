-- +goose Up
-- Communication templates as data (issue 4): each revision is a new version,
-- kept, so that a communication names the template and version it used.
CREATE TABLE comm_templates (
    id              BIGSERIAL PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,              -- active | retired
    current_version INTEGER NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE comm_template_versions (
    template_id  BIGINT NOT NULL REFERENCES comm_templates(id),
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,                 -- JSON {lang: text}
    description  TEXT NOT NULL,                 -- JSON {lang: text}
    fields       TEXT NOT NULL,                 -- JSON [{key, kind, required, label{}, help{}}]
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (template_id, version)
);

-- +goose Down
DROP TABLE comm_template_versions;
DROP TABLE comm_templates;
