-- +goose Up
-- Capacity-building (C9): a State's needs, the offers of States and of
-- partners (recorded by the Secretariat on their behalf), the matches the
-- Secretariat proposes and both sides accept, the activities that accepted
-- matches become, and the Secretariat's action plan whose measures the
-- activities serve. Topics and languages are lists of keys and BCP 47 tags
-- joined by commas (neither holds a comma).
CREATE TABLE capacity_needs (
    id           BIGSERIAL PRIMARY KEY,
    state_code   TEXT NOT NULL REFERENCES states(code),
    kind         TEXT NOT NULL,
    topics       TEXT NOT NULL DEFAULT '',
    topic_other  TEXT NOT NULL DEFAULT '',
    level        TEXT NOT NULL,
    languages    TEXT NOT NULL DEFAULT '',
    needed_by    TEXT NOT NULL DEFAULT '',       -- YYYY-MM-DD, or empty
    visibility   TEXT NOT NULL DEFAULT 'secretariat', -- secretariat | offerers | all
    details_lang TEXT NOT NULL DEFAULT '',
    details      TEXT NOT NULL DEFAULT '',
    details_en   TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,                  -- open | matched | met | withdrawn
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    matched_at   TIMESTAMPTZ,
    met_at       TIMESTAMPTZ
);
CREATE INDEX capacity_needs_state ON capacity_needs(state_code, status);

CREATE TABLE capacity_offers (
    id           BIGSERIAL PRIMARY KEY,
    state_code   TEXT REFERENCES states(code),   -- empty for a partner's offer
    partner      TEXT NOT NULL DEFAULT '',       -- the organisation, for the Secretariat's
    kind         TEXT NOT NULL,
    topics       TEXT NOT NULL DEFAULT '',
    topic_other  TEXT NOT NULL DEFAULT '',
    level        TEXT NOT NULL DEFAULT '',       -- empty: any level
    languages    TEXT NOT NULL DEFAULT '',
    format       TEXT NOT NULL,                  -- in-person | online | both
    capacity     INTEGER NOT NULL DEFAULT 0,     -- participants or States at a time; 0 unsaid
    period_from  TEXT NOT NULL DEFAULT '',
    period_to    TEXT NOT NULL DEFAULT '',
    details_lang TEXT NOT NULL DEFAULT '',
    details      TEXT NOT NULL DEFAULT '',
    details_en   TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,                  -- open | withdrawn
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX capacity_offers_state ON capacity_offers(state_code, status);

CREATE TABLE capacity_plans (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to   TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE capacity_measures (
    id         BIGSERIAL PRIMARY KEY,
    plan_id    BIGINT NOT NULL REFERENCES capacity_plans(id),
    title      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    target     INTEGER NOT NULL,                 -- activities done by the plan's end
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX capacity_measures_plan ON capacity_measures(plan_id);

CREATE TABLE capacity_matches (
    id                BIGSERIAL PRIMARY KEY,
    need_id           BIGINT NOT NULL REFERENCES capacity_needs(id),
    offer_id          BIGINT NOT NULL REFERENCES capacity_offers(id),
    status            TEXT NOT NULL,             -- proposed | accepted | declined
    score             INTEGER NOT NULL DEFAULT 0,
    proposed_by       TEXT NOT NULL,
    proposed_by_id    BIGINT NOT NULL DEFAULT 0,
    proposed_at       TIMESTAMPTZ NOT NULL,
    need_answer       TEXT NOT NULL DEFAULT '',  -- accepted | declined
    need_answered_by  TEXT NOT NULL DEFAULT '',
    need_answered_at  TIMESTAMPTZ,
    offer_answer      TEXT NOT NULL DEFAULT '',
    offer_answered_by TEXT NOT NULL DEFAULT '',
    offer_answered_at TIMESTAMPTZ,
    decided_at        TIMESTAMPTZ
);
CREATE INDEX capacity_matches_need ON capacity_matches(need_id);
CREATE INDEX capacity_matches_offer ON capacity_matches(offer_id);

CREATE TABLE capacity_activities (
    id           BIGSERIAL PRIMARY KEY,
    match_id     BIGINT NOT NULL UNIQUE REFERENCES capacity_matches(id),
    measure_id   BIGINT REFERENCES capacity_measures(id),
    status       TEXT NOT NULL,                  -- planned | under-way | done | cancelled
    starts_on    TEXT NOT NULL DEFAULT '',
    ends_on      TEXT NOT NULL DEFAULT '',
    participants INTEGER NOT NULL DEFAULT 0,
    outcome_lang TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT '',
    outcome_en   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ
);
CREATE INDEX capacity_activities_measure ON capacity_activities(measure_id);

-- +goose Down
DROP TABLE capacity_activities;
DROP TABLE capacity_matches;
DROP TABLE capacity_measures;
DROP TABLE capacity_plans;
DROP TABLE capacity_offers;
DROP TABLE capacity_needs;
