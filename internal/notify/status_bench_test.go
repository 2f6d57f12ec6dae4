package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkOutboxStatus reads the outbox's page (its counts and its newest
// messages) beside ten years of messages sent (10^6, or
// POCDIR_BENCH_OUTBOX): "page" as the page reads it, "recount" counting
// every message as the page did before the totals were kept (and as
// `pocdir audit check` still does).
//
//	go test -run '^$' -bench OutboxStatus -benchtime 20x ./internal/notify/
func BenchmarkOutboxStatus(b *testing.B) {
	held := testkit.BenchCount(b, "POCDIR_BENCH_OUTBOX", 1_000_000)
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			sys := testkit.New(b, e)
			ctx := context.Background()
			sec := sys.User(b, "sec@un.example", app.RoleSecretariat, "")
			at := sys.Clock.Now().Add(-24 * time.Hour)
			// Sent messages, their bodies dropped, as the sender leaves
			// them; the totals moved as the sender moves them.
			if _, err := sys.DB.ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
				INSERT INTO outbox (kind, to_addr, subject, body, created_at, next_attempt_at, sent_at, attempts)
				SELECT 'comm', 'cert' || i || '@example.org', 'PC-2026-0000 notification', '', $1, $1, $1, 1 FROM n`, held), at); err != nil {
				b.Fatal(err)
			}
			if _, err := sys.DB.ExecContext(ctx, `UPDATE outbox_tally SET sent = sent + $1 WHERE id = 1`, held); err != nil {
				b.Fatal(err)
			}
			b.Run("page", func(b *testing.B) {
				for b.Loop() {
					st, err := sys.Outbox.Status(sec.Ctx(), 0)
					if err != nil || st.Sent < held {
						b.Fatalf("%+v %v", st, err)
					}
				}
			})
			b.Run("recount", func(b *testing.B) {
				for b.Loop() {
					if m, err := notify.RecountOutbox(ctx, sys.DB); err != nil || m != nil {
						b.Fatalf("%+v %v", m, err)
					}
				}
			})
		})
	}
}
