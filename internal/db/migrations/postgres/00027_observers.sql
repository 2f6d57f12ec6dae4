-- +goose Up
-- Observers (issue 16 §5): a regional organisation's account names its
-- organisation instead of a State, and reads only what two Secretariat
-- officers granted it. A grant is proposed by one officer and takes effect
-- when a second one approves it; the observer's grant is its latest
-- approved one, and a new proposal replaces a pending one.
ALTER TABLE users ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN organisation TEXT NOT NULL DEFAULT '';

CREATE TABLE observer_grants (
    id           BIGSERIAL PRIMARY KEY,
    observer_id  BIGINT NOT NULL REFERENCES users(id),
    states       TEXT NOT NULL DEFAULT '',   -- ISO 3166-1 alpha-3 codes, space-separated
    offers       BOOLEAN NOT NULL DEFAULT FALSE, -- capacity-building offers
    proposed_by  BIGINT NOT NULL REFERENCES users(id),
    proposed_at  TIMESTAMPTZ NOT NULL,
    approved_by  BIGINT REFERENCES users(id),
    approved_at  TIMESTAMPTZ,
    withdrawn_at TIMESTAMPTZ
);
CREATE INDEX observer_grants_observer ON observer_grants(observer_id, id);

-- +goose Down
DROP TABLE observer_grants;
ALTER TABLE invitations DROP COLUMN organisation;
ALTER TABLE users DROP COLUMN organisation;
