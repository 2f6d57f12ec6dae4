// Package db opens pocdir's database, SQLite or PostgreSQL, from one URL,
// applies the embedded migrations of its dialect, and runs transactions.
// Queries are written once, with $N placeholders, for both engines.
package db

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // SQLite driver "sqlite", no cgo
)

// Dialect names the engine behind a DB.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// DB is an open database with its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
	URL     string

	// writers queues this process's transactions on SQLite, which has one
	// writer at a time: waiting here is a handover, where waiting on the
	// database lock is SQLite's busy handler sleeping in growing steps (up
	// to 100 ms), which made a burst of sends mostly sleep.
	writers sync.Mutex

	// implicitStmts are the statements that DB's QueryContext,
	// QueryRowContext and ExecContext prepared (stmtcache.go).
	implicitStmts implicitCache

	// values are Value's.
	values sync.Map

	// checkpoints copies SQLite's write-ahead log into the database
	// (checkpoint.go); nil on PostgreSQL and in memory.
	checkpoints *checkpointer
	// path is SQLite's file and dsn how it is opened; syncs is how many
	// times Sync synced it.
	path, dsn string
	syncs     atomic.Int64
}

// Value returns the value that key has for the database, made with mk the
// first time: a package's state for one database in this process (the
// log's integrator), gone with it.
func (d *DB) Value(key any, mk func() any) any {
	if v, ok := d.values.Load(key); ok {
		return v
	}
	v, _ := d.values.LoadOrStore(key, mk())
	return v
}

