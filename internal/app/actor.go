package app

import (
	"context"
	"time"
)

// Role is what an account may do.
type Role string

// The roles of PRODUCT.md.
const (
	RoleSecretariat Role = "secretariat"
	RoleFocalPoint  Role = "focal-point"
	RoleOfficer     Role = "officer"
	// RoleObserver is a regional organisation (and, later, a
	// non-governmental stakeholder): it reads only what two Secretariat
	// officers granted it, and never communications.
	RoleObserver Role = "observer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleSecretariat, RoleFocalPoint, RoleOfficer, RoleObserver:
		return true
	}
	return false
}

// Actor is who is acting: a signed-in user or the holder of an API token.
type Actor struct {
	UserID int64
	Email  string
	Name   string
	Role   Role
	// State is the ISO 3166-1 alpha-3 code of the user's State; empty for the
	// Secretariat and observers.
	State string
	// Organisation is an observer's organisation ("OSCE Secretariat").
	Organisation string
	// Grant is what an observer was granted to read (approved by a second
	// officer); nil for everyone else, and for an observer granted nothing.
	Grant *Grant
	// ReadOnly is set for API tokens whose scope is read.
	ReadOnly bool
	// SessionID is set for browser sessions, TokenID for API tokens.
	SessionID int64
	TokenID   int64
	// Language is the user's chosen interface language (BCP 47).
	Language string
	// TimeZone is the user's chosen IANA time zone; empty for their
	// State's.
	TimeZone string
}

// Grant is what the Secretariat granted an observer to read.
type Grant struct {
	// States are the States whose directory entries (State page, PoCs)
	// the observer reads.
	States []string
	// Offers says that the observer reads the capacity-building offers.
	Offers bool
}

// IsMember reports whether the actor acts for a State or the Secretariat:
// the Secretariat, a focal point or a PoC officer, whatever their token's
// scope. It is the default rule of every read: an observer (or an unknown
// role) is not a member, and reads only what its Grant names.
func (a *Actor) IsMember() bool {
	if a == nil {
		return false
	}
	switch a.Role {
	case RoleSecretariat, RoleFocalPoint, RoleOfficer:
		return true
	}
	return false
}

// IsObserver reports whether the actor is an observer.
func (a *Actor) IsObserver() bool { return a != nil && a.Role == RoleObserver }

// MayReadEntry reports whether the actor may read the State's directory
// entry: every member, and an observer granted the State.
func (a *Actor) MayReadEntry(state string) bool {
	if a.IsMember() {
		return true
	}
	if !a.IsObserver() || a.Grant == nil {
		return false
	}
	for _, s := range a.Grant.States {
		if s == state {
			return true
		}
	}
	return false
}

// MayReadOffers reports whether the actor may read capacity-building
// offers: every member, and an observer granted them.
func (a *Actor) MayReadOffers() bool {
	return a.IsMember() || (a.IsObserver() && a.Grant != nil && a.Grant.Offers)
}

// IsSecretariat reports whether the actor belongs to the Secretariat.
func (a *Actor) IsSecretariat() bool { return a != nil && a.Role == RoleSecretariat }

// IsFocalPointOf reports whether the actor is a focal point of the State.
func (a *Actor) IsFocalPointOf(state string) bool {
	return a != nil && a.Role == RoleFocalPoint && a.State == state
}

// System is the actor used by command-line administration and background jobs.
var System = &Actor{Email: "system", Role: RoleSecretariat, Name: "system"}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or nil.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// RequireActor returns the acting member (see IsMember), or an
// Unauthorized error when nobody signed in and a Forbidden one for anyone
// else. It is what every service method calls first, so that an observer
// is refused everything by default: the few reads granted to observers call
// RequireAnyActor and check the grant themselves.
func RequireActor(ctx context.Context) (*Actor, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, ErrUnauthenticated()
	}
	if !a.IsMember() {
		return nil, ErrForbidden()
	}
	return a, nil
}

// RequireAnyActor returns whoever signed in, observers included. Only a
// user's own account (password, sessions, language) and the reads an
// observer may be granted use it; each then checks the grant.
func RequireAnyActor(ctx context.Context) (*Actor, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, ErrUnauthenticated()
	}
	return a, nil
}

// RequireWrite returns the actor, refusing read-only tokens.
func RequireWrite(ctx context.Context) (*Actor, error) {
	a, err := RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.ReadOnly {
		return nil, Errorf(Forbidden, "error.read_only_token", "this API token is read-only")
	}
	return a, nil
}

// Clock tells the time. Services take one so that deadlines and expiries are
// tested without sleeping.
type Clock func() time.Time

// SystemClock is the real clock, in UTC, to the microsecond that both
// database engines keep.
func SystemClock() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
