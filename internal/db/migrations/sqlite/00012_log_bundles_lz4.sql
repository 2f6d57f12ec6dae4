-- +goose Up
-- pocdir compresses the log's bundles itself (LZ4), so that the disk holds
-- and a full verification reads about a third of the bytes: codec 1 is the
-- plain bundle's length as a uvarint, then its LZ4 block. Bundles written
-- before, and a bundle that would not shrink, stay as they are: codec 0.
ALTER TABLE log_bundles ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;

-- +goose Down
-- SQL cannot decompress a bundle: going back is refused while any bundle
-- is compressed (the CHECK fails), rather than leaving the log unreadable.
CREATE TEMP TABLE log_bundles_down_guard (compressed INTEGER CHECK (compressed = 0));
INSERT INTO log_bundles_down_guard SELECT COUNT(*) FROM log_bundles WHERE codec <> 0;
DROP TABLE log_bundles_down_guard;
ALTER TABLE log_bundles DROP COLUMN codec;
