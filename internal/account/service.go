package account

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/seal"
)

// Config holds the account policy. The zero value is replaced by defaults.
type Config struct {
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

// DefaultConfig is the policy pocdir ships with.
var DefaultConfig = Config{
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

// Service is the account rules and authorization.
type Service struct {
	DB  *db.DB
	Now app.Clock
	Cfg Config
	// BaseURL is the public address of the site. With Catalog, invitations
	// are also sent by email through the outbox; without, the inviter passes
	// the link on.
	BaseURL string
	Catalog *i18n.Catalog
	// Seal encrypts the TOTP secrets at rest (see secret.go).
	Seal *seal.Keyring

	cacheMu sync.Mutex
	cache   map[string]cachedToken

	// Statements of the per-request lookups, prepared once: parsing the SQL
	// again on every page view cost more than running it.
	prepOnce              sync.Once
	sessionStmt, userStmt *sql.Stmt
}

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

func (s *Service) sessionByHash(ctx context.Context, hash string) *sql.Row {
	s.prepare(ctx)
	if s.sessionStmt != nil {
		return s.sessionStmt.QueryRowContext(ctx, hash)
	}
	return s.DB.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, hash)
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
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return u, err
}

type cachedToken struct {
	actor   *app.Actor
	until   time.Time
	touched time.Time
}

// NewService returns an account service with the default policy.
func NewService(d *db.DB, now app.Clock) *Service {
	return &Service{DB: d, Now: now, Cfg: DefaultConfig, cache: map[string]cachedToken{}}
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func errLogin() error {
	return app.Errorf(app.Unauthorized, "error.login", "wrong email address or password")
}

func (s *Service) stateExists(ctx context.Context, code string) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM states WHERE code = $1`, code).Scan(&n)
	return n == 1, err
}

// CreateUser creates an account directly. Only the system actor (the
// command line of an operator) may; everyone else is invited.
func (s *Service) CreateUser(ctx context.Context, in InviteInput, password string) (*User, error) {
	if app.ActorFrom(ctx) != app.System {
		return nil, app.ErrForbidden()
	}
	u, err := s.validateNewUser(ctx, in)
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
		return logEvent(ctx, tx, app.System, "user.create", "user", u.ID, u.State, u.CreatedAt)
	})
	if db.IsUniqueViolation(err) {
		return nil, app.FieldError("email", "error.email_taken", "an account with this email address exists", nil)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) validateNewUser(ctx context.Context, in InviteInput) (*User, error) {
	var v app.Validation
	u := &User{Email: normEmail(in.Email), Name: strings.TrimSpace(in.Name), Role: in.Role, State: strings.ToUpper(strings.TrimSpace(in.State)), Language: "en"}
	if !directory.ValidEmail(u.Email) {
		v.Add("email", "error.email", "not a valid email address", nil)
	}
	if len(u.Name) > 200 {
		v.Add("name", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	switch {
	case !u.Role.Valid():
		v.Add("role", "error.role", "choose a role", nil)
	case u.Role == app.RoleSecretariat && u.State != "":
		v.Add("state", "error.state_secretariat", "Secretariat accounts belong to no State", nil)
	case u.Role != app.RoleSecretariat && u.State == "":
		v.Add("state", "error.state_required", "choose the State", nil)
	case u.Role != app.RoleSecretariat:
		ok, err := s.stateExists(ctx, u.State)
		if err != nil {
			return nil, err
		}
		if !ok {
			v.Add("state", "error.state_unknown", "unknown State code", nil)
		}
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
	_, err = s.DB.ExecContext(ctx, `UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE id = $3`, sealed, true, userID)
	return err
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

// Login checks the password and opens a partial session, which allows only
// the second factor (or its enrolment). Attempts are throttled per client
// address, and the account locks after repeated failures.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (*Session, error) {
	now := s.Now()
	if err := s.checkThrottle(ctx, ip, now); err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.DB, "email = $1", normEmail(email))
	if err != nil {
		return nil, err
	}
	// Every refusal below costs one password hash and gives one answer, so
	// that neither the time nor the text tells whether an account exists or
	// is locked.
	if u == nil || u.passwordHash == "" || (u.lockedUntil != nil && u.lockedUntil.After(now)) {
		CheckPassword(dummyHash(), password)
		return nil, s.loginFailed(ctx, nil, ip, now)
	}
	if !CheckPassword(u.passwordHash, password) {
		return nil, s.loginFailed(ctx, u, ip, now)
	}
	if u.DisabledAt != nil {
		return nil, app.Errorf(app.Forbidden, "error.disabled", "this account is disabled")
	}
	return s.newSession(ctx, s.DB, u.ID, false, now, now.Add(s.Cfg.PartialTTL), ip, userAgent)
}

// loginFailed counts a failed attempt against the account (when known) and
// the client address, and returns the one answer every failure gets.
func (s *Service) loginFailed(ctx context.Context, u *User, ip string, now time.Time) error {
	if u != nil {
		if err := recordFailure(ctx, s.DB, u.ID, s.Cfg.LockAfter, now.Add(s.Cfg.LockFor)); err != nil {
			return err
		}
	}
	if ip != "" {
		if _, err := db.CountAttempt(ctx, s.DB, "ip:"+ip, now, now.Add(-s.Cfg.ClientWindow)); err != nil {
			return err
		}
	}
	return errLogin()
}

// checkThrottle refuses a client address that has failed too often in the
// current window. Only failures count, so that many people signing in
// through one proxy or NAT address do not lock each other out.
func (s *Service) checkThrottle(ctx context.Context, ip string, now time.Time) error {
	if ip == "" {
		return nil
	}
	attempts, err := db.Attempts(ctx, s.DB, "ip:"+ip, now.Add(-s.Cfg.ClientWindow))
	if err != nil {
		return err
	}
	if attempts >= s.Cfg.ClientLimit {
		return app.Errorf(app.TooMany, "error.throttled", "too many failed attempts from your address: wait a few minutes")
	}
	return nil
}

func (s *Service) newSession(ctx context.Context, q db.Queryer, userID int64, mfa bool, now, expires time.Time, ip, ua string) (*Session, error) {
	if len(ua) > 300 {
		ua = ua[:300]
	}
	sess := &Session{UserID: userID, MFADone: mfa, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires, IP: ip, UserAgent: ua, Token: newSecret("pds_")}
	if err := insertSession(ctx, q, sess, hashSecret(sess.Token)); err != nil {
		return nil, err
	}
	return sess, nil
}

// SessionState is what a session cookie resolves to.
type SessionState struct {
	Session *Session
	User    *User
	Actor   *app.Actor
}

// Authenticate resolves a session cookie. A partial session (second factor
// not yet given) resolves with MFADone false and no actor.
func (s *Service) Authenticate(ctx context.Context, token string) (*SessionState, error) {
	if !strings.HasPrefix(token, "pds_") {
		return nil, app.ErrUnauthenticated()
	}
	now := s.Now()
	sess, revoked, err := scanSession(s.sessionByHash(ctx, hashSecret(token)))
	if err == sql.ErrNoRows {
		return nil, app.ErrUnauthenticated()
	}
	if err != nil {
		return nil, err
	}
	if revoked != nil || !sess.ExpiresAt.After(now) || (sess.MFADone && now.Sub(sess.LastSeenAt) > s.Cfg.SessionIdle) {
		return nil, app.ErrUnauthenticated()
	}
	u, err := s.userByID(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	if u == nil || u.DisabledAt != nil {
		return nil, app.ErrUnauthenticated()
	}
	st := &SessionState{Session: sess, User: u}
	if sess.MFADone && u.TOTPEnabled {
		st.Actor = u.Actor()
		st.Actor.SessionID = sess.ID
		if now.Sub(sess.LastSeenAt) > time.Minute {
			_, _ = s.DB.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, now, sess.ID)
		}
	}
	return st, nil
}

func (s *Service) partial(ctx context.Context, token string) (*SessionState, error) {
	st, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	if st.Session.MFADone {
		return nil, app.Errorf(app.Conflict, "error.already_signed_in", "you are already signed in")
	}
	return st, nil
}

// completeLogin replaces the partial session by a full one with a new token,
// so that a token seen before the second factor is worth nothing after it.
func (s *Service) completeLogin(ctx context.Context, st *SessionState, step int64) (*Session, error) {
	now := s.Now()
	var full *Session
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// Both updates are conditional, so that two requests racing with
		// the same code (or the same partial session) get one session.
		ok, err := exec1(ctx, tx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now, st.Session.ID)
		if err != nil {
			return err
		}
		if ok {
			ok, err = exec1(ctx, tx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1, totp_last_step = $2, totp_enabled = $3
				WHERE id = $4 AND totp_last_step < $2`, now, step, true, st.User.ID)
			if err != nil {
				return err
			}
		}
		if !ok {
			return app.FieldError("code", "error.totp", "wrong or expired code", nil)
		}
		full, err = s.newSession(ctx, tx, st.User.ID, true, now, now.Add(s.Cfg.SessionMax), st.Session.IP, st.Session.UserAgent)
		if err != nil {
			return err
		}
		return logEvent(ctx, tx, st.User.Actor(), "login", "user", st.User.ID, st.User.State, now)
	})
	return full, err
}

