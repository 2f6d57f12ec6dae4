package auditlog

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pocdir/pocdir/internal/db"
)

type bundleRow struct {
	idx     int64
	entries []byte // as stored: see codec
	codec   int
	states  []byte
	tile    []byte // the level-0 tile of the same index
	hasTile bool
	tail    bool // the entries of the log tail, not a bundle row
}

type tileRow struct {
	key    tileKey
	hashes []byte
}

// read reads the bundles in order, with their level-0 tiles, and hands
// them to emit in batches with the upper tiles they first need. The upper
// tiles (one in 65,536 entries and fewer above) are read first; the bundles
// then come through one query, so that the database sends while the
// workers hash.
func (c *checker) read(ctx context.Context, q *sql.Conn, emit func(*checkBatch) bool) error {
	upper, err := c.readUpper(ctx, q)
	if err != nil {
		return err
	}
	source := func(row bundleRowFunc) error { return sqlRows(ctx, q, row) }
	if c.dialect == db.Postgres {
		source = func(row bundleRowFunc) error { return wireRows(ctx, q, row) }
	}
	// The errors of the bundles' rows are wrapped here, once, rather than
	// in the loops over rows.
	next, stop, err := c.stream(ctx, upper, source, emit)
	if err != nil {
		return fmt.Errorf("auditlog: reading the entry bundles: %w", err)
	}
	if stop {
		return nil
	}
	return c.readTail(ctx, q, next, emit)
}

const bundlesSQL = `SELECT b.idx, b.entries, b.codec, b.states, t.hashes FROM log_bundles b
	LEFT JOIN log_tiles t ON t.level = 0 AND t.idx = b.idx
	WHERE b.idx >= 0 ORDER BY b.idx`

// bundleRowFunc takes a row of bundlesSQL, its values valid only during the
// call (tile nil when the bundle has none), and returns whether to go on.
type bundleRowFunc func(idx int64, codec int, entries, states, tile []byte) bool

// stream reads the rows of bundlesSQL from source into batches, copying
// their values once into the batches' reused buffers. It returns the next
// bundle index, and stop when a gap or emit ended the verification.
func (c *checker) stream(ctx context.Context, upper map[tileKey][]byte, source func(bundleRowFunc) error, emit func(*checkBatch) bool) (next int64, stop bool, err error) {
	fetched := map[int]int64{} // per upper tile level, the last tile handed out
	b := c.newBatch()
	flush := func() {
		if len(b.bundles) > 0 {
			c.upperTiles(b, b.bundles[0].idx, b.bundles[len(b.bundles)-1].idx, fetched, upper)
		}
		stop = !emit(b) || stop
		b = c.newBatch()
	}
	err = source(func(idx int64, codec int, entries, states, tile []byte) bool {
		if idx != next {
			b.fatal = fmt.Sprintf("entry bundle %d is missing: bundle %d comes next (a gap)", next, idx)
			stop = true
			flush()
			return false
		}
		k := len(b.bundles)
		b.bundles = b.bundles[:k+1]
		row := &b.bundles[k]
		row.idx, row.tail, row.codec = idx, false, codec
		row.entries = append(row.entries[:0], entries...)
		row.states = append(row.states[:0], states...)
		row.tile, row.hasTile = append(row.tile[:0], tile...), tile != nil
		c.noteStates(idx, states)
		next++
		if len(b.bundles) == checkBatchBundles {
			flush()
		}
		return !stop
	})
	if err == nil && !stop && len(b.bundles) > 0 {
		flush()
	}
	if err == nil && stop && ctx.Err() != nil {
		err = ctx.Err()
	}
	return next, stop, err
}

// sqlRows reads bundlesSQL through database/sql (SQLite).
func sqlRows(ctx context.Context, q db.Queryer, row bundleRowFunc) error {
	rows, err := q.QueryContext(ctx, bundlesSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var idx int64
		var codec int
		var entries, states, tile sql.RawBytes
		if err := rows.Scan(&idx, &entries, &codec, &states, &tile); err != nil {
			return err
		}
		if !row(idx, codec, entries, states, tile) {
			return nil
		}
	}
	return rows.Err()
}

// wireRows reads bundlesSQL on PostgreSQL through pgx itself: each row's
// values are taken as they came over the wire, in binary, where
// database/sql would allocate them anew for every row.
func wireRows(ctx context.Context, conn *sql.Conn, row bundleRowFunc) error {
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		rows, err := sc.Conn().Query(ctx, bundlesSQL, pgx.QueryResultFormats{pgx.BinaryFormatCode})
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v := rows.RawValues()
			if len(v) != 5 || len(v[0]) != 8 || len(v[2]) != 4 {
				return errors.New("unexpected bundle row")
			}
			idx := int64(binary.BigEndian.Uint64(v[0]))
			codec := int(int32(binary.BigEndian.Uint32(v[2])))
			if !row(idx, codec, v[1], v[3], v[4]) {
				return nil
			}
		}
		return rows.Err()
	})
}

