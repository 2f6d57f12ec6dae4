// Package account owns who may use pocdir: users and their roles, invitations,
// passwords (argon2id), the mandatory second factor (TOTP), browser sessions,
// API tokens, and login throttling and lockout. The users table is read only
// through it: the other capabilities ask it whom to write to (readers.go).
package account

import (
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// User is an account.
type User struct {
	ID    int64    `json:"id"`
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Role  app.Role `json:"role"`
	State string   `json:"state,omitempty"`
	// Organisation is an observer's organisation; empty for everyone else.
	Organisation string `json:"organisation,omitempty"`
	TOTPEnabled  bool   `json:"totp_enabled"`
	// Passkeys is how many passkeys the user has; PasskeysOnly, whether
	// the account accepts no other second factor.
	Passkeys     int    `json:"passkeys"`
	PasskeysOnly bool   `json:"passkeys_only"`
	Language     string `json:"language"`
	// TimeZone is the IANA zone the user reads times in; empty for their
	// State's (the Secretariat's: UTC).
	TimeZone string `json:"time_zone,omitempty"`
	// OpenPGPFingerprint is the fingerprint of the user's own OpenPGP key
	// (upper-case hex), to which their offline copy is encrypted; empty
	// when they set none.
	OpenPGPFingerprint string     `json:"openpgp_fingerprint,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	LastLoginAt        *time.Time `json:"last_login_at,omitempty"`
	DisabledAt         *time.Time `json:"disabled_at,omitempty"`

	passwordHash string
	totpSecret   string
	totpLastStep int64
	failed       int
	lockedUntil  *time.Time
	enrolFrom    *time.Time // a reset's approval, which opens enrolment again
}

// HasSecondFactor reports whether the user has a second factor to sign in
// with (an authenticator's codes or a passkey): without, a session is not
// a full one, and the user enrols one after the password.
func (u *User) HasSecondFactor() bool { return u.TOTPEnabled || u.Passkeys > 0 }

// Actor returns the acting identity of the user.
func (u *User) Actor() *app.Actor {
	return &app.Actor{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, State: u.State, Organisation: u.Organisation,
		Language: u.Language, TimeZone: u.TimeZone}
}

// Invitation is a one-time link that lets its holder create an account.
type Invitation struct {
	// Emailed says that pocdir emailed the link to the invitee (when it
	// knows its public address); the inviter then need not pass it on.
	Emailed bool     `json:"-"`
	ID      int64    `json:"id"`
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	Role    app.Role `json:"role"`
	State   string   `json:"state,omitempty"`
	// Organisation is an observer's organisation.
	Organisation string     `json:"organisation,omitempty"`
	Language     string     `json:"language"`
	InvitedBy    string     `json:"invited_by"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	UsedAt       *time.Time `json:"used_at,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	// NeedsApproval is set on an invitation the Secretariat made for a
	// State's account (or a Secretariat account): it has no link until a
	// second person approves it (ApprovedBy, ApprovedAt). Awaiting says
	// whose approval it waits for, while it does.
	NeedsApproval bool       `json:"needs_approval"`
	ApprovedBy    string     `json:"approved_by,omitempty"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	Awaiting      string     `json:"awaiting,omitempty"`
	// Token is the secret of the link; it is set only when the invitation is
	// created (or approved) and is never stored in clear.
	Token string `json:"token,omitempty"`

	invitedBy int64
}

// Whose approval an invitation waits for.
const (
	AwaitingFocalPoint    = "focal_point"
	AwaitingSecondOfficer = "second_officer"
)

// Pending reports whether the invitation waits for a second person.
func (inv *Invitation) Pending() bool {
	return inv.NeedsApproval && inv.ApprovedAt == nil && inv.UsedAt == nil && inv.RevokedAt == nil
}

// Session is a browser session.
type Session struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	MFADone    bool      `json:"mfa_done"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	// Current marks the session of the request that lists the sessions.
	Current bool `json:"current"`
	// Token is the cookie value; set only when the session is created.
	Token string `json:"-"`
}

// Token is an API token.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Scope      string     `json:"scope"` // read | write
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// Secret is the bearer token; set only when the token is created.
	Secret string `json:"token,omitempty"`
}

// InviteInput is what an inviter submits.
type InviteInput struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Role  app.Role `json:"role"`
	State string   `json:"state"`
	// Organisation names an observer's organisation (and only an
	// observer's): "OSCE Secretariat".
	Organisation string `json:"organisation"`
	// Language is that of the invitation email (with English below) and of
	// the new account; English when empty.
	Language string `json:"language"`
}
