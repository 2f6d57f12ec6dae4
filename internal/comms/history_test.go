package comms_test

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestHistory writes a generated history across transactions and checks
// that it is what the real path leaves: the log verifies with every
// communication's commitment, a recipient reads its communications and
// their steps, the sender its own, and nobody but pocdir may write one.
func TestHistory(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		ctx := context.Background()
		to := w.sys.Clock.Now()
		in := comms.HistoryInput{Count: 1234, From: to.AddDate(-10, 0, 0), To: to, Seed: 1}
		var seen []int
		if err := w.s.History(app.WithActor(ctx, app.System), in, func(n int) { seen = append(seen, n) }); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 3 || seen[2] != in.Count {
			t.Errorf("progress %v, want three steps to %d", seen, in.Count)
		}
		var n, lines, delivered int
		if err := w.sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM comms WHERE status = 'sent' AND log_index IS NOT NULL AND thread_id = id`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := w.sys.DB.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(delivered_at) FROM comm_recipients`).Scan(&lines, &delivered); err != nil {
			t.Fatal(err)
		}
		if n != in.Count || lines < n || delivered != lines {
			t.Errorf("%d communications sent and logged, %d lines of which %d delivered; want %d sent, every line delivered", n, lines, delivered, in.Count)
		}
		rep, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, directory.CheckCommitments, comms.CheckCommitments(w.sys.DataKeys))
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Entries < int64(in.Count)*3 {
			t.Errorf("audit check of the history: %d entries, problems %q", rep.Entries, rep.Problems)
		}
		t.Run("a recipient reads what was sent to its State, with the steps", func(t *testing.T) {
			var id int64
			if err := w.sys.DB.QueryRowContext(ctx, `SELECT c.id FROM comms c JOIN comm_recipients r ON r.comm_id = c.id
				WHERE r.state_code = 'KEN' AND r.acked_at IS NOT NULL ORDER BY c.id LIMIT 1`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			c, err := w.s.Communication(w.offKEN.Ctx(), id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Content == nil || c.Content.Subject == "" || c.SentAt == nil || c.SentAt.After(to) || c.SentAt.Before(in.From) {
				t.Errorf("communication %s: content %v, sent %v", c.Ref, c.Content, c.SentAt)
			}
			th, err := w.s.Thread(w.offKEN.Ctx(), c.ThreadID)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]bool{}
			for _, ev := range th.Events {
				kinds[ev.Kind] = true
			}
			if !kinds[comms.EvSent] || !kinds[comms.EvAcknowledged] {
				t.Errorf("events %v", th.Events)
			}
		})
		t.Run("nobody but pocdir writes a history", func(t *testing.T) {
			for _, u := range []*testkit.User{w.sec, w.fpFRA} {
				if err := w.s.History(u.Ctx(), in, nil); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s: %v", u.Email, err)
				}
			}
		})
	})
}
