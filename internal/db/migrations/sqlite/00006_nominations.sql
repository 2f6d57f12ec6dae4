-- +goose Up
-- Nominations: a focal point's change to the State's entry waits here as a
-- draft, then submitted, until the Secretariat validates it (with the
-- official reference, e.g. a note verbale) or returns it with a reason.
-- Only a validated nomination changes the directory.
CREATE TABLE nominations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    state_code      TEXT NOT NULL REFERENCES states(code),
    action          TEXT NOT NULL,              -- poc.create | poc.update | poc.remove | entry.update
    poc_id          INTEGER REFERENCES pocs(id),
    target          TEXT,                       -- poc:ID or entry; NULL for a new PoC
    base_version    INTEGER NOT NULL DEFAULT 0, -- version of the PoC or entry it started from
    payload         TEXT NOT NULL DEFAULT '{}', -- JSON of the proposed fields
    effective_date  TEXT NOT NULL,              -- YYYY-MM-DD, given by the focal point
    status          TEXT NOT NULL,              -- draft | submitted | validated | returned | withdrawn
    version         INTEGER NOT NULL DEFAULT 1,
    request_ref     TEXT NOT NULL DEFAULT '',   -- the State's written request when the Secretariat acts for it
    created_by      INTEGER REFERENCES users(id),
    created_by_email TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    submitted_by_email TEXT NOT NULL DEFAULT '',
    submitted_at    TIMESTAMP,
    decided_by_email TEXT NOT NULL DEFAULT '',
    decided_at      TIMESTAMP,
    official_ref    TEXT NOT NULL DEFAULT '',
    return_reason   TEXT NOT NULL DEFAULT '',
    change_id       INTEGER REFERENCES entry_changes(id)
);
CREATE INDEX nominations_state ON nominations(state_code, status);
CREATE INDEX nominations_status ON nominations(status, submitted_at);
-- One open nomination per PoC and per entry: a second editor is told to
-- revise the open one instead of racing it.
CREATE UNIQUE INDEX nominations_open ON nominations(state_code, target)
    WHERE status IN ('draft', 'submitted', 'returned');

ALTER TABLE entry_changes ADD COLUMN nomination_id INTEGER REFERENCES nominations(id);
ALTER TABLE entry_changes ADD COLUMN notified_at TIMESTAMP;
ALTER TABLE entry_changes ADD COLUMN official_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE entry_changes ADD COLUMN validated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE entry_changes ADD COLUMN request_ref TEXT NOT NULL DEFAULT '';

-- A PoC leaving on a known date stays listed, marked, until that date.
ALTER TABLE pocs ADD COLUMN leaving_on TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE pocs DROP COLUMN leaving_on;
ALTER TABLE entry_changes DROP COLUMN request_ref;
ALTER TABLE entry_changes DROP COLUMN validated_by;
ALTER TABLE entry_changes DROP COLUMN official_ref;
ALTER TABLE entry_changes DROP COLUMN notified_at;
ALTER TABLE entry_changes DROP COLUMN nomination_id;
DROP TABLE nominations;
