package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// How an entry reaches the tree. The change's transaction makes the entry
// durable (a row of log_pending) and commits without waiting for the log
// head; the log then integrates the committed entries into the tree in
// batches, in the order of their rows, as Certificate Transparency logs do
// (Trillian's sequencer, Sunlight's pool). Nothing is ever unlogged: an
// entry commits with its change or not at all, and stays pending until a
// pass integrates it. A pass runs:
//
//   - right after the commit, in the goroutine that committed, before the
//     service returns (db.AfterCommit): the caller sees its entry in the
//     log and its index in its row, as before. Passes are group commits:
//     the transactions that commit while a pass runs are integrated
//     together by the next one, so a burst of communications moves the
//     log head once per batch rather than once per communication, and no
//     transaction holds the head while its commit waits for the disk;
//   - every second in the background ("log" job), for an entry whose
//     instance stopped between its commit and its pass;
//   - at start-up.
//
// Passes on several instances are serialised by the log head's row lock;
// each takes the pending rows after it holds the head, so no entry is
// integrated twice.
//
// That is on PostgreSQL, where transactions run side by side. SQLite has
// one writer at a time, which holds the whole database until its commit
// anyway: there a transaction integrates its own entries just before it
// commits, in one batch (an entry is pending only when written outside
// db.Tx, and the background pass takes it).

// passSize is how many pending entries a pass's transaction integrates.
const passSize = 2000

// Owner names a row that keeps an entry's index: when the entry is
// integrated, the row's log_index is set, in the pass's transaction. The
// table must be declared (RegisterOwner).
type Owner struct {
	Table string
	ID    int64
}

var ownerTables sync.Map // table → true

// RegisterOwner declares tables whose rows keep their entry's index in a
// column log_index (the pending row names its owner's table, which the
// pass checks against this list before writing to it).
func RegisterOwner(tables ...string) bool {
	for _, t := range tables {
		if !identifier(t) {
			panic(fmt.Sprintf("auditlog: RegisterOwner(%q): not a table name", t))
		}
		ownerTables.Store(t, true)
	}
	return true
}

// identifier reports whether s is a plain lower-case SQL identifier.
func identifier(s string) bool {
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func ownerTable(t string) bool {
	_, ok := ownerTables.Load(t)
	return ok
}

// Append records an event in the log inside the caller's transaction: the
// change and its log entry commit together or not at all. The entry gets
// its index when it is integrated, just after the commit (see above).
//
// The event's type must be declared (Register).
func Append(ctx context.Context, tx *sql.Tx, ev Event) error {
	return AppendFor(ctx, tx, ev, nil)
}

// AppendFor is Append for an entry whose index rows keep (a directory
// change, a communication and the act of sending it, a published list):
// each owner's log_index is set when the entry is integrated. set, when not
// nil, is given the index then, before the caller's db.Tx returns (unless
// another instance integrated the entry first: the rows have it).
func AppendFor(ctx context.Context, tx *sql.Tx, ev Event, set func(idx int64), owners ...Owner) error {
	data, err := encodeChecked(ev)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if !ownerTable(o.Table) {
			return fmt.Errorf("auditlog: %q is not a table that keeps log indexes (RegisterOwner)", o.Table)
		}
	}
	d, ok := db.Of(tx)
	if ok && d.Dialect == db.SQLite {
		// SQLite has one writer at a time, which holds the database from
		// its first write to its commit whatever the log does: a second
		// transaction to integrate would only add a commit. The entries
		// are integrated inside the caller's transaction, just before it
		// commits, in one batch.
		te := entriesOf(tx)
		if te.sequenced {
			return fmt.Errorf("auditlog: an entry appended after the transaction's entries were integrated (from a commit hook)")
		}
		te.buffered = append(te.buffered, buffered{data: data, states: statesColumn(ev.States), owners: owners, set: set})
		db.BeforeCommit(tx, te, func() error { return te.sequence(ctx, tx) })
		db.AfterCommit(tx, te, te.done)
		return nil
	}
	var id int64
	if err := db.QueryRowTx(ctx, tx, `INSERT INTO log_pending (data, states, owners, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		string(data), statesColumn(ev.States), ownersColumn(owners), time.Now().UTC()).Scan(&id); err != nil {
		return fmt.Errorf("auditlog: recording an entry: %w", err)
	}
	if !ok {
		// A transaction that db.Tx does not run: the background pass
		// integrates the entry.
		return nil
	}
	te := entriesOf(tx)
	if set != nil && len(owners) > 0 {
		te.ids = append(te.ids, id)
		te.set = append(te.set, set)
		te.owner = append(te.owner, owners[0])
	}
	db.AfterCommit(tx, te, te.integrateAfterCommit(ctx, integratorOf(d)))
	return nil
}

// pendingRows is how many entries AppendMany records in one statement:
// four values each, far below PostgreSQL's limit on a statement's
// parameters.
const pendingRows = 500

// AppendMany is Append for the many events of one change (the deliveries
// of a round of the outbox: hundreds of lines at once), each its own
// entry: on PostgreSQL one statement records up to pendingRows pending
// entries, rather than one each; on SQLite they join the transaction's
// batch, as Append's do.
func AppendMany(ctx context.Context, tx *sql.Tx, evs []Event) error {
	d, ok := db.Of(tx)
	if !ok || d.Dialect == db.SQLite {
		for _, ev := range evs {
			if err := Append(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	}
	if len(evs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for start := 0; start < len(evs); start += pendingRows {
		part := evs[start:min(start+pendingRows, len(evs))]
		args := make([]any, 0, 4*len(part))
		for _, ev := range part {
			data, err := encodeChecked(ev)
			if err != nil {
				return err
			}
			args = append(args, string(data), statesColumn(ev.States), "", now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_pending (data, states, owners, created_at) VALUES `+d.Values(len(part), 4), args...); err != nil {
			return fmt.Errorf("auditlog: recording %d entries: %w", len(part), err)
		}
	}
	te := entriesOf(tx)
	db.AfterCommit(tx, te, te.integrateAfterCommit(ctx, integratorOf(d)))
	return nil
}

