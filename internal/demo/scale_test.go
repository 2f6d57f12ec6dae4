package demo_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/demo"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestSeedScale writes a small history (3,000 communications) and, on
// PostgreSQL, gathers the planner's statistics as it grows: without them,
// where autovacuum is off (as on this project's machines), the history's
// own reads slow as the tables fill.
func TestSeedScale(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		if err := demo.Seed(ctx, sys.Directory, sys.Accounts, true); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedScale(ctx, sys.Comms, sys.Checks, 3000.0/demo.FullScale); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM comms`).Scan(&n); err != nil || n != 3000 {
			t.Fatalf("%d communications written, %v", n, err)
		}
		if sys.DB.Dialect != db.Postgres {
			return
		}
		var analyzed sql.NullTime
		if err := sys.DB.QueryRowContext(ctx, `SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'comm_recipients'`).Scan(&analyzed); err != nil || !analyzed.Valid {
			t.Errorf("the recipient lines were not analyzed during the history: %v, %v", analyzed, err)
		}
	})
}
