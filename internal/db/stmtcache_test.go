package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestStatementsArePreparedOnTheirSecondRun checks the cache of prepared
// statements behind DB's QueryContext, QueryRowContext and ExecContext: a
// statement is kept from its second run on SQLite (never on PostgreSQL,
// whose driver keeps its own), the cache stays within its size, a
// statement pushed out while its rows are read still reads them all, and
// concurrent callers over more statements than it keeps get their own
// answers.
func TestStatementsArePreparedOnTheirSecondRun(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		d := testkit.OpenDB(t, e)
		ctx := context.Background()
		base := d.ImplicitKept() // what opening the database ran twice
		kept := func(want int) {
			t.Helper()
			if want = min(base+want, db.ImplicitSize); e.Name != "sqlite" {
				want = 0
			}
			if got := d.ImplicitKept(); got != want {
				t.Errorf("%d statements kept, want %d", got, want)
			}
		}
		sum := func(n int) int {
			t.Helper()
			var got int
			if err := d.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + $1`, n), 1).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != n+1 {
				t.Fatalf("SELECT %d + 1 = %d", n, got)
			}
			return got
		}
		sum(0)
		kept(0)
		sum(0)
		kept(1)
		sum(0)
		kept(1)
		if _, err := d.ExecContext(ctx, `INSERT INTO users (email, role, created_at) VALUES ($1, 'officer', CURRENT_TIMESTAMP)`, "a@example.org"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO users (email, role, created_at) VALUES ($1, 'officer', CURRENT_TIMESTAMP)`, "b@example.org"); err != nil {
			t.Fatal(err)
		}
		kept(2)

		t.Run("a statement pushed out while its rows are read reads them all", func(t *testing.T) {
			const q = `SELECT email FROM users ORDER BY email`
			d.QueryContext(ctx, q) // seen once
			rows, err := d.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			if !rows.Next() {
				t.Fatal("no first row")
			}
			for n := range db.ImplicitSize + 10 {
				sum(1000 + n)
				sum(1000 + n)
			}
			kept(db.ImplicitSize)
			var emails []string
			for more := true; more; more = rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				emails = append(emails, s)
			}
			if err := rows.Err(); err != nil || len(emails) != 2 {
				t.Errorf("read %q: %v", emails, err)
			}
		})

		t.Run("concurrent callers over more statements than are kept", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Go(func() {
					for i := range 400 {
						n := (i*7 + g*13) % (db.ImplicitSize + 50)
						var got int
						if err := d.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + $1`, n), 2).Scan(&got); err != nil || got != n+2 {
							errs <- fmt.Errorf("SELECT %d + 2: %d, %v", n, got, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	})
}

// TestTransactionsRunCachedStatements checks that the statements a
// transaction runs through QueryTx, ExecTx, QueryRowTx and Query come from
// the same bounded cache on SQLite (none on PostgreSQL): kept from their
// second run, one pushed out while the transaction still reads its rows
// reads them all, and a statement whose text varies with its arguments (a
// multi-row INSERT) is kept by its shapes only, within the cache's size.
func TestTransactionsRunCachedStatements(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		d := testkit.OpenDB(t, e)
		ctx := context.Background()
		base := d.ImplicitKept() // what opening the database ran twice
		want := func(n int) int {
			if e.Name != "sqlite" {
				return 0
			}
			return n
		}
		insert := func(tx *sql.Tx, rows int, first int) error {
			args := make([]any, 0, rows)
			for i := range rows {
				args = append(args, fmt.Sprintf("u%d@example.org", first+i))
			}
			values := strings.ReplaceAll(d.Values(rows, 1), ")", ", 'officer', CURRENT_TIMESTAMP)")
			_, err := db.ExecTx(ctx, tx, `INSERT INTO users (email, role, created_at) VALUES `+values, args...)
			return err
		}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for k := range 3 { // three shapes, each run twice
				for r := range 2 {
					if err := insert(tx, k+1, 100*k+10*r); err != nil {
						return err
					}
				}
			}
			if got := d.ImplicitKept() - base; got != want(3) {
				t.Errorf("%d statements kept after three shapes run twice, want %d", got, want(3))
			}
			const q = `SELECT email FROM users ORDER BY email`
			for range 2 {
				rows, err := db.Query(ctx, tx, q)
				if err != nil {
					return err
				}
				rows.Close()
			}
			if e.Name != "sqlite" {
				return nil // a connection of PostgreSQL's runs one query at a time
			}
			rows, err := db.QueryTx(ctx, tx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			if !rows.Next() {
				return errors.New("no first row")
			}
			for n := range db.ImplicitSize + 10 {
				for range 2 {
					var got int
					if err := db.QueryRowTx(ctx, tx, fmt.Sprintf(`SELECT %d + $1`, n), 1).Scan(&got); err != nil || got != n+1 {
						return fmt.Errorf("SELECT %d + 1 = %d, %v", n, got, err)
					}
				}
			}
			if got := d.ImplicitKept(); got != db.ImplicitSize {
				t.Errorf("%d statements kept, want %d", got, db.ImplicitSize)
			}
			n := 1
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil || n != 12 {
				t.Errorf("read %d users of 12: %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 12 {
			t.Errorf("%d users committed, want 12: %v", n, err)
		}
	})
}