// VerifyTOTP checks the second factor for a partial session and, when right,
// returns the full session that replaces it.
func (s *Service) VerifyTOTP(ctx context.Context, token, code string) (*Session, error) {
	st, err := s.partial(ctx, token)
	if err != nil {
		return nil, err
	}
	if !st.User.TOTPEnabled {
		return nil, app.Errorf(app.Conflict, "error.totp_not_enrolled", "set up your authenticator first")
	}
	now := s.Now()
	if st.User.lockedUntil != nil && st.User.lockedUntil.After(now) {
		return nil, errLocked()
	}
	secret, err := s.openTOTP(st.User)
	if err != nil {
		return nil, err
	}
	step, ok := checkTOTP(secret, code, now, st.User.totpLastStep)
	if !ok {
		if err := recordFailure(ctx, s.DB, st.User.ID, s.Cfg.LockAfter, now.Add(s.Cfg.LockFor)); err != nil {
			return nil, err
		}
		return nil, app.FieldError("code", "error.totp", "wrong or expired code", nil)
	}
	return s.completeLogin(ctx, st, step)
}

// TOTPEnrolment is what the enrolment page shows.
type TOTPEnrolment struct {
	Email  string
	Secret string
	URL    string // otpauth:// URL for the QR code
}

// BeginTOTPEnrolment returns the TOTP secret for an account that has none yet,
// creating it on first call and keeping it across reloads of the page.
func (s *Service) BeginTOTPEnrolment(ctx context.Context, token string) (*TOTPEnrolment, error) {
	st, err := s.partial(ctx, token)
	if err != nil {
		return nil, err
	}
	if st.User.TOTPEnabled {
		return nil, app.Errorf(app.Conflict, "error.totp_enrolled", "an authenticator is already set up for this account")
	}
	if err := s.enrolmentOpen(st.User); err != nil {
		return nil, err
	}
	secret, err := s.openTOTP(st.User)
	if err != nil {
		return nil, err
	}
	if secret == "" {
		k, err := NewTOTPKey(st.User.Email)
		if err != nil {
			return nil, err
		}
		secret = k.Secret()
		sealed, err := s.sealTOTP(st.User.ID, secret)
		if err != nil {
			return nil, err
		}
		if _, err := s.DB.ExecContext(ctx, `UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_enabled = $3`, sealed, st.User.ID, false); err != nil {
			return nil, err
		}
	}
	q := url.Values{"secret": {secret}, "issuer": {"pocdir"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/pocdir:" + st.User.Email, RawQuery: q.Encode()}
	return &TOTPEnrolment{Email: st.User.Email, Secret: secret, URL: u.String()}, nil
}

// enrolmentOpen refuses to set up a second factor on an account created
// longer ago than an invitation lasts: until then the password alone guards
// the account, so that window is kept short. An operator's account made
// with "pocdir user create" has the same window.
func (s *Service) enrolmentOpen(u *User) error {
	if s.Now().Sub(u.CreatedAt) > s.Cfg.InviteTTL {
		return app.Errorf(app.Forbidden, "error.enrolment_expired", "the time to set up the second factor has passed: ask for a new invitation")
	}
	return nil
}

// ConfirmTOTPEnrolment checks a first code from the new authenticator and
// completes the login.
func (s *Service) ConfirmTOTPEnrolment(ctx context.Context, token, code string) (*Session, error) {
	st, err := s.partial(ctx, token)
	if err != nil {
		return nil, err
	}
	if st.User.TOTPEnabled || st.User.totpSecret == "" {
		return nil, app.Errorf(app.Conflict, "error.totp_enrolled", "an authenticator is already set up for this account")
	}
	if err := s.enrolmentOpen(st.User); err != nil {
		return nil, err
	}
	secret, err := s.openTOTP(st.User)
	if err != nil {
		return nil, err
	}
	step, ok := checkTOTP(secret, code, s.Now(), st.User.totpLastStep)
	if !ok {
		return nil, app.FieldError("code", "error.totp", "wrong or expired code", nil)
	}
	return s.completeLogin(ctx, st, step)
}

// Logout ends the session of the token.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL`, s.Now(), hashSecret(token))
	return err
}

// Sessions lists the actor's open sessions.
func (s *Service) Sessions(ctx context.Context) ([]*Session, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	list, err := listSessions(ctx, s.DB, a.UserID, s.Now())
	for _, x := range list {
		x.Current = x.ID == a.SessionID
	}
	return list, err
}

// RevokeSession ends one of the actor's own sessions.
func (s *Service) RevokeSession(ctx context.Context, id int64) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := exec1(ctx, tx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, now, id, a.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return app.ErrNotFound("session")
		}
		return logEvent(ctx, tx, a, "session.revoke", "session", id, a.State, now)
	})
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
	if a.TokenID != 0 && a != app.System {
		return nil, app.Errorf(app.Forbidden, "error.session_required", "this needs a signed-in session with the second factor, not an API token")
	}
	return a, nil
}

