package exercises_test

import (
	"context"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestGroupProposal: France's focal point proposes an exercise for France
// and Kenya; it is a draft, seen by France and the Secretariat only, whose
// injects are not sent, until a Secretariat officer agrees and a second
// confirms (four eyes: nobody else, not the first twice); then France's
// focal points control it (add and release injects, read every
// participant's times), Kenya takes part, and no one else may act.
func TestGroupProposal(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, eng testkit.Engine) {
		w := newWorld(t, eng)
		fpFRA := w.sys.User(t, "fp3@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := w.sys.User(t, "fp3@ken.example", app.RoleFocalPoint, "KEN")
		starts := w.sys.Clock.Now().Add(time.Hour)
		in := exercises.Input{Name: "Francophone drill", StartsAt: starts, EndsAt: starts.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
			Participants: []exercises.Participant{{State: "FRA", Level: "technical"}, {State: "KEN", Level: "technical"}}}

		t.Run("only a State's focal point proposes, with its own State taking part", func(t *testing.T) {
			for _, c := range []struct {
				name string
				u    *testkit.User
				in   exercises.Input
				want app.Code
			}{
				{"an officer may not propose", w.offFRA, in, app.Forbidden},
				{"the Secretariat plans rather than proposes", w.sec, in, app.Forbidden},
				{"a proposal without the proposing State is refused", fpFRA,
					exercises.Input{Name: in.Name, StartsAt: in.StartsAt, EndsAt: in.EndsAt, TargetAckMinutes: 30, TargetAnswerMinutes: 120,
						Participants: []exercises.Participant{{State: "KEN"}}}, app.Invalid},
			} {
				t.Run(c.name, func(t *testing.T) {
					_, err := w.ex.Propose(c.u.Ctx(), c.in)
					if app.ErrorCode(err) != c.want {
						t.Errorf("got %v, want %s", err, c.want)
					}
				})
			}
		})
		e, err := w.ex.Propose(fpFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != exercises.Draft || e.ProposedBy != "FRA" || !e.Manage || e.Agree {
			t.Fatalf("proposed: status %s, by %s, manage %v, agree %v", e.Status, e.ProposedBy, e.Manage, e.Agree)
		}
		at := starts.Add(10 * time.Minute)
		if _, err := w.ex.AddInject(fpFRA.Ctx(), e.ID, injectInput(&at)); err != nil {
			t.Fatal(err)
		}
		byHand, err := w.ex.AddInject(fpFRA.Ctx(), e.ID, injectInput(nil))
		if err != nil {
			t.Fatal(err)
		}

		t.Run("a draft is seen by the proposing State and the Secretariat only", func(t *testing.T) {
			for _, c := range []struct {
				name string
				u    *testkit.User
				want app.Code
			}{
				{"the proposing State's officer reads it", w.offFRA, ""},
				{"the Secretariat reads it", w.sec, ""},
				{"another participant does not, yet", w.offKEN, app.NotFound},
				{"a State that takes no part does not", w.fpJPN, app.NotFound},
			} {
				t.Run(c.name, func(t *testing.T) {
					_, err := w.ex.Exercise(c.u.Ctx(), e.ID)
					if app.ErrorCode(err) != c.want {
						t.Errorf("got %v, want %q", err, c.want)
					}
				})
			}
			list, err := w.ex.Exercises(w.offKEN.Ctx())
			if err != nil || len(list) != 0 {
				t.Errorf("Kenya lists %d exercises: %v", len(list), err)
			}
			if got, _ := w.ex.Exercise(w.sec.Ctx(), e.ID); got == nil || !got.Agree {
				t.Error("the Secretariat is not offered to agree")
			}
		})
		t.Run("a draft's injects are not sent, by hand nor at their time", func(t *testing.T) {
			for _, u := range []*testkit.User{fpFRA, w.sec} {
				if _, err := w.ex.Release(u.Ctx(), e.ID, byHand.ID); app.ErrorCode(err) != app.Conflict {
					t.Errorf("%s released a draft's inject: %v", u.Email, err)
				}
			}
			w.sys.Clock.Advance(at.Add(time.Minute).Sub(w.sys.Clock.Now()))
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 0 {
				t.Errorf("the job released %d of a draft's injects: %v", n, err)
			}
		})
		sec2 := w.sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		obs := w.sys.Observer(t, "observer@osce.example", "OSCE Secretariat", w.sec, account.GrantInput{States: []string{"FRA", "KEN"}, Offers: true})
		obsCtx := w.sys.ObserverCtx(t, obs)
		readOnly := func(u *testkit.User) context.Context {
			a := *u.Actor()
			a.ReadOnly = true
			return app.WithActor(context.Background(), &a)
		}
		t.Run("four eyes: one Secretariat officer agrees, a second confirms, and no one else", func(t *testing.T) {
			for name, ctx := range map[string]context.Context{"the proposing State's focal point": fpFRA.Ctx(), "another participant's focal point": fpKEN.Ctx(),
				"a State that takes no part": w.fpJPN.Ctx(), "an observer": obsCtx, "a Secretariat officer's read-only token": readOnly(w.sec)} {
				if _, err := w.ex.Agree(ctx, e.ID); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s agreed: %v", name, err)
				}
				if _, err := w.ex.Confirm(ctx, e.ID); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s confirmed: %v", name, err)
				}
			}
			if _, err := w.ex.Confirm(sec2.Ctx(), e.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("confirmed before anyone agreed: %v", err)
			}
			got, err := w.ex.Agree(w.sec.Ctx(), e.ID)
			if err != nil || got.Status != exercises.Agreeing || got.FirstAgreedBy != w.sec.Email || got.AgreedBy != "" || got.Confirm {
				t.Fatalf("the first agreement: %+v %v", got, err)
			}
			if _, err := w.ex.Agree(sec2.Ctx(), e.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("a second first agreement: %v", err)
			}
			if _, err := w.ex.Confirm(w.sec.Ctx(), e.ID); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("the officer who agreed confirmed their own agreement: %v", err)
			}
			for name, ctx := range map[string]context.Context{"the proposing State's focal point": fpFRA.Ctx(), "another participant's focal point": fpKEN.Ctx(),
				"an observer": obsCtx, "the second officer's read-only token": readOnly(sec2)} {
				if _, err := w.ex.Confirm(ctx, e.ID); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s confirmed: %v", name, err)
				}
			}
			if _, err := w.ex.Exercise(w.offKEN.Ctx(), e.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("Kenya sees the exercise on one officer's agreement: %v", err)
			}
			if _, err := w.ex.Release(fpFRA.Ctx(), e.ID, byHand.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("France released an inject on one officer's agreement: %v", err)
			}
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 0 {
				t.Errorf("the job released %d injects on one officer's agreement: %v", n, err)
			}
			if got, _ := w.ex.Exercise(sec2.Ctx(), e.ID); got == nil || !got.Confirm || got.Agree {
				t.Error("the second officer is not offered to confirm, or is offered to agree")
			}
			got, err = w.ex.Confirm(sec2.Ctx(), e.ID)
			if err != nil || got.Status != exercises.Agreed || got.AgreedBy != sec2.Email || got.FirstAgreedBy != w.sec.Email {
				t.Fatalf("the confirmation: %+v %v", got, err)
			}
			if _, err := w.ex.Confirm(sec2.Ctx(), e.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("confirmed twice: %v", err)
			}
			if _, err := w.ex.Withdraw(fpFRA.Ctx(), e.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("withdrawn once agreed: %v", err)
			}
			list, err := w.ex.Exercises(w.offKEN.Ctx())
			if err != nil || len(list) != 1 || list[0].ID != e.ID || list[0].ProposedBy != "" || list[0].FirstAgreedBy != "" || list[0].AgreedBy != "" {
				t.Errorf("Kenya lists %+v (%v), want the agreed exercise without its proposer nor who agreed", list, err)
			}
		})
		t.Run("once agreed, the proposing State's focal point controls it and no other State does", func(t *testing.T) {
			for _, c := range []struct {
				name string
				u    *testkit.User
				want app.Code
			}{
				{"another participant's focal point may not release", fpKEN, app.Forbidden},
				{"another participant's officer may not release", w.offKEN, app.Forbidden},
				{"the proposing State's officer may not release", w.offFRA, app.Forbidden},
				{"a State that takes no part is told there is no such exercise", w.fpJPN, app.NotFound},
				{"the proposing State's focal point releases", fpFRA, ""},
			} {
				t.Run(c.name, func(t *testing.T) {
					_, err := w.ex.Release(c.u.Ctx(), e.ID, byHand.ID)
					if app.ErrorCode(err) != c.want {
						t.Errorf("got %v, want %q", err, c.want)
					}
				})
			}
			if _, err := w.ex.AddInject(fpKEN.Ctx(), e.ID, injectInput(nil)); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("Kenya added an inject: %v", err)
			}
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 1 {
				t.Errorf("the job released %d of the agreed exercise's timed injects: %v", n, err)
			}
		})
		t.Run("the controlling State reads every participant's times, a participant its own", func(t *testing.T) {
			w.deliver(t)
			r, err := w.ex.Report(fpFRA.Ctx(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			states := map[string]bool{}
			for _, f := range r.States {
				states[f.State] = true
			}
			if !r.Controller || !states["KEN"] || !states["FRA"] || len(r.Regions) == 0 {
				t.Errorf("France's report: controller %v, States %v, %d regions", r.Controller, states, len(r.Regions))
			}
			r, err = w.ex.Report(w.offKEN.Ctx(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.States {
				if f.State != "KEN" || r.Controller {
					t.Errorf("Kenya reads %s's line, or as controller", f.State)
				}
			}
		})
	})
}
