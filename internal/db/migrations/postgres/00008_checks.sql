-- +goose Up
-- Communication checks ("ping tests"): a campaign sends each selected PoC a
-- message with a one-time answer link; answers, bounces and silences are the
-- results. A target keeps a copy of what it tested (State, agency, level,
-- address), so that removing a PoC keeps its past results.
CREATE TABLE check_campaigns (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL,               -- secretariat | bilateral
    owner_state    TEXT REFERENCES states(code), -- the State that runs a bilateral check
    counterpart    TEXT REFERENCES states(code), -- the State whose PoCs it checks
    title          TEXT NOT NULL,
    message        TEXT NOT NULL DEFAULT '',
    scope          TEXT NOT NULL,               -- all | group | body | level | states | failed
    scope_value    TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,               -- email | manual
    window_hours   INTEGER NOT NULL,
    repeat_months  INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,               -- scheduled | running | closed | cancelled
    start_at       TIMESTAMPTZ NOT NULL,
    window_end     TIMESTAMPTZ NOT NULL,
    reminded_at    TIMESTAMPTZ,
    closed_at      TIMESTAMPTZ,
    cancelled_at   TIMESTAMPTZ,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX check_campaigns_status ON check_campaigns(status, start_at);

CREATE TABLE check_targets (
    id           BIGSERIAL PRIMARY KEY,
    campaign_id  BIGINT NOT NULL REFERENCES check_campaigns(id),
    poc_id       BIGINT REFERENCES pocs(id),
    state_code   TEXT NOT NULL REFERENCES states(code),
    level        TEXT NOT NULL,
    agency       TEXT NOT NULL,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    queued_at    TIMESTAMPTZ,
    outbox_id    BIGINT,
    answered_at  TIMESTAMPTZ,
    answered_via TEXT NOT NULL DEFAULT '',      -- link | portal | manual
    answered_by  TEXT NOT NULL DEFAULT '',
    bounced_at   TIMESTAMPTZ,
    bounce_error TEXT NOT NULL DEFAULT '',
    no_answer_at TIMESTAMPTZ                      -- recorded by hand (manual channel)
);
CREATE INDEX check_targets_campaign ON check_targets(campaign_id, queued_at);
CREATE INDEX check_targets_state ON check_targets(state_code, campaign_id);

-- Answer links: only their SHA-256 is kept; a reminder adds a second link.
CREATE TABLE check_tokens (
    token_hash  TEXT PRIMARY KEY,
    target_id   BIGINT NOT NULL REFERENCES check_targets(id),
    expires_at  TIMESTAMPTZ NOT NULL
);

-- A campaign puts thousands of messages in the outbox at once: the sender
-- finds the pending ones through this index, whatever the number sent.
CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP INDEX outbox_pending;
DROP TABLE check_tokens;
DROP TABLE check_targets;
DROP TABLE check_campaigns;
