package auditlog

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"sort"

	"golang.org/x/mod/sumdb/tlog"
)

type bundleResult struct {
	entries int
	root    tlog.Hash // the level-8 hash of a full bundle
	hashes  int64
	// For each checkpoint size inside the bundle, the hash of the bundle's
	// part of that tree: the complete subtrees it contributes, folded.
	lows []sizedHash
}

type sizedHash struct {
	size int64
	hash tlog.Hash
}

// bundleWorker verifies bundles: it hashes their entries, compares the
// leaf hashes with the level-0 tiles, and computes the hashes above them up
// to the bundle's root.
type bundleWorker struct {
	c       *checker
	h       hash.Hash
	plain   []byte // a decompressed bundle
	entries [][]byte
	levels  [TileHeight + 1][]tlog.Hash
	f       scanned
	states  []byte
	subs    []tlog.Hash
}

func newBundleWorker(c *checker) *bundleWorker {
	w := &bundleWorker{c: c, h: sha256.New()}
	for l := range w.levels {
		w.levels[l] = make([]tlog.Hash, BundleSize>>l)
	}
	return w
}

func (w *bundleWorker) batch(b *checkBatch) {
	for _, row := range b.bundles {
		b.results = append(b.results, w.bundle(b, row))
	}
	b.commitText = string(b.commitBytes)
}

var zero = []byte{0}

func (w *bundleWorker) leafHash(data []byte, out *tlog.Hash) {
	w.h.Reset()
	w.h.Write(zero)
	w.h.Write(data)
	w.h.Sum(out[:0])
}

func (w *bundleWorker) bundle(b *checkBatch, row bundleRow) bundleResult {
	first := row.idx * BundleSize
	plain, err := openBundle(row.codec, row.entries, w.plain)
	if err != nil {
		b.problem("entry bundle %d: %v", row.idx, err)
	} else if row.codec != codecPlain {
		w.plain = plain[:0]
	}
	entries, err := splitBundle(plain, w.entries[:0])
	w.entries = entries[:0]
	if err != nil {
		b.problem("entry bundle %d: malformed after its %d entries", row.idx, len(entries))
	}
	n := len(entries)
	if n > BundleSize {
		b.problem("entry bundle %d holds %d entries, at most %d expected", row.idx, n, BundleSize)
		n = BundleSize
		entries = entries[:n]
	}
	switch want := w.c.expected(row.idx); {
	case !row.tail && n != BundleSize:
		b.problem("entry bundle %d holds %d entries where %d were expected", row.idx, n, BundleSize)
	case row.tail && n > want:
		b.problem("the log tail holds %d entries where the log head says %d", n, want)
	}
	leaves := w.levels[0][:n]
	w.states = w.states[:0]
	for i, data := range entries {
		idx := first + int64(i)
		w.leafHash(data, &leaves[i])
		if idx < w.c.covered && scanAuthentic(data, &w.f) || scanFields(data, &w.f) {
			w.states = append(w.states, ';')
			for j, s := range w.f.states {
				if j > 0 {
					w.states = append(w.states, ';')
				}
				w.states = append(w.states, s...)
			}
			w.states = append(w.states, ';')
			if w.c.commitments != nil && len(w.f.commitment) > 0 {
				b.commits = append(b.commits, indexedCommitment{idx, len(b.commitBytes), len(b.commitBytes) + len(w.f.commitment)})
				b.commitBytes = append(b.commitBytes, w.f.commitment...)
			}
			continue
		}
		ev, err := Decode(data)
		if err != nil {
			b.problem("entry %d: undecodable: %v", idx, err)
			continue
		}
		w.states = append(w.states, statesColumn(ev.States)...)
		if w.c.commitments != nil && ev.Commitment != "" {
			b.commits = append(b.commits, indexedCommitment{idx, len(b.commitBytes), len(b.commitBytes) + len(ev.Commitment)})
			b.commitBytes = append(b.commitBytes, ev.Commitment...)
		}
	}
	if !bytes.Equal(w.states, row.states) {
		b.problem("entry bundle %d: its columns do not match its hashed data (the States)", row.idx)
	}

	// The stored leaves.
	switch stored := len(row.tile) / tlog.HashSize; {
	case n == 0:
	case !row.hasTile:
		b.problem("stored hash %d is missing (tile 0/%d)", tlog.StoredHashIndex(0, first), row.idx)
	default:
		for i := range min(n, stored) {
			if !bytes.Equal(row.tile[i*tlog.HashSize:(i+1)*tlog.HashSize], leaves[i][:]) {
				b.problem("entry %d: its data does not hash to the stored leaf (entry or leaf altered)", first+int64(i))
			}
		}
		if stored < n {
			b.problem("stored hash %d is missing", tlog.StoredHashIndex(0, first+int64(stored)))
		}
		if len(row.tile) != n*tlog.HashSize && stored >= n {
			b.problem("stored hashes beyond the last entry (tile 0/%d)", row.idx)
		}
	}

	res := bundleResult{entries: n, hashes: int64(n)}
	for l := 1; l <= TileHeight; l++ {
		prev := w.levels[l-1][:n>>(l-1)]
		cur := w.levels[l][:len(prev)/2]
		for j := range cur {
			cur[j] = tlog.NodeHash(prev[2*j], prev[2*j+1])
		}
		res.hashes += int64(len(cur))
	}
	if n == BundleSize {
		res.root = w.levels[TileHeight][0]
	}
	// The checkpoints inside the bundle: their trees end with the complete
	// subtrees of the bundle's first r entries.
	sizes := w.c.sizes
	for i := sort.Search(len(sizes), func(i int) bool { return sizes[i] > first }); i < len(sizes) && sizes[i] < first+int64(min(n+1, BundleSize)); i++ {
		r := sizes[i] - first
		w.subs = w.subs[:0]
		start := int64(0)
		for l := TileHeight - 1; l >= 0; l-- {
			if r&(1<<l) != 0 {
				w.subs = append(w.subs, w.levels[l][start>>l])
				start += 1 << l
			}
		}
		th := w.subs[len(w.subs)-1]
		for j := len(w.subs) - 2; j >= 0; j-- {
			th = tlog.NodeHash(w.subs[j], th)
		}
		res.lows = append(res.lows, sizedHash{sizes[i], th})
	}
	return res
}