// integrateAfterCommit is what runs once the transaction that recorded
// pending entries has committed, on PostgreSQL: a pass that integrates
// them, and the indexes given to those whose rows keep them.
func (te *txEntries) integrateAfterCommit(ctx context.Context, in *integrator) func() {
	return func() {
		// The change is committed: the wait for the pass does not end
		// with the request, but it is bounded, and on timeout or error
		// the background job integrates the entries.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), passWait)
		defer cancel()
		idx, err := in.integrate(ctx, te.ids)
		if err != nil {
			slog.Warn("auditlog: integrating after a commit; the background pass will", "err", err)
			return
		}
		for i, id := range te.ids {
			n, ok := idx[id]
			if !ok {
				// A pass that ended before this one asked (or another
				// instance's) integrated it: its row has the index.
				var kept sql.NullInt64
				o := te.owner[i]
				if err := in.d.QueryRowContext(ctx, `SELECT log_index FROM `+o.Table+` WHERE id = $1`, o.ID).Scan(&kept); err != nil || !kept.Valid {
					continue
				}
				n = kept.Int64
			}
			te.set[i](n)
		}
	}
}

// passWait bounds the wait for the pass after a commit (and, on
// PostgreSQL, the pass's wait for the log head).
const passWait = 10 * time.Second

// txEntries are a transaction's entries: on SQLite, those to integrate
// before it commits; on PostgreSQL, the pending ids whose index is wanted
// after it commits, and what wants them.
type txEntries struct {
	buffered  []buffered
	sequenced bool
	first     int64
	ids       []int64
	set       []func(int64)
	owner     []Owner // the first owner of each of ids
}

type buffered struct {
	data   []byte
	states string
	owners []Owner
	set    func(int64)
}

type txEntriesKey struct{}

func entriesOf(tx *sql.Tx) *txEntries {
	v, _ := db.TxValue(tx, txEntriesKey{}, func() any { return &txEntries{} })
	return v.(*txEntries)
}

// sequence integrates the transaction's buffered entries, inside it.
func (te *txEntries) sequence(ctx context.Context, tx *sql.Tx) error {
	data := make([][]byte, len(te.buffered))
	states := make([]string, len(te.buffered))
	owners := make([][]Owner, len(te.buffered))
	for i, b := range te.buffered {
		data[i], states[i], owners[i] = b.data, b.states, b.owners
	}
	te.sequenced = true
	first, err := sequence(ctx, tx, data, states)
	if err != nil {
		return err
	}
	te.first = first
	return writeOwners(ctx, tx, first, owners)
}

// done gives the buffered entries' indexes to those who want them, once
// the transaction has committed.
func (te *txEntries) done() {
	for i, b := range te.buffered {
		if b.set != nil {
			b.set(te.first + int64(i))
		}
	}
}

// ownersColumn is log_pending's owners: "comms:12 comm_events:40".
func ownersColumn(owners []Owner) string {
	var b strings.Builder
	for i, o := range owners {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", o.Table, o.ID)
	}
	return b.String()
}

