package auditlog_test

// Benchmarks for the product budget of the accountability log (PRODUCT.md):
// full verification at no less than half the raw speed of hashing Merkle
// nodes, and an inclusion proof at 10^6 entries in under 1 ms.
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/auditlog/
//	POCDIR_BENCH_LOG_SIZE=1000000 go test -run '^$' -bench 'Check|Prove|Raw' -benchtime 3x ./internal/auditlog/
//	POCDIR_TEST_POSTGRES=postgres://… go test -run '^$' -bench Append -benchtime 3x ./internal/auditlog/
//
// Where one operation would be too short to time alone with -benchtime 3x
// (a hash, an append, a proof), an operation is a fixed batch and the
// per-unit figure is reported as its own metric (hashes/s, appends/s,
// µs/proof).
//
// The logs that Check and the proofs run on are built in bulk, not through
// Append one by one, and the SQLite file is cached under os.TempDir() by
// size, so only the first run pays for building it. With POCDIR_TEST_POSTGRES
// set, Check also runs on PostgreSQL, on a copy of that file kept in a schema
// of its own (pocdir_bench_log_FORMAT_SIZE; drop it to rebuild).
//
// Check runs on GOMAXPROCS workers; add -cpu 1,2 for its figures on one core
// and on two. Its ratio-to-raw depends on the memory traffic of the machine
// more than the raw rate does (the raw loop stays in the first-level cache,
// Check streams every entry through SQLite, the driver and the workers):
// compare runs made at the same time.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

const (
	// benchFormat names the builder's output; change it when benchEvent or
	// benchFill change, so that cached logs are rebuilt.
	benchFormat = "v6"
	// benchDefaultLogSize is the log size for Check and the proofs unless
	// POCDIR_BENCH_LOG_SIZE says otherwise.
	benchDefaultLogSize = 100_000
	// benchAppendPrefill entries are in the log before appends are timed,
	// so that appends read hashes from a tree of some depth.
	benchAppendPrefill = 10_000
	benchAppendBatch   = 100     // appends per operation
	benchRawBatch      = 1 << 20 // node hashes per operation
	benchRawProbe      = 2 << 20 // node hashes to measure raw speed inside BenchmarkCheck
	benchProofBatch    = 200     // proofs per operation
)

