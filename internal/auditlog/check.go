package auditlog

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// A full verification (Check) is in four files: this one checks the
// checkpoints and the cosignatures and hands the commitments to the content
// checkers; check_read.go streams the bundles and tiles from one snapshot;
// check_hash.go holds the workers that hash the bundles; check_tree.go takes
// their results in order and rebuilds the tree above the bundles.

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
	// Pending counts the entries recorded with their change and not yet
	// integrated into the tree (see integrate.go), the oldest recorded at
	// PendingSince: a running pocdir integrates them within a second; more
	// than a few, or old ones, mean that no instance is running.
	Pending      int64
	PendingSince *time.Time
	Problems     []string
	// TreeTime is how long the log's own verification took (the entries,
	// the tree, the checkpoints and cosignatures), and ContentTime the
	// content checkers' recomputing of the commitments after it.
	TreeTime, ContentTime time.Duration
}

// OK reports whether the verification found nothing wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < 100 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
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
	q, release, err := d.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditlog: checking the log: %w", err)
	}
	defer release()
	start := time.Now()
	r := &Report{}
	var head int64
	if err := q.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		return nil, fmt.Errorf("auditlog: reading the log head: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_pending`).Scan(&r.Pending); err != nil {
		return nil, fmt.Errorf("auditlog: counting the pending entries: %w", err)
	}
	if r.Pending > 0 {
		var since time.Time
		if err := q.QueryRowContext(ctx, `SELECT created_at FROM log_pending ORDER BY id LIMIT 1`).Scan(&since); err != nil {
			return nil, fmt.Errorf("auditlog: reading the oldest pending entry: %w", err)
		}
		since = since.UTC()
		r.PendingSince = &since
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
		return nil, fmt.Errorf("auditlog: reading the checkpoints: %w", err)
	}
	for rows.Next() {
		var c cpRow
		if err := rows.Scan(&c.size, &c.root, &c.note); err != nil {
			rows.Close()
			return nil, fmt.Errorf("auditlog: reading the checkpoints: %w", err)
		}
		cps = append(cps, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auditlog: reading the checkpoints: %w", err)
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
	if err := checkStateIndex(ctx, q, r, c.bundlesRead, c.stateBundles); err != nil {
		return nil, err
	}

	// Cosignatures.
	crows, err := q.QueryContext(ctx, `SELECT c.size, c.witness, c.signature, p.note FROM log_cosignatures c JOIN log_checkpoints p ON p.size = c.size`)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the cosignatures: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var size int64
		var witness, sig, cpNote string
		if err := crows.Scan(&size, &witness, &sig, &cpNote); err != nil {
			return nil, fmt.Errorf("auditlog: reading the cosignatures: %w", err)
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
		return nil, fmt.Errorf("auditlog: reading the cosignatures: %w", err)
	}
	r.TreeTime = time.Since(start)
	for _, cc := range content {
		k, err := cc(ctx, q, c.commitments, r.problem)
		if err != nil {
			return nil, fmt.Errorf("auditlog: checking the commitments of content: %w", err)
		}
		r.Commitments += k
	}
	r.ContentTime = time.Since(start) - r.TreeTime
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

// checkStateIndex compares the index of each State's bundles with the
// bundles' States columns (which the tree's check compares with the
// entries, and whose States it gathered as it read them: c.stateBundles,
// for the bundles 0 … bundles-1): a State missing from the index would not
// see its entries on its log page, and its audit verify would take them
// for missing. The index is read once, in no order: at full size it holds
// millions of rows, and the comparison is of sets.
func checkStateIndex(ctx context.Context, q db.Queryer, r *Report, bundles int64, want map[string][]uint64) error {
	rows, err := q.QueryContext(ctx, `SELECT state_code, bundle FROM log_state_bundles`)
	if err != nil {
		return fmt.Errorf("auditlog: reading the index of the States' bundles: %w", err)
	}
	defer rows.Close()
	beyond := 0
	for rows.Next() {
		var st sql.RawBytes
		var b int64
		if err := rows.Scan(&st, &b); err != nil {
			return fmt.Errorf("auditlog: reading the index of the States' bundles: %w", err)
		}
		if b < 0 || b >= bundles {
			beyond++
			continue
		}
		set := want[string(st)]
		w, bit := b/64, uint64(1)<<(b%64)
		if w < int64(len(set)) && set[w]&bit != 0 {
			set[w] &^= bit
		} else {
			r.problem("the index of the States' bundles names %s in bundle %d, which holds none of its entries", st, b)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auditlog: reading the index of the States' bundles: %w", err)
	}
	if beyond > 0 {
		r.problem("the index of the States' bundles names %d bundles beyond the log", beyond)
	}
	states := make([]string, 0, len(want))
	for st := range want {
		states = append(states, st)
	}
	sort.Strings(states)
	for _, st := range states {
		for w, word := range want[st] {
			for ; word != 0; word &= word - 1 {
				b := int64(w)*64 + int64(bits.TrailingZeros64(word))
				r.problem("bundle %d holds entries of %s that the index of the States' bundles does not name: %s does not see them", b, st, st)
			}
		}
	}
	return nil
}
