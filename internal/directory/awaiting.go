package directory

import (
	"context"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// KeyWarningWindow is how long before a PoC's OpenPGP key expires that its
// State's focal points are asked to renew it.
const KeyWarningWindow = 30 * 24 * time.Hour

// Awaiting is what waits for the actor in the directory: the changes the
// actor may decide (validate or confirm, return or refuse), the State's
// changes returned to it, its entry's reconfirmation when due, and its
// PoCs' OpenPGP keys about to expire. The last three are for a State's
// focal points, who act on them.
type Awaiting struct {
	Decide   []*Nomination `json:"decide"`
	Returned []*Nomination `json:"returned"`
	// Reconfirm is the State's entry when its reconfirmation is due within
	// DueSoonWindow or overdue.
	Reconfirm *State `json:"reconfirm,omitempty"`
	Keys      []*PoC `json:"expiring_keys"`
}

// Awaiting lists what waits for the actor's user (see the type).
func (s *Service) Awaiting(ctx context.Context) (*Awaiting, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	out := &Awaiting{Decide: []*Nomination{}, Returned: []*Nomination{}, Keys: []*PoC{}}
	// A read-only token lists what waits for its user (a national system
	// shows it); acting still needs a token that may write.
	user := *a
	user.ReadOnly = false
	a = &user
	// Every open nomination, unpaged: a State has at most one open
	// nomination for each part of its entry.
	list, err := s.nominations(ctx, a, NominationFilter{Status: NomSubmitted}, app.Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	// Who decides depends on what each awaits, which comes with its diff.
	if err := s.withDiffs(ctx, list); err != nil {
		return nil, err
	}
	for _, n := range list {
		if CanDecide(a, n) {
			out.Decide = append(out.Decide, n)
		}
	}
	if a.State == "" || !CanEdit(a, a.State) {
		return out, nil
	}
	if out.Returned, err = s.nominations(ctx, a, NominationFilter{State: a.State, Status: NomReturned}, app.Cursor{}, 0); err != nil {
		return nil, err
	}
	if err := s.withDiffs(ctx, out.Returned); err != nil {
		return nil, err
	}
	e, err := s.Get(ctx, a.State)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if f := e.FreshnessAt(now); f == FreshDueSoon || f == FreshOverdue {
		st := e.State
		out.Reconfirm = &st
	}
	for _, p := range e.PoCs {
		if p.PGPExpiresAt != nil && p.PGPExpiresAt.Sub(now) <= KeyWarningWindow {
			out.Keys = append(out.Keys, p)
		}
	}
	return out, nil
}
