package demo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/demo"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestDemoDataSeedsAndItsAccountsSignIn(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		if err := demo.Seed(ctx, sys.Directory, sys.Accounts, false); err != nil {
			t.Fatal(err)
		}
		seeded, err := demo.Seeded(ctx, sys.Accounts)
		if err != nil || !seeded {
			t.Fatalf("seeded %v %v", seeded, err)
		}
		if err := demo.SeedChecks(ctx, sys.Checks); err != nil {
			t.Fatal(err)
		}
		trend, err := sys.Checks.Trend(app.WithActor(ctx, &app.Actor{Role: app.RoleSecretariat, Email: "s@example.org"}))
		if err != nil || len(trend) != 3 || trend[0].Status != "closed" || trend[2].Status != "running" || trend[0].Answered == 0 || trend[0].Late == 0 {
			t.Fatalf("check campaigns %+v %v", trend, err)
		}
		if err := demo.SeedComms(ctx, sys.Comms, sys.Accounts); err != nil {
			t.Fatal(err)
		}
		fra := app.WithActor(ctx, &app.Actor{Role: app.RoleOfficer, Email: "x@fra.example", State: "FRA"})
		if err := demo.SeedCII(ctx, sys.CII); err != nil {
			t.Fatal(err)
		}
		if lists, err := sys.CII.All(fra); err != nil || len(lists) != 7 {
			t.Fatalf("critical infrastructure lists: %d, %v", len(lists), err)
		}
		if err := demo.SeedRegional(ctx, sys.Regional, sys.Directory); err != nil {
			t.Fatal(err)
		}
		contacts, err := sys.Regional.Contacts(fra, "OSCE", "")
		if err != nil || len(contacts) != 2 {
			t.Fatalf("France's OSCE contacts: %d, %v", len(contacts), err)
		}
		for _, c := range contacts {
			if want := map[string]string{"OSCE-FRA-1": "suggested", "OSCE-FRA-2": "unmatched"}[c.Ref]; c.Status != want {
				t.Errorf("%s: %s, want %s", c.Ref, c.Status, want)
			}
		}
		in, err := sys.Comms.Comms(fra, comms.Filter{Box: "in"})
		if err != nil || len(in) != 3 {
			t.Fatalf("France's inbox: %d, %v", len(in), err)
		}
		out, err := sys.Comms.Comms(fra, comms.Filter{Box: "out"})
		if err != nil || len(out) != 1 || len(out[0].Recipients) < 3 {
			t.Fatalf("France's sent communications: %+v, %v", out, err)
		}
		for _, a := range demo.Accounts {
			sys.Clock.Advance(30 * time.Second)
			p, err := sys.Accounts.Login(ctx, a.Email, demo.Password, "192.0.2.1", "t")
			if err != nil {
				t.Fatalf("%s: %v", a.Email, err)
			}
			code, _ := account.TOTPCode(a.TOTPSecret, sys.Clock.Now())
			full, err := sys.Accounts.VerifyTOTP(ctx, p.Token, code)
			if err != nil {
				t.Fatalf("%s: %v", a.Email, err)
			}
			st, err := sys.Accounts.Authenticate(ctx, full.Token)
			if err != nil || string(st.Actor.Role) != a.Role || st.Actor.State != a.State {
				t.Errorf("%s acts as %+v", a.Email, st.Actor)
			}
			list, err := sys.Directory.List(app.WithActor(ctx, st.Actor), directory.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range list {
				if s.PoCCount > 0 {
					n++
				}
				if a.Role == string(app.RoleObserver) && !slices.Contains(s.Bodies, demo.ObserverBody) {
					t.Errorf("the observer lists %s, not a member of the %s", s.Code, demo.ObserverBody)
				}
			}
			if a.Role == string(app.RoleObserver) {
				if n < 5 || len(list) > 80 || st.Actor.Grant == nil || !st.Actor.Grant.Offers {
					t.Errorf("the observer lists %d States (%d with PoCs), grant %+v: want the %s's members and the offers", len(list), n, st.Actor.Grant, demo.ObserverBody)
				}
				continue
			}
			if n < 30 {
				t.Errorf("only %d States have PoCs", n)
			}
		}
	})
}
