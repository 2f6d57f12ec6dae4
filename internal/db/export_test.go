package db

// ImplicitKept is how many prepared statements the cache of
// QueryContext and its kin keeps, and ImplicitSize how many it may.
func (d *DB) ImplicitKept() int {
	d.implicitStmts.mu.Lock()
	defer d.implicitStmts.mu.Unlock()
	return len(d.implicitStmts.byKey)
}

const ImplicitSize = implicitSize

// StopCheckpointer stops SQLite's checkpointer, as if it were not there.
func (d *DB) StopCheckpointer() {
	d.checkpoints.close()
}
