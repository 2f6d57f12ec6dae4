-- +goose Up
-- Counters kept in the transactions that change what they count (issue 19
-- §4), so that the pages that show them read a few rows however long the
-- history: each campaign's tally, by State and in total (state_code ''),
-- and the communications sent, by month, sender State, template and
-- whether they belong to an exercise; and the recipient lines, by State
-- and stage. `pocdir audit check` counts them
-- again from the rows and compares.
CREATE TABLE check_tallies (
    campaign_id INTEGER NOT NULL REFERENCES check_campaigns(id),
    state_code  TEXT NOT NULL,               -- '' for the campaign's total
    targets     INTEGER NOT NULL DEFAULT 0,
    queued      INTEGER NOT NULL DEFAULT 0,
    answered    INTEGER NOT NULL DEFAULT 0,  -- within the window
    late        INTEGER NOT NULL DEFAULT 0,
    bounced     INTEGER NOT NULL DEFAULT 0,  -- and not answered
    PRIMARY KEY (campaign_id, state_code)
);
INSERT INTO check_tallies (campaign_id, state_code, targets, queued, answered, late, bounced)
SELECT t.campaign_id, t.state_code, COUNT(*),
    SUM(CASE WHEN t.queued_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN t.answered_at IS NOT NULL AND t.answered_at <= c.window_end THEN 1 ELSE 0 END),
    SUM(CASE WHEN t.answered_at > c.window_end THEN 1 ELSE 0 END),
    SUM(CASE WHEN t.answered_at IS NULL AND t.bounced_at IS NOT NULL THEN 1 ELSE 0 END)
FROM check_targets t JOIN check_campaigns c ON c.id = t.campaign_id
GROUP BY t.campaign_id, t.state_code;
INSERT INTO check_tallies (campaign_id, state_code, targets, queued, answered, late, bounced)
SELECT campaign_id, '', SUM(targets), SUM(queued), SUM(answered), SUM(late), SUM(bounced)
FROM check_tallies GROUP BY campaign_id;

CREATE TABLE comm_volumes (
    month        TEXT NOT NULL,               -- YYYY-MM of sent_at, in UTC
    sender_state TEXT NOT NULL,
    template_id  INTEGER NOT NULL REFERENCES comm_templates(id),
    exercise     INTEGER NOT NULL,            -- 1: part of an exercise
    n            INTEGER NOT NULL,
    PRIMARY KEY (month, sender_state, template_id, exercise)
);
INSERT INTO comm_volumes (month, sender_state, template_id, exercise, n)
SELECT strftime('%Y-%m', c.sent_at), c.sender_state, c.template_id,
    CASE WHEN t.slug = 'exercise' OR ft.slug = 'exercise' OR c.exercise_id IS NOT NULL OR c.exercise THEN 1 ELSE 0 END, COUNT(*)
FROM comms c JOIN comm_templates t ON t.id = c.template_id
LEFT JOIN comms f ON f.id = c.thread_id LEFT JOIN comm_templates ft ON ft.id = f.template_id
WHERE c.status = 'sent'
GROUP BY 1, 2, 3, 4;

-- Each recipient line keeps the stage it is counted at; comm_stages counts
-- the lines by State and stage, for the Secretariat's overview.
ALTER TABLE comm_recipients ADD COLUMN counted_stage TEXT NOT NULL DEFAULT 'notified';
UPDATE comm_recipients SET counted_stage = CASE WHEN moved_at IS NOT NULL THEN 'moved' WHEN outcome <> '' THEN outcome
    WHEN acked_at IS NOT NULL THEN 'acknowledged' WHEN opened_at IS NOT NULL THEN 'opened' WHEN bounced_at IS NOT NULL THEN 'bounced'
    WHEN delivered_at IS NOT NULL THEN 'delivered' ELSE 'notified' END
    WHERE moved_at IS NOT NULL OR outcome <> '' OR acked_at IS NOT NULL OR opened_at IS NOT NULL OR bounced_at IS NOT NULL OR delivered_at IS NOT NULL;
CREATE TABLE comm_stages (
    state_code TEXT NOT NULL,
    stage      TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (state_code, stage)
);
INSERT INTO comm_stages (state_code, stage, n) SELECT state_code, counted_stage, COUNT(*) FROM comm_recipients GROUP BY state_code, counted_stage;

-- +goose Down
DROP TABLE comm_stages;
ALTER TABLE comm_recipients DROP COLUMN counted_stage;
DROP TABLE comm_volumes;
DROP TABLE check_tallies;
