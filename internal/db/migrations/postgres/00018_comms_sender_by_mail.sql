-- +goose Up
-- A response received by email has no account behind it: the State's PoC
-- answered from its mail client (sender_email says who).
ALTER TABLE comms ALTER COLUMN sender_user DROP NOT NULL;

-- +goose Down
SELECT 1;
