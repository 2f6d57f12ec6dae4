package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
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
		seeded, err := demo.Seeded(ctx, sys.DB.DB)
		if err != nil || !seeded {
			t.Fatalf("seeded %v %v", seeded, err)
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
			}
			if n < 30 {
				t.Errorf("only %d States have PoCs", n)
			}
		}
	})
}
