-- +goose Up
-- Four eyes on accounts: an invitation that the Secretariat makes for a
-- State's account (or for a Secretariat account) waits for a second person,
-- a focal point of the State or a second officer, before its link exists.
ALTER TABLE invitations ADD COLUMN needs_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN approved_by INTEGER REFERENCES users(id);
ALTER TABLE invitations ADD COLUMN approved_at TIMESTAMP;

-- +goose Down
ALTER TABLE invitations DROP COLUMN approved_at;
ALTER TABLE invitations DROP COLUMN approved_by;
ALTER TABLE invitations DROP COLUMN needs_approval;
