-- +goose Up
-- On PostgreSQL this migration stores the log's bundles uncompressed; SQLite
-- never compresses them, so there is nothing to do.
SELECT 1;

-- +goose Down
SELECT 1;
