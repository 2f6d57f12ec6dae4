package comms_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestSendsCommitTogether sends communications at the same moment, as in
// a crisis: on SQLite they commit in one transaction, each in its own
// savepoint (db.Group), and one that fails there (the same form sent
// twice: its second insert breaks the idempotency key's uniqueness after
// its first writes) loses none of the others and leaves nothing of its
// own. On PostgreSQL, whose sends commit each on its own, the same sends
// must give the same result.
func TestSendsCommitTogether(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		twice := notification("KEN")
		twice.IdemKey = "crisis-form-1"
		sends := []struct {
			who *testkit.User
			in  comms.CommInput
		}{
			{w.offFRA, twice}, {w.offFRA, twice},
			{w.offKEN, notification("FRA", "BRA")},
			{w.offDEU, notification("KEN")},
			{w.offBRA, notification("FRA")},
			{w.offFRA, notification("BRA", "KEN")},
		}
		release := func() {}
		g := comms.SendsOf(w.s)
		if e.Name == "sqlite" && g == nil {
			t.Fatal("SQLite's sends have no group")
		}
		if g != nil {
			// The group's one lane is held until every send waits for
			// the next batch: they form one.
			hold := make(chan struct{})
			var held sync.WaitGroup
			for range g.Lanes() {
				started := make(chan struct{})
				held.Go(func() {
					_ = w.sys.DB.Tx(db.WithGroup(context.Background(), g), func(*sql.Tx) error { close(started); <-hold; return nil })
				})
				<-started
			}
			release = func() {
				for deadline := time.Now().Add(time.Minute); g.Queued() < len(sends); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Errorf("%d sends of %d joined the group's batch", g.Queued(), len(sends))
						break
					}
				}
				close(hold)
				held.Wait()
			}
		}
		got := make([]*comms.Communication, len(sends))
		errs := make([]error, len(sends))
		var sent sync.WaitGroup
		for i, s := range sends {
			sent.Go(func() { got[i], errs[i] = w.s.Compose(s.who.Ctx(), s.in) })
		}
		release()
		sent.Wait()
		ids := map[int64]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
			if got[i].Status != comms.StatusSent {
				t.Errorf("send %d is %s", i, got[i].Status)
			}
			ids[got[i].ID] = true
		}
		if got[0].ID != got[1].ID {
			t.Errorf("the form sent twice made communications %d and %d", got[0].ID, got[1].ID)
		}
		if len(ids) != 5 {
			t.Errorf("%d communications, want 5", len(ids))
		}
		// Each line was notified once, one line for each State reached
		// (its technical PoC): 1 + 2 + 1 + 1 + 2.
		var lines, emails, kept int
		q := `SELECT (SELECT COUNT(*) FROM comm_recipients), (SELECT COUNT(*) FROM outbox WHERE kind = 'comm'),
			(SELECT COUNT(*) FROM comms WHERE idem_key = 'crisis-form-1')`
		if err := w.sys.DB.QueryRow(q).Scan(&lines, &emails, &kept); err != nil {
			t.Fatal(err)
		}
		if want := 7; lines != want || emails != want || kept != 1 {
			t.Errorf("%d lines, %d e-mails, %d communications of the form sent twice; want %d, %d, 1", lines, emails, kept, want, want)
		}
	})
}
