package auditlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// Report is the result of a full verification.
type Report struct {
	Entries int64
	// Hashes counts the tree hashes recomputed from the entries: a leaf hash
	// per entry and every interior node of the complete subtrees, 2n −
	// popcount(n) for n entries (as many as tlog.StoredHashes gives). Those
	// at the tiles' levels are compared with the tiles; the others are
	// covered by the hashes above them.
	Hashes       int64
	Checkpoints  int
	Cosignatures int
	Commitments  int
	Problems     []string
}

// OK reports whether the verification found nothing wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < 100 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Frontier holds, per level of the tree, the last completed node: all that
// is needed to compute the next stored hashes and any tree hash, so a bulk
// load runs in memory of O(log n).
type Frontier struct {
	last  []tlog.Hash
	lastN []int64
}

// ReadHashes reads hashes on the frontier (a tlog.HashReader).
func (f *Frontier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		if level >= len(f.last) || f.lastN[level] != n {
			return nil, fmt.Errorf("hash %d (level %d, node %d) is not on the frontier", x, level, n)
		}
		out[i] = f.last[level]
	}
	return out, nil
}

// Store records the hashes stored for record n (tlog.StoredHashes).
func (f *Frontier) Store(n int64, hashes []tlog.Hash) {
	for level, h := range hashes {
		for len(f.last) <= level {
			f.last = append(f.last, tlog.Hash{})
			f.lastN = append(f.lastN, -1)
		}
		f.last[level] = h
		f.lastN[level] = (n+1)>>uint(level) - 1
	}
}

// Check verifies the whole log against the database: every entry hashes to
// its stored leaf, every stored hash is recomputed from the entries, bundles,
// tail and tiles have no gaps and nothing beyond the log's size, the States
// columns are the entries', every checkpoint is signed by the
// key and names the root of its tree size, and every cosignature verifies.
// content, when set, checks the commitments of the content rows that
// capabilities keep.
//
// It reads one snapshot of the database, bundles and tiles in batches on
// one connection while GOMAXPROCS workers hash them. Its memory does not
// grow with the number of entries, but for the checkpoints and, when
// content is set, the commitments handed to it.
func Check(ctx context.Context, d *db.DB, verifier note.Verifier, content ...ContentChecker) (*Report, error) {
	q, release, err := snapshot(ctx, d)
	if err != nil {
		return nil, err
	}
	defer release()
	r := &Report{}
	var head int64
	if err := q.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		return nil, err
	}
	// Checkpoints, by size, to compare with the tree as it is rebuilt.
	type cpRow struct {
		size int64
		root []byte
		note string
	}
	var cps []cpRow
	rows, err := q.QueryContext(ctx, `SELECT size, root, note FROM log_checkpoints ORDER BY size`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c cpRow
		if err := rows.Scan(&c.size, &c.root, &c.note); err != nil {
			rows.Close()
			return nil, err
		}
		cps = append(cps, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	roots := map[int64]tlog.Hash{}
	for _, c := range cps {
		n, err := note.Open([]byte(c.note), note.VerifierList(verifier))
		if err != nil {
			r.problem("checkpoint %d: signature does not verify: %v", c.size, err)
			continue
		}
		_, size, root, err := ParseCheckpoint(n.Text)
		if err != nil || size != c.size || !bytes.Equal(root[:], c.root) {
			r.problem("checkpoint %d: the signed text does not match the stored size and root", c.size)
			continue
		}
		if size > head {
			r.problem("checkpoint %d: beyond the log's size %d", size, head)
		}
		roots[size] = root
		r.Checkpoints++
	}
	sizes := make([]int64, 0, len(roots))
	for s := range roots {
		sizes = append(sizes, s)
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })

	c := &checker{dialect: d.Dialect, r: r, head: head, sizes: sizes, roots: roots, tiles: map[tileKey][]byte{}, cur: map[int]int64{}}
	if len(sizes) > 0 {
		c.covered = sizes[len(sizes)-1]
	}
	if len(content) > 0 {
		// At most one per entry: room for them spares the copies of
		// growing (up to a million: the head is data, and may lie).
		room := min(max(head, 0), 1<<20)
		c.commitments = &Commitments{idx: make([]int64, 0, room), c: make([]string, 0, room)}
	}
	if err := c.run(ctx, q); err != nil {
		return nil, err
	}
	if c.stopped {
		return r, nil
	}
	if err := c.finish(ctx, q); err != nil {
		return nil, err
	}

	// Cosignatures.
	crows, err := q.QueryContext(ctx, `SELECT c.size, c.witness, c.signature, p.note FROM log_cosignatures c JOIN log_checkpoints p ON p.size = c.size`)
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var size int64
		var witness, sig, cpNote string
		if err := crows.Scan(&size, &witness, &sig, &cpNote); err != nil {
			return nil, err
		}
		body, err := noteBody(cpNote)
		v, verr := note.NewVerifier(witness)
		if err != nil || verr != nil {
			r.problem("cosignature of %d: unreadable", size)
			continue
		}
		if _, err := note.Open([]byte(body+"\n"+sig+"\n"), note.VerifierList(v)); err != nil {
			r.problem("cosignature of %d by %s does not verify", size, v.Name())
			continue
		}
		r.Cosignatures++
	}
	if err := crows.Err(); err != nil {
		return nil, err
	}
	for _, cc := range content {
		k, err := cc(ctx, q, c.commitments, r.problem)
		if err != nil {
			return nil, err
		}
		r.Commitments += k
	}
	return r, nil
}

