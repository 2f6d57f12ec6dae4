package account_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestObserverInvitation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.test", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@fra.test", app.RoleFocalPoint, "FRA")
		t.Run("a focal point cannot invite an observer", func(t *testing.T) {
			_, err := sys.Accounts.Invite(fp.Ctx(), account.InviteInput{Email: "osce@osce.test", Role: app.RoleObserver, Organisation: "OSCE Secretariat"})
			if got := app.ErrorCode(err); got != app.Forbidden {
				t.Fatalf("got %v (%v), want forbidden", got, err)
			}
		})
		for _, c := range []struct {
			name  string
			in    account.InviteInput
			field string
		}{
			{"an observer without an organisation is refused", account.InviteInput{Email: "a@osce.test", Role: app.RoleObserver}, "organisation"},
			{"an observer of a State is refused", account.InviteInput{Email: "b@osce.test", Role: app.RoleObserver, State: "FRA", Organisation: "OSCE"}, "state"},
			{"an organisation for a PoC officer is refused", account.InviteInput{Email: "c@fra.test", Role: app.RoleOfficer, State: "FRA", Organisation: "OSCE"}, "organisation"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := sys.Accounts.Invite(sec.Ctx(), c.in)
				if e := app.AsError(err); e.Code != app.Invalid || !hasField(e, c.field) {
					t.Fatalf("got %v, want invalid %s", err, c.field)
				}
			})
		}
		t.Run("the Secretariat's invitation of an observer waits for a second officer", func(t *testing.T) {
			inv, err := sys.Accounts.Invite(sec.Ctx(), account.InviteInput{Email: "osce@osce.test", Role: app.RoleObserver, Organisation: "OSCE Secretariat"})
			if err != nil {
				t.Fatal(err)
			}
			if !inv.Pending() || inv.Awaiting != account.AwaitingSecondOfficer || inv.Token != "" {
				t.Fatalf("invitation %+v: want pending for a second officer, without a link", inv)
			}
			if _, err := sys.Accounts.ApproveInvitation(sec.Ctx(), inv.ID); app.ErrorCode(err) != app.Forbidden {
				t.Fatalf("the inviter approved their own invitation: %v", err)
			}
			ok, err := sys.Accounts.ApproveInvitation(sys.Approver(t).Ctx(), inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Accounts.AcceptInvitation(context.Background(), ok.Token, "", testkit.Password, "192.0.2.1", "test"); err != nil {
				t.Fatal(err)
			}
			list, err := sys.Accounts.Observers(sec.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].User.Organisation != "OSCE Secretariat" || list[0].User.State != "" || list[0].Grant != nil {
				t.Fatalf("observers %+v: want the OSCE Secretariat, granted nothing", list)
			}
		})
	})
}

