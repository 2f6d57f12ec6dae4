package inbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/inbox"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestExerciseProposalWaits: an exercise a group of States proposes waits
// in the inbox of every Secretariat officer who may agree to it, and by
// e-mail for whom chose one per item (in place of one away, their
// delegate); once one officer agrees, it waits for the others only, to
// confirm; it leaves every inbox when confirmed, withdrawn or declined.
// Nobody else sees it there.
func TestExerciseProposalWaits(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		sec3 := sys.User(t, "sec3@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		for _, u := range []*testkit.User{sec, sec3, fpFRA, fpKEN} {
			must(t, sys.Accounts.SetPrefs(u.Ctx(), account.Prefs{Mode: account.NotifyEach}))
		}
		must(t, sys.Accounts.SetPrefs(sec2.Ctx(), account.Prefs{Mode: account.NotifyDigest}))
		// The third officer is away: the second, who chose a digest,
		// receives each e-mail in their place.
		away := sys.Clock.Now().Add(5 * 24 * time.Hour)
		must(t, sys.Accounts.SetPrefs(sec3.Ctx(), account.Prefs{Mode: account.NotifyEach, AwayUntil: &away, Delegate: sec2.Email}))
		starts := sys.Clock.Now().Add(72 * time.Hour)
		in := exercises.Input{Name: "Francophone drill", StartsAt: starts, EndsAt: starts.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
			Participants: []exercises.Participant{{State: "FRA", Level: "technical"}, {State: "KEN", Level: "technical"}}}

		waiting := func(u *testkit.User, id int64) string {
			t.Helper()
			box, err := sys.Inbox.For(u.Ctx())
			must(t, err)
			count, err := sys.Inbox.Count(u.Ctx())
			must(t, err)
			if count != box.Count {
				t.Errorf("%s: the count %d differs from the list's %d", u.Email, count, box.Count)
			}
			for _, it := range box.Items {
				if (it.Kind == inbox.KindExerciseAgreement || it.Kind == inbox.KindExerciseConfirmation) && it.ID == id {
					if it.Due == nil || !it.Due.Equal(starts) || it.Subject != in.Name || it.State != "FRA" {
						t.Errorf("%s: the item %+v", u.Email, it)
					}
					return it.Kind
				}
			}
			return ""
		}

		x, err := sys.Exercises.Propose(fpFRA.Ctx(), in)
		must(t, err)
		t.Run("a proposal waits for every Secretariat officer to agree, and for no State", func(t *testing.T) {
			for _, u := range []*testkit.User{sec, sec2, sec3} {
				if got := waiting(u, x.ID); got != inbox.KindExerciseAgreement {
					t.Errorf("%s: %q", u.Email, got)
				}
			}
			for _, u := range []*testkit.User{fpFRA, fpKEN} {
				if got := waiting(u, x.ID); got != "" {
					t.Errorf("%s: %q", u.Email, got)
				}
			}
			got := mails(t, sys, "exercise", sec.Email)
			if len(got) != 1 || !strings.Contains(got[0], "/exercises/") || strings.Contains(got[0], in.Name) || strings.Contains(got[0], "in place of") {
				t.Errorf("the first officer's e-mail: %q", got)
			}
			got = mails(t, sys, "exercise", sec2.Email)
			if len(got) != 1 || !strings.Contains(got[0], "in place of Test sec3@un.example, who is away until") || strings.Contains(got[0], "because you chose") {
				t.Errorf("the second officer's e-mails: %q", got)
			}
			if n := len(mails(t, sys, "exercise", sec3.Email)) + len(mails(t, sys, "exercise", fpFRA.Email)) + len(mails(t, sys, "exercise", fpKEN.Email)); n != 0 {
				t.Errorf("%d e-mails to the officer away or to a State", n)
			}
		})
		t.Run("once one officer agrees, it waits for the others only, to confirm", func(t *testing.T) {
			_, err := sys.Exercises.Agree(sec.Ctx(), x.ID)
			must(t, err)
			if got := waiting(sec, x.ID); got != "" {
				t.Errorf("the officer who agreed: %q", got)
			}
			for _, u := range []*testkit.User{sec2, sec3} {
				if got := waiting(u, x.ID); got != inbox.KindExerciseConfirmation {
					t.Errorf("%s: %q", u.Email, got)
				}
			}
			if got := mails(t, sys, "exercise", sec.Email); len(got) != 1 {
				t.Errorf("the officer who agreed was written to again: %d", len(got))
			}
			if got := mails(t, sys, "exercise", sec2.Email); len(got) != 2 || !strings.Contains(got[1], "second officer") {
				t.Errorf("the second officer's e-mails: %q", got)
			}
		})
		t.Run("confirmed, it leaves every inbox", func(t *testing.T) {
			_, err := sys.Exercises.Confirm(sec2.Ctx(), x.ID)
			must(t, err)
			for _, u := range []*testkit.User{sec, sec2, sec3} {
				if got := waiting(u, x.ID); got != "" {
					t.Errorf("%s: %q", u.Email, got)
				}
			}
		})
		t.Run("withdrawn by its State, a proposal leaves every inbox, agreed once or not", func(t *testing.T) {
			for _, agreed := range []bool{false, true} {
				y, err := sys.Exercises.Propose(fpFRA.Ctx(), in)
				must(t, err)
				if agreed {
					_, err := sys.Exercises.Agree(sec.Ctx(), y.ID)
					must(t, err)
				}
				for name, u := range map[string]*testkit.User{"another State's focal point": fpKEN, "a Secretariat officer": sec2} {
					if _, err := sys.Exercises.Withdraw(u.Ctx(), y.ID); err == nil {
						t.Errorf("%s withdrew France's proposal", name)
					}
				}
				got, err := sys.Exercises.Withdraw(fpFRA.Ctx(), y.ID)
				if err != nil || got.Status != exercises.Withdrawn {
					t.Fatalf("withdraw: %+v %v", got, err)
				}
				for _, u := range []*testkit.User{sec, sec2, sec3} {
					if got := waiting(u, y.ID); got != "" {
						t.Errorf("%s: %q", u.Email, got)
					}
				}
				if _, err := sys.Exercises.Agree(sec2.Ctx(), y.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("agreed to a withdrawn proposal: %v", err)
				}
				if _, err := sys.Exercises.Confirm(sec2.Ctx(), y.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("confirmed a withdrawn proposal: %v", err)
				}
				if _, err := sys.Exercises.Withdraw(fpFRA.Ctx(), y.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("withdrawn twice: %v", err)
				}
			}
		})
		t.Run("declined by one Secretariat officer, a proposal leaves every inbox, agreed once or not", func(t *testing.T) {
			for _, agreed := range []bool{false, true} {
				y, err := sys.Exercises.Propose(fpFRA.Ctx(), in)
				must(t, err)
				if agreed {
					_, err := sys.Exercises.Agree(sec.Ctx(), y.ID)
					must(t, err)
				}
				for name, u := range map[string]*testkit.User{"the proposing State's focal point": fpFRA, "another State's focal point": fpKEN} {
					if _, err := sys.Exercises.Decline(u.Ctx(), y.ID, "No."); app.ErrorCode(err) != app.Forbidden {
						t.Errorf("%s declined France's proposal: %v", name, err)
					}
				}
				got, err := sys.Exercises.Decline(sec2.Ctx(), y.ID, "The dates clash with another exercise.")
				if err != nil || got.Status != exercises.Declined {
					t.Fatalf("decline: %+v %v", got, err)
				}
				for _, u := range []*testkit.User{sec, sec2, sec3, fpFRA, fpKEN} {
					if got := waiting(u, y.ID); got != "" {
						t.Errorf("%s: %q", u.Email, got)
					}
				}
				if _, err := sys.Exercises.Agree(sec3.Ctx(), y.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("agreed to a declined proposal: %v", err)
				}
				if _, err := sys.Exercises.Confirm(sec3.Ctx(), y.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("confirmed a declined proposal: %v", err)
				}
			}
		})
	})
}
