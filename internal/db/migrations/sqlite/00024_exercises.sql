-- +goose NO TRANSACTION
-- Exercises (issue 15, C9): an exercise's plan, participants and scenario of
-- injects, and its after-action note. The injects travel as communications
-- (comms owns them): the Secretariat sends them, so the comms table loses
-- its reference from sender_state to states (UN stands for the Secretariat)
-- and gains the exercise a communication belongs to, and whether it is marked
-- EXERCISE (so is every answer in an exercise message's thread). SQLite cannot drop a
-- foreign key: the table is rebuilt as in 00018.

-- +goose Up
-- +goose StatementBegin
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE comms_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    ref              TEXT NOT NULL UNIQUE,
    thread_id        INTEGER NOT NULL DEFAULT 0,
    parent_id        INTEGER REFERENCES comms(id),
    forwarded_from   INTEGER REFERENCES comms(id),
    template_id      INTEGER NOT NULL REFERENCES comm_templates(id),
    template_version INTEGER NOT NULL,
    sender_state     TEXT NOT NULL,                  -- a State's code, or UN for the Secretariat (exercise injects)
    sender_user      INTEGER REFERENCES users(id),  -- NULL for a response received by email
    sender_email     TEXT NOT NULL,
    sender_tz        TEXT NOT NULL DEFAULT '',
    to_states        TEXT NOT NULL,
    level            TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    tlp              TEXT NOT NULL,
    respond_by       TIMESTAMP,
    onward_consent   INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    content          TEXT NOT NULL,
    idem_key         TEXT NOT NULL DEFAULT '',
    commit_salt      TEXT NOT NULL DEFAULT '',
    log_index        INTEGER,
    escalated_at     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP,
    exercise_id      INTEGER,                        -- the exercise an inject or its answers belong to
    exercise         INTEGER NOT NULL DEFAULT 0      -- marked EXERCISE: an inject, an exercise-template message, or an answer in their thread
);
INSERT INTO comms_rebuilt (id, ref, thread_id, parent_id, forwarded_from, template_id, template_version, sender_state, sender_user, sender_email,
    sender_tz, to_states, level, urgency, tlp, respond_by, onward_consent, status, content, idem_key, commit_salt, log_index, escalated_at,
    created_at, updated_at, sent_at, exercise_id, exercise)
SELECT id, ref, thread_id, parent_id, forwarded_from, template_id, template_version, sender_state, sender_user, sender_email,
    sender_tz, to_states, level, urgency, tlp, respond_by, onward_consent, status, content, idem_key, commit_salt, log_index, escalated_at,
    created_at, updated_at, sent_at, NULL,
    CASE WHEN template_id IN (SELECT id FROM comm_templates WHERE slug = 'exercise')
        OR thread_id IN (SELECT r.id FROM comms r JOIN comm_templates t ON t.id = r.template_id WHERE t.slug = 'exercise') THEN 1 ELSE 0 END
    FROM comms;
DROP TABLE comms;
ALTER TABLE comms_rebuilt RENAME TO comms;
CREATE INDEX comms_thread ON comms(thread_id, id);
CREATE INDEX comms_sender ON comms(sender_state, id);
CREATE UNIQUE INDEX comms_idem ON comms(sender_user, idem_key) WHERE idem_key <> '';
CREATE INDEX comms_respond_by ON comms(respond_by) WHERE status = 'sent';
CREATE INDEX comms_sent ON comms(sent_at, sender_state, template_id, thread_id) WHERE status = 'sent';
CREATE INDEX comms_exercise ON comms(exercise_id) WHERE exercise_id IS NOT NULL;
COMMIT;
PRAGMA foreign_keys = ON;
-- +goose StatementEnd

CREATE TABLE exercises (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    objectives         TEXT NOT NULL DEFAULT '',
    starts_at          TIMESTAMP NOT NULL,
    ends_at            TIMESTAMP NOT NULL,
    target_ack_min     INTEGER NOT NULL,              -- minutes from an inject to its acknowledgement
    target_answer_min  INTEGER NOT NULL,              -- minutes from an inject to its answer
    note               TEXT NOT NULL DEFAULT '',      -- the after-action note
    note_at            TIMESTAMP,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX exercises_starts ON exercises(starts_at);

-- The participating States, each at the level its PoCs take part at.
CREATE TABLE exercise_states (
    exercise_id  INTEGER NOT NULL REFERENCES exercises(id),
    state_code   TEXT NOT NULL REFERENCES states(code),
    level        TEXT NOT NULL,                       -- technical | diplomatic
    PRIMARY KEY (exercise_id, state_code)
);
CREATE INDEX exercise_states_state ON exercise_states(state_code, exercise_id);

-- The scenario: each inject is a communication from a template, sent at a
-- set time by the job, or released by hand by the controller when send_at
-- is NULL. Its fields are the scenario the Secretariat wrote, not a
-- State's content; they are sealed in comms once sent.
CREATE TABLE exercise_injects (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise_id  INTEGER NOT NULL REFERENCES exercises(id),
    template     TEXT NOT NULL,
    fields       TEXT NOT NULL,                       -- JSON: the template's fields by key
    send_at      TIMESTAMP,
    status       TEXT NOT NULL,                       -- planned | sending | released
    released_at  TIMESTAMP,
    released_by  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX exercise_injects_exercise ON exercise_injects(exercise_id, id);
CREATE INDEX exercise_injects_due ON exercise_injects(send_at) WHERE status = 'planned';

-- The communications an inject became: one per level of the participants.
CREATE TABLE exercise_inject_comms (
    inject_id  INTEGER NOT NULL REFERENCES exercise_injects(id),
    comm_id    INTEGER NOT NULL,                      -- comms(id): comms owns it
    level      TEXT NOT NULL,
    PRIMARY KEY (inject_id, level)
);

-- +goose Down
DROP TABLE exercise_inject_comms;
DROP TABLE exercise_injects;
DROP TABLE exercise_states;
DROP TABLE exercises;
DROP INDEX comms_exercise;
