package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Group commits together the transactions of callers that arrive while
// another batch runs: what a burst of replies by e-mail needs, where each
// reply is a small transaction and its commit (on PostgreSQL the wait for
// the disk, on SQLite a third of its CPU) costs more than its statements.
//
// A caller joins with a context from WithGroup: the first transaction that
// Tx runs with it becomes a member of the next batch. A batch is one
// transaction; each member runs in it in its own savepoint, with its own
// BeforeCommit, AfterCommit and TxValue state and its context's commit hook,
// so that a member that fails is rolled back to its savepoint and returns
// its error as its own transaction would have, and the others commit.
// Every member's Tx returns only once the batch has committed (or failed:
// then every member gets the error, and nothing of any is kept), and what
// it arranged with AfterCommit runs in its own goroutine, as with a
// transaction of its own. A batch of one member is an ordinary transaction.
//
// No timer: whoever finds no batch running runs one for every caller
// queued (up to the group's size), and hands over to the first caller that
// queued meanwhile. Callers that come one at a time are served one at a
// time, without waiting.
type Group struct {
	d    *DB
	size int

	// lanes is how many batches run at once (on PostgreSQL, one
	// batch's statements may run while another waits for its commit).
	lanes int

	mu      sync.Mutex
	queue   []*member
	running int
}

type member struct {
	ctx   context.Context
	fn    func(tx *sql.Tx) error
	wake  chan []*member // the batch to run, or nil: done
	err   error
	after []func()
}

// NewGroup returns a group of transactions on d whose batches hold at most
// size members, lanes batches running at once.
func (d *DB) NewGroup(size, lanes int) *Group {
	return &Group{d: d, size: max(size, 1), lanes: max(lanes, 1)}
}

type groupKey struct{}

// groupSlot is a context's place in a group: used by its first transaction.
type groupSlot struct {
	g    *Group
	used bool
	mu   sync.Mutex
}

func (s *groupSlot) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		return false
	}
	s.used = true
	return true
}

// WithGroup returns a context whose first transaction on the group's
// database joins the group's next batch; later ones run on their own (a
// member's function that started a transaction of its own with the same
// context would wait for itself).
func WithGroup(ctx context.Context, g *Group) context.Context {
	if g == nil {
		return ctx
	}
	return context.WithValue(ctx, groupKey{}, &groupSlot{g: g})
}

// joined returns the group a transaction of d with ctx joins, if any.
func (d *DB) joined(ctx context.Context) *Group {
	s, _ := ctx.Value(groupKey{}).(*groupSlot)
	if s == nil || s.g.d != d || !s.take() {
		return nil
	}
	return s.g
}

// Lanes is how many batches run at once.
func (g *Group) Lanes() int { return g.lanes }

// Queued is how many callers wait for a batch (for tests, which wait
// until the batch they build is complete).
func (g *Group) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// run queues fn and returns once its batch has committed, with what it
// arranged to run after the commit.
func (g *Group) run(ctx context.Context, fn func(tx *sql.Tx) error) ([]func(), error) {
	m := &member{ctx: ctx, fn: fn, wake: make(chan []*member, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, m)
	var batch []*member
	if g.running < g.lanes {
		g.running++
		batch = g.take()
	}
	g.mu.Unlock()
	if batch == nil {
		// Another caller runs the batch this one is in, or hands this one
		// the next batch to run.
		if batch = <-m.wake; batch == nil {
			return m.after, m.err
		}
	}
	for {
		g.commit(batch)
		g.mu.Lock()
		next := g.take()
		if next == nil {
			g.running--
		}
		g.mu.Unlock()
		for _, o := range batch {
			if o != m {
				o.wake <- nil
			}
		}
		if next == nil {
			break
		}
		if next[0] == m {
			// Cannot happen (m was in the batch that ran), but a leader
			// must never wait for itself.
			batch = next
			continue
		}
		next[0].wake <- next // the next batch is theirs to run
		break
	}
	return m.after, m.err
}

// take removes the next batch from the queue (nil when it is empty); g.mu
// is held.
func (g *Group) take() []*member {
	n := min(len(g.queue), g.size)
	if n == 0 {
		return nil
	}
	batch := append([]*member(nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return batch
}

// batchTimeout bounds a batch's transaction: its members' own contexts
// bound their statements, but the transaction outlives the leader's.
const batchTimeout = 2 * time.Minute

// commit runs a batch: one transaction, a savepoint per member.
func (g *Group) commit(batch []*member) {
	d := g.d
	if len(batch) == 1 {
		m := batch[0]
		m.after, m.err = d.tx(m.ctx, m.fn)
		return
	}
	fail := func(err error) {
		for _, m := range batch {
			m.after, m.err = nil, err
		}
	}
	if d.Dialect == SQLite {
		d.writers.Lock()
		defer d.writers.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), batchTimeout)
	defer cancel()
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("db: beginning a transaction: %w", err))
		return
	}
	defer owners.Delete(tx)
	var hooks []*commitHook
	shared := &sharedState{}
	for i, m := range batch {
		// Savepoints are not released: a member's one statement more
		// than its own transaction's BEGIN and COMMIT would be none, and
		// a batch holds a few dozen at most.
		sp := "m" + strconv.Itoa(i)
		if _, err := tx.ExecContext(ctx, `SAVEPOINT `+sp); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("db: starting a member of a batch: %w", err))
			return
		}
		state := &txState{db: d, shared: shared}
		owners.Store(tx, state)
		hook, err := runMember(m, tx, state)
		if err != nil {
			m.err = err
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT `+sp); rerr != nil {
				_ = tx.Rollback()
				fail(fmt.Errorf("db: rolling back a member of a batch: %w", rerr))
				return
			}
			continue
		}
		m.after = state.after
		if hook != nil {
			hooks = append(hooks, hook)
		}
	}
	// What the kept members share (their counters) is written once, in
	// one order, after the last of them.
	if err := shared.write(); err != nil {
		_ = tx.Rollback()
		fail(err)
		return
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("db: committing: %w", err))
		return
	}
	for _, h := range hooks {
		h.ran.Store(true)
	}
}

// runMember runs a member's function inside the batch's transaction, then
// what it arranged for before the commit, its context's commit hook and
// what it arranged for once kept, as tx does for a transaction of its own;
// a panic is the member's error, so that the batch and the group stay
// sound. It returns the hook that ran.
func runMember(m *member, tx *sql.Tx, state *txState) (hook *commitHook, err error) {
	defer func() {
		if r := recover(); r != nil {
			hook, err = nil, fmt.Errorf("db: a member of a batch failed: %v", r)
		}
	}()
	if err := m.fn(tx); err != nil {
		return nil, err
	}
	for i := 0; i < len(state.before); i++ {
		if err := state.before[i](); err != nil {
			return nil, err
		}
	}
	hook, _ = m.ctx.Value(commitHookKey{}).(*commitHook)
	if hook != nil && !hook.ran.Load() {
		if err := hook.fn(m.ctx, tx); err != nil {
			return nil, err
		}
	} else {
		hook = nil
	}
	state.keep() // the member is kept: what it shares joins the batch's
	return hook, nil
}
