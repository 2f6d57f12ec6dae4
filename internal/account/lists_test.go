package account_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestUserAndInvitationPages: the accounts and the invitations come a page
// at a time, each exactly once in either direction, filtered as asked, and
// no one reads beyond what they manage.
func TestUserAndInvitationPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		// Thirteen more accounts, some at the same second, some disabled,
		// one whose name holds what LIKE would take for a wildcard.
		for i := range 11 {
			if i%3 == 0 {
				sys.Clock.Advance(time.Second)
			}
			st := []string{"FRA", "KEN", "BRA"}[i%3]
			sys.User(t, fmt.Sprintf("u%02d@%s.example", i, strings.ToLower(st)), app.RoleOfficer, st)
		}
		sys.User(t, "under_score@fra.example", app.RoleOfficer, "FRA")
		sys.User(t, "underxscore@ken.example", app.RoleOfficer, "KEN")
		for _, email := range []string{"u00@fra.example", "u04@ken.example"} {
			u, err := acc.UserByEmail(app.WithActor(context.Background(), app.System), email)
			if err != nil {
				t.Fatal(err)
			}
			if err := acc.DisableUser(sec.Ctx(), u.ID); err != nil {
				t.Fatal(err)
			}
		}
		emails := func(list []*account.User) []string {
			var out []string
			for _, u := range list {
				out = append(out, u.Email)
			}
			return out
		}
		users := func(ctx context.Context, f account.UserFilter, limit int) func(k app.Cursor) ([]*account.User, *app.Cursor, *app.Cursor, error) {
			return func(k app.Cursor) ([]*account.User, *app.Cursor, *app.Cursor, error) {
				p, err := acc.Users(ctx, f, k, limit)
				if err != nil {
					return nil, nil, nil, err
				}
				return p.List, p.Older, p.Newer, nil
			}
		}
		all, err := acc.Users(sec.Ctx(), account.UserFilter{}, app.Cursor{}, app.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.List) != 17 || all.Older != nil || all.Newer != nil {
			t.Fatalf("one page of every account: %d, %v, %v", len(all.List), all.Older, all.Newer)
		}
		t.Run("pages of three give every account once, newest first, either way", func(t *testing.T) {
			older, newer := testkit.WalkPages(t, 3, users(sec.Ctx(), account.UserFilter{}, 3))
			if want := emails(all.List); !slices.Equal(emails(older), want) || !slices.Equal(emails(newer), want) {
				t.Errorf("older %v\nnewer %v\nwant  %v", emails(older), emails(newer), want)
			}
			for i := 1; i < len(older); i++ {
				a, b := older[i-1], older[i]
				if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
					t.Errorf("%s before %s", a.Email, b.Email)
				}
			}
		})
		filters := []struct {
			name string
			by   *testkit.User
			f    account.UserFilter
			want func(u *account.User) bool
		}{
			{"a State's", sec, account.UserFilter{State: "ken"}, func(u *account.User) bool { return u.State == "KEN" }},
			{"no State's", sec, account.UserFilter{State: account.NoState}, func(u *account.User) bool { return u.State == "" }},
			{"the enabled", sec, account.UserFilter{Status: account.UsersActive}, func(u *account.User) bool { return u.DisabledAt == nil }},
			{"the disabled", sec, account.UserFilter{Status: account.UsersDisabled}, func(u *account.User) bool { return u.DisabledAt != nil }},
			{"by a part of the address, in any case", sec, account.UserFilter{Query: " @KEN.ex "}, func(u *account.User) bool { return strings.HasSuffix(u.Email, "@ken.example") }},
			{"by a part of the name", sec, account.UserFilter{Query: "test U01"}, func(u *account.User) bool { return u.Email == "u01@ken.example" }},
			{"an underscore is itself, not any character", sec, account.UserFilter{Query: "r_s"}, func(u *account.User) bool { return u.Email == "under_score@fra.example" }},
			{"a percent sign is itself", sec, account.UserFilter{Query: "%"}, func(u *account.User) bool { return false }},
			{"a focal point's are their State's", fpFRA, account.UserFilter{}, func(u *account.User) bool { return u.State == "FRA" }},
			{"a focal point may name their own State", fpFRA, account.UserFilter{State: "FRA", Status: account.UsersActive}, func(u *account.User) bool {
				return u.State == "FRA" && u.DisabledAt == nil
			}},
		}
		for _, c := range filters {
			t.Run(c.name, func(t *testing.T) {
				older, _ := testkit.WalkPages(t, 2, users(c.by.Ctx(), c.f, 2))
				var want []*account.User
				for _, u := range all.List {
					if c.want(u) {
						want = append(want, u)
					}
				}
				if !slices.Equal(emails(older), emails(want)) {
					t.Errorf("got %v, want %v", emails(older), emails(want))
				}
			})
		}
		refused := []struct {
			name  string
			by    *testkit.User
			f     account.UserFilter
			limit int
			want  app.Code
		}{
			{"a focal point asks for another State's", fpFRA, account.UserFilter{State: "KEN"}, 0, app.Forbidden},
			{"a focal point asks for the Secretariat's", fpKEN, account.UserFilter{State: account.NoState}, 0, app.Forbidden},
			{"an officer asks for their own State's", offFRA, account.UserFilter{}, 0, app.Forbidden},
			{"an unknown status", sec, account.UserFilter{Status: "gone"}, 0, app.Invalid},
			{"an unknown State", sec, account.UserFilter{State: "ZZZ"}, 0, app.Invalid},
			{"a text too long", sec, account.UserFilter{Query: strings.Repeat("é", account.MaxUserQuery+1)}, 0, app.Invalid},
			{"a page too long", sec, account.UserFilter{}, app.MaxPageSize + 1, app.Invalid},
		}
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) {
				if p, err := acc.Users(c.by.Ctx(), c.f, app.Cursor{}, c.limit); app.ErrorCode(err) != c.want {
					t.Errorf("got %v, %v; want %s", p, err, c.want)
				}
			})
		}
		t.Run("an observer sees no account", func(t *testing.T) {
			obs := sys.Observer(t, "obs@osce.example", "OSCE Secretariat", sec, account.GrantInput{})
			if _, err := acc.Users(sys.ObserverCtx(t, obs), account.UserFilter{}, app.Cursor{}, 0); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("got %v", err)
			}
		})

		t.Run("the invitations come a page at a time, a focal point's of their State only", func(t *testing.T) {
			var made []string
			for i := range 7 {
				sys.Clock.Advance(time.Second)
				by, st := fpFRA, "FRA"
				if i%2 == 1 {
					by, st = fpKEN, "KEN"
				}
				inv, err := acc.Invite(by.Ctx(), account.InviteInput{Email: fmt.Sprintf("inv%d@%s.example", i, strings.ToLower(st)), Role: app.RoleOfficer})
				if err != nil {
					t.Fatal(err)
				}
				made = append([]string{inv.Email}, made...)
			}
			invites := func(u *testkit.User) func(k app.Cursor) ([]*account.Invitation, *app.Cursor, *app.Cursor, error) {
				return func(k app.Cursor) ([]*account.Invitation, *app.Cursor, *app.Cursor, error) {
					p, err := acc.Invitations(u.Ctx(), k, 2)
					if err != nil {
						return nil, nil, nil, err
					}
					return p.List, p.Older, p.Newer, nil
				}
			}
			addrs := func(list []*account.Invitation) []string {
				var out []string
				for _, inv := range list {
					out = append(out, inv.Email)
				}
				return out
			}
			older, newer := testkit.WalkPages(t, 2, invites(sec))
			if !slices.Equal(addrs(older), made) || !slices.Equal(addrs(newer), made) {
				t.Errorf("the Secretariat: older %v, newer %v, want %v", addrs(older), addrs(newer), made)
			}
			older, _ = testkit.WalkPages(t, 2, invites(fpFRA))
			for _, inv := range older {
				if inv.State != "FRA" {
					t.Errorf("France's focal point sees %s of %s", inv.Email, inv.State)
				}
			}
			if len(older) != 4 {
				t.Errorf("France's focal point sees %v", addrs(older))
			}
			if _, err := acc.Invitations(offFRA.Ctx(), app.Cursor{}, 0); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("an officer: %v", err)
			}
			if _, err := acc.Invitations(sec.Ctx(), app.Cursor{}, app.MaxPageSize+1); app.ErrorCode(err) != app.Invalid {
				t.Errorf("a page too long: %v", err)
			}
		})
	})
}

