package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// AppendBatch adds events to the log, in order, inside the caller's
// transaction, and returns the index of the first; the others follow
// without a gap. It sequences them at once: the caller's transaction holds
// the log head until it commits, so it is for the few writers that append
// many entries in one go (a data set of ten years, the benchmarks' logs);
// every change of pocdir goes through Append, whose entries the log
// integrates in batches after their commit. The costs are paid once per
// batch rather than once per entry: the log head moves once, each tile
// touched is read and written once, a bundle completed by the batch is
// written whole, and only the entries after the last full bundle go to the
// tail.
//
// Every event's type must be declared (Register).
func AppendBatch(ctx context.Context, tx *sql.Tx, evs []Event) (int64, error) {
	if len(evs) == 0 {
		return 0, fmt.Errorf("auditlog: an empty batch")
	}
	data := make([][]byte, len(evs))
	states := make([]string, len(evs))
	for i, ev := range evs {
		var err error
		if data[i], err = encodeChecked(ev); err != nil {
			return 0, err
		}
		states[i] = statesColumn(ev.States)
	}
	return sequence(ctx, tx, data, states)
}

// encodeChecked encodes an event of a declared type within the size an
// entry may have.
func encodeChecked(ev Event) ([]byte, error) {
	if err := checkType(ev.Type); err != nil {
		return nil, err
	}
	data := Encode(ev)
	if len(data) > MaxEntrySize {
		return nil, fmt.Errorf("auditlog: an entry of %d bytes: at most %d", len(data), MaxEntrySize)
	}
	return data, nil
}

// sequence gives encoded entries the next indexes of the log, stores them
// and their hashes, and returns the first index.
func sequence(ctx context.Context, tx *sql.Tx, data [][]byte, states []string) (int64, error) {
	var size int64
	if err := db.QueryRowTx(ctx, tx, `UPDATE log_head SET size = size + $1 WHERE id = 1 RETURNING size`, int64(len(data))).Scan(&size); err != nil {
		return 0, fmt.Errorf("auditlog: advancing the log head: %w", err)
	}
	first := size - int64(len(data))
	if err := storeEntries(ctx, tx, first, states, data); err != nil {
		return 0, err
	}
	if err := storeHashes(ctx, tx, first, data); err != nil {
		return 0, err
	}
	return first, nil
}

// storeEntries writes the entries first … first+len(data)-1: a bundle the
// batch completes as a whole (with the entries of it that were already in
// the tail), the entries after the last full bundle in the tail.
func storeEntries(ctx context.Context, tx *sql.Tx, first int64, states []string, data [][]byte) error {
	end := first + int64(len(data))
	for b := first / BundleSize; b*BundleSize < end; b++ {
		lo, hi := max(b*BundleSize, first), min((b+1)*BundleSize, end)
		if hi < (b+1)*BundleSize {
			// The bundle stays partial: its entries go to the tail.
			return insertTail(ctx, tx, lo, states[lo-first:hi-first], data[lo-first:hi-first])
		}
		var bundle []byte
		var column strings.Builder
		if lo > b*BundleSize {
			// The bundle's first entries were appended before this batch.
			n, err := readTail(ctx, tx, b*BundleSize, lo-1, func(d, st []byte) {
				bundle = appendBundle(bundle, d)
				column.Write(st)
			})
			if err != nil {
				return err
			}
			if n != lo-b*BundleSize {
				return fmt.Errorf("auditlog: packing bundle %d: the log tail holds %d of its entries before %d, expected %d", b, n, lo, lo-b*BundleSize)
			}
		}
		for i := lo; i < hi; i++ {
			bundle = appendBundle(bundle, data[i-first])
			column.WriteString(states[i-first])
		}
		stored, codec := compressBundle(bundle)
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_bundles (idx, entries, codec, states) VALUES ($1, $2, $3, $4)`, b, stored, codec, column.String()); err != nil {
			return fmt.Errorf("auditlog: storing bundle %d: %w", b, err)
		}
		if err := indexBundle(ctx, tx, b, column.String()); err != nil {
			return err
		}
		if lo > b*BundleSize {
			if _, err := tx.ExecContext(ctx, `DELETE FROM log_tail WHERE idx >= $1 AND idx < $2`, b*BundleSize, lo); err != nil {
				return fmt.Errorf("auditlog: emptying the log tail into bundle %d: %w", b, err)
			}
		}
	}
	return nil
}

// indexBundle records, for each State its entries name (the bundle's
// states column), that the bundle holds some of the State's entries.
func indexBundle(ctx context.Context, tx *sql.Tx, b int64, states string) error {
	seen := map[string]bool{}
	var q strings.Builder
	var args []any
	for _, st := range strings.Split(states, ";") {
		if st == "" || seen[st] {
			continue
		}
		seen[st] = true
		if len(args) > 0 {
			q.WriteByte(',')
		}
		fmt.Fprintf(&q, "($%d, $%d)", len(args)+1, len(args)+2)
		args = append(args, st, b)
	}
	if len(args) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO log_state_bundles (state_code, bundle) VALUES `+q.String(), args...); err != nil {
		return fmt.Errorf("auditlog: indexing bundle %d by State: %w", b, err)
	}
	return nil
}

