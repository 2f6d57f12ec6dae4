package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// Append adds an event to the log inside the caller's transaction and returns
// its index. The change and its log entry commit together or not at all.
// Appenders are serialised by the row lock on log_head (PostgreSQL) or the
// write lock (SQLite), so indexes have no gaps across instances.
//
// The event's type must be declared (Register).
func Append(ctx context.Context, tx *sql.Tx, ev Event) (int64, error) {
	if err := checkType(ev.Type); err != nil {
		return 0, err
	}
	data := Encode(ev)
	if len(data) > MaxEntrySize {
		return 0, fmt.Errorf("auditlog: an entry of %d bytes: at most %d", len(data), MaxEntrySize)
	}
	var size int64
	if err := db.QueryRowTx(ctx, tx, `UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size`).Scan(&size); err != nil {
		return 0, fmt.Errorf("auditlog: advancing the log head: %w", err)
	}
	n := size - 1
	store := &tileStore{ctx: ctx, q: tx, tiles: map[tileKey][]byte{}}
	hashes, err := tlog.StoredHashes(n, data, store)
	if err != nil {
		return 0, fmt.Errorf("auditlog: the hashes of entry %d: %w", n, err)
	}

	// The entry waits in the tail until its bundle is full.
	b, pos := n/BundleSize, n%BundleSize
	if _, err := db.ExecTx(ctx, tx, `INSERT INTO log_tail (idx, data, states) VALUES ($1, $2, $3)`,
		n, string(data), statesColumn(ev.States)); err != nil {
		return 0, fmt.Errorf("auditlog: adding entry %d to the log tail: %w", n, err)
	}
	if pos == BundleSize-1 {
		if err := packBundle(ctx, tx, b); err != nil {
			return 0, err
		}
	}

	// Of the stored hashes (levels 0 … k), the tiles keep every TileHeight-th
	// level; each goes at the end of its level's last tile.
	for level := 0; level < len(hashes); level += TileHeight {
		h := hashes[level]
		node := n >> level
		k := tileKey{level / TileHeight, node / BundleSize}
		pos := node % BundleSize
		if pos == 0 {
			_, err = db.ExecTx(ctx, tx, `INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3)`, k.level, k.n, h[:])
		} else {
			if err := store.load([]tileKey{k}); err != nil {
				return 0, err
			}
			tile := store.tiles[k]
			if int64(len(tile)) != pos*tlog.HashSize {
				return 0, fmt.Errorf("auditlog: tile %d/%d holds %d bytes, expected %d", k.level, k.n, len(tile), pos*tlog.HashSize)
			}
			_, err = db.ExecTx(ctx, tx, `UPDATE log_tiles SET hashes = $3 WHERE level = $1 AND idx = $2`,
				k.level, k.n, append(tile[:len(tile):len(tile)], h[:]...))
		}
		if err != nil {
			return 0, fmt.Errorf("auditlog: storing tile %d/%d: %w", k.level, k.n, err)
		}
	}
	return n, nil
}

// packBundle moves the entries of bundle b from the tail into the bundle.
func packBundle(ctx context.Context, tx *sql.Tx, b int64) error {
	first, last := b*BundleSize, (b+1)*BundleSize-1
	rows, err := tx.QueryContext(ctx, `SELECT idx, data, states FROM log_tail WHERE idx >= $1 AND idx <= $2 ORDER BY idx`, first, last)
	if err != nil {
		return fmt.Errorf("auditlog: packing bundle %d: %w", b, err)
	}
	defer rows.Close()
	var bundle []byte
	var states strings.Builder
	next := first
	for rows.Next() {
		var idx int64
		var data, st sql.RawBytes
		if err := rows.Scan(&idx, &data, &st); err != nil {
			return fmt.Errorf("auditlog: packing bundle %d: %w", b, err)
		}
		if idx != next {
			return fmt.Errorf("auditlog: packing bundle %d: entry %d missing from the log tail", b, next)
		}
		bundle = appendBundle(bundle, data)
		states.Write(st)
		next++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auditlog: packing bundle %d: %w", b, err)
	}
	rows.Close()
	if next != last+1 {
		return fmt.Errorf("auditlog: packing bundle %d: entry %d missing from the log tail", b, next)
	}
	stored, codec := compressBundle(bundle)
	if _, err := tx.ExecContext(ctx, `INSERT INTO log_bundles (idx, entries, codec, states) VALUES ($1, $2, $3, $4)`, b, stored, codec, states.String()); err != nil {
		return fmt.Errorf("auditlog: storing bundle %d: %w", b, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM log_tail WHERE idx >= $1 AND idx <= $2`, first, last); err != nil {
		return fmt.Errorf("auditlog: emptying the log tail into bundle %d: %w", b, err)
	}
	return nil
}
