-- +goose Up
-- The accountability log stored as C2SP tlog-tiles store it (see
-- internal/auditlog/tiles.go): entries in bundles of 256 and hashes in tiles
-- of height 8, so that a full verification reads a few large rows instead of
-- a row per entry and per hash. The entries after the last full bundle wait
-- in log_tail, a row each, until they make a bundle, so that an append
-- writes a small row. The rows of log_entries and log_hashes are moved into
-- the new tables, then dropped.

CREATE TABLE log_bundles (
    idx     BIGINT PRIMARY KEY,   -- N: the entries 256N … 256N+255
    entries BYTEA NOT NULL,       -- 256 entries, each one's data after its length (2 bytes, big-endian)
    states  TEXT NOT NULL         -- ";FRA;;KEN;BRA;": its entries' States, for filtering
);

CREATE TABLE log_tail (
    idx    BIGINT PRIMARY KEY,   -- the entries after the last full bundle
    data   TEXT NOT NULL,        -- the canonical encoding that is hashed
    states TEXT NOT NULL         -- ";FRA;KEN;": the States the entry concerns
);

CREATE TABLE log_tiles (
    level  INTEGER NOT NULL,      -- L: the hashes of tree level 8L
    idx    BIGINT NOT NULL,       -- N: the hashes 256N … 256N+255 of that level
    hashes BYTEA NOT NULL,        -- 32 bytes each; the last tile of a level may be partial
    PRIMARY KEY (level, idx)
);

-- An entry longer than its two-byte length can say stops the migration
-- (NOT NULL); Encode never writes one.
INSERT INTO log_bundles (idx, entries, states)
SELECT -1, NULL, '' FROM log_entries WHERE octet_length(convert_to(data, 'UTF8')) > 65535 LIMIT 1;

INSERT INTO log_bundles (idx, entries, states)
SELECT idx >> 8,
       string_agg(substring(int4send(octet_length(convert_to(data, 'UTF8'))) FROM 3 FOR 2) || convert_to(data, 'UTF8'), ''::bytea ORDER BY idx),
       string_agg(states, '' ORDER BY idx)
FROM log_entries
WHERE (idx >> 8) < ((SELECT size FROM log_head WHERE id = 1) >> 8)
GROUP BY idx >> 8;

INSERT INTO log_tail (idx, data, states)
SELECT idx, data, states FROM log_entries
WHERE (idx >> 8) >= ((SELECT size FROM log_head WHERE id = 1) >> 8);

-- The hash n of level 8L is the stored hash StoredHashIndex(8L, n) of
-- golang.org/x/mod/sumdb/tlog: with m = n·2^8L + 2^8L − 1, the sum of
-- m >> k over k ≥ 0, plus 8L.
INSERT INTO log_tiles (level, idx, hashes)
WITH RECURSIVE levels(l) AS (
    SELECT 0 UNION ALL SELECT l + 1 FROM levels WHERE l < 4
),
nodes(l, n, m) AS (
    SELECT levels.l, e.idx, (e.idx << (8 * levels.l)) + (1::bigint << (8 * levels.l)) - 1
    FROM levels JOIN log_entries e ON e.idx < ((SELECT size FROM log_head WHERE id = 1) >> (8 * levels.l))
)
SELECT nodes.l, nodes.n >> 8, string_agg(h.hash, ''::bytea ORDER BY nodes.n)
FROM nodes JOIN log_hashes h ON h.id = (nodes.m >> 0) + (nodes.m >> 1) + (nodes.m >> 2) + (nodes.m >> 3) + (nodes.m >> 4) + (nodes.m >> 5) + (nodes.m >> 6) + (nodes.m >> 7) + (nodes.m >> 8) + (nodes.m >> 9) + (nodes.m >> 10) + (nodes.m >> 11) + (nodes.m >> 12) + (nodes.m >> 13) + (nodes.m >> 14) + (nodes.m >> 15) + (nodes.m >> 16) + (nodes.m >> 17) + (nodes.m >> 18) + (nodes.m >> 19) + (nodes.m >> 20) + (nodes.m >> 21) + (nodes.m >> 22) + (nodes.m >> 23) + (nodes.m >> 24) + (nodes.m >> 25) + (nodes.m >> 26) + (nodes.m >> 27) + (nodes.m >> 28) + (nodes.m >> 29) + (nodes.m >> 30) + (nodes.m >> 31) + (nodes.m >> 32) + (nodes.m >> 33) + (nodes.m >> 34) + (nodes.m >> 35) + (nodes.m >> 36) + (nodes.m >> 37) + (nodes.m >> 38) + (nodes.m >> 39) + (nodes.m >> 40) + (nodes.m >> 41) + (nodes.m >> 42) + (nodes.m >> 43) + (nodes.m >> 44) + (nodes.m >> 45) + (nodes.m >> 46) + (nodes.m >> 47) + 8 * nodes.l
GROUP BY nodes.l, nodes.n >> 8;

DROP TABLE log_hashes;
DROP TABLE log_entries;

-- +goose Down
-- Irreversible: the old tables kept every interior hash, which SQL cannot
-- compute. This statement fails on purpose.
INSERT INTO log_head (id, size) VALUES (NULL, NULL);