// canInvite reports whether a may invite someone to role in state: the
// Secretariat invites anyone; a focal point invites officers and focal points
// of their own State.
func canInvite(a *app.Actor, role app.Role, state string) bool {
	if a.ReadOnly {
		return false
	}
	switch a.Role {
	case app.RoleSecretariat:
		return true
	case app.RoleFocalPoint:
		return role != app.RoleSecretariat && state == a.State
	}
	return false
}

// Invite creates a one-time invitation link. The returned Invitation carries
// the link's secret once; only its hash is stored.
func (s *Service) Invite(ctx context.Context, in InviteInput) (*Invitation, error) {
	a, err := requireSession(ctx)
	if err != nil {
		return nil, err
	}
	if a.Role == app.RoleOfficer {
		return nil, app.ErrForbidden()
	}
	if a.Role == app.RoleFocalPoint && in.State == "" {
		in.State = a.State
	}
	// Rights first, so that a refused inviter learns nothing from validation.
	if !canInvite(a, in.Role, strings.ToUpper(strings.TrimSpace(in.State))) {
		return nil, app.ErrForbidden()
	}
	u, err := s.validateNewUser(ctx, in)
	if err != nil {
		return nil, err
	}
	existing, err := getUser(ctx, s.DB, "email = $1", u.Email)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, app.FieldError("email", "error.email_taken", "an account with this email address exists", nil)
	}
	now := s.Now()
	lang := in.Language
	if lang == "" {
		lang = "en"
	}
	if s.Catalog != nil && !s.Catalog.Has(lang) {
		return nil, app.FieldError("language", "error.language_unknown", "unknown language", nil)
	}
	inv := &Invitation{Email: u.Email, Name: u.Name, Role: u.Role, State: u.State, Language: lang, InvitedBy: a.Email, CreatedAt: now,
		ExpiresAt: now.Add(s.Cfg.InviteTTL), Token: newSecret("pdi_")}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertInvite(ctx, tx, inv, hashSecret(inv.Token), a.UserID); err != nil {
			return err
		}
		if err := s.mailInvitation(ctx, tx, inv, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "invitation.create", "invitation", inv.ID, inv.State, now)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// mailInvitation puts the invitation email in the outbox, in the
