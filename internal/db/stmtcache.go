package db

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// SQLite parses a statement each time it is run unless it was prepared, and
// database/sql prepares nothing by itself: the inbox's page spent 39% of its
// CPU in SQLite's parser, on the same few dozen statements. The reads and
// writes that run through DB, and those that run in a transaction through
// ExecTx, QueryRowTx, QueryTx and the helpers built on them, therefore run
// on SQLite a statement seen before from one bounded cache of prepared
// statements, each prepared once per connection by database/sql. A statement is prepared on
// its second run, so that the text of a one-off (an IN list of a given
// length) does not push out those that come back. PostgreSQL's driver
// (pgx) already keeps a cache of prepared statements per connection.

// implicitSize is how many statements the cache keeps; seenSize how many
// texts run once it remembers.
const (
	implicitSize = 256
	seenSize     = 4096
)

type implicitCache struct {
	mu    sync.Mutex
	order *list.List // of *implicitStmt, the latest used first
	byKey map[string]*list.Element
	seen  map[string]struct{}
}

type implicitStmt struct {
	query string
	st    *sql.Stmt
	// users are the calls between implicit and done; a statement pushed
	// out of the cache closes when the last of them is done.
	users   int
	evicted bool
}

// implicit returns the prepared statement of query when it is kept or run
// for the second time, nil otherwise (and on PostgreSQL, or when it does
// not prepare: the plain query then says what is wrong). The caller calls
// done once it has run it.
func (d *DB) implicit(ctx context.Context, query string) *implicitStmt {
	if d.Dialect != SQLite {
		return nil
	}
	c := &d.implicitStmts
	c.mu.Lock()
	if s := c.take(query); s != nil {
		c.mu.Unlock()
		return s
	}
	if _, ok := c.seen[query]; !ok {
		if c.seen == nil || len(c.seen) >= seenSize {
			c.seen = map[string]struct{}{}
		}
		c.seen[query] = struct{}{}
		c.mu.Unlock()
		return nil
	}
	delete(c.seen, query)
	c.mu.Unlock()

	st, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	if s := c.take(query); s != nil {
		// Prepared at the same time by another caller: keep the first.
		c.mu.Unlock()
		st.Close()
		return s
	}
	if c.byKey == nil {
		c.byKey, c.order = map[string]*list.Element{}, list.New()
	}
	s := &implicitStmt{query: query, st: st, users: 1}
	c.byKey[query] = c.order.PushFront(s)
	var out []*sql.Stmt
	for c.order.Len() > implicitSize {
		old := c.order.Remove(c.order.Back()).(*implicitStmt)
		delete(c.byKey, old.query)
		old.evicted = true
		if old.users == 0 {
			out = append(out, old.st)
		}
	}
	c.mu.Unlock()
	// database/sql finalizes a closed statement once the rows read from it
	// are closed: a statement pushed out while its rows are read finishes.
	for _, st := range out {
		st.Close()
	}
	return s
}

// take returns the kept statement of query, as the latest used, with one
// more user; nil when none is kept. c.mu is held.
func (c *implicitCache) take(query string) *implicitStmt {
	e := c.byKey[query]
	if e == nil {
		return nil
	}
	c.order.MoveToFront(e)
	s := e.Value.(*implicitStmt)
	s.users++
	return s
}

// done ends a use of s that implicit gave.
func (d *DB) done(s *implicitStmt) {
	c := &d.implicitStmts
	c.mu.Lock()
	s.users--
	last := s.evicted && s.users == 0
	c.mu.Unlock()
	if last {
		s.st.Close()
	}
}

// QueryContext runs a query; on SQLite, a query run before comes prepared
// from the cache.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := d.implicit(ctx, query); s != nil {
		defer d.done(s)
		return s.st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row; on SQLite, a
// query run before comes prepared from the cache.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := d.implicit(ctx, query); s != nil {
		defer d.done(s)
		return s.st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a statement; on SQLite, a statement run before comes
// prepared from the cache.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := d.implicit(ctx, query); s != nil {
		defer d.done(s)
		return s.st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, query, args...)
}
