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
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleSecretariat, RoleFocalPoint, RoleOfficer:
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
	// Secretariat.
	State string
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

// RequireActor returns the actor or an Unauthorized error.
func RequireActor(ctx context.Context) (*Actor, error) {
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