// parseOwners reads log_pending's owners, refusing a table that was not
// declared (the column is data: it never names a table to write to that
// pocdir did not declare).
func parseOwners(s string) ([]Owner, error) {
	var owners []Owner
	for _, f := range strings.Fields(s) {
		t, id, ok := strings.Cut(f, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || !ownerTable(t) {
			return nil, fmt.Errorf("auditlog: %q is not a row that keeps log indexes", f)
		}
		owners = append(owners, Owner{Table: t, ID: n})
	}
	return owners, nil
}

// Integrate integrates every entry committed before the call and says how
// many this call's passes integrated: the background job's step.
func (l *Log) Integrate(ctx context.Context) (int, error) {
	in := integratorOf(l.DB)
	n0 := in.count.Load()
	_, err := in.integrate(ctx, nil)
	return int(in.count.Load() - n0), err
}

// integrator runs the passes of one database in this process, one at a
// time: a caller asks for a pass that starts after its commit and waits
// for it; whoever finds no pass running runs one for everyone waiting.
type integrator struct {
	d       *db.DB
	mu      sync.Mutex
	cond    *sync.Cond
	asked   uint64 // tickets handed out
	done    uint64 // every ticket up to done is served
	running bool
	// wanted are the pending ids whose index a waiter wants; a pass puts
	// their indexes in got.
	wanted map[int64]bool
	got    map[int64]int64
	// count is how many entries this process's passes integrated.
	count atomic.Int64
}

type integratorKey struct{}

func integratorOf(d *db.DB) *integrator {
	return d.Value(integratorKey{}, func() any {
		in := &integrator{d: d, wanted: map[int64]bool{}, got: map[int64]int64{}}
		in.cond = sync.NewCond(&in.mu)
		return in
	}).(*integrator)
}

// integrate returns once a pass that started after the call has ended,
// with the indexes of ids that a pass of this process integrated.
func (in *integrator) integrate(ctx context.Context, ids []int64) (map[int64]int64, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, id := range ids {
		in.wanted[id] = true
	}
	defer func() {
		for _, id := range ids {
			delete(in.wanted, id)
			delete(in.got, id)
		}
	}()
	in.asked++
	ticket := in.asked
	var err error
	for in.done < ticket {
		if in.running {
			in.cond.Wait()
			continue
		}
		if err != nil {
			// This caller's own pass failed: it says so rather than
			// trying again (the background job will).
			break
		}
		// No pass is running: this caller runs one for every ticket
		// handed out so far.
		in.running = true
		upto := in.asked
		in.mu.Unlock()
		got, perr := in.safePass(ctx)
		err = perr
		in.mu.Lock()
		in.running = false
		for id, idx := range got {
			if in.wanted[id] {
				in.got[id] = idx
			}
		}
		if err == nil {
			in.done = upto
		}
		in.cond.Broadcast()
	}
	var idx map[int64]int64
	for _, id := range ids {
		if n, ok := in.got[id]; ok {
			if idx == nil {
				idx = map[int64]int64{}
			}
			idx[id] = n
		}
	}
	if in.done >= ticket {
		return idx, nil
	}
	return idx, err
}

// safePass is pass, with a panic turned into an error: the integrator's
// lock and state stay sound, and the background job tries again.
func (in *integrator) safePass(ctx context.Context) (got map[int64]int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("auditlog: a pass failed: %v", r)
		}
	}()
	return in.pass(ctx)
}

// pass integrates the pending entries, a transaction per passSize, and
// returns the index each got.
func (in *integrator) pass(ctx context.Context) (map[int64]int64, error) {
	got := map[int64]int64{}
	for {
		n, err := in.passOnce(ctx, got)
		if err != nil {
			return got, err
		}
		if n < passSize {
			return got, nil
		}
	}
}

type pendingRow struct {
	id     int64
	data   []byte
	states string
	owners string
}

