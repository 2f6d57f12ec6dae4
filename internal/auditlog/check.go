package auditlog

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/db"
)

// Report is the result of a full verification.
type Report struct {
	Entries      int64
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
// is needed to compute the next stored hashes and any tree hash, so a full
// verification (or a bulk load) runs in memory of O(log n).
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
// its stored leaf, every stored hash is recomputed from the entries, indexes
// have no gaps, every checkpoint is signed by the key and names the root of
// its tree size, and every cosignature verifies. content, when set, checks
// the commitments of the content rows that capabilities keep.
func Check(ctx context.Context, d *db.DB, verifier note.Verifier, content ...ContentChecker) (*Report, error) {
	r := &Report{}
	var head int64
	if err := d.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		return nil, err
	}
	// Checkpoints, by size, to compare with the tree as it is rebuilt.
	type cpRow struct {
		size int64
		root []byte
		note string
	}
	var cps []cpRow
	rows, err := d.QueryContext(ctx, `SELECT size, root, note FROM log_checkpoints ORDER BY size`)
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

	entries, err := d.QueryContext(ctx, `SELECT idx, type, states, object, data FROM log_entries ORDER BY idx`)
	if err != nil {
		return nil, err
	}
	defer entries.Close()
	hashes, err := d.QueryContext(ctx, `SELECT id, hash FROM log_hashes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer hashes.Close()

	f := &Frontier{}
	commitments := map[int64]string{}
	var n int64
	next := 0
	checkRoot := func() {
		for next < len(sizes) && sizes[next] == n {
			th, err := tlog.TreeHash(n, f)
			if err != nil {
				r.problem("tree hash at %d: %v", n, err)
			} else if th != roots[n] {
				r.problem("checkpoint %d: its root is not the root of the log's first %d entries", n, n)
			}
			next++
		}
	}
	checkRoot()
	for entries.Next() {
		var idx int64
		var typ, states, object, data string
		if err := entries.Scan(&idx, &typ, &states, &object, &data); err != nil {
			return nil, err
		}
		if idx != n {
			r.problem("entry %d: expected index %d (a gap or a reordering)", idx, n)
			return r, nil
		}
		ev, err := Decode([]byte(data))
		if err != nil {
			r.problem("entry %d: undecodable: %v", idx, err)
		} else {
			if ev.Type != typ || ev.Object != object || states != ";"+strings.Join(ev.States, ";")+";" {
				r.problem("entry %d: its columns do not match its hashed data", idx)
			}
			if ev.Commitment != "" {
				commitments[idx] = ev.Commitment
			}
		}
		computed, err := tlog.StoredHashes(n, []byte(data), f)
		if err != nil {
			return nil, err
		}
		base := tlog.StoredHashIndex(0, n)
		for i, h := range computed {
			if !hashes.Next() {
				r.problem("stored hash %d is missing", base+int64(i))
				return r, nil
			}
			var id int64
			var b []byte
			if err := hashes.Scan(&id, &b); err != nil {
				return nil, err
			}
			r.Hashes++
			if id != base+int64(i) {
				r.problem("stored hash %d found where %d was expected", id, base+int64(i))
				return r, nil
			}
			if !bytes.Equal(b, h[:]) {
				if i == 0 {
					r.problem("entry %d: its data does not hash to the stored leaf (entry or leaf altered)", idx)
				} else {
					r.problem("stored hash %d (entry %d, level %d) is not what the entries give", id, idx, i)
				}
			}
		}
		f.Store(n, computed)
		n++
		r.Entries++
		checkRoot()
	}
	if err := entries.Err(); err != nil {
		return nil, err
	}
	if hashes.Next() {
		r.problem("stored hashes beyond the last entry")
	}
	if n != head {
		r.problem("the log head says %d entries, the table holds %d", head, n)
	}
	if next < len(sizes) {
		r.problem("checkpoint %d: beyond the entries", sizes[next])
	}
	// Cosignatures.
	crows, err := d.QueryContext(ctx, `SELECT c.size, c.witness, c.signature, p.note FROM log_cosignatures c JOIN log_checkpoints p ON p.size = c.size`)
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
	for _, c := range content {
		k, err := c(ctx, d, commitments, r.problem)
		if err != nil {
			return nil, err
		}
		r.Commitments += k
	}
	return r, nil
}

// ContentChecker recomputes the commitments of a capability's content rows
// against the log's entries (index → commitment), reporting mismatches
// through problem, and returns how many it checked.
type ContentChecker func(ctx context.Context, q db.Queryer, commitments map[int64]string, problem func(string, ...any)) (int, error)
