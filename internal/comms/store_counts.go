package comms

import (
	"context"
	"database/sql"

	"github.com/pocdir/pocdir/internal/db"
)

// The counters kept in the transactions that change what they count (the
// volumes sent, the recipient lines by stage, the communications that wait
// for each State) add up a transaction's changes and write them just
// before it commits, each table's rows in the order of their keys, so that
// two transactions take the rows' locks in the same order; in a batch of
// db.Group, once for all its kept members.

// txCounts are a transaction's changes to one counter table, not yet
// written.
type txCounts[K comparable] struct{ changes map[K]int }

// addCount adds n to the row k of a counter table, in q's transaction,
// where tag names the table's changes and write writes them (sorting its
// keys); outside a transaction that db.Tx runs, at once.
func addCount[K comparable](ctx context.Context, q db.Queryer, tag any, k K, n int, write func(context.Context, db.Queryer, map[K]int) error) error {
	if tx, ok := q.(*sql.Tx); ok {
		mk := func() any { return &txCounts[K]{changes: map[K]int{}} }
		if v, ok := db.TxValue(tx, tag, mk); ok {
			tc := v.(*txCounts[K])
			tc.changes[k] += n
			// Added to the batch's changes once this transaction's work
			// is kept, and written with them (db.Shared).
			db.WhenKept(tx, tc, func() {
				v, _ := db.Shared(tx, tag, mk)
				all := v.(*txCounts[K])
				for k, n := range tc.changes {
					all.changes[k] += n
				}
				db.BeforeSharedCommit(tx, all, func() error { return write(context.WithoutCancel(ctx), tx, all.changes) })
			})
			return nil
		}
	}
	return write(ctx, q, map[K]int{k: n})
}