// TestDelegatesStayWithinTheirSide: while away, a user's e-mails go to
// another user of their State; outside every State, to one of the same
// role and organisation: never from the Secretariat to an observer.
func TestDelegatesStayWithinTheirSide(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		obs := sys.Observer(t, "obs@osce.example", "OSCE Secretariat", sec, account.GrantInput{})
		sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		list, err := acc.Delegates(sec.Ctx())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Email != sec2.Email {
			var got []string
			for _, u := range list {
				got = append(got, u.Email)
			}
			t.Errorf("the Secretariat's delegates: %v", got)
		}
		away := sys.Clock.Now().Add(48 * time.Hour)
		for _, who := range []string{obs.Email, "fp@fra.example"} {
			if err := acc.SetPrefs(sec.Ctx(), account.Prefs{Mode: account.NotifyEach, AwayUntil: &away, Delegate: who}); app.ErrorCode(err) != app.Invalid {
				t.Errorf("the Secretariat's delegate %s: %v", who, err)
			}
		}
		if err := acc.SetPrefs(sec.Ctx(), account.Prefs{Mode: account.NotifyEach, AwayUntil: &away, Delegate: sec2.Email}); err != nil {
			t.Errorf("the Secretariat's delegate %s: %v", sec2.Email, err)
		}
		standIn := func() string {
			t.Helper()
			r, ok, err := account.StandIn(context.Background(), sys.DB, sec.ID, sys.Clock.Now())
			if err != nil || !ok {
				t.Fatalf("%v %v", ok, err)
			}
			return r.Email
		}
		if got := standIn(); got != sec2.Email {
			t.Errorf("stands in for the Secretariat officer away: %s", got)
		}
		// An observer chosen before this version: the mail goes to the
		// officer, and the migration undoes the choice.
		if err := sys.DB.MigrateDownTo(context.Background(), 43); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.DB.ExecContext(context.Background(), `UPDATE users SET delegate_id = $1 WHERE id = $2`, obs.ID, sec.ID); err != nil {
			t.Fatal(err)
		}
		if got := standIn(); got != sec.Email {
			t.Errorf("an observer stands in for the Secretariat officer away: %s", got)
		}
		if err := sys.DB.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		var delegate sql.NullInt64
		if err := sys.DB.QueryRowContext(context.Background(), `SELECT delegate_id FROM users WHERE id = $1`, sec.ID).Scan(&delegate); err != nil || delegate.Valid {
			t.Errorf("after the migration the delegate is %v (%v)", delegate, err)
		}
	})
}

