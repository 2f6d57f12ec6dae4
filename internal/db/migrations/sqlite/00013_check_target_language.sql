-- +goose Up
-- A check goes to each PoC in the first of its working languages that
-- pocdir writes (English below), frozen with the target like its address.
ALTER TABLE check_targets ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE check_targets DROP COLUMN language;
