package account

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/seal"
)

// The service is split by use case: sessions.go (sign-in, the second
// factor, sessions), invitations.go, users.go (accounts and passwords),
// token.go (API tokens), readers.go (whom other capabilities write to);
// its SQL is in store.go.

// Policy holds the account policy. The zero value is replaced by defaults.
type Policy struct {
	InviteTTL     time.Duration // how long an invitation link is valid
	SessionIdle   time.Duration // a session ends after this long unused
	SessionMax    time.Duration // and in any case after this long
	PartialTTL    time.Duration // time to give the second factor after the password
	LockAfter     int           // failed attempts before the account locks
	LockFor       time.Duration
	ClientLimit   int // login attempts per client address per window
	ClientWindow  time.Duration
	TokenCacheTTL time.Duration // how long a verified API token is trusted without a database read
}

// DefaultPolicy is the policy pocdir ships with.
var DefaultPolicy = Policy{
	InviteTTL:     7 * 24 * time.Hour,
	SessionIdle:   2 * time.Hour,
	SessionMax:    12 * time.Hour,
	PartialTTL:    10 * time.Minute,
	LockAfter:     5,
	LockFor:       15 * time.Minute,
	ClientLimit:   30,
	ClientWindow:  15 * time.Minute,
	TokenCacheTTL: time.Second,
}

// Config is what the account service is built from.
type Config struct {
	DB  *db.DB
	Now app.Clock
	// Mail writes the invitations (sent through the outbox when it has the
	// portal's address; without, the inviter passes the link on).
	Mail *notify.Writer
	// Seal encrypts the TOTP secrets at rest (see secret.go). It is nil
	// only in the administration commands, which set no second factor.
	Seal *seal.Keyring
	// KnownState reports whether a State code is in the reference list
	// (the directory's), for accounts that belong to a State.
	KnownState func(code string) bool
	// Policy is DefaultPolicy when zero.
	Policy Policy
	// Refused, when set, is told of each refused sign-in by its reason:
	// "password", "second_factor", "throttled", and "lockout" when a
	// failure locks an account (the operator's metrics).
	Refused func(reason string)
}

// Service is the account rules and authorization.
type Service struct {
	// DB and Now are set by New and never changed.
	DB  *db.DB
	Now app.Clock

	policy     Policy
	mail       *notify.Writer
	seal       *seal.Keyring
	knownState func(string) bool

	cacheMu sync.Mutex
	cache   map[[sha256.Size]byte]cachedToken
	refused func(reason string)

	// Statements of the per-request lookups, prepared once: parsing the SQL
	// again on every page view cost more than running it.
	prepOnce              sync.Once
	sessionStmt, userStmt *sql.Stmt
}

type cachedToken struct {
	actor   *app.Actor
	until   time.Time
	touched time.Time
}

// New returns the account service.
func New(c Config) *Service {
	if c.Policy == (Policy{}) {
		c.Policy = DefaultPolicy
	}
	if c.KnownState == nil {
		panic("account: New needs KnownState")
	}
	return &Service{DB: c.DB, Now: c.Now, policy: c.Policy, mail: c.Mail, seal: c.Seal, knownState: c.KnownState, cache: map[[sha256.Size]byte]cachedToken{}, refused: c.Refused}
}

// failed counts a failed sign-in against an account (see recordFailure) and
// tells the metrics why, and whether it locked the account.
func (s *Service) failed(ctx context.Context, userID int64, reason string) error {
	locked, err := recordFailure(ctx, s.DB, userID, s.policy.LockAfter, s.Now().Add(s.policy.LockFor))
	if err != nil {
		return err
	}
	s.tell(reason)
	if locked {
		s.tell("lockout")
	}
	return nil
}

func (s *Service) tell(reason string) {
	if s.refused != nil {
		s.refused(reason)
	}
}

// Policy returns the account policy in force.
func (s *Service) Policy() Policy { return s.policy }

func (s *Service) prepare(ctx context.Context) {
	s.prepOnce.Do(func() {
		var err error
		if s.sessionStmt, err = s.DB.PrepareContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`); err != nil {
			s.sessionStmt = nil
		}
		if s.userStmt, err = s.DB.PrepareContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`); err != nil {
			s.userStmt = nil
		}
	})
}

func (s *Service) sessionByHash(ctx context.Context, hash string) (*Session, *time.Time, error) {
	s.prepare(ctx)
	var row *sql.Row
	if s.sessionStmt != nil {
		row = s.sessionStmt.QueryRowContext(ctx, hash)
	} else {
		row = s.DB.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, hash)
	}
	sess, revoked, err := scanSession(row)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("account store: reading a session: %w", err)
	}
	return sess, revoked, err
}

func (s *Service) userByID(ctx context.Context, id int64) (*User, error) {
	s.prepare(ctx)
	var row *sql.Row
	if s.userStmt != nil {
		row = s.userStmt.QueryRowContext(ctx, id)
	} else {
		row = s.DB.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	}
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account store: reading user %d: %w", id, err)
	}
	return u, nil
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func errLogin() error {
	return app.Errorf(app.Unauthorized, "error.login", "wrong email address or password")
}

// errLocked answers a second-factor attempt on a locked account: the user
// has already proved the password, so saying so reveals nothing new.
func errLocked() error {
	return app.Errorf(app.TooMany, "error.locked", "too many failed attempts: the account is locked for a while; try again later")
}

// requireSession returns the actor of a signed-in browser session (password
// and second factor), refusing API tokens: managing accounts and passwords
// is not delegated to long-lived tokens, so a stolen token cannot create
// accounts or take over one.
func requireSession(ctx context.Context) (*app.Actor, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	return a, sessionOnly(a)
}

// ownSession is requireSession for what a user does to their own account
// (password, passkeys, tokens): observers too.
func ownSession(ctx context.Context) (*app.Actor, error) {
	a, err := ownWrite(ctx)
	if err != nil {
		return nil, err
	}
	return a, sessionOnly(a)
}

// ownWrite returns whoever signed in, observers included, refusing
// read-only tokens: for changes to one's own account.
func ownWrite(ctx context.Context) (*app.Actor, error) {
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.ReadOnly {
		return nil, app.Errorf(app.Forbidden, "error.read_only_token", "this API token is read-only")
	}
	return a, nil
}

func sessionOnly(a *app.Actor) error {
	if a.TokenID != 0 && a != app.System {
		return app.Errorf(app.Forbidden, "error.session_required", "this needs a signed-in session with the second factor, not an API token")
	}
	return nil
}

// canInvite reports whether a may invite someone to role in state: the
// Secretariat invites anyone (observers included); a focal point invites
// officers and focal points of their own State.
func canInvite(a *app.Actor, role app.Role, state string) bool {
	if a.ReadOnly {
		return false
	}
	switch a.Role {
	case app.RoleSecretariat:
		return true
	case app.RoleFocalPoint:
		return (role == app.RoleFocalPoint || role == app.RoleOfficer) && state == a.State
	}
	return false
}
