package notify_test

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestOutboxTotalsKept: the outbox's page reads the messages sent and
// failed from totals kept by the statements that mark them, not by
// counting every message of ten years. They move with each way a message
// ends (sent, refused for good, recorded as sent without sending), match
// the rows, and the migration that made them counts the messages already
// there.
func TestOutboxTotalsKept(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		status := func() *notify.Status {
			t.Helper()
			st, err := sys.Outbox.Status(sec.Ctx(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if m, err := notify.RecountOutbox(ctx, sys.DB); err != nil || m != nil {
				t.Fatalf("the totals differ from the rows: %+v, %v", m, err)
			}
			return st
		}
		// Three refused for good: one attempt allowed, no server.
		enqueue(t, sys, 3)
		down := sender(sys, closedPort(t))
		down.MaxAttempts = 1
		if _, err := down.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if st := status(); st.Failed != 3 || st.Sent != 0 || st.Queued != 0 {
			t.Fatalf("after three refused: %+v", st)
		}
		// Four sent.
		enqueue(t, sys, 4)
		c := catcher(t)
		if n, err := sender(sys, c.Port()).RunOnce(ctx); n != 4 || err != nil {
			t.Fatalf("sent %d, %v", n, err)
		}
		// Two recorded as sent without sending (the demonstration's past).
		enqueue(t, sys, 2)
		if err := notify.RecordSent(ctx, sys.DB, "test"); err != nil {
			t.Fatal(err)
		}
		enqueue(t, sys, 1)
		if st := status(); st.Sent != 6 || st.Failed != 3 || st.Queued != 1 {
			t.Fatalf("after four sent and two recorded: %+v", st)
		}
		t.Run("the migration counts the messages already there", func(t *testing.T) {
			if err := sys.DB.MigrateDownTo(ctx, 40); err != nil {
				t.Fatal(err)
			}
			if err := sys.DB.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if st := status(); st.Sent != 6 || st.Failed != 3 || st.Queued != 1 {
				t.Errorf("after the migration: %+v", st)
			}
		})
	})
}
