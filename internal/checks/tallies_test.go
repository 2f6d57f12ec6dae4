package checks_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// wantListed fails the test when a campaign's tally in the list (read from
// the counters) differs from its tally counted from its targets.
func wantListed(t testing.TB, s *checks.Service, u *testkit.User) []*checks.Campaign {
	t.Helper()
	list := listed(t, s, u)
	for _, c := range list {
		one, err := s.Campaign(u.Ctx(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Tally != one.Tally {
			t.Errorf("%s, for %s: listed %+v, counted %+v", c.Title, u.Email, c.Tally, one.Tally)
		}
	}
	return list
}

func TestTalliesAreKeptWithEveryChange(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s, clock, ctx := w.sys.Checks, w.sys.Clock, context.Background()
		ip := "192.0.2.1"
		first, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Q1", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 48})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		links := w.links(t)
		// France's technical PoC answers in time; its diplomatic PoC's mail
		// bounces, then it answers all the same; Germany's bounces late
		// (after the relay accepted it); Kenya's answers after the window.
		if _, err := s.AnswerLink(ctx, links["cert@fra.example"][0], ip); err != nil {
			t.Fatal(err)
		}
		testkit.MailFailed(t, w.sys.DB, "mfa@fra.example", clock.Now())
		run(t, s)
		if got := wantListed(t, s, w.sec); got[0].Bounced != 1 || got[0].Answered != 1 || got[0].Queued != 4 {
			t.Errorf("after a bounce: %+v", got[0].Tally)
		}
		if _, err := s.AnswerLink(ctx, links["mfa@fra.example"][0], ip); err != nil {
			t.Fatal(err)
		}
		var outbox int64
		if err := w.sys.DB.QueryRowContext(ctx, `SELECT outbox_id FROM check_targets WHERE address = 'mfa@deu.example'`).Scan(&outbox); err != nil {
			t.Fatal(err)
		}
		err = w.sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			_, err := s.LateBounce(ctx, tx, outbox, clock.Now(), "5.1.1 unknown")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(49 * time.Hour)
		run(t, s)
		if _, err := s.AnswerLink(ctx, links["cert@ken.example"][0], ip); err != nil {
			t.Fatal(err)
		}
		// A manual campaign, one answer and one silence recorded by hand;
		// a campaign cancelled while its dispatch runs; a bilateral check.
		calls, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Calls", Scope: "states", Value: "KEN,DEU", Channel: checks.ChannelManual, WindowHours: 24})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		r, err := s.Results(w.sec.Ctx(), calls.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range r.Targets {
			if err := s.RecordManual(w.sec.Ctx(), tg.ID, tg.State == "KEN"); err != nil {
				t.Fatal(err)
			}
		}
		one := s.WithClock(clock.Now, 1)
		cancelled, err := one.Create(w.sec.Ctx(), checks.Input{Title: "Cancelled", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24})
		if err != nil {
			t.Fatal(err)
		}
		run(t, one)
		if _, err := s.Cancel(w.sec.Ctx(), cancelled.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(w.fpFRA.Ctx(), checks.Input{Title: "Bilateral", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24, Counterpart: "KEN"}); err != nil {
			t.Fatal(err)
		}
		run(t, s)

		testkit.WantCounted(t, w.sys.DB)
		list := wantListed(t, s, w.sec)
		wantListed(t, s, w.offKEN)
		wantListed(t, s, w.fpFRA)
		want := map[string]checks.Tally{
			"Q1":        {Targets: 4, Queued: 4, Answered: 2, Late: 1, Bounced: 1, Silent: 0},
			"Calls":     {Targets: 2, Queued: 2, Answered: 1, Silent: 1},
			"Cancelled": {Targets: 4, Queued: 1, Silent: 4},
		}
		for _, c := range list {
			if wt, ok := want[c.Title]; ok && c.Tally != wt {
				t.Errorf("%s: %+v, want %+v", c.Title, c.Tally, wt)
			}
		}
		if first.ID == 0 {
			t.Fatal("no campaign")
		}

		t.Run("the migration counts the existing targets", func(t *testing.T) {
			if err := w.sys.DB.MigrateDownTo(ctx, 34); err != nil {
				t.Fatal(err)
			}
			if err := w.sys.DB.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			testkit.WantCounted(t, w.sys.DB)
			again := wantListed(t, s, w.sec)
			for i := range list {
				if again[i].Tally != list[i].Tally {
					t.Errorf("%s: %+v after the migration, %+v before", list[i].Title, again[i].Tally, list[i].Tally)
				}
			}
		})
	})
}

func TestTalliesStayExactWithConcurrentWriters(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s, ctx := w.sys.Checks, context.Background()
		for _, title := range []string{"A", "B", "C"} {
			if _, err := s.Create(w.sec.Ctx(), checks.Input{Title: title, Scope: "all", Channel: checks.ChannelEmail, WindowHours: 48}); err != nil {
				t.Fatal(err)
			}
		}
		// Four instances dispatch the three campaigns a message at a time.
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for range 4 {
			inst := w.sys.Instance(t, testkit.WithConfig(func(c *system.Config) { c.CheckBatch = 1 })).Checks
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 6 {
					if _, err := inst.RunOnce(ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		run(t, s)
		// Every link is answered twice at once, on two instances, while
		// the job runs: one answer each counts.
		other := w.sys.Instance(t).Checks
		for _, ls := range w.links(t) {
			for _, link := range ls {
				for _, inst := range []*checks.Service{s, other} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := inst.AnswerLink(ctx, link, "192.0.2.7")
						if err != nil && app.ErrorCode(err) != app.Conflict {
							errs <- err
						}
					}()
				}
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := other.RunOnce(ctx); err != nil {
				errs <- err
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		testkit.WantCounted(t, w.sys.DB)
		for _, c := range wantListed(t, s, w.sec) {
			if c.Tally != (checks.Tally{Targets: 4, Queued: 4, Answered: 4}) {
				t.Errorf("%s: %+v", c.Title, c.Tally)
			}
		}
	})
}
