-- Exercises (issue 15, C9): an exercise's plan, participants and scenario of
-- injects, and its after-action note. The injects travel as communications
-- (comms owns them): the Secretariat sends them, so the comms table loses
-- its reference from sender_state to states (UN stands for the Secretariat)
-- and gains the exercise a communication belongs to, and whether it is marked
-- EXERCISE (so is every answer in an exercise message's thread).

-- +goose Up
ALTER TABLE comms DROP CONSTRAINT IF EXISTS comms_sender_state_fkey;
ALTER TABLE comms ADD COLUMN exercise_id BIGINT;
ALTER TABLE comms ADD COLUMN exercise BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE comms SET exercise = TRUE WHERE template_id IN (SELECT id FROM comm_templates WHERE slug = 'exercise')
    OR thread_id IN (SELECT r.id FROM comms r JOIN comm_templates t ON t.id = r.template_id WHERE t.slug = 'exercise');
CREATE INDEX comms_exercise ON comms(exercise_id) WHERE exercise_id IS NOT NULL;
CREATE TABLE exercises (
    id                 BIGSERIAL PRIMARY KEY,
    name               TEXT NOT NULL,
    objectives         TEXT NOT NULL DEFAULT '',
    starts_at          TIMESTAMPTZ NOT NULL,
    ends_at            TIMESTAMPTZ NOT NULL,
    target_ack_min     INTEGER NOT NULL,              -- minutes from an inject to its acknowledgement
    target_answer_min  INTEGER NOT NULL,              -- minutes from an inject to its answer
    note               TEXT NOT NULL DEFAULT '',      -- the after-action note
    note_at            TIMESTAMPTZ,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX exercises_starts ON exercises(starts_at);

-- The participating States, each at the level its PoCs take part at.
CREATE TABLE exercise_states (
    exercise_id  BIGINT NOT NULL REFERENCES exercises(id),
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
    id           BIGSERIAL PRIMARY KEY,
    exercise_id  BIGINT NOT NULL REFERENCES exercises(id),
    template     TEXT NOT NULL,
    fields       TEXT NOT NULL,                       -- JSON: the template's fields by key
    send_at      TIMESTAMPTZ,
    status       TEXT NOT NULL,                       -- planned | sending | released
    released_at  TIMESTAMPTZ,
    released_by  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX exercise_injects_exercise ON exercise_injects(exercise_id, id);
CREATE INDEX exercise_injects_due ON exercise_injects(send_at) WHERE status = 'planned';

-- The communications an inject became: one per level of the participants.
CREATE TABLE exercise_inject_comms (
    inject_id  BIGINT NOT NULL REFERENCES exercise_injects(id),
    comm_id    BIGINT NOT NULL,                      -- comms(id): comms owns it
    level      TEXT NOT NULL,
    PRIMARY KEY (inject_id, level)
);

-- +goose Down
DROP TABLE exercise_inject_comms;
DROP TABLE exercise_injects;
DROP TABLE exercise_states;
DROP TABLE exercises;
DROP INDEX comms_exercise;
ALTER TABLE comms DROP COLUMN exercise;
ALTER TABLE comms DROP COLUMN exercise_id;
