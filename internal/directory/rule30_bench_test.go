package directory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkCompliance reads the 30-day rule's figures of the whole
// directory (the directory's page for every member) beside ten years of
// changes (10^5, or POCDIR_BENCH_CHANGES: 193 States changing an entry
// about once a week): "page" as the page reads them, "recount" judging
// every change as the page did before the figures were kept (and as
// `pocdir audit check` still does).
//
//	go test -run '^$' -bench Compliance -benchtime 20x ./internal/directory/
func BenchmarkCompliance(b *testing.B) {
	held := testkit.BenchCount(b, "POCDIR_BENCH_CHANGES", 100_000)
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			sys := testkit.New(b, e)
			ctx := context.Background()
			fp := sys.User(b, "fp@fra.example", app.RoleFocalPoint, "FRA")
			at := sys.Clock.Now().Add(-24 * time.Hour)
			// France's changes, each notified the day it took effect; the
			// figures moved as recording a change moves them.
			if _, err := sys.DB.ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
				INSERT INTO entry_changes (state_code, action, actor_email, changed_at, effective_date, notified_at)
				SELECT 'FRA', 'poc.update', 'fp@fra.example', $1, $2, $1 FROM n`, held), at, at.Format(time.DateOnly)); err != nil {
				b.Fatal(err)
			}
			if _, err := sys.DB.ExecContext(ctx, `INSERT INTO rule30_tallies (state_code, changes, late) VALUES ('FRA', $1, 0)`, held); err != nil {
				b.Fatal(err)
			}
			b.Run("page", func(b *testing.B) {
				for b.Loop() {
					c, err := sys.Directory.Compliance(fp.Ctx(), "")
					if err != nil || c.Changes < held {
						b.Fatalf("%+v %v", c, err)
					}
				}
			})
			b.Run("recount", func(b *testing.B) {
				for b.Loop() {
					if m, err := directory.RecountRule30(ctx, sys.DB); err != nil || len(m) > 0 {
						b.Fatalf("%+v %v", m, err)
					}
				}
			})
		})
	}
}
