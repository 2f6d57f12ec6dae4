package auditlog_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

// sysCtx is the Secretariat's, which reads every entry.
func sysCtx() context.Context {
	return app.WithActor(context.Background(), &app.Actor{Email: "sec@un.example", Role: app.RoleSecretariat})
}

// test_owners is a table of the tests whose rows keep their entry's index,
// as a communication or a directory change does.
var _ = auditlog.RegisterOwner("test_owners")

func ownersTable(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), `CREATE TABLE test_owners (id BIGINT PRIMARY KEY, object TEXT NOT NULL, log_index BIGINT)`); err != nil {
		t.Fatal(err)
	}
}

// ownedEntry appends an entry whose index the row id of test_owners keeps.
func ownedEntry(ctx context.Context, tx *sql.Tx, id int64, set func(int64)) error {
	object := fmt.Sprintf("owned:%d", id)
	if _, err := tx.ExecContext(ctx, `INSERT INTO test_owners (id, object) VALUES ($1, $2)`, id, object); err != nil {
		return err
	}
	return auditlog.AppendFor(ctx, tx, auditlog.Event{Type: "test.event", ActorEmail: "owner@example.org", Object: object,
		States: []string{"KEN"}, At: time.Unix(id, 0)}, set, auditlog.Owner{Table: "test_owners", ID: id})
}

// checkOwners checks that every row of test_owners keeps the index of its
// own entry, and that nothing waits to be integrated.
func checkOwners(t *testing.T, l *auditlog.Log, ctx context.Context, want int) {
	t.Helper()
	rows, err := l.DB.QueryContext(ctx, `SELECT id, object, log_index FROM test_owners ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var object string
		var idx sql.NullInt64
		if err := rows.Scan(&id, &object, &idx); err != nil {
			t.Fatal(err)
		}
		n++
		if !idx.Valid {
			t.Errorf("row %d keeps no index", id)
			continue
		}
		e, err := l.Entry(sysCtx(), idx.Int64)
		if err != nil || e.Object != object {
			t.Errorf("row %d keeps index %d, whose entry is %+v (%v)", id, idx.Int64, e, err)
		}
	}
	if n != want {
		t.Errorf("%d owners, want %d", n, want)
	}
	var pending int
	if err := l.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_pending`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d entries still pending (%v)", pending, err)
	}
}

// TestAppendIntegratesBeforeReturning checks what a service sees: once
// db.Tx has returned, its entries are in the tree, the rows that keep
// their indexes have them, and the callback was given the same index.
func TestAppendIntegratesBeforeReturning(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		ownersTable(t, sys.DB)
		before, err := sys.Audit.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		if err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			for id := int64(1); id <= 3; id++ {
				if err := ownedEntry(ctx, tx, id, func(idx int64) { got[id] = idx }); err != nil {
					return err
				}
			}
			return auditlog.Append(ctx, tx, auditlog.Event{Type: "test.event", Object: "unowned", At: time.Unix(9, 0)})
		}); err != nil {
			t.Fatal(err)
		}
		after, err := sys.Audit.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Size != before.Size+4 || after.Pending != 0 {
			t.Fatalf("after the commit: size %d (was %d), %d pending", after.Size, before.Size, after.Pending)
		}
		for id := int64(1); id <= 3; id++ {
			if got[id] != before.Size+id-1 {
				t.Errorf("entry of row %d given index %d, want %d", id, got[id], before.Size+id-1)
			}
		}
		checkOwners(t, sys.Audit, ctx, 3)
		// A transaction that rolls back leaves nothing behind.
		boom := fmt.Errorf("boom")
		if err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			if err := ownedEntry(ctx, tx, 4, nil); err != nil {
				return err
			}
			return boom
		}); err != boom {
			t.Fatal(err)
		}
		if h, _ := sys.Audit.Health(ctx); h.Size != after.Size || h.Pending != 0 {
			t.Errorf("after a rollback: %+v", h)
		}
	})
}