// Values is the VALUES list of a multi-row INSERT of rows rows of cols
// values each, its parameters taken in order, row by row: $1, $2, … on
// PostgreSQL, anonymous ? on SQLite. SQLite takes "$n" for a name (and
// "?n" keeps a list of the numbers it saw) and looks each one up in a list,
// one by one, when it parses the statement and again when the driver binds
// it: an INSERT of a few thousand values spent most of its time there.
func (d *DB) Values(rows, cols int) string {
	var b strings.Builder
	b.Grow(rows * cols * 7)
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			if d.Dialect == SQLite {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// owners maps each transaction that Tx runs to its database and what runs
// once it commits, so that a package given only the transaction (the log's
// Append, the outbox's Enqueue) still runs statements prepared once for the
// database, and can act after the commit.
var owners sync.Map // *sql.Tx → *txState

type txState struct {
	db *DB
	// after runs, in order, once the transaction has committed; keys holds
	// the keys AfterCommit was given.
	after []func()
	keys  map[any]bool
	// values are TxValue's.
	values map[any]any
	// before runs, in order, just before the transaction commits.
	before []func() error
	// kept runs, in order, once the transaction's own work is kept
	// (WhenKept); shared is what it shares with the other members of its
	// batch, or keeps alone (shared.go).
	kept   []func()
	shared *sharedState
}

// BeforeCommit arranges for fn to run inside tx just before it commits,
// after the function given to Tx has returned; when fn fails, the
// transaction rolls back with its error. A second call with the same key
// adds nothing (the keys are AfterCommit's). It reports false, and fn
// never runs, for a transaction that Tx does not run.
func BeforeCommit(tx *sql.Tx, key any, fn func() error) bool {
	st, ok := stateOf(tx)
	if ok && firstTime(&st.keys, beforeKey{key}) {
		st.before = append(st.before, fn)
	}
	return ok
}

// stateOf returns the state of a transaction that Tx runs.
func stateOf(tx *sql.Tx) (*txState, bool) {
	v, ok := owners.Load(tx)
	if !ok {
		return nil, false
	}
	return v.(*txState), true
}

// firstTime reports whether key is new to keys, and adds it.
func firstTime(keys *map[any]bool, key any) bool {
	if (*keys)[key] {
		return false
	}
	if *keys == nil {
		*keys = map[any]bool{}
	}
	(*keys)[key] = true
	return true
}

// valueOf returns the value of key in values, made with mk the first time.
func valueOf(values *map[any]any, key any, mk func() any) any {
	if x, ok := (*values)[key]; ok {
		return x
	}
	if *values == nil {
		*values = map[any]any{}
	}
	x := mk()
	(*values)[key] = x
	return x
}

type beforeKey struct{ key any }

// TxValue returns the value that key has for a transaction that Tx runs,
// made with mk the first time: a package's state for one transaction (the
// log's entries waiting for their index), gone with it. It reports false
// for a transaction that Tx does not run.
func TxValue(tx *sql.Tx, key any, mk func() any) (any, bool) {
	st, ok := stateOf(tx)
	if !ok {
		return nil, false
	}
	return valueOf(&st.values, key, mk), true
}

// Of returns the database of a transaction that Tx runs.
func Of(tx *sql.Tx) (*DB, bool) {
	st, ok := stateOf(tx)
	if !ok {
		return nil, false
	}
	return st.db, true
}

// AfterCommit arranges for fn to run once tx has committed, in the
// goroutine that called Tx (a member of a Group's batch: its own), before
// Tx returns; a second call with the
// same key adds nothing, and nothing runs when the transaction rolls back.
// It reports false, and fn never runs, for a transaction that Tx does not
// run. A transaction is used by one goroutine at a time, so the list needs
// no lock.
func AfterCommit(tx *sql.Tx, key any, fn func()) bool {
	st, ok := stateOf(tx)
	if ok && firstTime(&st.keys, key) {
		st.after = append(st.after, fn)
	}
	return ok
}

// prepared returns query's statement inside tx when tx is one of Tx's,
// and what to call once it has run. On SQLite it comes from the bounded
// cache of the statements run through DB (stmtcache.go), from a text's
// second run on, so that a statement built for its arguments (a list of
// States, a multi-row INSERT) is cached by its few shapes and a one-off
// pushes nothing out. It closes with the transaction. On PostgreSQL there
// is none: pgx keeps its own cache of prepared statements per connection.
func prepared(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, func()) {
	d, ok := Of(tx)
	if !ok {
		return nil, nil
	}
	s := d.implicit(ctx, query) // nil on PostgreSQL
	if s == nil {
		return nil, nil
	}
	// A statement pushed out of the cache while this one runs is
	// finalized once the transaction gives its connection back.
	return tx.StmtContext(ctx, s.st), func() { d.done(s) }
}

// ExecTx is tx.ExecContext through a prepared statement (see prepared).
func ExecTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, done := prepared(ctx, tx, query); st != nil {
		defer done()
		return st.ExecContext(ctx, args...) // closed with tx
	}
	return tx.ExecContext(ctx, query, args...)
}

// QueryRowTx is tx.QueryRowContext through a prepared statement.
func QueryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, done := prepared(ctx, tx, query); st != nil {
		defer done()
		return st.QueryRowContext(ctx, args...) // closed with tx
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// QueryTx is tx.QueryContext through a prepared statement.
func QueryTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st, done := prepared(ctx, tx, query); st != nil {
		defer done()
		return st.QueryContext(ctx, args...) // closed with tx
	}
	return tx.QueryContext(ctx, query, args...)
}

// Query runs a query on a database or in a transaction through a prepared
// statement: DB's own methods on a database, QueryTx in a transaction.
// For the statements of a transaction's hot paths (a send), whose text
// may vary with its arguments.
func Query(ctx context.Context, q Queryer, query string, args ...any) (*sql.Rows, error) {
	if tx, ok := q.(*sql.Tx); ok {
		return QueryTx(ctx, tx, query, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

// PreparedRow runs a query that returns one row, on a database or in a
// transaction, through a prepared statement on SQLite: on a database DB's
// own QueryRowContext, in a transaction QueryRowTx, both from the bounded
// cache (stmtcache.go).
func PreparedRow(ctx context.Context, q Queryer, query string, args ...any) *sql.Row {
	if tx, ok := q.(*sql.Tx); ok {
		return QueryRowTx(ctx, tx, query, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// PreparedExec runs a statement as PreparedRow does.
func PreparedExec(ctx context.Context, q Queryer, query string, args ...any) (sql.Result, error) {
	if tx, ok := q.(*sql.Tx); ok {
		return ExecTx(ctx, tx, query, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

// pgReadBuffer is the read buffer of a PostgreSQL connection.
const pgReadBuffer = 128 << 10

// Open opens the database named by url: "sqlite:PATH", a plain path, or
// "postgres://…". It does not migrate; call Migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	if url == "" {
		return nil, errors.New("no database given: use --db sqlite:PATH or postgres://…")
	}
	var d *DB
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		// pgx reads a server's messages at least 8 KB at a time, which
		// for a large result means a system call per few kilobytes (the
		// full verification of the log made a thousand per 10^5 entries);
		// a larger buffer reads what the socket holds at once.
		cfg.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			return pgproto3.NewFrontend(bufio.NewReaderSize(r, pgReadBuffer), w)
		}
		sdb := stdlib.OpenDB(*cfg)
		sdb.SetMaxOpenConns(32)
		sdb.SetMaxIdleConns(32)
		d = &DB{DB: sdb, Dialect: Postgres, URL: url}
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "sqlite:")
		if path == "" {
			return nil, errors.New("sqlite: empty path")
		}
		if path != ":memory:" {
			if dir := filepath.Dir(path); dir != "." {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					return nil, fmt.Errorf("sqlite: %w", err)
				}
			}
			// The database holds who acts for every State: it is created
			// readable by its owner only, and SQLite gives its WAL and
			// shared-memory files the database file's mode.
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err == nil {
				f.Close()
			} else if !errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("sqlite: creating %s: %w", path, err)
			}
		}
		// Each connection keeps a page cache of 1 MB (SQLite's default is
		// 2): they live inside the process, and at full size they filled,
		// with eight connections 8 MB more resident memory under load for
		// no measurable gain, the pages being in the kernel's cache anyway
		// (README, "At full size, served"). Temporary files are kept in
		// memory (temp_store): the statement journal of a multi-row
		// statement or a savepoint inside a transaction (what every send
		// writes, and each member of a Group's batch) was otherwise written
		// to a file past 64 KB, a sixth of a crisis burst's CPU in write
		// calls; the few temporary tables (DISTINCT, EXCEPT) read at most
		// the waiting lines or the open requests. No connection of the pool
		// checkpoints the write-ahead log: a goroutine does (checkpoint.go).
		dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-1000)&_pragma=temp_store(2)&_pragma=wal_autocheckpoint(0)&_txlock=immediate&_time_format=sqlite"
		sdb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		// WAL allows many readers and one writer; writers queue on the
		// writers' lock (Tx), busy_timeout and the immediate transaction
		// lock.
		sdb.SetMaxOpenConns(SQLiteConns())
		sdb.SetMaxIdleConns(SQLiteConns())
		d = &DB{DB: sdb, Dialect: SQLite, URL: url, path: path, dsn: dsn}
	}
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	if d.Dialect == SQLite && d.path != ":memory:" {
		c, err := startCheckpointer(ctx, d.dsn)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("sqlite: starting the checkpointer: %w", err)
		}
		d.checkpoints = c
	}
	return d, nil
}

// SQLiteConns is the size of SQLite's pool of connections: two for each
// core the process may use, from 4 to 16. SQLite's work is CPU work (its
// pages are in the kernel's cache), so that connections beyond that only
// interleave the same cores and each keep a page cache, statements and a
// schema inside the process: at full size, 8 connections on 2 cores held
// 14 MB more than 4 under load and gave longer tails (README, "At full
// size, served"). Four suffice for any request: a transaction holds one
// and prepares its statements on a second, and nothing holds one while it
// waits for a third (the tests run every path with two).
func SQLiteConns() int {
	return min(max(4, 2*runtime.GOMAXPROCS(0)), 16)
}

// Migrate applies every pending migration of the dialect. On PostgreSQL a
// session advisory lock lets several instances start at once.
func (d *DB) Migrate(ctx context.Context) error {
	p, err := d.provider()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		slog.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	return err
}

// MigrateDownTo rolls the schema back to version, for tests that rebuild an
// older schema to check a later migration of its data.
func (d *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := d.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}

func (d *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(d.Dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	if d.Dialect == Postgres {
		locker, err := newPostgresLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	dialect := goose.DialectSQLite3
	if d.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	return goose.NewProvider(dialect, d.DB, sub, opts...)
}

// Analyze gathers the planner's statistics of every table on PostgreSQL
// (SQLite's plans need none): after a bulk load, where autovacuum has not
// got to the tables yet, or never will where it is off.
func (d *DB) Analyze(ctx context.Context) error {
	if d.Dialect != Postgres {
		return nil
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("db: gathering the planner's statistics: %w", err)
	}
	return nil
}

// Snapshot returns a connection that reads one snapshot of the database
// without blocking writers, and the function that ends it: for reads that
// must agree with each other (a count and the rows it counts) while
// pocdir writes. (On SQLite a transaction of database/sql would take the
// write lock: see Open.)
func (d *DB) Snapshot(ctx context.Context) (*sql.Conn, func(), error) {
	conn, err := d.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("db: a connection for a snapshot: %w", err)
	}
	var setup, reset []string
	switch d.Dialect {
	case Postgres:
		setup = []string{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"}
	default:
		// Reading the file through a memory map spares a system call and
		// a copy per page.
		setup = []string{"PRAGMA mmap_size = 1073741824", "BEGIN DEFERRED"}
		reset = []string{"PRAGMA mmap_size = 0"}
	}
	release := func() {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		for _, s := range reset {
			_, _ = conn.ExecContext(context.Background(), s)
		}
		conn.Close()
	}
	for _, s := range setup {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			release()
			return nil, nil, fmt.Errorf("db: starting a snapshot (%s): %w", s, err)
		}
	}
	return conn, release, nil
}

// Tx runs fn in a transaction, committing when fn returns nil; then what
// fn arranged with AfterCommit runs (on SQLite, with the writers' lock
// free: it may write).
//
// With a context from WithGroup, the transaction is one member of a batch
// that commits with others (see Group).
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var after []func()
	var err error
	if g := d.joined(ctx); g != nil {
		after, err = g.run(ctx, fn)
	} else {
		after, err = d.tx(ctx, fn)
	}
	if err != nil {
		return err
	}
	for _, f := range after {
		f()
	}
	return nil
}

func (d *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) ([]func(), error) {
	if d.Dialect == SQLite {
		d.writers.Lock()
		defer d.writers.Unlock()
	}
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("db: beginning a transaction: %w", err)
	}
	state := &txState{db: d, shared: &sharedState{}}
	owners.Store(tx, state)
	defer owners.Delete(tx)
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	for i := 0; i < len(state.before); i++ { // one may add another
		if err := state.before[i](); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
	}
	hook, _ := ctx.Value(commitHookKey{}).(*commitHook)
	if hook != nil && !hook.ran.Load() {
		if err := hook.fn(ctx, tx); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
	}
	state.keep()
	if err := state.shared.write(); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("db: committing: %w", err)
	}
	if hook != nil {
		hook.ran.Store(true)
	}
	return state.after, nil
}