// ContentChecker recomputes the commitments of a capability's content rows
// against the log's entries, reporting mismatches through problem, and
// returns how many it checked.
type ContentChecker func(ctx context.Context, q db.Queryer, commitments *Commitments, problem func(string, ...any)) (int, error)

// Commitments are the commitments that the log's entries hold, by index.
// Check gathers them in the order of the log, which keeps them sorted (a
// map took a sixth of a full check to fill).
type Commitments struct {
	idx []int64
	c   []string
}

// Get returns the commitment that entry idx holds, if it holds one.
func (m *Commitments) Get(idx int64) (string, bool) {
	i, ok := slices.BinarySearch(m.idx, idx)
	if !ok {
		return "", false
	}
	return m.c[i], true
}

// Len returns the number of entries that hold a commitment.
func (m *Commitments) Len() int { return len(m.idx) }

// snapshot returns a connection that reads one snapshot of the database
// without blocking writers, and the function that ends it. (On SQLite a
// transaction of database/sql would take the write lock: see db.Open.)
func snapshot(ctx context.Context, d *db.DB) (*sql.Conn, func(), error) {
	conn, err := d.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	var setup, reset []string
	switch d.Dialect {
	case db.Postgres:
		setup = []string{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"}
	default:
		// Reading the file through a memory map spares a system call and
		// a copy per page.
		setup = []string{"PRAGMA mmap_size = 1073741824", "BEGIN DEFERRED"}
		reset = []string{"PRAGMA mmap_size = 0"}
	}
	release := func() {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		for _, s := range reset {
			_, _ = conn.ExecContext(context.Background(), s)
		}
		conn.Close()
	}
	for _, s := range setup {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			release()
			return nil, nil, err
		}
	}
	return conn, release, nil
}

