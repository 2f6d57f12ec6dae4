package auditlog

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

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
