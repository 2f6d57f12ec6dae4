package exercises_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestProposalDecline: any one Secretariat officer declines a proposal,
// draft or agreed once, with a reason France reads; nobody else may (not
// France's focal point nor its officer, another State, a read-only token,
// an observer); the reason is required and bounded; an agreed or withdrawn
// proposal is not declined; a declined one is never agreed, confirmed,
// withdrawn nor run, and its injects are never sent.
func TestProposalDecline(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, eng testkit.Engine) {
		w := newWorld(t, eng)
		fpFRA := w.sys.User(t, "fp3@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := w.sys.User(t, "fp3@ken.example", app.RoleFocalPoint, "KEN")
		sec2 := w.sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		obs := w.sys.Observer(t, "observer@osce.example", "OSCE Secretariat", w.sec, account.GrantInput{States: []string{"FRA", "KEN"}, Offers: true})
		obsCtx := w.sys.ObserverCtx(t, obs)
		readOnly := func(u *testkit.User) context.Context {
			a := *u.Actor()
			a.ReadOnly = true
			return app.WithActor(context.Background(), &a)
		}
		starts := w.sys.Clock.Now().Add(time.Hour)
		in := exercises.Input{Name: "Francophone drill", StartsAt: starts, EndsAt: starts.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
			Participants: []exercises.Participant{{State: "FRA", Level: "technical"}, {State: "KEN", Level: "technical"}}}
		propose := func(t *testing.T) *exercises.Exercise {
			t.Helper()
			e, err := w.ex.Propose(fpFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		const reason = "The dates clash with the regional exercise."

		t.Run("nobody but a Secretariat officer who may write declines", func(t *testing.T) {
			e := propose(t)
			for name, ctx := range map[string]context.Context{"the proposing State's focal point": fpFRA.Ctx(), "the proposing State's officer": w.offFRA.Ctx(),
				"another participant's focal point": fpKEN.Ctx(), "a State that takes no part": w.fpJPN.Ctx(), "an observer": obsCtx,
				"a Secretariat officer's read-only token": readOnly(w.sec)} {
				if _, err := w.ex.Decline(ctx, e.ID, reason); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s declined: %v", name, err)
				}
			}
			if got, _ := w.ex.Exercise(fpFRA.Ctx(), e.ID); got == nil || got.Status != exercises.Draft || got.Decline {
				t.Errorf("France's focal point after the refusals: %+v", got)
			}
			if got, _ := w.ex.Exercise(w.sec.Ctx(), e.ID); got == nil || !got.Decline {
				t.Error("the Secretariat is not offered to decline")
			}
			if _, err := w.ex.Decline(w.sec.Ctx(), 999999, reason); app.ErrorCode(err) != app.NotFound {
				t.Errorf("declined an exercise that does not exist: %v", err)
			}
		})
		t.Run("the reason is required and bounded", func(t *testing.T) {
			e := propose(t)
			for name, r := range map[string]string{"empty": "", "blank": " \n\t ", "too long": strings.Repeat("é", exercises.MaxReasonRunes+1),
				"not valid text": "bad \x00 byte"} {
				_, err := w.ex.Decline(w.sec.Ctx(), e.ID, r)
				var ae *app.Error
				if app.ErrorCode(err) != app.Invalid || !errors.As(err, &ae) || ae.Field != "reason" {
					t.Errorf("%s reason: %v", name, err)
				}
			}
			if _, err := w.ex.Decline(w.sec.Ctx(), e.ID, strings.Repeat("é", exercises.MaxReasonRunes)); err != nil {
				t.Errorf("a reason at the limit: %v", err)
			}
		})
		t.Run("one officer declines a draft; France reads why; nothing more happens to it", func(t *testing.T) {
			e := propose(t)
			at := starts.Add(10 * time.Minute)
			timed, err := w.ex.AddInject(fpFRA.Ctx(), e.ID, injectInput(&at))
			if err != nil {
				t.Fatal(err)
			}
			got, err := w.ex.Decline(w.sec.Ctx(), e.ID, "  "+reason+"\n")
			if err != nil || got.Status != exercises.Declined || got.DeclinedBy != w.sec.Email || got.DeclineReason != reason || got.DeclinedAt == nil ||
				got.Agree || got.Confirm || got.Decline || got.Manage {
				t.Fatalf("decline: %+v %v", got, err)
			}
			seen, err := w.ex.Exercise(fpFRA.Ctx(), e.ID)
			if err != nil || seen.Status != exercises.Declined || seen.DeclineReason != reason || seen.Withdraw || seen.Manage {
				t.Errorf("France's focal point reads %+v %v", seen, err)
			}
			if _, err := w.ex.Exercise(w.offKEN.Ctx(), e.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("Kenya sees a declined proposal: %v", err)
			}
			for name, step := range map[string]func() error{
				"agreed":         func() error { _, err := w.ex.Agree(sec2.Ctx(), e.ID); return err },
				"confirmed":      func() error { _, err := w.ex.Confirm(sec2.Ctx(), e.ID); return err },
				"withdrawn":      func() error { _, err := w.ex.Withdraw(fpFRA.Ctx(), e.ID); return err },
				"declined twice": func() error { _, err := w.ex.Decline(sec2.Ctx(), e.ID, reason); return err },
				"given an inject": func() error {
					_, err := w.ex.AddInject(fpFRA.Ctx(), e.ID, injectInput(nil))
					return err
				},
				"released by hand": func() error { _, err := w.ex.Release(w.sec.Ctx(), e.ID, timed.ID); return err },
			} {
				if err := step(); app.ErrorCode(err) != app.Conflict {
					t.Errorf("a declined proposal %s: %v", name, err)
				}
			}
			w.sys.Clock.Advance(at.Add(time.Minute).Sub(w.sys.Clock.Now()))
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 0 {
				t.Errorf("the job released %d of a declined proposal's injects: %v", n, err)
			}
			found := false
			entries, err := w.sys.Audit.Entries(w.offFRA.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				found = found || (en.Type == "exercises.declined" && strings.HasSuffix(en.Object, ":"+strconv.FormatInt(e.ID, 10)))
			}
			if !found {
				t.Error("the decline is not in France's log")
			}
			entries, err = w.sys.Audit.Entries(w.offKEN.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				if en.Type == "exercises.declined" {
					t.Error("Kenya reads the decline of France's proposal in its log")
				}
			}
		})
		// The clock has moved past the first exercise's start: a new
		// proposal starts later.
		in.StartsAt, in.EndsAt = w.sys.Clock.Now().Add(time.Hour), w.sys.Clock.Now().Add(49*time.Hour)
		t.Run("an officer declines what another agreed to, even the one who agreed", func(t *testing.T) {
			for _, by := range []*testkit.User{w.sec, sec2} {
				e := propose(t)
				if _, err := w.ex.Agree(w.sec.Ctx(), e.ID); err != nil {
					t.Fatal(err)
				}
				got, err := w.ex.Decline(by.Ctx(), e.ID, reason)
				if err != nil || got.Status != exercises.Declined || got.DeclinedBy != by.Email {
					t.Fatalf("decline by %s: %+v %v", by.Email, got, err)
				}
				if _, err := w.ex.Confirm(sec2.Ctx(), e.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("confirmed a declined proposal: %v", err)
				}
			}
		})
		t.Run("an agreed or withdrawn proposal is not declined", func(t *testing.T) {
			agreed := propose(t)
			if _, err := w.ex.Agree(w.sec.Ctx(), agreed.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.ex.Confirm(sec2.Ctx(), agreed.ID); err != nil {
				t.Fatal(err)
			}
			withdrawn := propose(t)
			if _, err := w.ex.Withdraw(fpFRA.Ctx(), withdrawn.ID); err != nil {
				t.Fatal(err)
			}
			for _, e := range []*exercises.Exercise{agreed, withdrawn} {
				if _, err := w.ex.Decline(sec2.Ctx(), e.ID, reason); app.ErrorCode(err) != app.Conflict {
					t.Errorf("declined exercise %d: %v", e.ID, err)
				}
				if got, _ := w.ex.Exercise(w.sec.Ctx(), e.ID); got == nil || got.Decline {
					t.Errorf("the Secretariat is offered to decline exercise %d", e.ID)
				}
			}
		})
		t.Run("France's focal points hear by e-mail that the Secretariat agreed or declined; no one else does", func(t *testing.T) {
			for _, u := range []*testkit.User{fpFRA, fpKEN, w.offFRA} {
				if err := w.sys.Accounts.SetPrefs(u.Ctx(), account.Prefs{Mode: account.NotifyEach}); err != nil {
					t.Fatal(err)
				}
			}
			agreed, declined := propose(t), propose(t)
			if _, err := w.ex.Agree(w.sec.Ctx(), agreed.ID); err != nil {
				t.Fatal(err)
			}
			before := len(w.catcher.Messages())
			if _, err := w.ex.Confirm(sec2.Ctx(), agreed.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.ex.Decline(sec2.Ctx(), declined.ID, reason); err != nil {
				t.Fatal(err)
			}
			w.deliver(t)
			got := map[string][]string{}
			for _, m := range w.catcher.Messages()[before:] {
				if strings.Contains(m.Subject, "answered proposed exercise") {
					for _, to := range m.To {
						got[to] = append(got[to], m.Subject+"\n"+m.Body)
					}
				}
			}
			mails := got[fpFRA.Email]
			if len(mails) != 2 {
				t.Fatalf("France's focal point received %d e-mails about the answers, want 2: %q", len(mails), got)
			}
			agreedID, declinedID := "#"+strconv.FormatInt(agreed.ID, 10), "#"+strconv.FormatInt(declined.ID, 10)
			text := strings.Join(mails, "\n")
			if !strings.Contains(text, "has agreed to the exercise your State proposed ("+agreedID+")") ||
				!strings.Contains(text, "has declined the exercise your State proposed ("+declinedID+")") {
				t.Errorf("the e-mails do not say what the Secretariat answered:\n%s", text)
			}
			if strings.Contains(text, reason) {
				t.Error("the decline's reason went out by e-mail: it stays behind the sign-in")
			}
			for _, u := range []*testkit.User{fpKEN, w.offFRA, w.sec, sec2} {
				if len(got[u.Email]) != 0 {
					t.Errorf("%s was told of France's proposal: %q", u.Email, got[u.Email])
				}
			}
		})
	})
}