// readUpper reads every tile of level 1 and above.
func (c *checker) readUpper(ctx context.Context, q db.Queryer) (map[tileKey][]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT level, idx, hashes FROM log_tiles WHERE level >= 1`)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the upper hash tiles: %w", err)
	}
	defer rows.Close()
	out := map[tileKey][]byte{}
	for rows.Next() {
		var k tileKey
		var h []byte
		if err := rows.Scan(&k.level, &k.n, &h); err != nil {
			return nil, fmt.Errorf("auditlog: reading the upper hash tiles: %w", err)
		}
		out[k] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auditlog: reading the upper hash tiles: %w", err)
	}
	return out, nil
}

// readTail reads the entries after the last full bundle, and hands them to
// emit as one more bundle, of index next.
func (c *checker) readTail(ctx context.Context, q db.Queryer, next int64, emit func(*checkBatch) bool) error {
	b := c.newBatch()
	b.bundles = b.bundles[:1]
	row := &b.bundles[0]
	row.idx, row.tail, row.codec = next, true, codecPlain
	row.entries, row.states, row.tile, row.hasTile = row.entries[:0], row.states[:0], row.tile[:0], false
	rows, err := q.QueryContext(ctx, `SELECT idx, data, states FROM log_tail WHERE idx >= $1 ORDER BY idx`, next*BundleSize)
	if err != nil {
		return fmt.Errorf("auditlog: reading the log tail: %w", err)
	}
	n := int64(0)
	for rows.Next() {
		var idx int64
		var data, states sql.RawBytes
		if err := rows.Scan(&idx, &data, &states); err != nil {
			rows.Close()
			return fmt.Errorf("auditlog: reading the log tail: %w", err)
		}
		switch want := next*BundleSize + n; {
		case idx != want:
			b.fatal = fmt.Sprintf("entry %d is missing from the log tail: entry %d comes next (a gap)", want, idx)
		case n == BundleSize-1:
			b.fatal = fmt.Sprintf("entry %d is in the log tail, though its bundle would be full", idx)
		case len(data) > MaxEntrySize:
			b.fatal = fmt.Sprintf("entry %d: %d bytes long, longer than an entry can be", idx, len(data))
		}
		if b.fatal != "" {
			break
		}
		row.entries = appendBundle(row.entries, data)
		row.states = append(row.states, states...)
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auditlog: reading the log tail: %w", err)
	}
	c.tailRead = n
	if n == 0 && b.fatal == "" {
		return nil
	}
	if n == 0 {
		b.bundles = b.bundles[:0]
	} else {
		err := q.QueryRowContext(ctx, `SELECT hashes FROM log_tiles WHERE level = 0 AND idx = $1`, next).Scan(&row.tile)
		switch {
		case err == nil:
			row.hasTile = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("auditlog: reading tile 0/%d: %w", next, err)
		}
	}
	if !emit(b) {
		return ctx.Err()
	}
	return nil
}

func (c *checker) upperTiles(b *checkBatch, first, last int64, fetched map[int]int64, upper map[tileKey][]byte) {
	// Bundle x completes the level-8L node ((x+1) >> 8(L-1)) - 1, which is
	// in tile (L, node >> 8).
	for level := 1; (last+1)>>(TileHeight*(level-1)) > 0; level++ {
		lo := max((first+1)>>(TileHeight*(level-1))-1, 0) / BundleSize
		hi := (last+1)>>(TileHeight*(level-1)) - 1
		if hi < 0 {
			break
		}
		hi /= BundleSize
		if f, ok := fetched[level]; ok {
			lo = max(lo, f+1)
		}
		if hi < lo {
			continue
		}
		fetched[level] = hi
		for n := lo; n <= hi; n++ {
			if h, ok := upper[tileKey{level: level, n: n}]; ok {
				b.upper = append(b.upper, tileRow{key: tileKey{level: level, n: n}, hashes: h})
			}
		}
	}
}

// noteStates records that bundle idx names the States of its States column
// (";FRA;;KEN;"), in c.stateBundles. It runs on the goroutine that reads
// the bundles, once per bundle.
func (c *checker) noteStates(idx int64, states []byte) {
	if c.stateBundles == nil {
		c.stateBundles = map[string][]uint64{}
	}
	c.bundlesRead = idx + 1
	w, bit := idx/64, uint64(1)<<(idx%64)
	for rest := states; len(rest) > 0; {
		var st []byte
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			st, rest = rest[:i], rest[i+1:]
		} else {
			st, rest = rest, nil
		}
		if len(st) == 0 {
			continue
		}
		// The lookup does not copy st; the assignment does, so it is made
		// only when the State's set grows (once in 64 bundles at most).
		set := c.stateBundles[string(st)]
		if int64(len(set)) <= w {
			set = append(set, make([]uint64, w+1-int64(len(set)))...)
			c.stateBundles[string(st)] = set
		}
		set[w] |= bit
	}
}
