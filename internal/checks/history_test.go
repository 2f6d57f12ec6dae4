package checks_test

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestHistory writes closed campaigns of every PoC and checks that the
// Secretariat reads them as closed, with their answers counted, that the
// log verifies, and that nobody but pocdir writes a history.
func TestHistory(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		ctx := context.Background()
		now := w.sys.Clock.Now()
		if err := w.sys.Checks.History(app.WithActor(ctx, app.System), 40, now.AddDate(-10, 0, 0), now.AddDate(0, -1, 0), 1); err != nil {
			t.Fatal(err)
		}
		list := walkCampaigns(t, w.sys.Checks, w.sec, 7)
		answered, targets := 0, 0
		for _, c := range list {
			if c.Status != checks.StatusClosed || c.WindowEnd.After(now) {
				t.Errorf("campaign %q: %s, closing %v", c.Title, c.Status, c.WindowEnd)
			}
			answered += c.Answered
			targets += c.Targets
		}
		if len(list) != 40 || targets != 40*4 || answered == 0 || answered == targets {
			t.Errorf("%d campaigns, %d targets, %d answered; want 40, 160, some answered", len(list), targets, answered)
		}
		rep, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Entries < int64(40+answered) {
			t.Errorf("audit check: %d entries, problems %q", rep.Entries, rep.Problems)
		}
		for _, u := range []*testkit.User{w.sec, w.fpFRA} {
			if err := w.sys.Checks.History(u.Ctx(), 1, now.AddDate(-1, 0, 0), now, 1); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("%s wrote a history: %v", u.Email, err)
			}
		}
	})
}
