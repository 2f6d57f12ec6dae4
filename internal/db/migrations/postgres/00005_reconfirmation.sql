-- +goose Up
-- Annual reconfirmation: when a focal point last confirmed the entry, and
-- which reminders went out (one row per State, due date and kind, so that
-- several instances never send one twice).
ALTER TABLE states ADD COLUMN confirmed_at TIMESTAMPTZ;
ALTER TABLE states ADD COLUMN first_nominated_at TIMESTAMPTZ;

CREATE TABLE reminders_sent (
    state_code TEXT NOT NULL REFERENCES states(code),
    due_date   TEXT NOT NULL,   -- YYYY-MM-DD
    kind       TEXT NOT NULL,   -- before-30, before-14, before-7, after-1, after-2 …
    sent_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (state_code, due_date, kind)
);

-- +goose Down
DROP TABLE reminders_sent;
ALTER TABLE states DROP COLUMN first_nominated_at;
ALTER TABLE states DROP COLUMN confirmed_at;
