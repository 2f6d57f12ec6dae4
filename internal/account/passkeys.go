package account

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
)

// Passkeys (WebAuthn) are the phishing-resistant second factor, beside the
// authenticator's codes: a user registers several, names them, removes
// them, and signs in with one after the password; an account may accept
// passkeys only. The browser binds a passkey to pocdir's domain, so a look-
// alike site cannot use it.
//
// A ceremony (registration or sign-in) is a challenge that pocdir keeps on
// the browser's session until the answer comes back, once.

// Passkey is one of a user's passkeys, as the account page lists it.
type Passkey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`

	cred webauthn.Credential
}

// MaxPasskeys is how many passkeys a user may have.
const MaxPasskeys = 10

// MaxPasskeyName is the longest name of a passkey, in characters.
const MaxPasskeyName = 60

// webUser is a user as the WebAuthn library sees it.
type webUser struct {
	u     *User
	creds []webauthn.Credential
}

// WebAuthnID is the user handle: the account's number, which says nothing
// about the person.
func (w webUser) WebAuthnID() []byte                         { return userHandle(w.u.ID) }
func (w webUser) WebAuthnName() string                       { return w.u.Email }
func (w webUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }
func (w webUser) WebAuthnDisplayName() string {
	if w.u.Name != "" {
		return w.u.Name
	}
	return w.u.Email
}

func userHandle(id int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(id))
	return b
}

// relyingParty is pocdir as the WebAuthn relying party of origin (the
// portal's address: scheme, host and port).
func relyingParty(origin string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, app.Errorf(app.Invalid, "error.passkey_origin", "passkeys need the portal's address (https://host)")
	}
	return webauthn.New(&webauthn.Config{
		RPID:                  u.Hostname(),
		RPDisplayName:         "pocdir",
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout},
		},
	})
}

// ceremonyTimeout is how long the browser and the authenticator have to
// answer a ceremony.
const ceremonyTimeout = 5 * time.Minute

// ceremony is what waits on a session between the two steps.
type ceremony struct {
	Kind    string               `json:"kind"` // register | login
	Session webauthn.SessionData `json:"session"`
}

func (s *Service) startCeremony(ctx context.Context, sessionID int64, kind string, sd *webauthn.SessionData) error {
	b, err := json.Marshal(ceremony{Kind: kind, Session: *sd})
	if err != nil {
		return err
	}
	return setCeremony(ctx, s.DB, sessionID, string(b))
}

// takeCeremony returns the ceremony of kind waiting on the session, and
// ends it: an answer is taken once.
func (s *Service) takeCeremony(ctx context.Context, sessionID int64, kind string) (*webauthn.SessionData, error) {
	raw, err := takeCeremony(ctx, s.DB, sessionID)
	if err != nil {
		return nil, err
	}
	var c ceremony
	if raw == "" || json.Unmarshal([]byte(raw), &c) != nil || c.Kind != kind || !c.Session.Expires.After(time.Now()) {
		return nil, app.Errorf(app.Invalid, "error.passkey_ceremony", "the passkey step has expired or was not started: try again")
	}
	return &c.Session, nil
}

// errPasskey is the one answer to a passkey that does not verify; the
// reason is for the log, not the browser.
func errPasskey() *app.Error {
	return app.Errorf(app.Invalid, "error.passkey_failed", "the passkey could not be verified: try again, or use another one")
}

// BeginPasskey starts registering a passkey for the signed-in user and
// returns the options for navigator.credentials.create, as JSON.
func (s *Service) BeginPasskey(ctx context.Context, origin string) ([]byte, error) {
	a, err := ownSession(ctx)
	if err != nil {
		return nil, err
	}
	u, keys, err := s.userWithPasskeys(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if len(keys) >= MaxPasskeys {
		return nil, app.Errorf(app.Conflict, "error.passkey_count", "you have the most passkeys an account may have: remove one first")
	}
	rp, err := relyingParty(origin)
	if err != nil {
		return nil, err
	}
	wu := webUser{u: u, creds: credentials(keys)}
	var exclude []protocol.CredentialDescriptor
	for _, c := range wu.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, sd, err := rp.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, err
	}
	if err := s.startCeremony(ctx, a.SessionID, "register", sd); err != nil {
		return nil, err
	}
	return json.Marshal(creation)
}

// AddPasskey completes the registration with the browser's answer and
// keeps the passkey under name.
func (s *Service) AddPasskey(ctx context.Context, origin, name string, answer []byte) (*Passkey, error) {
	a, err := ownSession(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, app.FieldError("name", "error.required", "required", nil)
	case n > MaxPasskeyName:
		return nil, app.FieldError("name", "error.too_long", "too long", map[string]any{"Max": MaxPasskeyName})
	}
	if e := app.CheckText("name", name); e != nil {
		return nil, e
	}
	sd, err := s.takeCeremony(ctx, a.SessionID, "register")
	if err != nil {
		return nil, err
	}
	u, keys, err := s.userWithPasskeys(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	rp, err := relyingParty(origin)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return nil, errPasskey()
	}
	cred, err := rp.CreateCredential(webUser{u: u, creds: credentials(keys)}, *sd, parsed)
	if err != nil {
		return nil, errPasskey()
	}
	p := &Passkey{Name: name, CreatedAt: s.Now(), cred: *cred}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertPasskey(ctx, tx, u.ID, p); err != nil {
			return err
		}
		if err := s.tellUser(ctx, tx, u, p.CreatedAt, "mail.passkey.added", "Name", p.Name); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "passkey.add", "user", u.ID, u.State, p.CreatedAt)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Passkeys lists the signed-in user's passkeys.
func (s *Service) Passkeys(ctx context.Context) ([]*Passkey, error) {
	a, err := app.RequireAnyActor(ctx)
	if err != nil {
		return nil, err
	}
	return passkeysOf(ctx, s.DB, a.UserID)
}

// RemovePasskey removes one of the signed-in user's passkeys. The last
// second factor cannot go: an account that accepts passkeys only keeps
// one, and one without an authenticator keeps its last passkey.
func (s *Service) RemovePasskey(ctx context.Context, id int64) error {
	a, err := ownSession(ctx)
	if err != nil {
		return err
	}
	u, keys, err := s.userWithPasskeys(ctx, a.UserID)
	if err != nil {
		return err
	}
	name := ""
	for _, k := range keys {
		if k.ID == id {
			name = k.Name
		}
	}
	if name == "" {
		return app.ErrNotFound("passkey")
	}
	if len(keys) == 1 && (u.PasskeysOnly || !u.TOTPEnabled) {
		return app.Errorf(app.Conflict, "error.passkey_last", "this is your last second factor: add another before removing it")
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := deletePasskey(ctx, tx, u.ID, id); err != nil {
			return err
		}
		if err := s.tellUser(ctx, tx, u, s.Now(), "mail.passkey.removed", "Name", name); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "passkey.remove", "user", u.ID, u.State, s.Now())
	})
}

// SetPasskeysOnly makes the signed-in user's account accept passkeys only
// (on), or the authenticator's codes too.
func (s *Service) SetPasskeysOnly(ctx context.Context, on bool) error {
	a, err := ownSession(ctx)
	if err != nil {
		return err
	}
	u, err := getUser(ctx, s.DB, "id = $1", a.UserID)
	if err != nil || u == nil {
		return app.ErrUnauthenticated()
	}
	if on && u.Passkeys == 0 {
		return app.Errorf(app.Conflict, "error.passkeys_none", "add a passkey first")
	}
	if !on && !u.TOTPEnabled {
		return app.Errorf(app.Conflict, "error.passkeys_no_totp", "this account has no authenticator: passkeys are its only second factor")
	}
	typ := "passkeys_only.off"
	if on {
		typ = "passkeys_only.on"
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := setPasskeysOnly(ctx, tx, u.ID, on); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, typ, "user", u.ID, u.State, s.Now())
	})
}

// BeginPasskeyLogin starts the second factor with a passkey for a session
// that has given the password, and returns the options for
// navigator.credentials.get, as JSON.
func (s *Service) BeginPasskeyLogin(ctx context.Context, token, origin string) ([]byte, error) {
	st, err := s.partial(ctx, token)
	if err != nil {
		return nil, err
	}
	_, keys, err := s.userWithPasskeys(ctx, st.User.ID)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, app.Errorf(app.Conflict, "error.passkeys_none", "this account has no passkey")
	}
	rp, err := relyingParty(origin)
	if err != nil {
		return nil, err
	}
	assertion, sd, err := rp.BeginLogin(webUser{u: st.User, creds: credentials(keys)})
	if err != nil {
		return nil, err
	}
	if err := s.startCeremony(ctx, st.Session.ID, "login", sd); err != nil {
		return nil, err
	}
	return json.Marshal(assertion)
}

// FinishPasskeyLogin checks the browser's answer and, when right, returns
// the full session that replaces the partial one. A wrong answer counts as
// a failed attempt.
func (s *Service) FinishPasskeyLogin(ctx context.Context, token, origin string, answer []byte) (*Session, error) {
	st, err := s.partial(ctx, token)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if st.User.lockedUntil != nil && st.User.lockedUntil.After(now) {
		return nil, errLocked()
	}
	sd, err := s.takeCeremony(ctx, st.Session.ID, "login")
	if err != nil {
		return nil, err
	}
	_, keys, err := s.userWithPasskeys(ctx, st.User.ID)
	if err != nil {
		return nil, err
	}
	rp, err := relyingParty(origin)
	if err != nil {
		return nil, err
	}
	fail := func() (*Session, error) {
		if err := s.failed(ctx, st.User.ID, "second_factor"); err != nil {
			return nil, err
		}
		return nil, errPasskey()
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return fail()
	}
	cred, err := rp.ValidateLogin(webUser{u: st.User, creds: credentials(keys)}, *sd, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		// A signature counter that went back means a copied authenticator.
		return fail()
	}
	var used *Passkey
	for _, k := range keys {
		if string(k.cred.ID) == string(cred.ID) {
			used = k
		}
	}
	if used == nil {
		return fail()
	}
	used.cred = *cred
	return s.completeLogin(ctx, st, func(tx *sql.Tx) (bool, error) {
		if err := passkeyUsed(ctx, tx, used, now); err != nil {
			return false, err
		}
		return passkeyLoginSucceeded(ctx, tx, st.User.ID, now)
	})
}

// tellUser writes to the user of a change to their second factors, so
// that one made with a stolen session does not go unseen.
func (s *Service) tellUser(ctx context.Context, tx *sql.Tx, u *User, now time.Time, key string, args ...any) error {
	body := []notify.Text{notify.T(key, args...), notify.T("mail.passkey.footer", "Link", s.mail.Link("/account#passkeys"))}
	l := notify.Letter{Kind: "access", To: notify.Reader{Email: u.Email, Lang: u.Language}, Subject: notify.T("mail.passkey.subject"), Body: body}
	return notify.Enqueue(ctx, tx, now, s.mail.Write(l))
}

// userWithPasskeys reads a user and their passkeys.
func (s *Service) userWithPasskeys(ctx context.Context, id int64) (*User, []*Passkey, error) {
	u, err := getUser(ctx, s.DB, "id = $1", id)
	if err != nil {
		return nil, nil, err
	}
	if u == nil {
		return nil, nil, app.ErrUnauthenticated()
	}
	keys, err := passkeysOf(ctx, s.DB, id)
	return u, keys, err
}

func credentials(keys []*Passkey) []webauthn.Credential {
	out := make([]webauthn.Credential, len(keys))
	for i, k := range keys {
		out[i] = k.cred
	}
	return out
}