func (in *integrator) passOnce(ctx context.Context, got map[int64]int64) (int, error) {
	// A look first: the background job finds nothing most of the time,
	// and takes the head only when there is something to integrate.
	var waiting int
	err := db.PreparedRow(ctx, in.d, `SELECT COUNT(*) FROM (SELECT 1 FROM log_pending LIMIT 1) p`).Scan(&waiting)
	if err != nil {
		return 0, fmt.Errorf("auditlog: looking for pending entries: %w", err)
	}
	if waiting == 0 {
		return 0, nil
	}
	var rows []pendingRow
	var first int64
	err = in.d.Tx(ctx, func(tx *sql.Tx) error {
		// Hold the head first: the pending rows read after it are those
		// no other pass has integrated.
		if in.d.Dialect == db.Postgres {
			// A pass waits for the head (a long batch holds it) or an
			// owner's row a bounded time; the job tries again.
			if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
				return fmt.Errorf("auditlog: bounding the pass's waits: %w", err)
			}
		}
		var size int64
		if err := db.QueryRowTx(ctx, tx, `UPDATE log_head SET size = size WHERE id = 1 RETURNING size`).Scan(&size); err != nil {
			return fmt.Errorf("auditlog: holding the log head: %w", err)
		}
		var err error
		if rows, err = readPending(ctx, tx); err != nil || len(rows) == 0 {
			return err
		}
		data := make([][]byte, len(rows))
		states := make([]string, len(rows))
		for i, r := range rows {
			data[i], states[i] = r.data, r.states
		}
		if first, err = sequence(ctx, tx, data, states); err != nil {
			return err
		}
		owners := make([][]Owner, len(rows))
		for i, r := range rows {
			if owners[i], err = parseOwners(r.owners); err != nil {
				return fmt.Errorf("pending entry %d: %w", r.id, err)
			}
		}
		if err := writeOwners(ctx, tx, first, owners); err != nil {
			return err
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.id
		}
		return db.InChunks(ids, 500, 1, func(marks string, args []any) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM log_pending WHERE id IN (`+marks+`)`, args...); err != nil {
				return fmt.Errorf("auditlog: removing integrated entries: %w", err)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for i, r := range rows {
		got[r.id] = first + int64(i)
	}
	in.count.Add(int64(len(rows)))
	return len(rows), nil
}

func readPending(ctx context.Context, tx *sql.Tx) ([]pendingRow, error) {
	rs, err := db.QueryTx(ctx, tx, `SELECT id, data, states, owners FROM log_pending ORDER BY id LIMIT $1`, passSize)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading the pending entries: %w", err)
	}
	defer rs.Close()
	var rows []pendingRow
	for rs.Next() {
		var r pendingRow
		var data string
		if err := rs.Scan(&r.id, &data, &r.states, &r.owners); err != nil {
			return nil, fmt.Errorf("auditlog: reading the pending entries: %w", err)
		}
		r.data = []byte(data)
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("auditlog: reading the pending entries: %w", err)
	}
	return rows, nil
}

// writeOwners sets the log_index of the rows that keep the index of the
// entries from first on (owners[i] those of entry first+i), a statement per
// table and few hundred rows.
func writeOwners(ctx context.Context, tx *sql.Tx, first int64, owners [][]Owner) error {
	byTable := map[string][]int64{} // table → owner id, index, …
	var tables []string
	for i, os := range owners {
		for _, o := range os {
			if _, ok := byTable[o.Table]; !ok {
				tables = append(tables, o.Table)
			}
			byTable[o.Table] = append(byTable[o.Table], o.ID, first+int64(i))
		}
	}
	// Rows are written in one order (tables, then ids), as transactions
	// that lock several do best.
	sort.Strings(tables)
	const chunk = 300
	for _, t := range tables {
		pairs := sortedPairs(byTable[t])
		if len(pairs) == 2 {
			// One row: the same statement each time, prepared once.
			if _, err := db.ExecTx(ctx, tx, `UPDATE `+t+` SET log_index = $1 WHERE id = $2`, pairs[1], pairs[0]); err != nil {
				return fmt.Errorf("auditlog: writing the index of %s %d: %w", t, pairs[0], err)
			}
			continue
		}
		for lo := 0; lo < len(pairs); lo += 2 * chunk {
			part := pairs[lo:min(len(pairs), lo+2*chunk)]
			var q strings.Builder
			args := make([]any, len(part))
			fmt.Fprintf(&q, `UPDATE %s SET log_index = v.column2 FROM (VALUES `, t)
			for i := 0; i < len(part); i += 2 {
				if i > 0 {
					q.WriteByte(',')
				}
				fmt.Fprintf(&q, "(CAST($%d AS BIGINT), CAST($%d AS BIGINT))", i+1, i+2)
				args[i], args[i+1] = part[i], part[i+1]
			}
			fmt.Fprintf(&q, `) AS v WHERE %s.id = v.column1`, t)
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("auditlog: writing the indexes of %s: %w", t, err)
			}
		}
	}
	return nil
}

// sortedPairs orders (id, index) pairs by id.
func sortedPairs(pairs []int64) []int64 {
	type pair struct{ id, idx int64 }
	ps := make([]pair, len(pairs)/2)
	for i := range ps {
		ps[i] = pair{pairs[2*i], pairs[2*i+1]}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	out := make([]int64, 0, len(pairs))
	for _, p := range ps {
		out = append(out, p.id, p.idx)
	}
	return out
}
