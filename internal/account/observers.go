package account

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
)

// The events of observers' grants. A grant's event names the States it
// shares, so that each State sees in its own log who was given its entry.
var _ = auditlog.Register("account.observer_grant.propose", "account.observer_grant.approve", "account.observer_grant.withdraw")

// MaxGrantStates bounds a grant's list of States: every State, at most.
const MaxGrantStates = 250

// ObserverGrant is what the Secretariat grants an observer to read: the
// directory entries of some States, and the capacity-building offers. One
// officer proposes it; it takes effect when a second one approves it.
type ObserverGrant struct {
	ID         int64      `json:"id"`
	ObserverID int64      `json:"observer_id"`
	States     []string   `json:"states"`
	Offers     bool       `json:"offers"`
	ProposedBy string     `json:"proposed_by"`
	ProposedAt time.Time  `json:"proposed_at"`
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`

	proposedBy int64
}

// Observer is an observer's account with its grant in force and the
// proposal that waits for a second officer, if any.
type Observer struct {
	User    *User          `json:"user"`
	Grant   *ObserverGrant `json:"grant,omitempty"`
	Pending *ObserverGrant `json:"pending,omitempty"`
}

// GrantInput is a proposed grant.
type GrantInput struct {
	States []string `json:"states"`
	Offers bool     `json:"offers"`
}

// CanApproveGrant reports whether the actor may approve a proposed grant:
// a Secretariat officer in a session, never the one who proposed it.
func CanApproveGrant(a *app.Actor, g *ObserverGrant) bool {
	return a.IsSecretariat() && !a.ReadOnly && g != nil && g.ApprovedAt == nil && a.UserID != g.proposedBy &&
		!strings.EqualFold(a.Email, g.ProposedBy)
}

// Observers lists the observers' accounts with their grants (the
// Secretariat only).
func (s *Service) Observers(ctx context.Context) ([]*Observer, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	users, err := listObservers(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	grants, err := listGrants(ctx, s.DB, 0)
	if err != nil {
		return nil, err
	}
	out := make([]*Observer, 0, len(users))
	for _, u := range users {
		o := &Observer{User: u}
		o.Grant, o.Pending = splitGrants(grants[u.ID])
		out = append(out, o)
	}
	return out, nil
}

// splitGrants returns the grant in force (the latest approved) and the
// pending proposal of one observer's grants, oldest first.
func splitGrants(list []*ObserverGrant) (current, pending *ObserverGrant) {
	for _, g := range list {
		if g.ApprovedAt != nil {
			current = g
		} else {
			pending = g
		}
	}
	return current, pending
}

// ProposeGrant proposes what an observer may read. It replaces the
// observer's pending proposal and takes effect only once a second officer
// approves it (ApproveGrant). An empty grant, approved, takes every access
// away.
func (s *Service) ProposeGrant(ctx context.Context, observerID int64, in GrantInput) (*ObserverGrant, error) {
	a, err := requireSession(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	u, err := getUser(ctx, s.DB, "id = $1", observerID)
	if err != nil {
		return nil, err
	}
	if u == nil || u.Role != app.RoleObserver {
		return nil, app.ErrNotFound("observer")
	}
	states, err := s.grantStates(in.States)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	g := &ObserverGrant{ObserverID: u.ID, States: states, Offers: in.Offers, ProposedBy: a.Email, ProposedAt: now, proposedBy: a.UserID}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := withdrawPendingGrants(ctx, tx, u.ID, now); err != nil {
			return err
		}
		if err := insertGrant(ctx, tx, g); err != nil {
			return err
		}
		return logGrant(ctx, tx, a, "propose", g, now)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// grantStates checks and normalises a grant's States: known codes, each
// once, sorted.
func (s *Service) grantStates(in []string) ([]string, error) {
	if len(in) > MaxGrantStates {
		return nil, app.FieldError("states", "error.too_many", "too many", map[string]any{"Max": MaxGrantStates})
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if len(c) != 3 || !s.knownState(c) {
			return nil, app.FieldError("states", "error.state_unknown", "unknown State code", nil)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ApproveGrant is the second officer's approval of a proposed grant: from
// now on, the observer reads what it names, and no longer what its former
// grant named.
func (s *Service) ApproveGrant(ctx context.Context, id int64) (*ObserverGrant, error) {
	a, err := requireSession(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	g, err := getGrant(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, app.ErrNotFound("grant")
	}
	if g.ApprovedAt != nil {
		return nil, app.Errorf(app.Conflict, "error.grant_not_pending", "this grant does not wait for approval")
	}
	if !CanApproveGrant(a, g) {
		return nil, app.Errorf(app.Forbidden, "error.grant_own", "a second officer approves a grant: you proposed this one")
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := approveGrant(ctx, tx, g.ID, a.UserID, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.grant_not_pending", "this grant does not wait for approval")
		}
		return logGrant(ctx, tx, a, "approve", g, now)
	})
	if err != nil {
		return nil, err
	}
	// Tokens of the observer read with the new grant from now on here, and
	// within the cache's lifetime on other instances.
	s.dropTokenCache()
	g.ApprovedBy, g.ApprovedAt = a.Email, &now
	return g, nil
}

// WithdrawGrant drops a proposed grant before it is approved: the officer
// who proposed it withdraws it, another refuses it. The grant in force
// stays.
func (s *Service) WithdrawGrant(ctx context.Context, id int64) error {
	a, err := requireSession(ctx)
	if err != nil {
		return err
	}
	if !a.IsSecretariat() {
		return app.ErrForbidden()
	}
	g, err := getGrant(ctx, s.DB, id)
	if err != nil {
		return err
	}
	if g == nil {
		return app.ErrNotFound("grant")
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := withdrawGrant(ctx, tx, g.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.grant_not_pending", "this grant does not wait for approval")
		}
		return logGrant(ctx, tx, a, "withdraw", g, now)
	})
}

// grantOf returns the grant in force for an observer, nil when none: the
// actor of an observer carries it.
func (s *Service) grantOf(ctx context.Context, u *User) (*app.Grant, error) {
	if u.Role != app.RoleObserver {
		return nil, nil
	}
	g, err := currentGrant(ctx, s.DB, u.ID)
	if err != nil || g == nil {
		return nil, err
	}
	return &app.Grant{States: g.States, Offers: g.Offers}, nil
}

func logGrant(ctx context.Context, tx *sql.Tx, a *app.Actor, typ string, g *ObserverGrant, at time.Time) error {
	ev := auditlog.Event{Type: "account.observer_grant." + typ, Object: "user:" + strconv.FormatInt(g.ObserverID, 10),
		States: g.States, At: at}.By(a)
	err := auditlog.Append(ctx, tx, ev)
	return err
}