type commitHookKey struct{}

type commitHook struct {
	fn  func(context.Context, *sql.Tx) error
	ran atomic.Bool
}

// WithCommitHook returns a context whose first transaction that succeeds
// runs fn inside it, just before it commits: a record that must be written
// with the change it caused, though the change is made by another package
// (an e-mail received and the act it carried: a second instance that
// received the same e-mail fails on the record's unique key, and its act
// rolls back). When fn fails, the transaction rolls back with its error.
func WithCommitHook(ctx context.Context, fn func(context.Context, *sql.Tx) error) context.Context {
	return context.WithValue(ctx, commitHookKey{}, &commitHook{fn: fn})
}

// CommitHookRan reports whether the hook of ctx was committed.
func CommitHookRan(ctx context.Context) bool {
	h, _ := ctx.Value(commitHookKey{}).(*commitHook)
	return h != nil && h.ran.Load()
}

// TimeOf returns a nullable column's time in UTC, or nil.
func TimeOf(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Queryer is what *sql.DB and *sql.Tx share, so store functions work in and
// out of transactions.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Exec runs a statement; an error says what was being done.
func Exec(ctx context.Context, q Queryer, what, query string, args ...any) error {
	if _, err := PreparedExec(ctx, q, query, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Exec1 runs a conditional statement and reports whether it changed one
// row; an error says what was being done.
func Exec1(ctx context.Context, q Queryer, what, query string, args ...any) (bool, error) {
	res, err := PreparedExec(ctx, q, query, args...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n == 1, nil
}

// InChunks calls f with the ids in chunks of at most n, each with its
// placeholders ("$1,$2,…" from $first) and its arguments: a list of ids
// becomes an IN clause that neither engine's parameter limit refuses.
func InChunks(ids []int64, n, first int, f func(marks string, args []any) error) error {
	for len(ids) > 0 {
		k := min(len(ids), n)
		args := make([]any, k)
		marks := make([]string, k)
		for i, id := range ids[:k] {
			args[i], marks[i] = id, "$"+strconv.Itoa(first+i)
		}
		if err := f(strings.Join(marks, ","), args); err != nil {
			return err
		}
		ids = ids[k:]
	}
	return nil
}

// IDCode is a row's id and the code beside it (a State's, say).
type IDCode struct {
	ID   int64
	Code string
}

// IDCodes reads the rows of a query that selects an id and a code, in
// order; what says what is read, for the error.
func IDCodes(ctx context.Context, q Queryer, what, query string, args ...any) ([]IDCode, error) {
	rows, err := Query(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	defer rows.Close()
	var out []IDCode
	for rows.Next() {
		var r IDCode
		if err := rows.Scan(&r.ID, &r.Code); err != nil {
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return out, nil
}
