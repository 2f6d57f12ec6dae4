package testkit

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// Validator returns the Secretariat account that validates the changes
// made through the helpers below, created on first use.
func (s *System) Validator(t testing.TB) *User {
	t.Helper()
	s.validatorOnce.Do(func() { s.validator = s.User(t, "validator@secretariat.test", app.RoleSecretariat, "") })
	return s.validator
}

// Validate validates a nomination as the Secretariat, failing the test on
// any error (including the one that came with the nomination).
func (s *System) Validate(t testing.TB, n *directory.Nomination, err error) *directory.Nomination {
	t.Helper()
	if err != nil {
		t.Fatalf("nomination: %v", err)
	}
	v, err := s.Directory.ValidateNomination(s.Validator(t).Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "Note verbale No. 1/2026"})
	if err != nil {
		t.Fatalf("validate nomination %d: %v", n.ID, err)
	}
	return v
}

// AddPoC proposes a PoC as the actor in ctx and has it validated: the PoC
// as the directory now lists it.
func (s *System) AddPoC(t testing.TB, ctx context.Context, state string, in directory.PoCInput) *directory.PoC {
	t.Helper()
	n, err := s.Directory.ProposePoC(ctx, state, in)
	n = s.Validate(t, n, err)
	return s.poc(t, n.PoCID)
}

// ChangePoC proposes new values for a PoC (at its current version when
// in.Version is 0) and has them validated.
func (s *System) ChangePoC(t testing.TB, ctx context.Context, id int64, in directory.PoCInput) *directory.PoC {
	t.Helper()
	if in.Version == 0 {
		in.Version = s.poc(t, id).Version
	}
	n, err := s.Directory.ProposePoCUpdate(ctx, id, in)
	s.Validate(t, n, err)
	return s.poc(t, id)
}

// RemovePoC proposes removing a PoC (effective today when eff is empty)
// and has it validated.
func (s *System) RemovePoC(t testing.TB, ctx context.Context, id int64, eff string) {
	t.Helper()
	n, err := s.Directory.ProposePoCRemoval(ctx, id, directory.RemovalInput{Version: s.poc(t, id).Version, EffectiveDate: eff})
	s.Validate(t, n, err)
}

// ChangeEntry proposes entry-level fields (at the entry's current version
// when in.Version is 0) and has them validated.
func (s *System) ChangeEntry(t testing.TB, ctx context.Context, state string, in directory.EntryInput) *directory.Entry {
	t.Helper()
	read := app.WithActor(context.Background(), app.System)
	if in.Version == 0 {
		e, err := s.Directory.Get(read, state)
		if err != nil {
			t.Fatal(err)
		}
		in.Version = e.Version
	}
	n, err := s.Directory.ProposeEntryUpdate(ctx, state, in)
	s.Validate(t, n, err)
	e, err := s.Directory.Get(read, state)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (s *System) poc(t testing.TB, id int64) *directory.PoC {
	t.Helper()
	p, err := s.Directory.GetPoC(app.WithActor(context.Background(), app.System), id)
	if err != nil {
		t.Fatalf("poc %d: %v", id, err)
	}
	return p
}

// Invite makes an invitation as by and, when it waits for a second
// person, approves it as that person would: a focal point of the State, or
// the Approver (a second officer). It returns the invitation with its link.
func (s *System) Invite(t testing.TB, by *User, in account.InviteInput) *account.Invitation {
	t.Helper()
	inv, err := s.Accounts.Invite(by.Ctx(), in)
	if err != nil {
		t.Fatalf("invite %s: %v", in.Email, err)
	}
	if !inv.Pending() {
		return inv
	}
	approver := s.Approver(t).Ctx()
	if inv.Awaiting == account.AwaitingFocalPoint {
		sys := app.WithActor(context.Background(), app.System)
		fps, err := account.FocalPoints(sys, s.DB, inv.State)
		if err != nil || len(fps) == 0 {
			t.Fatalf("the focal points of %s: %v", inv.State, err)
		}
		u, err := s.Accounts.UserByEmail(sys, fps[0].Email)
		if err != nil {
			t.Fatal(err)
		}
		approver = app.WithActor(context.Background(), u.Actor())
	}
	a, err := s.Accounts.ApproveInvitation(approver, inv.ID)
	if err != nil {
		t.Fatalf("approve the invitation of %s: %v", in.Email, err)
	}
	return a
}

// Approver returns a second Secretariat officer, created on first use, who
// approves what another officer proposed.
func (s *System) Approver(t testing.TB) *User {
	t.Helper()
	s.approverOnce.Do(func() { s.approver = s.User(t, "approver@secretariat.test", app.RoleSecretariat, "") })
	return s.approver
}
