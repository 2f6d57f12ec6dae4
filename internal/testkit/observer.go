package testkit

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
)

// Observer creates an observer's account for the organisation, with a
// TOTP second factor, and has the grant proposed by the Secretariat
// officer by and approved by the Approver (four eyes). A zero grant is
// not proposed: the observer then reads nothing.
func (s *System) Observer(t testing.TB, email, organisation string, by *User, grant account.GrantInput) *User {
	t.Helper()
	ctx := app.WithActor(context.Background(), app.System)
	u, err := s.Accounts.CreateUser(ctx, account.InviteInput{Email: email, Name: "Test " + email, Role: app.RoleObserver, Organisation: organisation}, Password)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	k, err := account.NewTOTPKey(email)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Accounts.SetTOTPSecret(ctx, u.ID, k.Secret()); err != nil {
		t.Fatal(err)
	}
	u.TOTPEnabled = true
	if len(grant.States) > 0 || grant.Offers {
		s.Grant(t, u.ID, by, grant)
	}
	return &User{User: u, Secret: k.Secret()}
}

// Grant has by propose the grant to the observer and the Approver approve
// it.
func (s *System) Grant(t testing.TB, observer int64, by *User, grant account.GrantInput) *account.ObserverGrant {
	t.Helper()
	g, err := s.Accounts.ProposeGrant(by.Ctx(), observer, grant)
	if err != nil {
		t.Fatalf("propose a grant: %v", err)
	}
	if g, err = s.Accounts.ApproveGrant(s.Approver(t).Ctx(), g.ID); err != nil {
		t.Fatalf("approve a grant: %v", err)
	}
	return g
}

// ObserverCtx returns a context acting as the observer as pocdir resolves
// it on a request (through a new API token, which may write as far as the
// role allows): with the grant in force at the time of the call.
func (s *System) ObserverCtx(t testing.TB, u *User) context.Context {
	t.Helper()
	a, err := s.Accounts.AuthenticateToken(context.Background(), s.Token(t, u, "write"))
	if err != nil {
		t.Fatal(err)
	}
	return app.WithActor(context.Background(), a)
}
