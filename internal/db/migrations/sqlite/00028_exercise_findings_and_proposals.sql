-- +goose Up
-- A capacity need recorded from an exercise's finding names the exercise
-- (lessons feeding capacity needs). An exercise proposed by a group of
-- States stays a draft until a Secretariat officer agrees; the proposing
-- State then acts as its controller.
-- No REFERENCES here: SQLite cannot drop a column in a foreign key on the
-- way down; the capacity service reads the exercise before it links one.
ALTER TABLE capacity_needs ADD COLUMN exercise_id INTEGER;
ALTER TABLE exercises ADD COLUMN status TEXT NOT NULL DEFAULT 'agreed'; -- draft | agreed
ALTER TABLE exercises ADD COLUMN proposed_by_state TEXT NOT NULL DEFAULT ''; -- empty: planned by the Secretariat
ALTER TABLE exercises ADD COLUMN agreed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE exercises ADD COLUMN agreed_at TIMESTAMP;

-- +goose Down
ALTER TABLE exercises DROP COLUMN agreed_at;
ALTER TABLE exercises DROP COLUMN agreed_by;
ALTER TABLE exercises DROP COLUMN proposed_by_state;
ALTER TABLE exercises DROP COLUMN status;
ALTER TABLE capacity_needs DROP COLUMN exercise_id;