// invitation's transaction: the link goes to the invitee's address, the one
// channel the invitation vouches for.
func (s *Service) mailInvitation(ctx context.Context, tx *sql.Tx, inv *Invitation, now time.Time) error {
	if s.BaseURL == "" || s.Catalog == nil {
		return nil
	}
	link := strings.TrimRight(s.BaseURL, "/") + "/invite/" + inv.Token
	text := func(lang string) (subject, body string) {
		l := s.Catalog.For(lang)
		return l.T("mail.invitation.subject"), l.T("mail.invitation.body", "Inviter", inv.InvitedBy, "Role", l.T("role."+string(inv.Role)),
			"State", inv.State, "Link", link, "Expires", inv.ExpiresAt.Format("2006-01-02 15:04 UTC"))
	}
	subject, body := text(inv.Language)
	if inv.Language != "en" {
		// In the recipient's language, with English below (principle 8).
		_, en := text("en")
		body += "\n\n— English —\n\n" + en
	}
	return notify.Enqueue(ctx, tx, now, notify.Message{Kind: "invitation", To: inv.Email, Subject: subject, Body: body})
}

// Invitations lists the invitations the actor may see: all for the
// Secretariat, their own State's for a focal point.
func (s *Service) Invitations(ctx context.Context) ([]*Invitation, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	switch a.Role {
	case app.RoleSecretariat:
		return listInvites(ctx, s.DB, "")
	case app.RoleFocalPoint:
		return listInvites(ctx, s.DB, a.State)
	}
	return nil, app.ErrForbidden()
}

