package auditlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// The log is stored as C2SP tlog-tiles store it, in two tables, so that a
// full verification reads a few large rows instead of one row per entry and
// per hash:
//
//   - log_bundles: entry bundles of BundleSize entries, each entry's data
//     after its length in two bytes, big-endian; with the States its entries
//     concern, for filtering.
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

// appendBundle appends an entry's data to an entry bundle.
func appendBundle(bundle, data []byte) []byte {
	bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(data)))
	return append(bundle, data...)
}

var errBundle = errors.New("malformed entry bundle")

// splitBundle appends the entries of a bundle to out. On a malformed bundle
// it returns the entries before the fault and errBundle.
func splitBundle(bundle []byte, out [][]byte) ([][]byte, error) {
	for len(bundle) > 0 {
		if len(bundle) < 2 {
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
	rows, err := s.q.QueryContext(s.ctx, `SELECT level, idx, hashes FROM log_tiles WHERE `+strings.Join(cond, " OR "), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k tileKey
		var b []byte
		if err := rows.Scan(&k.level, &k.n, &b); err != nil {
			return err
		}
		s.tiles[k] = b
	}
	return rows.Err()
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
