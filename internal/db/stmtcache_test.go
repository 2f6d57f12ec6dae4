package db_test

import (
	"context"
	"fmt"
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
		kept := func(want int) {
			t.Helper()
			if e.Name != "sqlite" {
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
