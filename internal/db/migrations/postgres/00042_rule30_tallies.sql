-- +goose Up
-- The 30-day rule's figures (the directory's page for every member, the
-- dashboard, a State's page) counted every change of every State on each
-- view: ten years of changes. They are kept by State instead, moved by the
-- statement that records a change (a change is never changed afterwards).
-- A change is late when it was notified (or, before nominations, made)
-- more than 30 days after it took effect, by the day in UTC, as
-- directory.Change.Late says; reconfirmations are not changes. (Every
-- effective date was parsed as YYYY-MM-DD before it was stored; the first
-- WHEN keeps any other from failing the migration.)
CREATE TABLE rule30_tallies (
    state_code TEXT PRIMARY KEY REFERENCES states(code),
    changes    BIGINT NOT NULL,
    late       BIGINT NOT NULL
);
INSERT INTO rule30_tallies (state_code, changes, late)
SELECT state_code, COUNT(*),
    SUM(CASE WHEN effective_date !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN 0
        WHEN (COALESCE(notified_at, changed_at) AT TIME ZONE 'UTC')::date - effective_date::date > 30 THEN 1 ELSE 0 END)
FROM entry_changes WHERE action <> 'entry.reconfirm' GROUP BY state_code;

-- +goose Down
DROP TABLE rule30_tallies;
