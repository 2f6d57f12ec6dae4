package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

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
	return s.newSession(ctx, s.DB, u.ID, false, now, now.Add(s.policy.PartialTTL), ip, userAgent)
}

// loginFailed counts a failed attempt against the account (when known) and
// the client address, and returns the one answer every failure gets.
func (s *Service) loginFailed(ctx context.Context, u *User, ip string, now time.Time) error {
	if u != nil {
		if err := s.failed(ctx, u.ID, "password"); err != nil {
			return err
		}
	} else {
		s.tell("password")
	}
	if ip != "" {
		if _, err := db.CountAttempt(ctx, s.DB, "ip:"+ip, now, now.Add(-s.policy.ClientWindow)); err != nil {
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
	attempts, err := db.Attempts(ctx, s.DB, "ip:"+ip, now.Add(-s.policy.ClientWindow))
	if err != nil {
		return err
	}
	if attempts >= s.policy.ClientLimit {
		s.tell("throttled")
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
	sess, revoked, err := s.sessionByHash(ctx, hashSecret(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrUnauthenticated()
	}
	if err != nil {
		return nil, err
	}
	if revoked != nil || !sess.ExpiresAt.After(now) || (sess.MFADone && now.Sub(sess.LastSeenAt) > s.policy.SessionIdle) {
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
	if sess.MFADone && u.HasSecondFactor() {
		st.Actor = u.Actor()
		st.Actor.SessionID = sess.ID
		if st.Actor.Grant, err = s.grantOf(ctx, u); err != nil {
			return nil, err
		}
		if now.Sub(sess.LastSeenAt) > time.Minute {
			// Best effort: a missed touch only shortens the idle time.
			_ = touchSession(ctx, s.DB, sess.ID, now)
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
//
// record notes the sign-in on the user (the second factor's own bookkeeping)
// and reports false when the factor was already used.
func (s *Service) completeLogin(ctx context.Context, st *SessionState, record func(tx *sql.Tx) (bool, error)) (*Session, error) {
	now := s.Now()
	var full *Session
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// Both updates are conditional, so that two requests racing with
		// the same code (or the same partial session) get one session.
		ok, err := revokeSession(ctx, tx, st.Session.ID, 0, now)
		if err != nil {
			return err
		}
		if ok {
			if ok, err = record(tx); err != nil {
				return err
			}
		}
		if !ok {
			return app.FieldError("code", "error.totp", "wrong or expired code", nil)
		}
		full, err = s.newSession(ctx, tx, st.User.ID, true, now, now.Add(s.policy.SessionMax), st.Session.IP, st.Session.UserAgent)
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
	if st.User.PasskeysOnly {
		return nil, app.FieldError("code", "error.passkeys_only", "this account signs in with a passkey only", nil)
	}
	now := s.Now()
	if st.User.lockedUntil != nil && st.User.lockedUntil.After(now) {
		return nil, errLocked()
	}
	secret, err := s.openTOTP(st.User)
	if err != nil {
		return nil, err
	}
	step, bad := checkTOTP(secret, code, now, st.User.totpLastStep)
	if bad != nil {
		if err := s.failed(ctx, st.User.ID, "second_factor"); err != nil {
			return nil, err
		}
		return nil, bad
	}
	return s.completeLogin(ctx, st, func(tx *sql.Tx) (bool, error) { return loginSucceeded(ctx, tx, st.User.ID, step, s.Now()) })
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
	if st.User.HasSecondFactor() {
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
		if err := setTOTPSecret(ctx, s.DB, st.User.ID, sealed, false); err != nil {
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
//
// After an approved reset of the second factor, the window counts from the
// approval.
func (s *Service) enrolmentOpen(u *User) error {
	from := u.CreatedAt
	if u.enrolFrom != nil && u.enrolFrom.After(from) {
		from = *u.enrolFrom
	}
	if s.Now().Sub(from) > s.policy.InviteTTL {
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
	if st.User.HasSecondFactor() || st.User.totpSecret == "" {
		return nil, app.Errorf(app.Conflict, "error.totp_enrolled", "an authenticator is already set up for this account")
	}
	if err := s.enrolmentOpen(st.User); err != nil {
		return nil, err
	}
	secret, err := s.openTOTP(st.User)
	if err != nil {
		return nil, err
	}
	step, bad := checkTOTP(secret, code, s.Now(), st.User.totpLastStep)
	if bad != nil {
		return nil, bad
	}
	return s.completeLogin(ctx, st, func(tx *sql.Tx) (bool, error) { return loginSucceeded(ctx, tx, st.User.ID, step, s.Now()) })
}

// Logout ends the session of the token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return revokeSessionByHash(ctx, s.DB, hashSecret(token), s.Now())
}

// Sessions lists the actor's open sessions.
func (s *Service) Sessions(ctx context.Context) ([]*Session, error) {
	a, err := app.RequireAnyActor(ctx)
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
	a, err := ownWrite(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := revokeSession(ctx, tx, id, a.UserID, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.ErrNotFound("session")
		}
		return logEvent(ctx, tx, a, "session.revoke", "session", id, a.State, now)
	})
}

// EndedSessionsKept is how long a session stays once it has ended
// (expired or signed out): nothing reads it afterwards, and a year of
// daily sign-ins would otherwise leave 365 rows a user.
const EndedSessionsKept = 30 * 24 * time.Hour

// purgeBatch is how many ended sessions a step of PurgeSessions deletes.
const purgeBatch = 1000

// PurgeSessions deletes up to a thousand sessions ended more than
// EndedSessionsKept ago, and says how many (the background job runs it
// again at once while it finds some).
func (s *Service) PurgeSessions(ctx context.Context) (int, error) {
	before := s.Now().Add(-EndedSessionsKept)
	var n int64
	// In a transaction: on SQLite it takes its turn with pocdir's other
	// writers rather than waiting in SQLite's busy handler.
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2)`,
			before, purgeBatch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("account: deleting ended sessions: %w", err)
	}
	return int(n), nil
}