// TestPendingEntriesIntegrated is an instance that stopped between its
// commit and its pass (here, a transaction that db.Tx does not run, which
// has no pass): the entries wait, audit check says so, and the next pass
// (the "log" job of any instance) integrates them with their owners.
func TestPendingEntriesIntegrated(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		ownersTable(t, sys.DB)
		size := func() int64 {
			h, err := sys.Audit.Health(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return h.Size
		}
		start := size()
		tx, err := sys.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for id := int64(1); id <= 5; id++ {
			if err := ownedEntry(ctx, tx, id, func(int64) { t.Error("no pass ran: nothing to give") }); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		h, err := sys.Audit.Health(ctx)
		if err != nil || h.Size != start || h.Pending != 5 || h.PendingSince == nil || time.Since(*h.PendingSince) > time.Minute {
			t.Fatalf("before the pass: %+v %v", h, err)
		}
		rep, err := auditlog.Check(ctx, sys.DB, sys.Audit.Verifier)
		if err != nil || !rep.OK() || rep.Pending != 5 || rep.Entries != start {
			t.Fatalf("check before the pass: %+v %v", rep, err)
		}
		n, err := sys.Audit.Integrate(ctx)
		if err != nil || n != 5 || size() != start+5 {
			t.Fatalf("Integrate: %d, %v; size %d", n, err, size())
		}
		checkOwners(t, sys.Audit, ctx, 5)
		if n, err := sys.Audit.Integrate(ctx); err != nil || n != 0 {
			t.Errorf("a second pass: %d, %v", n, err)
		}
		rep, err = auditlog.Check(ctx, sys.DB, sys.Audit.Verifier)
		if err != nil || !rep.OK() || rep.Pending != 0 || rep.Entries != start+5 {
			t.Errorf("check after the pass: %+v %v", rep, err)
		}
	})
}

// TestPendingOwnersAreNotSQL checks that a pending row naming a table that
// was not declared (an edited database) stops the pass, which writes
// nothing: the column is data, never a statement.
func TestPendingOwnersAreNotSQL(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		before, _ := sys.Audit.Health(ctx)
		for _, owners := range []string{"users:1", "users SET email = 'x' --:1", "test_owners:1; DROP TABLE users", "test_owners"} {
			if _, err := sys.DB.ExecContext(ctx, `DELETE FROM log_pending`); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.DB.ExecContext(ctx, `INSERT INTO log_pending (data, states, owners, created_at) VALUES ($1, ';KEN;', $2, $3)`,
				string(auditlog.Encode(auditlog.Event{Type: "test.event", Object: "edited"})), owners, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Audit.Integrate(ctx); err == nil || !strings.Contains(err.Error(), "not a row that keeps log indexes") {
				t.Errorf("owners %q: %v", owners, err)
			}
			if h, _ := sys.Audit.Health(ctx); h.Size != before.Size || h.Pending != 1 {
				t.Errorf("owners %q: after the refused pass %+v", owners, h)
			}
		}
	})
}

