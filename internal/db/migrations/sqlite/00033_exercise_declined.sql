-- +goose Up
-- A Secretariat officer may decline a group of States' proposed exercise,
-- draft or agreed once but not confirmed, with a reason the proposing
-- State reads (status declined). One officer is enough: declining stops
-- the proposal and gives no State the power to act for the Secretariat.
ALTER TABLE exercises ADD COLUMN declined_by TEXT NOT NULL DEFAULT '';
ALTER TABLE exercises ADD COLUMN declined_at TIMESTAMP;
ALTER TABLE exercises ADD COLUMN declined_reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE exercises DROP COLUMN declined_reason;
ALTER TABLE exercises DROP COLUMN declined_at;
ALTER TABLE exercises DROP COLUMN declined_by;
