package account

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// CreateUser creates an account directly. Only the system actor (the
// command line of an operator) may; everyone else is invited.
func (s *Service) CreateUser(ctx context.Context, in InviteInput, password string) (*User, error) {
	if app.ActorFrom(ctx) != app.System {
		return nil, app.ErrForbidden()
	}
	u, err := s.validateNewUser(in)
	if err != nil {
		return nil, err
	}
	if k, msg := checkPasswordRules(password, u.Email); k != "" {
		return nil, app.FieldError("password", k, msg, nil)
	}
	if u.passwordHash, err = HashPassword(password); err != nil {
		return nil, err
	}
	u.CreatedAt = s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		if err := logEvent(ctx, tx, app.System, "user.create", "user", u.ID, u.State, u.CreatedAt); err != nil {
			return err
		}
		return s.announceAccount(ctx, tx, u, u.CreatedAt)
	})
	if db.IsUniqueViolation(err) {
		return nil, app.FieldError("email", "error.email_taken", "an account with this email address exists", nil)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) validateNewUser(in InviteInput) (*User, error) {
	var v app.Validation
	u := &User{Email: normEmail(in.Email), Name: strings.TrimSpace(in.Name), Role: in.Role, State: strings.ToUpper(strings.TrimSpace(in.State)),
		Organisation: strings.TrimSpace(in.Organisation), Language: "en"}
	if !app.ValidEmail(u.Email) {
		v.Add("email", "error.email", "not a valid email address", nil)
	}
	if len(u.Name) > 200 {
		v.Add("name", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	if len(u.Organisation) > 200 {
		v.Add("organisation", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	switch {
	case !u.Role.Valid():
		v.Add("role", "error.role", "choose a role", nil)
	case u.Role == app.RoleObserver && u.State != "":
		v.Add("state", "error.state_observer", "an observer belongs to no State: it reads what the Secretariat grants", nil)
	case u.Role == app.RoleObserver && u.Organisation == "":
		v.Add("organisation", "error.required", "this field is required", nil)
	case u.Role == app.RoleObserver:
	case u.Organisation != "":
		v.Add("organisation", "error.organisation_observer", "only an observer names an organisation", nil)
	case u.Role == app.RoleSecretariat && u.State != "":
		v.Add("state", "error.state_secretariat", "Secretariat accounts belong to no State", nil)
	case u.Role != app.RoleSecretariat && u.State == "":
		v.Add("state", "error.state_required", "choose the State", nil)
	case u.Role != app.RoleSecretariat && !s.knownState(u.State):
		v.Add("state", "error.state_unknown", "unknown State code", nil)
	}
	return u, v.Err()
}

// SetTOTPSecret enrols a known TOTP secret. Only the system actor may: the
// demo uses it to print working second factors for its fictional accounts.
func (s *Service) SetTOTPSecret(ctx context.Context, userID int64, secret string) error {
	if app.ActorFrom(ctx) != app.System {
		return app.ErrForbidden()
	}
	sealed, err := s.sealTOTP(userID, secret)
	if err != nil {
		return err
	}
	return setTOTPSecret(ctx, s.DB, userID, sealed, true)
}

// UserByEmail returns the account with the address (system actor only).
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	if app.ActorFrom(ctx) != app.System {
		return nil, app.ErrForbidden()
	}
	u, err := getUser(ctx, s.DB, "email = $1", normEmail(email))
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, app.ErrNotFound("user")
	}
	return u, nil
}

// UserFilter narrows the list of accounts: to a State's (State, its code;
// NoState for the Secretariat's and the observers'), to the enabled or the
// disabled (Status), to those whose e-mail or name holds a text (Query).
type UserFilter struct {
	State  string
	Status string
	Query  string
}

// NoState is UserFilter.State for the accounts of no State.
const NoState = "-"

// The statuses of UserFilter ("" is every account).
const (
	UsersActive   = "active"
	UsersDisabled = "disabled"
)

// MaxUserQuery is the longest text a list of accounts is searched for.
const MaxUserQuery = 200

// UserPage is a page of accounts, with the cursors of the pages around it.
type UserPage struct {
	List         []*User
	Older, Newer *app.Cursor
}

// Users lists a page of the accounts the actor may manage, newest first
// from the cursor k, limit of them (app.PageSize when 0): any for the
// Secretariat, their own State's for a focal point (asking for another
// State's is forbidden).
func (s *Service) Users(ctx context.Context, f UserFilter, k app.Cursor, limit int) (*UserPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	f.State = strings.ToUpper(strings.TrimSpace(f.State))
	switch a.Role {
	case app.RoleSecretariat:
	case app.RoleFocalPoint:
		if f.State != "" && f.State != a.State {
			return nil, app.ErrForbidden()
		}
		f.State = a.State
	default:
		return nil, app.ErrForbidden()
	}
	f.Query = strings.TrimSpace(f.Query)
	var v app.Validation
	if f.State != "" && f.State != NoState && !s.knownState(f.State) {
		v.Add("state", "error.state_unknown", "unknown State", nil)
	}
	if f.Status != "" && f.Status != UsersActive && f.Status != UsersDisabled {
		v.Add("status", "error.status", "unknown status", nil)
	}
	if len([]rune(f.Query)) > MaxUserQuery {
		v.Add("q", "error.too_long", "too long", map[string]any{"Max": MaxUserQuery})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if limit, err = app.Limit(limit); err != nil {
		return nil, err
	}
	list, err := listUsers(ctx, s.DB, f, k, limit+1)
	if err != nil {
		return nil, err
	}
	p := &UserPage{}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, func(u *User) app.Cursor { return app.CursorAt(u.CreatedAt, u.ID) })
	return p, nil
}

// DisableUser closes an account and ends its sessions and tokens. The
// Secretariat may disable anyone but itself; a focal point, the other
// accounts of their own State.
func (s *Service) DisableUser(ctx context.Context, id int64) error {
	a, err := requireSession(ctx)
	if err != nil {
		return err
	}
	u, err := getUser(ctx, s.DB, "id = $1", id)
	if err != nil {
		return err
	}
	visible := u != nil && (a.Role == app.RoleSecretariat || (a.Role == app.RoleFocalPoint && u.State == a.State))
	if !visible {
		return app.ErrNotFound("user")
	}
	if u.ID == a.UserID || (a.Role == app.RoleFocalPoint && u.Role == app.RoleSecretariat) {
		return app.ErrForbidden()
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := disableUser(ctx, tx, id, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "user.disable", "user", id, u.State, now)
	})
	s.dropTokenCache()
	return err
}

// ChangePassword replaces the actor's password after checking the current one.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	a, err := ownSession(ctx)
	if err != nil {
		return err
	}
	u, err := getUser(ctx, s.DB, "id = $1", a.UserID)
	if err != nil || u == nil {
		return app.ErrUnauthenticated()
	}
	now := s.Now()
	if u.lockedUntil != nil && u.lockedUntil.After(now) {
		return errLocked()
	}
	if !CheckPassword(u.passwordHash, current) {
		// Guesses count like failed logins, so a borrowed session cannot try
		// passwords without limit.
		if err := s.failed(ctx, u.ID, "password"); err != nil {
			return err
		}
		return app.FieldError("current", "error.password_wrong", "the current password is not right", nil)
	}
	if k, msg := checkPasswordRules(next, u.Email); k != "" {
		return app.FieldError("password", k, msg, map[string]any{"Min": MinPasswordLen})
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	// Other sessions and every API token end: a password change is often a
	// reaction to a leak.
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := setPassword(ctx, tx, a.UserID, a.SessionID, hash, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "password.change", "user", a.UserID, a.State, now)
	})
	s.dropTokenCache()
	return err
}

// SetLanguage records the actor's interface language.
func (s *Service) SetLanguage(ctx context.Context, lang string) error {
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return err
	}
	return setLanguage(ctx, s.DB, a.UserID, lang)
}

// SetTimeZone sets the zone the signed-in user reads times in: an IANA
// name, or empty for their State's.
func (s *Service) SetTimeZone(ctx context.Context, zone string) error {
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return err
	}
	if zone != "" {
		if _, err := time.LoadLocation(zone); err != nil || zone == "Local" || len(zone) > 64 {
			return app.FieldError("time_zone", "error.time_zone", "not an IANA time zone", nil)
		}
	}
	return setTimeZone(ctx, s.DB, a.UserID, zone)
}

// Me returns the signed-in user's account.
func (s *Service) Me(ctx context.Context) (*User, error) {
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.DB, "id = $1", a.UserID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, app.ErrUnauthenticated()
	}
	return u, nil
}
