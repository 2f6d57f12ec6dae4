-- +goose Up
-- A PoC's working hours as days and times in its time zone ("mon-fri
-- 09:00-17:00"), so that readers see them in their own zone and whether
-- the PoC is available now; working_hours stays as a free-text remark.
ALTER TABLE pocs ADD COLUMN hours TEXT NOT NULL DEFAULT '';
-- Each user's time zone; empty means their State's.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE pocs DROP COLUMN hours;
