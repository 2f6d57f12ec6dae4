package auditlog

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// checkBatchBundles is how many bundles the reader hands to a worker at
// once; checkPoolBatches more batches than workers are kept for reuse, so
// that the database sends ahead of the workers.
const (
	checkBatchBundles = 4
	checkPoolBatches  = 16
)

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

	// stateBundles is, for each State, the set of bundles whose States
	// column names it (bit b of the words), gathered as the bundles stream
	// by, for the comparison with the index of the States' bundles.
	stateBundles map[string][]uint64
	bundlesRead  int64 // the bundles read from log_bundles (0 … bundlesRead-1)

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
		return fmt.Errorf("auditlog: counting the hash tiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var level int
		var count int64
		if err := rows.Scan(&level, &count); err != nil {
			return fmt.Errorf("auditlog: counting the hash tiles: %w", err)
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
		return fmt.Errorf("auditlog: counting the hash tiles: %w", err)
	}
	var bundles int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_bundles`).Scan(&bundles); err != nil {
		return fmt.Errorf("auditlog: counting the entry bundles: %w", err)
	}
	if bundles != c.bundles {
		c.r.problem("the log holds %d entry bundles, %d of them in order from index 0", bundles, c.bundles)
	}
	var tail int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_tail`).Scan(&tail); err != nil {
		return fmt.Errorf("auditlog: counting the log tail: %w", err)
	}
	if tail != c.tailRead {
		c.r.problem("the log tail holds %d entries, %d of them in order after the bundles", tail, c.tailRead)
	}
	return nil
}
