-- +goose Up
-- Four eyes on the Secretariat's agreement to an exercise a group of
-- States proposed (an agreed one lets the proposing State's focal points
-- send injects in the Secretariat's name): one officer agrees (status
-- agreeing, first_agreed_*), a second officer confirms (status agreed,
-- agreed_by/agreed_at); the first may not confirm their own. The
-- proposing State may withdraw its proposal until it is agreed (status
-- withdrawn).
ALTER TABLE exercises ADD COLUMN first_agreed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE exercises ADD COLUMN first_agreed_by_id INTEGER; -- users(id); no REFERENCES: SQLite cannot drop a column in a foreign key on the way down
ALTER TABLE exercises ADD COLUMN first_agreed_at TIMESTAMP;
ALTER TABLE exercises ADD COLUMN withdrawn_by TEXT NOT NULL DEFAULT '';
ALTER TABLE exercises ADD COLUMN withdrawn_at TIMESTAMP;

-- +goose Down
ALTER TABLE exercises DROP COLUMN withdrawn_at;
ALTER TABLE exercises DROP COLUMN withdrawn_by;
ALTER TABLE exercises DROP COLUMN first_agreed_at;
ALTER TABLE exercises DROP COLUMN first_agreed_by_id;
ALTER TABLE exercises DROP COLUMN first_agreed_by;
