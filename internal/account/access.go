package account

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// Access is who can act for a State, and what changed in it: the State's
// accounts with their API tokens, the invitations still open, and the
// latest changes (accounts made or disabled, invitations made, approved
// or revoked, tokens made or revoked), newest first.
type Access struct {
	State       string          `json:"state"`
	Users       []*AccessUser   `json:"users"`
	Invitations []*Invitation   `json:"invitations"`
	Changes     []*AccessChange `json:"changes"`
}

// AccessUser is an account of the State with its live API tokens.
type AccessUser struct {
	*User
	Tokens int `json:"tokens"`
}

// AccessChange is a change of who can act for a State.
type AccessChange struct {
	At time.Time `json:"at"`
	// Kind is account, disabled, invited, approved, invitation_revoked,
	// token or token_revoked.
	Kind  string `json:"kind"`
	Email string `json:"email"`
	// By is who made the change, where pocdir knows.
	By string `json:"by,omitempty"`
}

// MaxAccessChanges is how many changes Access lists.
const MaxAccessChanges = 100

// maxStateAccounts bounds the accounts and the invitations that
// StateAccess reads of one State, the newest first: far more than a State
// has (a few dozen after ten years), so that none is left out in use, and
// a bound all the same.
const maxStateAccounts = 2000

// CanSeeAccess reports whether the actor may see who can act for a State
// (StateAccess): the State's own users and the Secretariat.
func CanSeeAccess(a *app.Actor, state string) bool {
	return a != nil && (a.IsSecretariat() || a.State == state)
}

// StateAccess returns who can act for a State and what changed: for the
// State's own users and the Secretariat (no other State sees it).
func (s *Service) StateAccess(ctx context.Context, state string) (*Access, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	state = strings.ToUpper(strings.TrimSpace(state))
	if !CanSeeAccess(a, state) {
		return nil, app.ErrForbidden()
	}
	if !s.knownState(state) {
		return nil, app.ErrNotFound("state")
	}
	users, err := listUsers(ctx, s.DB, UserFilter{State: state}, app.Cursor{}, maxStateAccounts)
	if err != nil {
		return nil, err
	}
	// Shown by role, then address.
	slices.SortFunc(users, func(x, y *User) int {
		return cmp.Or(strings.Compare(string(x.Role), string(y.Role)), strings.Compare(x.Email, y.Email))
	})
	invs, err := listInvites(ctx, s.DB, state, app.Cursor{}, maxStateAccounts)
	if err != nil {
		return nil, err
	}
	tokens, err := stateTokens(ctx, s.DB, state, MaxAccessChanges, s.Now())
	if err != nil {
		return nil, err
	}
	now := s.Now()
	acc := &Access{State: state, Users: []*AccessUser{}, Invitations: []*Invitation{}, Changes: []*AccessChange{}}
	byID := map[int64]*AccessUser{}
	add := func(at *time.Time, kind, email, by string) {
		if at != nil {
			acc.Changes = append(acc.Changes, &AccessChange{At: *at, Kind: kind, Email: email, By: by})
		}
	}
	for _, u := range users {
		au := &AccessUser{User: u}
		acc.Users, byID[u.ID] = append(acc.Users, au), au
		created := u.CreatedAt
		add(&created, "account", u.Email, "")
		add(u.DisabledAt, "disabled", u.Email, "")
	}
	for _, t := range tokens {
		u := byID[t.UserID]
		if u == nil {
			continue
		}
		if t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now)) {
			u.Tokens++
		}
		created := t.CreatedAt
		add(&created, "token", u.Email, "")
		add(t.RevokedAt, "token_revoked", u.Email, "")
	}
	for _, inv := range invs {
		if inv.Pending() {
			if inv.Awaiting, err = s.awaiting(ctx, s.DB, inv); err != nil {
				return nil, err
			}
		}
		if inv.Pending() || (inv.UsedAt == nil && inv.RevokedAt == nil && inv.ExpiresAt.After(now)) {
			acc.Invitations = append(acc.Invitations, inv)
		}
		created := inv.CreatedAt
		add(&created, "invited", inv.Email, inv.InvitedBy)
		add(inv.ApprovedAt, "approved", inv.Email, inv.ApprovedBy)
		add(inv.RevokedAt, "invitation_revoked", inv.Email, "")
	}
	sort.SliceStable(acc.Changes, func(i, j int) bool { return acc.Changes[i].At.After(acc.Changes[j].At) })
	if len(acc.Changes) > MaxAccessChanges {
		acc.Changes = acc.Changes[:MaxAccessChanges]
	}
	return acc, nil
}
