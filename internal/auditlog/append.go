package auditlog

import (
	"context"
	"database/sql"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Append adds an event to the log inside the caller's transaction and returns
// its index. The change and its log entry commit together or not at all.
// Appenders are serialised by the row lock on log_head (PostgreSQL) or the
// write lock (SQLite), so indexes have no gaps across instances.
func Append(ctx context.Context, tx *sql.Tx, ev Event) (int64, error) {
	data := Encode(ev)
	if len(data) > MaxEntrySize {
		return 0, fmt.Errorf("log entry of %d bytes: at most %d", len(data), MaxEntrySize)
	}
	var size int64
	if err := tx.QueryRowContext(ctx, `UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size`).Scan(&size); err != nil {
		return 0, fmt.Errorf("log head: %w", err)
	}
	n := size - 1
	store := &tileStore{ctx: ctx, q: tx, tiles: map[tileKey][]byte{}}
	hashes, err := tlog.StoredHashes(n, data, store)
	if err != nil {
		return 0, fmt.Errorf("log hashes: %w", err)
	}

	// The entry goes at the end of the last bundle.
	b, pos := n/BundleSize, n%BundleSize
	if pos == 0 {
		_, err = tx.ExecContext(ctx, `INSERT INTO log_bundles (idx, entries, states) VALUES ($1, $2, $3)`,
			b, appendBundle(nil, data), statesColumn(ev.States))
	} else {
		var bundle []byte
		var states string
		if err := tx.QueryRowContext(ctx, `SELECT entries, states FROM log_bundles WHERE idx = $1`, b).Scan(&bundle, &states); err != nil {
			return 0, fmt.Errorf("log bundle %d: %w", b, err)
		}
		if got, err := splitBundle(bundle, nil); err != nil || int64(len(got)) != pos {
			return 0, fmt.Errorf("log bundle %d holds %d entries, expected %d (%v)", b, len(got), pos, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE log_bundles SET entries = $2, states = $3 WHERE idx = $1`,
			b, appendBundle(bundle, data), states+statesColumn(ev.States))
	}
	if err != nil {
		return 0, err
	}

	// Of the stored hashes (levels 0 … k), the tiles keep every TileHeight-th
	// level; each goes at the end of its level's last tile.
	for level := 0; level < len(hashes); level += TileHeight {
		h := hashes[level]
		node := n >> level
		k := tileKey{level / TileHeight, node / BundleSize}
		pos := node % BundleSize
		if pos == 0 {
			_, err = tx.ExecContext(ctx, `INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3)`, k.level, k.n, h[:])
		} else {
			if err := store.load([]tileKey{k}); err != nil {
				return 0, err
			}
			tile := store.tiles[k]
			if int64(len(tile)) != pos*tlog.HashSize {
				return 0, fmt.Errorf("log tile %d/%d holds %d bytes, expected %d", k.level, k.n, len(tile), pos*tlog.HashSize)
			}
			_, err = tx.ExecContext(ctx, `UPDATE log_tiles SET hashes = $3 WHERE level = $1 AND idx = $2`,
				k.level, k.n, append(tile[:len(tile):len(tile)], h[:]...))
		}
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}