func hasField(e *app.Error, field string) bool {
	if e.Field == field {
		return true
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestObserverGrantsNeedTwoOfficers(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.test", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@fra.test", app.RoleFocalPoint, "FRA")
		obs := sys.Observer(t, "osce@osce.test", "OSCE Secretariat", sec, account.GrantInput{})
		other := sys.Observer(t, "oas@oas.test", "OAS", sec, account.GrantInput{})
		grantOf := func(t *testing.T) *app.Grant { return app.ActorFrom(sys.ObserverCtx(t, obs)).Grant }

		t.Run("an observer granted nothing carries no grant", func(t *testing.T) {
			if g := grantOf(t); g != nil {
				t.Fatalf("grant %+v, want none", g)
			}
		})
		var proposed *account.ObserverGrant
		t.Run("a proposed grant does not take effect", func(t *testing.T) {
			var err error
			proposed, err = sys.Accounts.ProposeGrant(sec.Ctx(), obs.ID, account.GrantInput{States: []string{"fra", " DEU", "FRA"}, Offers: true})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"DEU", "FRA"}; !slices.Equal(proposed.States, want) {
				t.Errorf("states %v, want %v", proposed.States, want)
			}
			if g := grantOf(t); g != nil {
				t.Fatalf("grant %+v before approval, want none", g)
			}
		})
		refused := []struct {
			name string
			ctx  func(t *testing.T) context.Context
			code app.Code
		}{
			{"the officer who proposed it", func(*testing.T) context.Context { return sec.Ctx() }, app.Forbidden},
			{"a focal point", func(*testing.T) context.Context { return fp.Ctx() }, app.Forbidden},
			{"the observer itself", func(t *testing.T) context.Context { return sys.ObserverCtx(t, obs) }, app.Forbidden},
			{"another observer", func(t *testing.T) context.Context { return sys.ObserverCtx(t, other) }, app.Forbidden},
		}
		for _, c := range refused {
			t.Run(c.name+" cannot approve it", func(t *testing.T) {
				if _, err := sys.Accounts.ApproveGrant(c.ctx(t), proposed.ID); app.ErrorCode(err) != c.code {
					t.Fatalf("got %v, want %v", err, c.code)
				}
			})
			if c.name == "the officer who proposed it" {
				continue
			}
			t.Run(c.name+" cannot propose a grant", func(t *testing.T) {
				if _, err := sys.Accounts.ProposeGrant(c.ctx(t), obs.ID, account.GrantInput{States: []string{"KEN"}}); app.ErrorCode(err) != c.code {
					t.Fatalf("got %v, want %v", err, c.code)
				}
			})
		}
		t.Run("a second officer's approval puts it in force", func(t *testing.T) {
			if _, err := sys.Accounts.ApproveGrant(sys.Approver(t).Ctx(), proposed.ID); err != nil {
				t.Fatal(err)
			}
			g := grantOf(t)
			if g == nil || !slices.Equal(g.States, []string{"DEU", "FRA"}) || !g.Offers {
				t.Fatalf("grant %+v, want DEU FRA with offers", g)
			}
			if _, err := sys.Accounts.ApproveGrant(sys.Approver(t).Ctx(), proposed.ID); app.ErrorCode(err) != app.Conflict {
				t.Fatalf("approving twice: %v, want conflict", err)
			}
		})
		t.Run("the grant's events name the States it shares", func(t *testing.T) {
			entries, err := sys.Audit.Entries(fp.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range entries {
				if e.Object == "user:"+strconv.FormatInt(obs.ID, 10) {
					types = append(types, e.Type)
				}
			}
			want := []string{"account.observer_grant.propose", "account.observer_grant.approve"}
			if !slices.Equal(types, want) {
				t.Fatalf("France's log shows %v about the observer, want %v", types, want)
			}
		})
		t.Run("a new proposal leaves the grant in force until approved", func(t *testing.T) {
			next, err := sys.Accounts.ProposeGrant(sys.Approver(t).Ctx(), obs.ID, account.GrantInput{})
			if err != nil {
				t.Fatal(err)
			}
			if g := grantOf(t); g == nil || len(g.States) != 2 {
				t.Fatalf("grant %+v, want the former one", g)
			}
			if _, err := sys.Accounts.ApproveGrant(sec.Ctx(), next.ID); err != nil {
				t.Fatal(err)
			}
			if g := grantOf(t); g == nil || len(g.States) != 0 || g.Offers {
				t.Fatalf("grant %+v, want an empty one", g)
			}
		})
		t.Run("a newer proposal replaces a pending one", func(t *testing.T) {
			first, err := sys.Accounts.ProposeGrant(sec.Ctx(), obs.ID, account.GrantInput{States: []string{"KEN"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Accounts.ProposeGrant(sec.Ctx(), obs.ID, account.GrantInput{States: []string{"DEU"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Accounts.ApproveGrant(sys.Approver(t).Ctx(), first.ID); app.ErrorCode(err) != app.NotFound {
				t.Fatalf("approving a replaced proposal: %v, want not found", err)
			}
		})
		t.Run("a second officer refuses a proposal, and the grant in force stays", func(t *testing.T) {
			in, err := sys.Accounts.ProposeGrant(sec.Ctx(), obs.ID, account.GrantInput{States: []string{"KEN"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := sys.Accounts.WithdrawGrant(fp.Ctx(), in.ID); app.ErrorCode(err) != app.Forbidden {
				t.Fatalf("a focal point refusing: %v, want forbidden", err)
			}
			if err := sys.Accounts.WithdrawGrant(sys.Approver(t).Ctx(), in.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Accounts.ApproveGrant(sys.Approver(t).Ctx(), in.ID); app.ErrorCode(err) != app.NotFound {
				t.Fatalf("approving a refused proposal: %v, want not found", err)
			}
			if g := grantOf(t); g == nil || len(g.States) != 0 {
				t.Fatalf("grant %+v, want the empty one in force", g)
			}
			list, err := sys.Accounts.Observers(sec.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range list {
				if o.User.ID == obs.ID && o.Pending != nil {
					t.Errorf("a proposal still waits: %+v", o.Pending)
				}
			}
		})
		for _, c := range []struct {
			name string
			user int64
			in   account.GrantInput
			code app.Code
		}{
			{"an unknown State is refused", obs.ID, account.GrantInput{States: []string{"XXX"}}, app.Invalid},
			{"a code that is no alpha-3 code is refused", obs.ID, account.GrantInput{States: []string{"FR"}}, app.Invalid},
			{"too many States are refused", obs.ID, account.GrantInput{States: slices.Repeat([]string{"FRA"}, account.MaxGrantStates+1)}, app.Invalid},
			{"a grant to a focal point is refused", fp.ID, account.GrantInput{States: []string{"FRA"}}, app.NotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, err := sys.Accounts.ProposeGrant(sec.Ctx(), c.user, c.in); app.ErrorCode(err) != c.code {
					t.Fatalf("got %v, want %v", err, c.code)
				}
			})
		}
	})
}
