package auditlog

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pierrec/lz4/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// The log is stored as C2SP tlog-tiles store it, in two tables, so that a
// full verification reads a few large rows instead of one row per entry and
// per hash:
//
//   - log_bundles: entry bundles of BundleSize entries, each entry's data
//     after its length in two bytes, big-endian, compressed as a whole (see
//     codecLZ4); with the States its entries concern, for filtering.
//   - log_tail: the entries after the last full bundle, a row each, until
//     they make a bundle; so that an append writes a small row.
//   - log_tiles: hash tiles of height TileHeight, as golang.org/x/mod/sumdb/tlog
//     defines them: tile (L, N) holds the hashes at level TileHeight·L with
//     indexes 256N … 256N+255 (fewer in the last, partial tile of a level).
//     The hashes of the levels in between are recomputed from the tile.
//
// Append adds a row to the tail (and packs the tail into a bundle when it
// holds BundleSize entries) and grows the last tile of each level it
// touches, in the transaction of the change it records.
const (
	// TileHeight is the height of the stored hash tiles.
	TileHeight = 8
	// BundleSize is the number of entries in a full entry bundle, and the
	// number of hashes in a full tile.
	BundleSize = 1 << TileHeight
	// MaxEntrySize is the largest encoding of an event the log takes: its
	// length is stored in two bytes.
	MaxEntrySize = 1<<16 - 1
)

// How log_bundles.entries holds a bundle (its codec column).
const (
	// codecPlain: the bundle as it is. Bundles written before migration
	// 00012 are so, and a bundle that compression would not shrink.
	codecPlain = 0
	// codecLZ4: the plain bundle's length as a uvarint, then the plain
	// bundle as an LZ4 block. The entries are JSON of a few kinds: they
	// take about a third of the bytes, on disk and on the wire to a full
	// verification, and decompress faster than memory is read.
	codecLZ4 = 1
	// maxBundle is the length of the largest plain bundle.
	maxBundle = BundleSize * (2 + MaxEntrySize)
)

// compressBundle returns how a plain bundle is stored, and its codec.
func compressBundle(plain []byte) ([]byte, int) {
	out := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+lz4.CompressBlockBound(len(plain))), uint64(len(plain)))
	n, err := lz4.CompressBlock(plain, out[len(out):cap(out)], nil)
	if err != nil || n == 0 || len(out)+n >= len(plain) {
		return plain, codecPlain
	}
	return out[:len(out)+n], codecLZ4
}

// openBundle returns the plain form of a stored bundle. A compressed one is
// decompressed into buf, grown as needed; a plain one is returned as it is.
func openBundle(codec int, stored, buf []byte) ([]byte, error) {
	switch codec {
	case codecPlain:
		return stored, nil
	case codecLZ4:
		size, k := binary.Uvarint(stored)
		if k <= 0 || size > maxBundle {
			return nil, errors.New("compressed entry bundle: its length is unreadable or too large")
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		n, err := lz4.UncompressBlock(stored[k:], buf)
		if err != nil || uint64(n) != size {
			return nil, errors.New("compressed entry bundle: it does not decompress")
		}
		return buf, nil
	}
	return nil, fmt.Errorf("entry bundle of unknown codec %d", codec)
}

// appendBundle appends an entry's data to an entry bundle.
func appendBundle(bundle, data []byte) []byte {
	bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(data)))
	return append(bundle, data...)
}

var errBundle = errors.New("malformed entry bundle")

// splitBundle appends the entries of a bundle to out. On a malformed bundle
// it returns the entries before the fault and errBundle; after one entry
// more than a bundle holds, it stops there with errBundle (a bundle of
// empty entries would otherwise make millions).
func splitBundle(bundle []byte, out [][]byte) ([][]byte, error) {
	for start := len(out); len(bundle) > 0; {
		if len(bundle) < 2 || len(out)-start > BundleSize {
			return out, errBundle
		}
		n := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+n {
			return out, errBundle
		}
		out = append(out, bundle[2:2+n:2+n])
		bundle = bundle[2+n:]
	}
	return out, nil
}

// statesColumn is the filtering form of an entry's States: ";FRA;KEN;". A
// bundle's states column is the concatenation of its entries' forms.
func statesColumn(states []string) string {
	return ";" + strings.Join(states, ";") + ";"
}

type tileKey struct {
	level int
	n     int64
}

// tileStore reads stored hashes from the tiles through q, keeping the tiles
// it has read; it is a tlog.HashReader.
type tileStore struct {
	ctx   context.Context
	q     db.Queryer
	tiles map[tileKey][]byte
}

// HashReader reads stored hashes through q, in or out of a transaction,
// from the tiles: a hash at a level between the tiles' levels is recomputed
// from its tile.
func HashReader(ctx context.Context, q db.Queryer) tlog.HashReader {
	return &tileStore{ctx: ctx, q: q, tiles: map[tileKey][]byte{}}
}

// load reads the tiles in keys that are not read yet.
func (s *tileStore) load(keys []tileKey) error {
	var cond []string
	var args []any
	for _, k := range keys {
		if _, ok := s.tiles[k]; ok {
			continue
		}
		s.tiles[k] = nil
		cond = append(cond, "(level = $"+strconv.Itoa(len(args)+1)+" AND idx = $"+strconv.Itoa(len(args)+2)+")")
		args = append(args, k.level, k.n)
	}
	if len(cond) == 0 {
		return nil
	}
	query := `SELECT level, idx, hashes FROM log_tiles WHERE ` + strings.Join(cond, " OR ")
	var rows *sql.Rows
	var err error
	if tx, ok := s.q.(*sql.Tx); ok && len(cond) == 1 {
		rows, err = db.QueryTx(s.ctx, tx, query, args...) // an append's one tile: the same statement each time
	} else {
		rows, err = s.q.QueryContext(s.ctx, query, args...)
	}
	if err != nil {
		return fmt.Errorf("auditlog: reading hash tiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k tileKey
		var b []byte
		if err := rows.Scan(&k.level, &k.n, &b); err != nil {
			return fmt.Errorf("auditlog: reading hash tiles: %w", err)
		}
		s.tiles[k] = b
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auditlog: reading hash tiles: %w", err)
	}
	return nil
}

// ReadHashes implements tlog.HashReader.
func (s *tileStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	tiles := make([]tlog.Tile, len(indexes))
	keys := make([]tileKey, len(indexes))
	for i, x := range indexes {
		tiles[i] = tlog.TileForIndex(TileHeight, x)
		keys[i] = tileKey{tiles[i].L, tiles[i].N}
	}
	if err := s.load(keys); err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		data := s.tiles[keys[i]]
		if len(data) < tiles[i].W*tlog.HashSize {
			return nil, fmt.Errorf("stored hash %d is missing", x)
		}
		h, err := tlog.HashFromTile(tiles[i], data, x)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}