// RevokeInvitation makes an unused invitation link worthless.
func (s *Service) RevokeInvitation(ctx context.Context, id int64) error {
	a, err := requireSession(ctx)
	if err != nil {
		return err
	}
	inv, err := getInvite(ctx, s.DB, "i.id = $1", id)
	if err != nil {
		return err
	}
	if inv == nil || (a.Role != app.RoleSecretariat && !(a.Role == app.RoleFocalPoint && inv.State == a.State)) {
		return app.ErrNotFound("invitation")
	}
	if !canInvite(a, inv.Role, inv.State) {
		return app.ErrForbidden()
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := exec1(ctx, tx, `UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL`, now, id)
		if err != nil || !ok {
			return err
		}
		return logEvent(ctx, tx, a, "invitation.revoke", "invitation", id, inv.State, now)
	})
}

// LookupInvitation returns the invitation of a link, or a clear error when
// the link is unknown, used, revoked or expired. It needs no actor: the link
// is the credential.
func (s *Service) LookupInvitation(ctx context.Context, token string) (*Invitation, error) {
	if !strings.HasPrefix(token, "pdi_") {
		return nil, errBadInvite()
	}
	inv, err := getInvite(ctx, s.DB, "i.token_hash = $1", hashSecret(token))
	if err != nil {
		return nil, err
	}
	switch {
	case inv == nil:
		return nil, errBadInvite()
	case inv.UsedAt != nil:
		return nil, app.Errorf(app.Conflict, "error.invite_used", "this invitation link has already been used: sign in instead")
	case inv.RevokedAt != nil:
		return nil, app.Errorf(app.NotFound, "error.invite_revoked", "this invitation has been withdrawn")
	case !inv.ExpiresAt.After(s.Now()):
		return nil, app.Errorf(app.NotFound, "error.invite_expired", "this invitation link has expired: ask for a new one")
	}
	return inv, nil
}