var benchT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// benchLogSize returns the size of the logs that Check and proofs run on.
func benchLogSize(b *testing.B) int64 {
	s := os.Getenv("POCDIR_BENCH_LOG_SIZE")
	if s == "" {
		return benchDefaultLogSize
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 2 {
		b.Fatalf("POCDIR_BENCH_LOG_SIZE=%q: want a number of entries of at least 2", s)
	}
	return n
}

// benchKeys returns a fixed signing key, so that a cached log's checkpoint
// verifies in later runs.
func benchKeys(tb testing.TB) *auditlog.Keys {
	tb.Helper()
	seed := sha256.Sum256([]byte("pocdir benchmark log key"))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey("pocdir.bench/log", pub)
	if err != nil {
		tb.Fatal(err)
	}
	// A signer key is "PRIVATE+KEY+name+hash+" and the algorithm byte
	// followed by the Ed25519 seed; name and hash are the verifier's.
	// (The key itself is base64 and may hold '+'.)
	nameHash := strings.SplitN(vkey, "+", 3)
	keys, err := auditlog.ParseSignerKey("PRIVATE+KEY+" + nameHash[0] + "+" + nameHash[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed[:]...)))
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

var (
	benchTypes  = [...]string{"login", "poc.update", "entry.update", "nomination.confirm"}
	benchStates = [...]string{"FRA", "KEN", "BRA", "JPN", "CHE", "ARG", "IND", "NGA", "CAN", "AUS", "EGY"}
)

func init() { auditlog.Register(benchTypes[:]...) }

// benchEvent returns the i-th event of a synthetic log: logins without
// content, and changes with a commitment to their content.
func benchEvent(i int64) auditlog.Event {
	st := benchStates[i%int64(len(benchStates))]
	ev := auditlog.Event{
		Type:       benchTypes[i%int64(len(benchTypes))],
		ActorID:    1000 + i%97,
		ActorEmail: fmt.Sprintf("officer%d@cert.example.org", i%97),
		ActorState: st,
		Object:     fmt.Sprintf("entry/%d", i%5000),
		States:     []string{st},
		At:         benchT0.Add(time.Duration(i) * time.Second),
	}
	if i%10 == 9 {
		ev.States = append(ev.States, benchStates[(i/10)%int64(len(benchStates))])
	}
	if ev.Type != "login" {
		ev.Commitment = auditlog.Commit("00112233445566778899aabbccddeeff", map[string]int64{"version": i})
	}
	return ev
}

// benchInserter batches rows into multi-row INSERTs.
type benchInserter struct {
	tx     *sql.Tx
	prefix string
	cols   int
	rows   int
	full   *sql.Stmt
	args   []any
}

func benchValues(prefix string, cols, rows int) string {
	var s strings.Builder
	s.WriteString(prefix)
	p := 1
	for r := range rows {
		if r > 0 {
			s.WriteByte(',')
		}
		s.WriteByte('(')
		for c := range cols {
			if c > 0 {
				s.WriteByte(',')
			}
			s.WriteString("$" + strconv.Itoa(p))
			p++
		}
		s.WriteByte(')')
	}
	return s.String()
}

func (w *benchInserter) add(ctx context.Context, vals ...any) error {
	w.args = append(w.args, vals...)
	if len(w.args) == w.cols*w.rows {
		return w.flush(ctx)
	}
	return nil
}

func (w *benchInserter) flush(ctx context.Context) error {
	k := len(w.args) / w.cols
	if k == 0 {
		return nil
	}
	var err error
	if k == w.rows {
		if w.full == nil {
			if w.full, err = w.tx.PrepareContext(ctx, benchValues(w.prefix, w.cols, k)); err != nil {
				return err
			}
		}
		_, err = w.full.ExecContext(ctx, w.args...)
	} else {
		_, err = w.tx.ExecContext(ctx, benchValues(w.prefix, w.cols, k), w.args...)
	}
	w.args = w.args[:0]
	return err
}

// benchFill writes the events benchEvent(0…n-1) into an empty log with
// AppendBatch, in transactions of a hundred bundles. With keys it also
// publishes a signed checkpoint of size n. It returns the tree's root.
func benchFill(ctx context.Context, d *db.DB, n int64, keys *auditlog.Keys) (tlog.Hash, error) {
	var head int64
	if err := d.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		return tlog.Hash{}, err
	}
	if head != 0 {
		return tlog.Hash{}, fmt.Errorf("bulk fill: the log already holds %d entries", head)
	}
	const chunk = 100 * auditlog.BundleSize // entries per transaction
	evs := make([]auditlog.Event, 0, chunk)
	for start := int64(0); start < n; start += chunk {
		evs = evs[:0]
		for i := start; i < min(start+chunk, n); i++ {
			evs = append(evs, benchEvent(i))
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := auditlog.AppendBatch(ctx, tx, evs)
			return err
		}); err != nil {
			return tlog.Hash{}, fmt.Errorf("bulk fill at %d: %w", start, err)
		}
	}
	root, err := tlog.TreeHash(n, auditlog.HashReader(ctx, d))
	if err != nil {
		return tlog.Hash{}, err
	}
	if keys != nil {
		signed, err := note.Sign(&note.Note{Text: auditlog.CheckpointBody(keys.Signer.Name(), n, root)}, keys.Signer)
		if err != nil {
			return tlog.Hash{}, err
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)`,
			n, root[:], string(signed), benchT0.Add(time.Duration(n)*time.Second)); err != nil {
			return tlog.Hash{}, err
		}
	}
	return root, nil
}

// benchCachedLog opens a migrated SQLite database holding a log of n
// entries and a checkpoint of size n, building it on first use into a file
// under os.TempDir() that later runs reuse.
func benchCachedLog(b *testing.B, n int64) *auditlog.Log {
	b.Helper()
	ctx := context.Background()
	keys := benchKeys(b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("pocdir-bench-log-%s-%d.db", benchFormat, n))
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		tmp := fmt.Sprintf("%s.building-%d", path, os.Getpid())
		if err := benchBuildFile(ctx, tmp, n, keys); err != nil {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(tmp + suffix)
			}
			b.Fatalf("building the log of %d entries: %v", n, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("built a log of %d entries in %v, cached in %s", n, time.Since(start).Round(time.Millisecond), path)
	} else if err != nil {
		b.Fatal(err)
	}
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var head int64
	if err := d.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		b.Fatal(err)
	}
	if head != n {
		b.Fatalf("%s holds %d entries, not %d: remove it to rebuild", path, head, n)
	}
	return auditlog.New(d, func() time.Time { return benchT0 }, keys)
}

func benchBuildFile(ctx context.Context, path string, n int64, keys *auditlog.Keys) error {
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	if _, err := benchFill(ctx, d, n, keys); err != nil {
		return err
	}
	// Fold the WAL into the file, so that the file alone is the log.
	if _, err := d.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// benchCachedPostgresLog opens a PostgreSQL database holding the log of n
// entries of benchCachedLog, in a schema of its own (pocdir_bench_log_…,
// not one of the t_… schemas that the tests make and drop), copying it
// from the SQLite file on first use; later runs reuse the schema.
func benchCachedPostgresLog(b *testing.B, pgURL string, n int64) *auditlog.Log {
	b.Helper()
	ctx := context.Background()
	keys := benchKeys(b)
	schema := fmt.Sprintf("pocdir_bench_log_%s_%d", benchFormat, n)
	admin, err := db.Open(ctx, pgURL)
	if err != nil {
		b.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		start := time.Now()
		src := benchCachedLog(b, n)
		tmp := fmt.Sprintf("%s_building_%d", schema, os.Getpid())
		if err := benchBuildSchema(ctx, admin, pgURL, tmp, src.DB); err != nil {
			admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+tmp+" CASCADE")
			b.Fatalf("copying the log of %d entries to PostgreSQL: %v", n, err)
		}
		if _, err := admin.ExecContext(ctx, "ALTER SCHEMA "+tmp+" RENAME TO "+schema); err != nil {
			admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+tmp+" CASCADE")
			b.Fatal(err)
		}
		b.Logf("copied a log of %d entries to PostgreSQL in %v, cached in schema %s", n, time.Since(start).Round(time.Millisecond), schema)
	}
	u, err := benchSearchPath(pgURL, schema)
	if err != nil {
		b.Fatal(err)
	}
	d, err := db.Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var head int64
	if err := d.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		b.Fatal(err)
	}
	if head != n {
		b.Fatalf("schema %s holds %d entries, not %d: drop it to rebuild", schema, head, n)
	}
	return auditlog.New(d, func() time.Time { return benchT0 }, keys)
}

// benchSearchPath returns pgURL with its search_path set to schema.
func benchSearchPath(pgURL, schema string) (string, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// benchBuildSchema makes schema a migrated database and copies into it the
// log of src, row by row through COPY.
func benchBuildSchema(ctx context.Context, admin *db.DB, pgURL, schema string, src *db.DB) error {
	if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		return err
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	u, err := benchSearchPath(pgURL, schema)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, u)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var head int64
	if err := src.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&head); err != nil {
		return err
	}
	for _, t := range []struct {
		table, query string
		cols         []string
		row          func(*sql.Rows) ([]any, error)
	}{
		{"log_bundles", `SELECT idx, entries, codec, states FROM log_bundles ORDER BY idx`, []string{"idx", "entries", "codec", "states"}, func(rows *sql.Rows) ([]any, error) {
			var idx int64
			var entries []byte
			var codec int32
			var states string
			err := rows.Scan(&idx, &entries, &codec, &states)
			return []any{idx, entries, codec, states}, err
		}},
		{"log_tail", `SELECT idx, data, states FROM log_tail ORDER BY idx`, []string{"idx", "data", "states"}, func(rows *sql.Rows) ([]any, error) {
			var idx int64
			var data, states string
			err := rows.Scan(&idx, &data, &states)
			return []any{idx, data, states}, err
		}},
		{"log_tiles", `SELECT level, idx, hashes FROM log_tiles ORDER BY level, idx`, []string{"level", "idx", "hashes"}, func(rows *sql.Rows) ([]any, error) {
			var level int32
			var idx int64
			var hashes []byte
			err := rows.Scan(&level, &idx, &hashes)
			return []any{level, idx, hashes}, err
		}},
		{"log_checkpoints", `SELECT size, root, note FROM log_checkpoints ORDER BY size`, []string{"size", "root", "note", "created_at"}, func(rows *sql.Rows) ([]any, error) {
			var size int64
			var root []byte
			var text string
			err := rows.Scan(&size, &root, &text)
			// created_at as benchFill writes it.
			return []any{size, root, text, benchT0.Add(time.Duration(size) * time.Second)}, err
		}},
	} {
		rows, err := src.QueryContext(ctx, t.query)
		if err != nil {
			return err
		}
		err = conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromFunc(func() ([]any, error) {
				if !rows.Next() {
					return nil, rows.Err()
				}
				return t.row(rows)
			}))
			return err
		})
		rows.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.table, err)
		}
	}
	if _, err := conn.ExecContext(ctx, `UPDATE log_head SET size = $1 WHERE id = 1`, head); err != nil {
		return err
	}
	// Set the hint bits and the visibility map, and gather statistics, as
	// a long-lived database would have them.
	for _, table := range []string{"log_bundles", "log_tail", "log_tiles", "log_checkpoints", "log_head"} {
		if _, err := conn.ExecContext(ctx, "VACUUM (FREEZE, ANALYZE) "+table); err != nil {
			return err
		}
	}
	return nil
}

// benchRawNodeHashes computes n SHA-256 hashes of 65-byte Merkle node
// inputs (0x01 || left || right), each input depending on the last hash.
func benchRawNodeHashes(n int) [sha256.Size]byte {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 0x01
	var h [sha256.Size]byte
	for range n {
		h = sha256.Sum256(buf[:])
		copy(buf[1:], buf[1+sha256.Size:])
		copy(buf[1+sha256.Size:], h[:])
	}
	return h
}

var benchSink [sha256.Size]byte

// BenchmarkRawSHA256Node measures the raw speed of hashing Merkle nodes on
// one goroutine: the yardstick of the verification budget.
func BenchmarkRawSHA256Node(b *testing.B) {
	for b.Loop() {
		benchSink = benchRawNodeHashes(benchRawBatch)
	}
	hashes := float64(b.N) * benchRawBatch
	b.ReportMetric(hashes/b.Elapsed().Seconds(), "hashes/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/hashes, "ns/hash")
}

// BenchmarkRawSHA256Leaf measures the raw speed of hashing the leaves of
// the benchmark's log (0x00 and an entry of benchEvent, about 240 bytes:
// four SHA-256 blocks where a node takes two) on one goroutine: with
// BenchmarkRawSHA256Node, the most a verification that does nothing but
// hash could reach, 2 / (leaf/node + 1) of the raw speed.
func BenchmarkRawSHA256Leaf(b *testing.B) {
	var leaves [][]byte
	size := 0
	for i := range int64(1000) {
		leaves = append(leaves, append([]byte{0}, auditlog.Encode(benchEvent(i))...))
		size += len(leaves[i]) - 1
	}
	hashes := 0
	for b.Loop() {
		for _, l := range leaves {
			benchSink = sha256.Sum256(l)
		}
		hashes += len(leaves)
	}
	b.ReportMetric(float64(hashes)/b.Elapsed().Seconds(), "hashes/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(hashes), "ns/hash")
	b.ReportMetric(float64(size)/float64(len(leaves)), "bytes/entry")
}

// BenchmarkAppend appends one event per transaction to a log that already
// holds benchAppendPrefill entries.
func BenchmarkAppend(b *testing.B) {
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			d := testkit.OpenDB(b, e)
			if _, err := benchFill(ctx, d, benchAppendPrefill, nil); err != nil {
				b.Fatal(err)
			}
			i := int64(benchAppendPrefill)
			for b.Loop() {
				for range benchAppendBatch {
					ev := benchEvent(i)
					if err := d.Tx(ctx, func(tx *sql.Tx) error {
						return auditlog.Append(ctx, tx, ev)
					}); err != nil {
						b.Fatal(err)
					}
					i++
				}
			}
			appends := float64(b.N) * benchAppendBatch
			b.ReportMetric(appends/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/appends, "µs/append")
			// The bulk-built prefix and the appended entries form one valid log.
			r, err := auditlog.Check(ctx, d, benchKeys(b).Verifier)
			if err != nil {
				b.Fatal(err)
			}
			if !r.OK() || r.Entries != i {
				b.Fatalf("after the appends, Check: %d entries (want %d), problems %q", r.Entries, i, r.Problems)
			}
		})
	}
}

// BenchmarkCheck runs the full verification of a SQLite log of
// POCDIR_BENCH_LOG_SIZE entries (default 100,000), and of the same log on
// PostgreSQL when POCDIR_TEST_POSTGRES is set, and compares its hashing
// rate with the raw node hashing rate measured just before, in the same
// process. hashes/s counts the tree hashes that Check recomputes (a leaf
// hash per entry and each interior node: 2n − popcount(n)); ratio-to-raw
// divides it by the raw rate of one goroutine (run with -cpu 1 for Check on
// one core too). The second sub-benchmark also hands the entries'
// commitments to a content checker, as "pocdir audit check" does.
func BenchmarkCheck(b *testing.B) {
	n := benchLogSize(b)
	engines := []string{"sqlite"}
	pgURL := os.Getenv("POCDIR_TEST_POSTGRES")
	if pgURL != "" {
		engines = append(engines, "postgres")
	}
	for _, engine := range engines {
		for _, withContent := range []bool{false, true} {
			benchCheck(b, engine, pgURL, n, withContent)
		}
	}
}

func benchCheck(b *testing.B, engine, pgURL string, n int64, withContent bool) {
	name := fmt.Sprintf("%s/entries=%d", engine, n)
	var content []auditlog.ContentChecker
	if withContent {
		name += "/commitments"
		content = append(content, func(ctx context.Context, q db.Queryer, commitments *auditlog.Commitments, problem func(string, ...any)) (int, error) {
			return commitments.Len(), nil
		})
	}
	b.Run(name, func(b *testing.B) {
		ctx := context.Background()
		var l *auditlog.Log
		if engine == "postgres" {
			l = benchCachedPostgresLog(b, pgURL, n)
		} else {
			l = benchCachedLog(b, n)
		}
		start := time.Now()
		benchSink = benchRawNodeHashes(benchRawProbe)
		raw := benchRawProbe / time.Since(start).Seconds()
		var entries, hashes int64
		// A loop over b.N, not b.Loop: with -cpu 1,2 the testing package
		// runs the first round of a b.Loop benchmark before it sets
		// GOMAXPROCS, so that the first "1 core" figure was of two.
		b.ResetTimer()
		for range b.N {
			r, err := auditlog.Check(ctx, l.DB, l.Verifier, content...)
			if err != nil {
				b.Fatal(err)
			}
			if !r.OK() || r.Entries != n || r.Checkpoints != 1 || withContent && r.Commitments == 0 {
				b.Fatalf("Check: %d entries (want %d), %d checkpoints (want 1), %d commitments, problems %q", r.Entries, n, r.Checkpoints, r.Commitments, r.Problems)
			}
			entries += r.Entries
			hashes += r.Hashes
		}
		sec := b.Elapsed().Seconds()
		b.ReportMetric(float64(entries)/sec, "entries/s")
		b.ReportMetric(float64(hashes)/sec, "hashes/s")
		b.ReportMetric(raw, "raw-hashes/s")
		b.ReportMetric(float64(hashes)/sec/raw, "ratio-to-raw")
	})
}

// BenchmarkProveRecord measures inclusion proofs of random entries in the
// whole log: through the service (Log.ProveEntry, which also reads the entry
// to check the actor may see it, and the log's size), and tlog.ProveRecord
// alone on an SQL hash reader.
func BenchmarkProveRecord(b *testing.B) {
	n := benchLogSize(b)
	b.Run(fmt.Sprintf("sqlite/entries=%d", n), func(b *testing.B) {
		ctx := app.WithActor(context.Background(), &app.Actor{Role: app.RoleSecretariat})
		l := benchCachedLog(b, n)
		cp, err := l.CheckpointAt(ctx, n)
		if err != nil {
			b.Fatal(err)
		}
		// The proofs verify against the signed root.
		rng := rand.New(rand.NewPCG(1, 2))
		for range 5 {
			idx := rng.Int64N(n)
			p, err := l.ProveEntry(ctx, idx, n)
			if err != nil {
				b.Fatal(err)
			}
			e, err := l.Entry(ctx, idx)
			if err != nil {
				b.Fatal(err)
			}
			if err := tlog.CheckRecord(p, n, cp.Root, idx, tlog.RecordHash(e.Data)); err != nil {
				b.Fatalf("proof of %d: %v", idx, err)
			}
		}
		b.Run("ProveEntry", func(b *testing.B) {
			for b.Loop() {
				for range benchProofBatch {
					if _, err := l.ProveEntry(ctx, rng.Int64N(n), n); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/(float64(b.N)*benchProofBatch), "µs/proof")
		})
		b.Run("tlog.ProveRecord", func(b *testing.B) {
			r := auditlog.HashReader(ctx, l.DB)
			for b.Loop() {
				for range benchProofBatch {
					if _, err := tlog.ProveRecord(n, rng.Int64N(n), r); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/(float64(b.N)*benchProofBatch), "µs/proof")
		})
	})
}

// BenchmarkProveConsistency measures proofs that a random earlier tree is a
// prefix of the whole log, through Log.ProveConsistency.
func BenchmarkProveConsistency(b *testing.B) {
	n := benchLogSize(b)
	b.Run(fmt.Sprintf("sqlite/entries=%d", n), func(b *testing.B) {
		ctx := app.WithActor(context.Background(), &app.Actor{Role: app.RoleSecretariat})
		l := benchCachedLog(b, n)
		cp, err := l.CheckpointAt(ctx, n)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for range 5 {
			old := 1 + rng.Int64N(n-1)
			p, err := l.ProveConsistency(ctx, old, n)
			if err != nil {
				b.Fatal(err)
			}
			oldRoot, err := tlog.TreeHash(old, auditlog.HashReader(ctx, l.DB))
			if err != nil {
				b.Fatal(err)
			}
			if err := tlog.CheckTree(p, n, cp.Root, old, oldRoot); err != nil {
				b.Fatalf("consistency of %d with %d: %v", old, n, err)
			}
		}
		for b.Loop() {
			for range benchProofBatch {
				if _, err := l.ProveConsistency(ctx, 1+rng.Int64N(n-1), n); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/(float64(b.N)*benchProofBatch), "µs/proof")
	})
}

// TestBenchLogMatchesAppend checks that AppendBatch, in the large batches of
// the benchmarks' builder, writes the very rows that Append writes one
// entry at a time, so that both are the same log (and the figures are those
// of a real one).
func TestBenchLogMatchesAppend(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		ctx := context.Background()
		const n = 2*auditlog.BundleSize + 90
		appended := testkit.OpenDB(t, e)
		for i := range int64(n) {
			if err := appended.Tx(ctx, func(tx *sql.Tx) error {
				return auditlog.Append(ctx, tx, benchEvent(i))
			}); err != nil {
				t.Fatal(err)
			}
		}
		bulk := testkit.OpenDB(t, e)
		keys := benchKeys(t)
		root, err := benchFill(ctx, bulk, n, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT idx, entries, states, '', codec, '' FROM log_bundles ORDER BY idx`,
			`SELECT idx, hashes, level, '', 0, '' FROM log_tiles ORDER BY level, idx`,
			`SELECT idx, '', data, states, 0, '' FROM log_tail ORDER BY idx`,
			`SELECT id, size, 0, 0, 0, 0 FROM log_head`,
			`SELECT id, data, states, owners, 0, '' FROM log_pending`, // every entry integrated
		} {
			got, want := benchRows(t, bulk, q), benchRows(t, appended, q)
			if got != want {
				t.Errorf("%s\nbulk:\n%s\nAppend:\n%s", q, got, want)
			}
		}
		if want, err := tlog.TreeHash(n, auditlog.HashReader(ctx, appended)); err != nil || root != want {
			t.Errorf("bulk root %x, Append root %x (%v)", root, want, err)
		}
		r, err := auditlog.Check(ctx, bulk, keys.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Entries != n || r.Checkpoints != 1 {
			t.Errorf("Check of the bulk log: %d entries, %d checkpoints, problems %q", r.Entries, r.Checkpoints, r.Problems)
		}
	})
}

// benchRows renders the six columns of a query's rows as text.
func benchRows(t *testing.T, d *db.DB, q string) string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out bytes.Buffer
	for rows.Next() {
		var a int64
		var b []byte
		var c, dd, f string
		var at any
		if err := rows.Scan(&a, &b, &c, &dd, &at, &f); err != nil {
			t.Fatal(err)
		}
		if tm, ok := at.(time.Time); ok {
			at = tm.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&out, "%d %x %s %s %v %s\n", a, b, c, dd, at, f)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
