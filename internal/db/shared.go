package db

import "database/sql"

// The members of a Group's batch commit in one transaction, each in its own
// savepoint. A write that several of them make to the same rows (a counter
// of a State's lines, a campaign's tally) written by each member just before
// it ends takes those rows member after member: two batches could take them
// in opposite orders, and PostgreSQL found such deadlocks. What the members
// share is therefore added up, once each member is kept, and written once
// for the batch, after its last member, in the order its writer chooses.
// For a transaction of its own, the batch is the transaction.

// sharedState is what the members of a batch (or one transaction) share.
type sharedState struct {
	values map[any]any
	keys   map[any]bool
	before []func() error
}

// write runs what was arranged with BeforeSharedCommit, in order; one may
// add another.
func (s *sharedState) write() error {
	for i := 0; i < len(s.before); i++ {
		if err := s.before[i](); err != nil {
			return err
		}
	}
	return nil
}

// keep runs what was arranged with WhenKept.
func (st *txState) keep() {
	for i := 0; i < len(st.kept); i++ {
		st.kept[i]()
	}
}

// WhenKept arranges for fn to run once tx's own work is kept: just before
// the commit of a transaction of its own, after BeforeCommit's functions;
// in a Group's batch, once its member has ended without error, never for a
// member rolled back to its savepoint. A second call with the same key adds
// nothing. It reports false, and fn never runs, for a transaction that Tx
// does not run.
func WhenKept(tx *sql.Tx, key any, fn func()) bool {
	st, ok := stateOf(tx)
	if ok && firstTime(&st.keys, keptKey{key}) {
		st.kept = append(st.kept, fn)
	}
	return ok
}

type keptKey struct{ key any }

// Shared returns the value that key has for everything that commits with
// tx (its batch, or itself), made with mk the first time. It reports false
// for a transaction that Tx does not run.
func Shared(tx *sql.Tx, key any, mk func() any) (any, bool) {
	st, ok := stateOf(tx)
	if !ok {
		return nil, false
	}
	return valueOf(&st.shared.values, key, mk), true
}

// BeforeSharedCommit arranges for fn to run inside tx once for everything
// that commits with it (its batch, or itself), after what every kept
// member arranged with WhenKept, just before the commit; when fn fails,
// everything rolls back with its error. A second call with the same key
// adds nothing. It reports false, and fn never runs, for a transaction
// that Tx does not run.
func BeforeSharedCommit(tx *sql.Tx, key any, fn func() error) bool {
	st, ok := stateOf(tx)
	if ok && firstTime(&st.shared.keys, key) {
		st.shared.before = append(st.shared.before, fn)
	}
	return ok
}
