-- +goose Up
-- The language of the invitation email and of the new account's interface.
ALTER TABLE invitations ADD COLUMN language TEXT NOT NULL DEFAULT 'en';

-- +goose Down
ALTER TABLE invitations DROP COLUMN language;
