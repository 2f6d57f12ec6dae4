package testkit

import (
	"context"
	"testing"

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