// TestAccessReadsTheNewestTokens: who can act for a State counts every
// token in force, however old, and lists the newest changes of its tokens,
// without reading every token its users ever made.
func TestAccessReadsTheNewestTokens(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		for i := range 3 {
			if _, err := acc.CreateToken(off.Ctx(), 0, fmt.Sprintf("in force %d", i), "read", 0); err != nil {
				t.Fatal(err)
			}
		}
		// One that expires, never revoked: not in force.
		if _, err := acc.CreateToken(off.Ctx(), 0, "for a day", "read", 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		sys.Clock.Advance(25 * time.Hour)
		var last *account.Token
		for i := range account.MaxAccessChanges + 20 {
			sys.Clock.Advance(time.Minute)
			tok, err := acc.CreateToken(off.Ctx(), 0, fmt.Sprintf("churn %d", i), "read", 0)
			if err != nil {
				t.Fatal(err)
			}
			sys.Clock.Advance(time.Minute)
			if err := acc.RevokeToken(off.Ctx(), tok.ID); err != nil {
				t.Fatal(err)
			}
			last = tok
		}
		a, err := acc.StateAccess(off.Ctx(), "FRA")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Users) != 1 || a.Users[0].Tokens != 3 {
			t.Errorf("the tokens in force: %+v", a.Users)
		}
		if len(a.Changes) != account.MaxAccessChanges {
			t.Fatalf("%d changes", len(a.Changes))
		}
		if c := a.Changes[0]; c.Kind != "token_revoked" || !c.At.Equal(sys.Clock.Now()) {
			t.Errorf("the newest change: %+v (the last token, %d, revoked at %v)", c, last.ID, sys.Clock.Now())
		}
		for i := 1; i < len(a.Changes); i++ {
			if a.Changes[i].At.After(a.Changes[i-1].At) || !a.Changes[i].At.Before(a.Changes[i-1].At) {
				t.Fatalf("change %d at %v after %v", i, a.Changes[i].At, a.Changes[i-1].At)
			}
		}
	})
}