// TestConcurrentOwnedAppends appends entries kept by rows from many
// goroutines through two instances (two connection pools) on one
// database: every row gets its own entry's index, nothing stays pending,
// and the log verifies.
func TestConcurrentOwnedAppends(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		ownersTable(t, sys.DB)
		second, err := db.Open(ctx, sys.DB.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		const workers, each = 8, 20
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := range workers {
			d := sys.DB
			if i%2 == 1 {
				d = second
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					id := int64(i*each + j + 1)
					// When another instance's pass integrated the
					// entry, the callback is not called, but the row
					// has the index (checkOwners).
					if err := d.Tx(ctx, func(tx *sql.Tx) error { return ownedEntry(ctx, tx, id, nil) }); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		checkOwners(t, sys.Audit, ctx, workers*each)
		rep, err := auditlog.Check(ctx, sys.DB, sys.Audit.Verifier)
		if err != nil || !rep.OK() || rep.Pending != 0 {
			t.Errorf("%+v %v", rep, err)
		}
	})
}

// TestNewestOfAState checks the log page's list: newest first, across the
// tail and the bundles, and a State's entries found through the index of
// its bundles however many entries of others came after them; the index
// is rebuilt from the bundles by the migration that made it.
func TestNewestOfAState(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := populate(t, e)
		ctx := context.Background()
		ev := func(i int, state string) auditlog.Event {
			return auditlog.Event{Type: "test.event", ActorEmail: "x@example.org", Object: fmt.Sprintf("n:%d", i), States: []string{state}, At: time.Unix(int64(i), 0)}
		}
		// Mali's focal point (an entry of Mali: the account), three more
		// entries of Mali, then 3,000 of others: Mali's are far below the
		// last 2,000.
		fpMLI := w.sys.User(t, "fp@mli.example", app.RoleFocalPoint, "MLI")
		var evs []auditlog.Event
		for i := range 3 {
			evs = append(evs, ev(i, "MLI"))
		}
		for i := range 3000 {
			evs = append(evs, ev(100+i, []string{"FRA", "KEN", "BRA"}[i%3]))
		}
		if err := w.sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			_, err := auditlog.AppendBatch(ctx, tx, evs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		check := func(when string) {
			t.Helper()
			list, err := w.sys.Audit.Newest(fpMLI.Ctx(), 0, 10)
			if err != nil || len(list) != 4 {
				t.Fatalf("%s: Mali's newest: %d, %v", when, len(list), err)
			}
			for i, en := range list[:3] {
				if en.Object != fmt.Sprintf("n:%d", 2-i) || en.States[0] != "MLI" {
					t.Errorf("%s: Mali's entry %d is %s %v", when, i, en.Object, en.States)
				}
			}
			all, err := w.sys.Audit.Newest(w.sec.Ctx(), 0, 1000)
			if err != nil || len(all) != 1000 {
				t.Fatalf("%s: the Secretariat's newest: %d, %v", when, len(all), err)
			}
			for i := 1; i < len(all); i++ {
				if all[i].Index != all[i-1].Index-1 {
					t.Fatalf("%s: entry %d after %d", when, all[i].Index, all[i-1].Index)
				}
			}
			ken, err := w.sys.Audit.Newest(w.fpKEN.Ctx(), 0, 1000)
			if err != nil || len(ken) != 1000 {
				t.Fatalf("%s: Kenya's newest: %d, %v", when, len(ken), err)
			}
			for _, en := range ken {
				if !slices.Contains(en.States, "KEN") {
					t.Fatalf("%s: Kenya sees entry %d of %v", when, en.Index, en.States)
				}
			}
			// The page after a page begins below its last entry: on a
			// bundle's edge, inside a bundle, in the tail.
			head := all[0].Index + 1
			for _, before := range []int64{head, head - 1, auditlog.BundleSize * 3, auditlog.BundleSize*3 + 1, auditlog.BundleSize*3 - 1, 5, 1} {
				page, err := w.sys.Audit.Newest(w.sec.Ctx(), before, 7)
				if err != nil || len(page) != int(min(7, before)) {
					t.Fatalf("%s: below %d: %d, %v", when, before, len(page), err)
				}
				for i, en := range page {
					if en.Index != before-1-int64(i) {
						t.Fatalf("%s: below %d, entry %d is %d", when, before, i, en.Index)
					}
				}
			}
			var walked []int64
			for before := int64(0); len(walked) < len(ken); {
				page, err := w.sys.Audit.Newest(w.fpKEN.Ctx(), before, 300)
				if err != nil || len(page) == 0 {
					t.Fatalf("%s: Kenya's page below %d: %d, %v", when, before, len(page), err)
				}
				for _, en := range page {
					walked = append(walked, en.Index)
				}
				before = page[len(page)-1].Index
			}
			for i, en := range ken {
				if walked[i] != en.Index {
					t.Fatalf("%s: Kenya's pages give %d where its newest give %d", when, walked[i], en.Index)
				}
			}
		}
		check("indexed as appended")
		// The migration that made the index fills it from the bundles.
		if err := w.sys.DB.MigrateDownTo(ctx, 31); err != nil {
			t.Fatal(err)
		}
		if err := w.sys.DB.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("indexed by the migration")
		// audit check compares the index with the bundles.
		verifies := func(want string) {
			t.Helper()
			rep, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(rep.Problems, "\n")
			if want == "" && !rep.OK() || want != "" && !strings.Contains(got, want) {
				t.Errorf("check: %q, want %q", got, want)
			}
		}
		verifies("")
		if _, err := w.sys.DB.ExecContext(ctx, `DELETE FROM log_state_bundles WHERE state_code = 'MLI'`); err != nil {
			t.Fatal(err)
		}
		verifies("holds entries of MLI that the index of the States' bundles does not name")
		if _, err := w.sys.DB.ExecContext(ctx, `INSERT INTO log_state_bundles (state_code, bundle) VALUES ('MLI', 0), ('MLI', 5), ('ZZZ', 3)`); err != nil {
			t.Fatal(err)
		}
		verifies("names ZZZ in bundle 3, which holds none of its entries")
	})
}