// readTail calls row with the data and States of the tail's entries from
// … to, in order, and returns how many it read; a gap is an error.
func readTail(ctx context.Context, tx *sql.Tx, from, to int64, row func(data, states []byte)) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT idx, data, states FROM log_tail WHERE idx >= $1 AND idx <= $2 ORDER BY idx`, from, to)
	if err != nil {
		return 0, fmt.Errorf("auditlog: reading the log tail: %w", err)
	}
	defer rows.Close()
	next := from
	for rows.Next() {
		var idx int64
		var d, st sql.RawBytes
		if err := rows.Scan(&idx, &d, &st); err != nil {
			return 0, fmt.Errorf("auditlog: reading the log tail: %w", err)
		}
		if idx != next {
			return 0, fmt.Errorf("auditlog: entry %d missing from the log tail", next)
		}
		row(d, st)
		next++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("auditlog: reading the log tail: %w", err)
	}
	return next - from, nil
}

// insertTail adds entries from first on to the tail, a statement for a
// few hundred rows.
func insertTail(ctx context.Context, tx *sql.Tx, first int64, states []string, data [][]byte) error {
	if len(data) == 1 {
		// An append's one row: the same statement each time, prepared once.
		if _, err := db.ExecTx(ctx, tx, `INSERT INTO log_tail (idx, data, states) VALUES ($1, $2, $3)`,
			first, string(data[0]), states[0]); err != nil {
			return fmt.Errorf("auditlog: adding entry %d to the log tail: %w", first, err)
		}
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO log_tail (idx, data, states) VALUES `)
	args := make([]any, 0, 3*len(data))
	for i := range data {
		if i > 0 {
			q.WriteByte(',')
		}
		p := 3 * i
		fmt.Fprintf(&q, "($%d, $%d, $%d)", p+1, p+2, p+3)
		args = append(args, first+int64(i), string(data[i]), states[i])
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("auditlog: adding entries %d… to the log tail: %w", first, err)
	}
	return nil
}

// storeHashes computes the stored hashes of the entries from first on and
// grows the tiles that hold them: each tile read once, written once.
func storeHashes(ctx context.Context, tx *sql.Tx, first int64, data [][]byte) error {
	store := &tileStore{ctx: ctx, q: tx, tiles: map[tileKey][]byte{}}
	type written struct {
		key tileKey
		new bool // the batch began it: an insert, not an update
	}
	var dirty []written
	seen := map[tileKey]bool{}
	for i, d := range data {
		n := first + int64(i)
		hashes, err := tlog.StoredHashes(n, d, store)
		if err != nil {
			return fmt.Errorf("auditlog: the hashes of entry %d: %w", n, err)
		}
		// Of the stored hashes (levels 0 … k), the tiles keep every
		// TileHeight-th level; each goes at the end of its level's last tile.
		for level := 0; level < len(hashes); level += TileHeight {
			node := n >> level
			k := tileKey{level / TileHeight, node / BundleSize}
			pos := node % BundleSize
			if pos == 0 {
				store.tiles[k] = nil // a tile begins
			} else if err := store.load([]tileKey{k}); err != nil {
				return err
			}
			tile := store.tiles[k]
			if int64(len(tile)) != pos*tlog.HashSize {
				return fmt.Errorf("auditlog: tile %d/%d holds %d bytes, expected %d", k.level, k.n, len(tile), pos*tlog.HashSize)
			}
			store.tiles[k] = append(tile, hashes[level][:]...)
			if !seen[k] {
				seen[k] = true
				dirty = append(dirty, written{k, pos == 0})
			}
		}
	}
	for _, w := range dirty {
		var err error
		if w.new {
			_, err = db.ExecTx(ctx, tx, `INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3)`, w.key.level, w.key.n, store.tiles[w.key])
		} else {
			_, err = db.ExecTx(ctx, tx, `UPDATE log_tiles SET hashes = $3 WHERE level = $1 AND idx = $2`, w.key.level, w.key.n, store.tiles[w.key])
		}
		if err != nil {
			return fmt.Errorf("auditlog: storing tile %d/%d: %w", w.key.level, w.key.n, err)
		}
	}
	return nil
}
