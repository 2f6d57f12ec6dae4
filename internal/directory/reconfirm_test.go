package directory_test

import (
	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"context"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

func outboxCount(t *testing.T, sys *testkit.System, kind string) int {
	t.Helper()
	var n int
	if err := sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = $1`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFreshnessAndReconfirmation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		clock := f.sys.Clock
		fresh := func() directory.Freshness {
			st, err := dir.Get(f.offFRA.Ctx(), "FRA")
			if err != nil {
				t.Fatal(err)
			}
			return st.FreshnessAt(clock.Now())
		}
		if got := fresh(); got != directory.FreshNone {
			t.Fatalf("before any PoC: %s", got)
		}
		t.Run("an entry without PoCs cannot be reconfirmed", func(t *testing.T) {
			if _, err := dir.Reconfirm(f.fpFRA.Ctx(), "FRA"); app.ErrorCode(err) != app.Invalid {
				t.Errorf("got %v", err)
			}
		})
		f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		nominated := clock.Now()
		steps := []struct {
			after time.Duration
			want  directory.Freshness
		}{
			{0, directory.FreshCurrent},
			{334 * 24 * time.Hour, directory.FreshCurrent},
			{336 * 24 * time.Hour, directory.FreshDueSoon},
			{365 * 24 * time.Hour, directory.FreshOverdue},
		}
		for _, s := range steps {
			clock.Advance(nominated.Add(s.after).Sub(clock.Now()))
			if got := fresh(); got != s.want {
				t.Errorf("%v after the first nomination: %s, want %s", s.after, got, s.want)
			}
		}
		t.Run("the list marks the stale entry, never hides it", func(t *testing.T) {
			list, _ := dir.List(f.offFRA.Ctx(), directory.Filter{Query: "france"})
			if len(list) != 1 || list[0].Freshness != directory.FreshOverdue {
				t.Errorf("%+v", list)
			}
		})
		t.Run("only the State's focal points reconfirm", func(t *testing.T) {
			for _, u := range []*testkit.User{f.fpKEN, f.offFRA, f.sec} {
				if _, err := dir.Reconfirm(u.Ctx(), "FRA"); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s: %v", u.Email, err)
				}
			}
		})
		st, err := dir.Reconfirm(f.fpFRA.Ctx(), "FRA")
		if err != nil {
			t.Fatal(err)
		}
		if st.ConfirmedAt == nil || !st.ConfirmedAt.Equal(clock.Now()) || st.FreshnessAt(clock.Now()) != directory.FreshCurrent {
			t.Errorf("after reconfirming: %+v", st)
		}
		h, _ := dir.History(f.fpFRA.Ctx(), "FRA")
		if h[0].Action != "entry.reconfirm" || h[0].LogIndex == nil {
			t.Errorf("the reconfirmation is not a recorded, logged act: %+v", h[0])
		}
	})
}

func TestReminders(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		clock := f.sys.Clock
		f.sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
		f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		due := clock.Now().AddDate(1, 0, 0)
		// Each step: days from the due date, the reminders queued by then
		// (two focal points each).
		steps := []struct {
			days int
			want int
		}{
			{-60, 0}, {-31, 0}, {-30, 2}, {-29, 2}, {-14, 4}, {-10, 4}, {-7, 6}, {-1, 6},
			{0, 8}, {3, 8}, {7, 10}, {13, 10}, {14, 12},
		}
		for _, s := range steps {
			clock.Advance(due.AddDate(0, 0, s.days).Sub(clock.Now()))
			if _, err := dir.SendReminders(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := dir.SendReminders(context.Background()); err != nil { // a second run sends nothing new
				t.Fatal(err)
			}
			if got := outboxCount(t, f.sys, "reminder"); got != s.want {
				t.Errorf("%d days from the due date: %d reminders queued, want %d", s.days, got, s.want)
			}
		}
		t.Run("reconfirming stops the reminders", func(t *testing.T) {
			if _, err := dir.Reconfirm(f.fpFRA.Ctx(), "FRA"); err != nil {
				t.Fatal(err)
			}
			clock.Advance(8 * 24 * time.Hour)
			dir.SendReminders(context.Background())
			if got := outboxCount(t, f.sys, "reminder"); got != 12 {
				t.Errorf("%d reminders after reconfirming", got)
			}
		})
	})
}

func TestRemindersFromSeveralInstancesAtOnce(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		for _, u := range []*testkit.User{f.fpFRA, f.fpKEN} {
			f.sys.AddPoC(t, u.Ctx(), u.State, testkit.ValidPoC())
		}
		f.sys.Clock.Advance(366 * 24 * time.Hour)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			inst := f.sys.Instance(t).Directory
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := inst.SendReminders(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got := outboxCount(t, f.sys, "reminder"); got != 2 {
			t.Errorf("%d reminders queued by four instances, want one per focal point (2)", got)
		}
	})
}

func TestOperationalStatus(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) { c.Threshold = 2 }))
	st, err := f.sys.Directory.Status(f.offFRA.Ctx())
	if err != nil || st.Nominated != 0 || st.Operational || st.States != 195 {
		t.Fatalf("%+v %v", st, err)
	}
	f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
	dipl := testkit.ValidPoC()
	dipl.Level = directory.LevelDiplomatic
	f.sys.AddPoC(t, f.fpKEN.Ctx(), "KEN", dipl)
	st, _ = f.sys.Directory.Status(f.offFRA.Ctx())
	if st.Nominated != 2 || st.Technical() != 1 || st.Diplomatic() != 1 || !st.Operational || st.Fresh[directory.FreshCurrent] != 2 {
		t.Errorf("%+v", st)
	}
	if _, err := f.sys.Directory.Status(context.Background()); app.ErrorCode(err) != app.Unauthorized {
		t.Errorf("anonymous: %v", err)
	}
}

func TestThirtyDayRule(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		today := f.sys.Clock.Now()
		cases := []struct {
			effective time.Time
			late      bool
		}{
			{today, false},
			{today.AddDate(0, 0, -30), false},
			{today.AddDate(0, 0, -31), true},
			{today.AddDate(0, 0, -200), true},
			{today.AddDate(0, 0, 20), false}, // a planned change, notified ahead
		}
		for _, c := range cases {
			in := testkit.ValidPoC()
			in.EffectiveDate = c.effective.Format(time.DateOnly)
			f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
		}
		h, _ := dir.History(f.fpFRA.Ctx(), "FRA")
		for i, c := range cases {
			ch := h[len(h)-1-i]
			if ch.Late() != c.late {
				t.Errorf("change effective %s, notified %s: late %v, want %v (%d days)", ch.EffectiveDate, ch.ChangedAt.Format(time.DateOnly), ch.Late(), c.late, ch.LateDays())
			}
		}
		if _, err := dir.Reconfirm(f.fpFRA.Ctx(), "FRA"); err != nil {
			t.Fatal(err)
		}
		comp, err := dir.Compliance(f.offFRA.Ctx(), "FRA")
		if err != nil || comp.Changes != 5 || comp.Late != 2 {
			t.Errorf("FRA: %+v %v", comp, err)
		}
		all, _ := dir.Compliance(f.offFRA.Ctx(), "")
		if all.Changes != 5 || all.Late != 2 {
			t.Errorf("all: %+v", all)
		}
	})
}

func TestKeyExpiryWarnings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir, clock := f.sys.Directory, f.sys.Clock
		k, err := crypto.PGP().KeyGeneration().AddUserId("CERT", "cert@example.org").
			GenerationTime(clock.Now().Add(-time.Hour).Unix()).Lifetime(int32((60 * 24 * time.Hour) / time.Second)).New().GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		in := testkit.ValidPoC()
		in.PGPKey, _ = k.GetArmoredPublicKey()
		p := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
		expiry := *p.PGPExpiresAt
		// Days from the key's expiry, and the warnings queued by then (one
		// focal point): 30, 14 and 7 days before, and once when expired.
		for _, s := range []struct{ days, want int }{{-45, 0}, {-30, 1}, {-20, 1}, {-14, 2}, {-7, 3}, {-1, 3}, {1, 4}, {8, 4}, {30, 4}} {
			clock.Advance(expiry.AddDate(0, 0, s.days).Sub(clock.Now()))
			for range 2 { // a second run sends nothing new
				if _, err := dir.SendReminders(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if got := outboxCount(t, f.sys, "key-warning"); got != s.want {
				t.Errorf("%d days from expiry: %d warnings, want %d", s.days, got, s.want)
			}
		}
	})
}

// TestReminderWaitsForAFocalPoint: a State whose entry is due but which has
// no focal point yet gets its reminder once one is invited, not never.
func TestReminderWaitsForAFocalPoint(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0])
	// The Secretariat's PoC for Ghana, on its written request, approved by
	// a second officer: Ghana has no focal point.
	sec2 := f.sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
	in := testkit.ValidPoC()
	in.RequestRef = "NV 3/2026"
	n, err := f.sys.Directory.ProposePoC(f.sec.Ctx(), "GHA", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sys.Directory.ValidateNomination(sec2.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "NV 3/2026"}); err != nil {
		t.Fatal(err)
	}
	f.sys.Clock.Advance(360 * 24 * time.Hour)
	if _, err := f.sys.Directory.SendReminders(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.sys.User(t, "fp@gha.example", app.RoleFocalPoint, "GHA")
	if _, err := f.sys.Directory.SendReminders(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := outboxCount(t, f.sys, "reminder"); got != 1 {
		t.Errorf("%d reminders once Ghana has a focal point, want 1", got)
	}
}

// TestObserversDoNotMakeTheDirectoryOperational: the threshold counts UN
// Member States.
func TestObserversDoNotMakeTheDirectoryOperational(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) { c.Threshold = 1 }))
	sec2 := f.sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
	var observer string
	ref, _ := directory.ReferenceStates()
	for _, s := range ref {
		if s.Status == "observer" {
			observer = s.Code
		}
	}
	in := testkit.ValidPoC()
	in.RequestRef = "NV 4/2026"
	n, err := f.sys.Directory.ProposePoC(f.sec.Ctx(), observer, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sys.Directory.ValidateNomination(sec2.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "NV 4/2026"}); err != nil {
		t.Fatal(err)
	}
	st, err := f.sys.Directory.Status(f.offFRA.Ctx())
	if err != nil || st.Nominated != 1 || st.MembersNominated != 0 || st.Operational {
		t.Errorf("%+v %v", st, err)
	}
}