func errBadInvite() error {
	return app.Errorf(app.NotFound, "error.invite_unknown", "this invitation link is not valid")
}

// AcceptInvitation creates the invited account with its password and returns
// a partial session in which the user sets up the second factor.
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password, ip, ua string) (*Session, error) {
	inv, err := s.LookupInvitation(ctx, token)
	if err != nil {
		return nil, err
	}
	var v app.Validation
	name = strings.TrimSpace(name)
	if name == "" {
		name = inv.Name
	}
	if len(name) > 200 {
		v.Add("name", "error.too_long", "too long", map[string]any{"Max": 200})
	}
	if k, msg := checkPasswordRules(password, inv.Email); k != "" {
		v.Add("password", k, msg, map[string]any{"Min": MinPasswordLen})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var sess *Session
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		u := &User{Email: inv.Email, Name: name, Role: inv.Role, State: inv.State, Language: inv.Language, CreatedAt: now, passwordHash: hash}
		if err := insertUser(ctx, tx, u); err != nil {
			if db.IsUniqueViolation(err) {
				return app.Errorf(app.Conflict, "error.email_taken", "an account with this email address exists")
			}
			return err
		}
		ok, err := exec1(ctx, tx, `UPDATE invitations SET used_at = $1, user_id = $2 WHERE id = $3 AND used_at IS NULL AND revoked_at IS NULL`, now, u.ID, inv.ID)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.invite_used", "this invitation link has already been used: sign in instead")
		}
		sess, err = s.newSession(ctx, tx, u.ID, false, now, now.Add(s.Cfg.PartialTTL), ip, ua)
		if err != nil {
			return err
		}
		return logEvent(ctx, tx, u.Actor(), "invitation.accept", "user", u.ID, u.State, now)
	})
	return sess, err
}

// Users lists the accounts the actor may manage: all for the Secretariat,
// their own State's for a focal point.
func (s *Service) Users(ctx context.Context) ([]*User, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	switch a.Role {
	case app.RoleSecretariat:
		return listUsers(ctx, s.DB, "")
	case app.RoleFocalPoint:
		return listUsers(ctx, s.DB, a.State)
	}
	return nil, app.ErrForbidden()
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
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, now, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now, id); err != nil {
			return err
		}
		// The invitations they sent and that nobody has used yet go too.
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = $1 WHERE invited_by = $2 AND used_at IS NULL AND revoked_at IS NULL`, now, id); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "user.disable", "user", id, u.State, now)
	})
	s.dropTokenCache()
	return err
}

// ChangePassword replaces the actor's password after checking the current one.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	a, err := requireSession(ctx)
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
		if err := recordFailure(ctx, s.DB, u.ID, s.Cfg.LockAfter, now.Add(s.Cfg.LockFor)); err != nil {
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
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, failed_logins = 0 WHERE id = $2`, hash, a.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL`, now, a.UserID, a.SessionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now, a.UserID); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "password.change", "user", a.UserID, a.State, now)
	})
	s.dropTokenCache()
	return err
}

// SetLanguage records the actor's interface language.
func (s *Service) SetLanguage(ctx context.Context, lang string) error {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE users SET language = $1 WHERE id = $2`, lang, a.UserID)
	return err
}

// errLocked answers a second-factor attempt on a locked account: the user
// has already proved the password, so saying so reveals nothing new.
func errLocked() error {
	return app.Errorf(app.TooMany, "error.locked", "too many failed attempts: the account is locked for a while; try again later")
}