// checkBatchBundles is how many bundles the reader hands to a worker at
// once; checkPoolBatches more batches than workers are kept for reuse, so
// that the database sends ahead of the workers.
const (
	checkBatchBundles = 4
	checkPoolBatches  = 16
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

// checkBatch is consecutive bundles, read in one go and verified by one
// worker; the checker consumes batches in order.
type checkBatch struct {
	bundles []bundleRow
	upper   []tileRow // tiles of levels ≥ 1 first needed by these bundles
	fatal   string    // a gap: the verification stops after this batch
	done    chan struct{}

	problems []string
	results  []bundleResult
	// The commitments of the batch's entries, one after the other in
	// commitBytes; the worker makes them one string, and the checker hands
	// out substrings of it, so that there is no allocation per entry.
	commits     []indexedCommitment
	commitBytes []byte
	commitText  string
}

func (b *checkBatch) problem(format string, args ...any) {
	if len(b.problems) < 100 {
		b.problems = append(b.problems, fmt.Sprintf(format, args...))
	}
}

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

type indexedCommitment struct {
	idx        int64
	start, end int // in commitBytes
}

type subtree struct {
	level int
	hash  tlog.Hash
}

// checker rebuilds the tree from the bundles' results, in order, above the
// bundles' level: it compares the hashes at the upper tiles' levels and the
// checkpoints' roots.
type checker struct {
	dialect db.Dialect
	r       *Report
	head    int64
	sizes   []int64
	roots   map[int64]tlog.Hash
	next    int // the first size in sizes not compared yet
	// covered is the largest size of a checkpoint whose signature
	// verifies: the entries below it are what Encode wrote, or the
	// checkpoint's root does not match and the log is reported altered.
	covered     int64
	commitments *Commitments

	n        int64     // entries verified
	bundles  int64     // bundles verified
	tailRead int64     // rows of the tail verified
	stack    []subtree // the complete subtrees of levels ≥ 8, largest first
	partial  bool      // the last bundle was not full
	stopped  bool

	tiles map[tileKey][]byte // upper tiles read and not done with
	cur   map[int]int64      // per tile level, the tile being compared
	free  chan *checkBatch   // batches consumed, for reuse
}

// expected returns how many entries bundle b should hold by the log head.
func (c *checker) expected(b int64) int {
	return int(min(max(c.head-b*BundleSize, 0), BundleSize))
}

func (c *checker) run(ctx context.Context, q *sql.Conn) error {
	if len(c.sizes) > 0 && c.sizes[0] == 0 {
		th, _ := tlog.TreeHash(0, nil) // the hash of the empty tree
		c.compareRoot(0, th)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	c.free = make(chan *checkBatch, 2*workers+2+checkPoolBatches)
	work := make(chan *checkBatch, workers)
	ordered := make(chan *checkBatch, workers+1)
	var readErr error
	go func() {
		defer close(work)
		defer close(ordered)
		readErr = c.read(ctx, q, func(b *checkBatch) bool {
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			work <- b
			return true
		})
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newBundleWorker(c)
			for b := range work {
				w.batch(b)
				close(b.done)
			}
		}()
	}
	for b := range ordered {
		<-b.done
		if !c.stopped {
			c.consume(b)
			if c.stopped {
				cancel()
			}
		}
		select {
		case c.free <- b:
		default:
		}
	}
	wg.Wait()
	if readErr != nil && !c.stopped {
		return readErr
	}
	return nil
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
	next, stop, err := c.stream(ctx, upper, source, emit)
	if err != nil || stop {
		return err
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
			return fmt.Errorf("audit check: not a pgx connection")
		}
		rows, err := sc.Conn().Query(ctx, bundlesSQL, pgx.QueryResultFormats{pgx.BinaryFormatCode})
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v := rows.RawValues()
			if len(v) != 5 || len(v[0]) != 8 || len(v[2]) != 4 {
				return fmt.Errorf("audit check: unexpected bundle row")
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
		return nil, err
	}
	defer rows.Close()
	out := map[tileKey][]byte{}
	for rows.Next() {
		var k tileKey
		var h []byte
		if err := rows.Scan(&k.level, &k.n, &h); err != nil {
			return nil, err
		}
		out[k] = h
	}
	return out, rows.Err()
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
		return err
	}
	n := int64(0)
	for rows.Next() {
		var idx int64
		var data, states sql.RawBytes
		if err := rows.Scan(&idx, &data, &states); err != nil {
			rows.Close()
			return err
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
		return err
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
		case err != sql.ErrNoRows:
			return err
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

// newBatch returns an empty batch, reusing the buffers of a batch that was
// consumed, so that the verification allocates little as it goes.
func (c *checker) newBatch() *checkBatch {
	var b *checkBatch
	select {
	case b = <-c.free:
	default:
		b = &checkBatch{bundles: make([]bundleRow, 0, checkBatchBundles)}
	}
	b.bundles = b.bundles[:0]
	b.upper = b.upper[:0]
	b.fatal = ""
	b.done = make(chan struct{})
	b.problems = b.problems[:0]
	b.results = b.results[:0]
	b.commits = b.commits[:0]
	b.commitBytes = b.commitBytes[:0]
	b.commitText = ""
	return b
}

// consume takes the results of the next batch.
func (c *checker) consume(b *checkBatch) {
	for _, p := range b.problems {
		c.r.problem("%s", p)
	}
	for _, t := range b.upper {
		c.tiles[t.key] = t.hashes
	}
	for _, cm := range b.commits {
		c.commitments.idx = append(c.commitments.idx, cm.idx)
		c.commitments.c = append(c.commitments.c, b.commitText[cm.start:cm.end])
	}
	for i, res := range b.results {
		if c.partial {
			c.r.problem("entry bundle %d follows a bundle that is not full (entries missing)", b.bundles[i].idx)
			c.stopped = true
			return
		}
		for _, low := range res.lows {
			th := low.hash
			for j := len(c.stack) - 1; j >= 0; j-- {
				th = tlog.NodeHash(c.stack[j].hash, th)
			}
			c.compareRoot(low.size, th)
		}
		c.n += int64(res.entries)
		if !b.bundles[i].tail {
			c.bundles++
		}
		c.r.Entries += int64(res.entries)
		c.r.Hashes += res.hashes
		if res.entries < BundleSize {
			c.partial = true
			continue
		}
		c.push(b.bundles[i].idx, res.root)
		if c.next < len(c.sizes) && c.sizes[c.next] == c.n {
			top := len(c.stack) - 1
			th := c.stack[top].hash
			for j := top - 1; j >= 0; j-- {
				th = tlog.NodeHash(c.stack[j].hash, th)
			}
			c.compareRoot(c.n, th)
		}
	}
	if b.fatal != "" {
		c.r.problem("%s", b.fatal)
		c.stopped = true
	}
}

func (c *checker) compareRoot(size int64, th tlog.Hash) {
	if c.next >= len(c.sizes) || c.sizes[c.next] != size {
		panic("auditlog: checkpoint sizes out of order")
	}
	if th != c.roots[size] {
		c.r.problem("checkpoint %d: its root is not the root of the log's first %d entries", size, size)
	}
	c.next++
}

// push adds the level-8 hash of full bundle x to the tree.
func (c *checker) push(x int64, h tlog.Hash) {
	c.compareStored(TileHeight, x, h)
	c.stack = append(c.stack, subtree{TileHeight, h})
	for k := len(c.stack); k >= 2 && c.stack[k-1].level == c.stack[k-2].level; k = len(c.stack) {
		s := subtree{c.stack[k-1].level + 1, tlog.NodeHash(c.stack[k-2].hash, c.stack[k-1].hash)}
		c.stack = append(c.stack[:k-2], s)
		c.r.Hashes++
		if s.level%TileHeight == 0 {
			c.compareStored(s.level, c.n>>s.level-1, s.hash)
		}
	}
}

// compareStored compares the hash of node m at level (a multiple of
// TileHeight above 0) with its tile.
func (c *checker) compareStored(level int, m int64, h tlog.Hash) {
	k := tileKey{level / TileHeight, m / BundleSize}
	if cur, ok := c.cur[k.level]; !ok || cur != k.n {
		if ok {
			c.doneTile(tileKey{k.level, cur})
		}
		c.cur[k.level] = k.n
	}
	pos := int(m % BundleSize)
	data := c.tiles[k]
	if len(data) < (pos+1)*tlog.HashSize {
		c.r.problem("stored hash %d is missing", tlog.StoredHashIndex(level, m))
		return
	}
	if !bytes.Equal(data[pos*tlog.HashSize:(pos+1)*tlog.HashSize], h[:]) {
		c.r.problem("stored hash %d (level %d, node %d) is not what the entries give", tlog.StoredHashIndex(level, m), level, m)
	}
}

// doneTile checks that an upper tile holds no more than the hashes that the
// verified entries give, and forgets it.
func (c *checker) doneTile(k tileKey) {
	want := min(c.n>>(TileHeight*k.level)-k.n*BundleSize, BundleSize)
	if int64(len(c.tiles[k])) > want*tlog.HashSize {
		c.r.problem("stored hashes beyond the last entry (tile %d/%d)", k.level, k.n)
	}
	delete(c.tiles, k)
}

// finish makes the checks that need the whole log read.
func (c *checker) finish(ctx context.Context, q db.Queryer) error {
	for level, n := range c.cur {
		c.doneTile(tileKey{level, n})
	}
	if c.n != c.head {
		c.r.problem("the log head says %d entries, the bundles and the tail hold %d", c.head, c.n)
	}
	if c.next < len(c.sizes) {
		c.r.problem("checkpoint %d: beyond the entries", c.sizes[c.next])
	}
	// Rows that the ordered reads do not meet: tiles beyond the log, and
	// bundles at negative indexes.
	rows, err := q.QueryContext(ctx, `SELECT level, COUNT(*) FROM log_tiles GROUP BY level`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var level int
		var count int64
		if err := rows.Scan(&level, &count); err != nil {
			return err
		}
		want := int64(0)
		if level >= 0 && level*TileHeight < 63 {
			want = (c.n>>(TileHeight*level) + BundleSize - 1) / BundleSize
		}
		if count > want {
			c.r.problem("stored hashes beyond the last entry (%d tiles of level %d, %d expected)", count, level, want)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var bundles int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_bundles`).Scan(&bundles); err != nil {
		return err
	}
	if bundles != c.bundles {
		c.r.problem("the log holds %d entry bundles, %d of them in order from index 0", bundles, c.bundles)
	}
	var tail int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_tail`).Scan(&tail); err != nil {
		return err
	}
	if tail != c.tailRead {
		c.r.problem("the log tail holds %d entries, %d of them in order after the bundles", tail, c.tailRead)
	}
	return nil
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
