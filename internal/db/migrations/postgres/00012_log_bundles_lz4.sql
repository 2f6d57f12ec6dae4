-- +goose Up
-- pocdir compresses the log's bundles itself (LZ4), so that the disk holds
-- and a full verification reads about a third of the bytes: codec 1 is the
-- plain bundle's length as a uvarint, then its LZ4 block. Bundles written
-- before, and a bundle that would not shrink, stay as they are: codec 0.
-- (The column keeps STORAGE EXTERNAL: pglz would gain nothing on them.)
ALTER TABLE log_bundles ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
	-- SQL cannot decompress a bundle: going back is refused while any
	-- bundle is compressed, rather than leaving the log unreadable.
	IF EXISTS (SELECT 1 FROM log_bundles WHERE codec <> 0) THEN
		RAISE EXCEPTION 'log bundles are LZ4-compressed (codec 1): this migration cannot be undone';
	END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE log_bundles DROP COLUMN codec;
