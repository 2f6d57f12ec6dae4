package account

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

const userColumns = `id, email, name, role, state_code, password_hash, totp_secret, totp_enabled, totp_last_step, language,
	failed_logins, locked_until, created_at, last_login_at, disabled_at, passkey_count, passkeys_only, enrol_from, time_zone, openpgp_fingerprint, organisation`

func scanUser(sc interface{ Scan(...any) error }) (*User, error) {
	var u User
	var state sql.NullString
	var locked, last, disabled, enrolFrom sql.NullTime
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &state, &u.passwordHash, &u.totpSecret, &u.TOTPEnabled, &u.totpLastStep,
		&u.Language, &u.failed, &locked, &u.CreatedAt, &last, &disabled, &u.Passkeys, &u.PasskeysOnly, &enrolFrom, &u.TimeZone, &u.OpenPGPFingerprint, &u.Organisation)
	if err != nil {
		return nil, err
	}
	u.State = state.String
	u.lockedUntil = db.TimeOf(locked)
	u.LastLoginAt = db.TimeOf(last)
	u.DisabledAt = db.TimeOf(disabled)
	u.enrolFrom = db.TimeOf(enrolFrom)
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func getUser(ctx context.Context, q db.Queryer, where string, arg any) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account store: reading a user: %w", err)
	}
	return u, nil
}

func insertUser(ctx context.Context, q db.Queryer, u *User) error {
	err := q.QueryRowContext(ctx, `INSERT INTO users (email, name, role, state_code, password_hash, language, created_at, organisation)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		u.Email, u.Name, string(u.Role), nullString(u.State), u.passwordHash, u.Language, u.CreatedAt, u.Organisation).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("account store: creating the account of %s: %w", u.Email, err)
	}
	return nil
}

// listUsers reads a page of accounts, newest first from the cursor k,
// limit of them (one more than a page, for Paginate): those of a State
// (f.State), or of no State ("-": the Secretariat's and the observers'),
// or of all ("").
func listUsers(ctx context.Context, q db.Queryer, f UserFilter, k app.Cursor, limit int) ([]*User, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return `$` + strconv.Itoa(len(args))
	}
	query := `SELECT ` + userColumns + ` FROM users WHERE 1 = 1`
	switch f.State {
	case "":
	case NoState:
		query += ` AND state_code IS NULL`
	default:
		query += ` AND state_code = ` + arg(f.State)
	}
	switch f.Status {
	case UsersActive:
		query += ` AND disabled_at IS NULL`
	case UsersDisabled:
		query += ` AND disabled_at IS NOT NULL`
	}
	if f.Query != "" {
		// The e-mail is stored in lower case; the name is compared in
		// lower case too (ASCII's on SQLite, all of Unicode's on
		// PostgreSQL).
		like := arg("%" + likeEscaper.Replace(strings.ToLower(f.Query)) + "%")
		query += ` AND (email LIKE ` + like + ` ESCAPE '\' OR lower(name) LIKE ` + like + ` ESCAPE '\')`
	}
	where, order := k.SQL("created_at", "id", arg)
	if where != "" {
		query += ` AND ` + where
	}
	query += order + ` LIMIT ` + arg(limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("account store: listing users: %w", err)
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing users: %w", err)
	}
	return out, nil
}

// likeEscaper makes a text match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// exec1 runs a conditional update and reports whether it changed one row;
// what says what it does, for the error.
func exec1(ctx context.Context, q db.Queryer, what, query string, args ...any) (bool, error) {
	return db.Exec1(ctx, q, "account store: "+what, query, args...)
}

func exec(ctx context.Context, q db.Queryer, what, query string, args ...any) error {
	return db.Exec(ctx, q, "account store: "+what, query, args...)
}

func touchSession(ctx context.Context, q db.Queryer, id int64, now time.Time) error {
	return exec(ctx, q, "touching a session", `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, now, id)
}

// revokeSession ends a session (of the user, when userID is set) and
// reports whether it was open.
func revokeSession(ctx context.Context, q db.Queryer, id, userID int64, now time.Time) (bool, error) {
	if userID == 0 {
		return exec1(ctx, q, "ending a session", `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now, id)
	}
	return exec1(ctx, q, "ending a session", `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, now, id, userID)
}

func revokeSessionByHash(ctx context.Context, q db.Queryer, hash string, now time.Time) error {
	return exec(ctx, q, "ending a session", `UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL`, now, hash)
}

// loginSucceeded clears the failure count and records the second factor's
// time step, refusing a step already used (a replayed code).
func loginSucceeded(ctx context.Context, q db.Queryer, userID, step int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "recording a sign-in", `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1, totp_last_step = $2, totp_enabled = $3
		WHERE id = $4 AND totp_last_step < $2`, now, step, true, userID)
}

// setTOTPSecret stores a sealed TOTP secret; enabled false keeps an
// enrolment open (and only changes an account without a second factor).
func setTOTPSecret(ctx context.Context, q db.Queryer, userID int64, sealed string, enabled bool) error {
	if enabled {
		return exec(ctx, q, "storing a TOTP secret", `UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE id = $3`, sealed, true, userID)
	}
	return exec(ctx, q, "storing a TOTP secret", `UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_enabled = $3`, sealed, userID, false)
}

func revokeInvite(ctx context.Context, q db.Queryer, id int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "revoking an invitation", `UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL`, now, id)
}

// approveInvite records the second person's approval of an invitation and
// gives it its link (a new token hash) and its validity from now; it
// reports whether the invitation was still waiting.
func approveInvite(ctx context.Context, q db.Queryer, id, by int64, tokenHash string, now, expires time.Time) (bool, error) {
	return exec1(ctx, q, "approving an invitation", `UPDATE invitations SET approved_by = $1, approved_at = $2, token_hash = $3, expires_at = $4
		WHERE id = $5 AND needs_approval = $6 AND approved_at IS NULL AND used_at IS NULL AND revoked_at IS NULL`, by, now, tokenHash, expires, id, true)
}

func useInvite(ctx context.Context, q db.Queryer, id, userID int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "using an invitation", `UPDATE invitations SET used_at = $1, user_id = $2 WHERE id = $3 AND used_at IS NULL AND revoked_at IS NULL`, now, userID, id)
}

// disableUser closes an account, its sessions, its tokens and the
// invitations it sent that nobody has used yet.
func disableUser(ctx context.Context, q db.Queryer, id int64, now time.Time) error {
	for _, st := range []struct{ what, query string }{
		{"disabling an account", `UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`},
		{"ending the sessions of a disabled account", `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`},
		{"revoking the tokens of a disabled account", `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`},
		{"revoking the invitations of a disabled account", `UPDATE invitations SET revoked_at = $1 WHERE invited_by = $2 AND used_at IS NULL AND revoked_at IS NULL`},
	} {
		if err := exec(ctx, q, st.what, st.query, now, id); err != nil {
			return err
		}
	}
	return nil
}

// setPassword replaces a password, ends the user's other sessions than
// keep, and revokes every token of the user.
func setPassword(ctx context.Context, q db.Queryer, userID, keep int64, hash string, now time.Time) error {
	if err := exec(ctx, q, "changing a password", `UPDATE users SET password_hash = $1, failed_logins = 0 WHERE id = $2`, hash, userID); err != nil {
		return err
	}
	if err := exec(ctx, q, "ending the other sessions", `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL`, now, userID, keep); err != nil {
		return err
	}
	return exec(ctx, q, "revoking the tokens", `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now, userID)
}

func setTimeZone(ctx context.Context, q db.Queryer, userID int64, zone string) error {
	return exec(ctx, q, "setting the time zone", `UPDATE users SET time_zone = $1 WHERE id = $2`, zone, userID)
}

func setLanguage(ctx context.Context, q db.Queryer, userID int64, lang string) error {
	return exec(ctx, q, "setting the language", `UPDATE users SET language = $1 WHERE id = $2`, lang, userID)
}

// recordFailure counts a failed login and locks the account when the count
// reaches limit; it reports whether it locked the account.
func recordFailure(ctx context.Context, q db.Queryer, userID int64, limit int, lockUntil time.Time) (locked bool, err error) {
	// Locking restarts the count, so that after the lock ends one typo does
	// not lock the account again.
	var count int
	err = q.QueryRowContext(ctx, `UPDATE users SET
		failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
		locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END WHERE id = $1 RETURNING failed_logins`, userID, limit, lockUntil).Scan(&count)
	if err != nil {
		return false, fmt.Errorf("account store: counting a failed sign-in: %w", err)
	}
	return count == 0, nil
}

const inviteColumns = `i.id, i.email, i.name, i.role, i.state_code, i.language, COALESCE(u.email, ''), COALESCE(i.invited_by, 0), i.created_at,
	i.expires_at, i.used_at, i.revoked_at, i.needs_approval, COALESCE(ap.email, ''), i.approved_at, i.organisation`

// inviteFrom joins what inviteColumns reads.
const inviteFrom = ` FROM invitations i LEFT JOIN users u ON u.id = i.invited_by LEFT JOIN users ap ON ap.id = i.approved_by`

func scanInvite(sc interface{ Scan(...any) error }) (*Invitation, error) {
	var inv Invitation
	var state sql.NullString
	var used, revoked, approved sql.NullTime
	if err := sc.Scan(&inv.ID, &inv.Email, &inv.Name, &inv.Role, &state, &inv.Language, &inv.InvitedBy, &inv.invitedBy, &inv.CreatedAt, &inv.ExpiresAt,
		&used, &revoked, &inv.NeedsApproval, &inv.ApprovedBy, &approved, &inv.Organisation); err != nil {
		return nil, err
	}
	inv.State = state.String
	inv.UsedAt, inv.RevokedAt, inv.ApprovedAt = db.TimeOf(used), db.TimeOf(revoked), db.TimeOf(approved)
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	return &inv, nil
}

func insertInvite(ctx context.Context, q db.Queryer, inv *Invitation, tokenHash string, invitedBy int64) error {
	var by any
	if invitedBy != 0 {
		by = invitedBy
	}
	if err := q.QueryRowContext(ctx, `INSERT INTO invitations (token_hash, email, name, role, state_code, invited_by, created_at, expires_at, language, needs_approval, organisation)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		tokenHash, inv.Email, inv.Name, string(inv.Role), nullString(inv.State), by, inv.CreatedAt, inv.ExpiresAt, inv.Language, inv.NeedsApproval, inv.Organisation).Scan(&inv.ID); err != nil {
		return fmt.Errorf("account store: creating an invitation: %w", err)
	}
	return nil
}

func getInvite(ctx context.Context, q db.Queryer, where string, arg any) (*Invitation, error) {
	inv, err := scanInvite(q.QueryRowContext(ctx, `SELECT `+inviteColumns+inviteFrom+` WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account store: reading an invitation: %w", err)
	}
	return inv, nil
}

// listInvites reads a page of invitations, newest first from the cursor
// k, limit of them: a State's, or all ("").
func listInvites(ctx context.Context, q db.Queryer, state string, k app.Cursor, limit int) ([]*Invitation, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return `$` + strconv.Itoa(len(args))
	}
	query := `SELECT ` + inviteColumns + inviteFrom + ` WHERE 1 = 1`
	if state != "" {
		query += ` AND i.state_code = ` + arg(state)
	}
	where, order := k.SQL("i.created_at", "i.id", arg)
	if where != "" {
		query += ` AND ` + where
	}
	query += order + ` LIMIT ` + arg(limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("account store: listing invitations: %w", err)
	}
	defer rows.Close()
	out := []*Invitation{}
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing invitations: %w", err)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing invitations: %w", err)
	}
	return out, nil
}

const sessionColumns = `id, user_id, mfa_done, created_at, last_seen_at, expires_at, user_agent, ip, revoked_at`

func scanSession(sc interface{ Scan(...any) error }) (*Session, *time.Time, error) {
	var s Session
	var revoked sql.NullTime
	if err := sc.Scan(&s.ID, &s.UserID, &s.MFADone, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.UserAgent, &s.IP, &revoked); err != nil {
		return nil, nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return &s, db.TimeOf(revoked), nil
}

func insertSession(ctx context.Context, q db.Queryer, s *Session, tokenHash string) error {
	if err := q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, user_id, mfa_done, created_at, last_seen_at, expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		tokenHash, s.UserID, s.MFADone, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.UserAgent, s.IP).Scan(&s.ID); err != nil {
		return fmt.Errorf("account store: creating a session: %w", err)
	}
	return nil
}

func listSessions(ctx context.Context, q db.Queryer, userID int64, now time.Time) ([]*Session, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = $1 AND expires_at > $2 AND revoked_at IS NULL
		ORDER BY last_seen_at DESC`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("account store: listing sessions: %w", err)
	}
	defer rows.Close()
	out := []*Session{}
	for rows.Next() {
		s, _, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing sessions: %w", err)
	}
	return out, nil
}

const tokenColumns = `id, user_id, name, scope, created_at, expires_at, last_used_at, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (*Token, error) {
	var t Token
	var exp, used, revoked sql.NullTime
	if err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Scope, &t.CreatedAt, &exp, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = db.TimeOf(exp), db.TimeOf(used), db.TimeOf(revoked)
	return &t, nil
}

func insertToken(ctx context.Context, q db.Queryer, t *Token, hash string) error {
	var exp any
	if t.ExpiresAt != nil {
		exp = *t.ExpiresAt
	}
	if err := q.QueryRowContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, scope, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, hash, t.UserID, t.Name, t.Scope, t.CreatedAt, exp).Scan(&t.ID); err != nil {
		return fmt.Errorf("account store: creating a token: %w", err)
	}
	return nil
}

func listTokens(ctx context.Context, q db.Queryer, userID int64) ([]*Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("account store: listing tokens: %w", err)
	}
	defer rows.Close()
	out := []*Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing tokens: %w", err)
	}
	return out, nil
}

type storedSecret struct {
	id     int64
	stored string
}

// storedTOTPSecrets returns every stored TOTP secret, as stored.
func storedTOTPSecrets(ctx context.Context, q db.Queryer) ([]storedSecret, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, totp_secret FROM users WHERE totp_secret <> ''`)
	if err != nil {
		return nil, fmt.Errorf("account store: reading the TOTP secrets: %w", err)
	}
	defer rows.Close()
	var out []storedSecret
	for rows.Next() {
		var r storedSecret
		if err := rows.Scan(&r.id, &r.stored); err != nil {
			return nil, fmt.Errorf("account store: reading the TOTP secrets: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: reading the TOTP secrets: %w", err)
	}
	return out, nil
}

// stateTokens returns the API tokens of a State's users that who can act
// for it shows: those in force at now (neither revoked nor expired), and
// the newest limit by their last change (made or revoked), whatever their
// state; not every token of ten years.
func stateTokens(ctx context.Context, q db.Queryer, state string, limit int, now time.Time) ([]*Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE state_code = $1)
		AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
		UNION SELECT * FROM (SELECT `+tokenColumns+` FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE state_code = $1)
		ORDER BY COALESCE(revoked_at, created_at) DESC, id DESC LIMIT $2) recent ORDER BY id`, state, limit, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("account store: listing a State's tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing a State's tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing a State's tokens: %w", err)
	}
	return out, nil
}

// Passkeys and their ceremonies.

func setCeremony(ctx context.Context, q db.Queryer, sessionID int64, c string) error {
	return exec(ctx, q, "starting a passkey step", `UPDATE sessions SET ceremony = $1 WHERE id = $2`, c, sessionID)
}

// takeCeremony returns the ceremony waiting on a session ("" if none) and
// clears it, so that two answers racing take it once.
func takeCeremony(ctx context.Context, q db.Queryer, sessionID int64) (string, error) {
	var c sql.NullString
	err := q.QueryRowContext(ctx, `SELECT ceremony FROM sessions WHERE id = $1`, sessionID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.Valid) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("account store: reading a passkey step: %w", err)
	}
	ok, err := exec1(ctx, q, "ending a passkey step", `UPDATE sessions SET ceremony = NULL WHERE id = $1 AND ceremony = $2`, sessionID, c.String)
	if err != nil || !ok {
		return "", err
	}
	return c.String, nil
}

const passkeyColumns = `id, name, credential, created_at, last_used_at`

func passkeysOf(ctx context.Context, q db.Queryer, userID int64) ([]*Passkey, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("account store: listing passkeys: %w", err)
	}
	defer rows.Close()
	var out []*Passkey
	for rows.Next() {
		var p Passkey
		var cred string
		var used sql.NullTime
		if err := rows.Scan(&p.ID, &p.Name, &cred, &p.CreatedAt, &used); err != nil {
			return nil, fmt.Errorf("account store: listing passkeys: %w", err)
		}
		if err := json.Unmarshal([]byte(cred), &p.cred); err != nil {
			return nil, fmt.Errorf("account store: passkey %d: %w", p.ID, err)
		}
		p.LastUsedAt = db.TimeOf(used)
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing passkeys: %w", err)
	}
	return out, nil
}

// insertPasskey keeps a new passkey and counts it on its user.
func insertPasskey(ctx context.Context, tx *sql.Tx, userID int64, p *Passkey) error {
	cred, err := json.Marshal(p.cred)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO passkeys (user_id, name, credential_id, credential, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		userID, p.Name, base64.RawURLEncoding.EncodeToString(p.cred.ID), string(cred), p.CreatedAt).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("account store: adding a passkey: %w", err)
	}
	return exec(ctx, tx, "counting passkeys", `UPDATE users SET passkey_count = passkey_count + 1 WHERE id = $1`, userID)
}

func deletePasskey(ctx context.Context, tx *sql.Tx, userID, id int64) error {
	ok, err := exec1(ctx, tx, "removing a passkey", `DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil || !ok {
		return err
	}
	return exec(ctx, tx, "counting passkeys", `UPDATE users SET passkey_count = passkey_count - 1 WHERE id = $1`, userID)
}

func setPasskeysOnly(ctx context.Context, q db.Queryer, userID int64, on bool) error {
	return exec(ctx, q, "setting passkeys only", `UPDATE users SET passkeys_only = $1 WHERE id = $2`, on, userID)
}

// passkeyUsed keeps the passkey's new signature counter and flags.
func passkeyUsed(ctx context.Context, q db.Queryer, p *Passkey, now time.Time) error {
	cred, err := json.Marshal(p.cred)
	if err != nil {
		return err
	}
	return exec(ctx, q, "recording a passkey's use", `UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3`, string(cred), now, p.ID)
}

// passkeyLoginSucceeded clears the failure count of a sign-in with a
// passkey.
func passkeyLoginSucceeded(ctx context.Context, q db.Queryer, userID int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "recording a sign-in", `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2`, now, userID)
}

// Second-factor resets.

// insertFactorReset records a reset request unless one of the user's is
// waiting; it reports whether it made one.
func insertFactorReset(ctx context.Context, q db.Queryer, userID int64, ip string, now time.Time) (bool, error) {
	return exec1(ctx, q, "recording a reset request", `INSERT INTO factor_resets (user_id, requested_at, requested_ip)
		SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM factor_resets WHERE user_id = $1 AND decided_at IS NULL)`, userID, now, ip)
}

const resetColumns = `r.id, r.user_id, u.email, u.name, u.role, u.state_code, r.requested_at, r.requested_ip`

func scanReset(sc interface{ Scan(...any) error }) (*FactorReset, error) {
	var r FactorReset
	var state sql.NullString
	if err := sc.Scan(&r.ID, &r.UserID, &r.Email, &r.Name, &r.Role, &state, &r.RequestedAt, &r.RequestedIP); err != nil {
		return nil, err
	}
	r.State = state.String
	return &r, nil
}

func pendingFactorResets(ctx context.Context, q db.Queryer) ([]*FactorReset, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+resetColumns+` FROM factor_resets r JOIN users u ON u.id = r.user_id
		WHERE r.decided_at IS NULL AND u.disabled_at IS NULL ORDER BY r.id`)
	if err != nil {
		return nil, fmt.Errorf("account store: listing resets: %w", err)
	}
	defer rows.Close()
	var out []*FactorReset
	for rows.Next() {
		r, err := scanReset(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing resets: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing resets: %w", err)
	}
	return out, nil
}

// factorReset returns a reset waiting for a decision, nil if none.
func factorReset(ctx context.Context, q db.Queryer, id int64) (*FactorReset, error) {
	r, err := scanReset(q.QueryRowContext(ctx, `SELECT `+resetColumns+` FROM factor_resets r JOIN users u ON u.id = r.user_id
		WHERE r.id = $1 AND r.decided_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account store: reading reset %d: %w", id, err)
	}
	return r, nil
}

func decideFactorReset(ctx context.Context, q db.Queryer, id, by int64, approve bool, now time.Time) (bool, error) {
	return exec1(ctx, q, "deciding a reset", `UPDATE factor_resets SET decided_by = $1, decided_at = $2, approved = $3 WHERE id = $4 AND decided_at IS NULL`,
		by, now, approve, id)
}

// clearSecondFactors removes the user's authenticator and passkeys, ends
// their sessions, and opens the time to set up a factor again.
func clearSecondFactors(ctx context.Context, tx *sql.Tx, userID int64, now time.Time) error {
	if err := exec(ctx, tx, "removing the passkeys", `DELETE FROM passkeys WHERE user_id = $1`, userID); err != nil {
		return err
	}
	steps := []struct{ what, query string }{
		{"removing the authenticator", `UPDATE users SET totp_enabled = FALSE, totp_secret = '', passkey_count = 0, passkeys_only = FALSE,
			failed_logins = 0, locked_until = NULL, enrol_from = $1 WHERE id = $2`},
		{"ending the sessions", `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`},
	}
	for _, st := range steps {
		if err := exec(ctx, tx, st.what, st.query, now, userID); err != nil {
			return err
		}
	}
	return nil
}

func listObservers(ctx context.Context, q db.Queryer) ([]*User, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE role = $1 ORDER BY organisation, email`, string(app.RoleObserver))
	if err != nil {
		return nil, fmt.Errorf("account store: listing observers: %w", err)
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing observers: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing observers: %w", err)
	}
	return out, nil
}

const grantColumns = `g.id, g.observer_id, g.states, g.offers, g.proposed_by, p.email, g.proposed_at, COALESCE(ap.email, ''), g.approved_at`

const grantFrom = ` FROM observer_grants g JOIN users p ON p.id = g.proposed_by LEFT JOIN users ap ON ap.id = g.approved_by`

func scanGrant(sc interface{ Scan(...any) error }) (*ObserverGrant, error) {
	var g ObserverGrant
	var states string
	var approved sql.NullTime
	if err := sc.Scan(&g.ID, &g.ObserverID, &states, &g.Offers, &g.proposedBy, &g.ProposedBy, &g.ProposedAt, &g.ApprovedBy, &approved); err != nil {
		return nil, err
	}
	g.States = strings.Fields(states)
	g.ProposedAt, g.ApprovedAt = g.ProposedAt.UTC(), db.TimeOf(approved)
	return &g, nil
}

// listGrants returns the grants not withdrawn, oldest first, by observer:
// one observer's when observerID is set.
func listGrants(ctx context.Context, q db.Queryer, observerID int64) (map[int64][]*ObserverGrant, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+grantColumns+grantFrom+` WHERE g.withdrawn_at IS NULL AND ($1 = 0 OR g.observer_id = $1) ORDER BY g.id`, observerID)
	if err != nil {
		return nil, fmt.Errorf("account store: listing observers' grants: %w", err)
	}
	defer rows.Close()
	out := map[int64][]*ObserverGrant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("account store: listing observers' grants: %w", err)
		}
		out[g.ObserverID] = append(out[g.ObserverID], g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing observers' grants: %w", err)
	}
	return out, nil
}

func getGrant(ctx context.Context, q db.Queryer, id int64) (*ObserverGrant, error) {
	g, err := scanGrant(q.QueryRowContext(ctx, `SELECT `+grantColumns+grantFrom+` WHERE g.id = $1 AND g.withdrawn_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account store: reading a grant: %w", err)
	}
	return g, nil
}

// currentGrant returns the observer's grant in force: its latest approved.
func currentGrant(ctx context.Context, q db.Queryer, observerID int64) (*ObserverGrant, error) {
	g, err := scanGrant(q.QueryRowContext(ctx, `SELECT `+grantColumns+grantFrom+`
		WHERE g.observer_id = $1 AND g.approved_at IS NOT NULL AND g.withdrawn_at IS NULL ORDER BY g.approved_at DESC, g.id DESC LIMIT 1`, observerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account store: reading an observer's grant: %w", err)
	}
	return g, nil
}

func insertGrant(ctx context.Context, q db.Queryer, g *ObserverGrant) error {
	if err := q.QueryRowContext(ctx, `INSERT INTO observer_grants (observer_id, states, offers, proposed_by, proposed_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, g.ObserverID, strings.Join(g.States, " "), g.Offers, g.proposedBy, g.ProposedAt).Scan(&g.ID); err != nil {
		return fmt.Errorf("account store: proposing a grant: %w", err)
	}
	return nil
}

func withdrawPendingGrants(ctx context.Context, q db.Queryer, observerID int64, now time.Time) error {
	return exec(ctx, q, "withdrawing a pending grant", `UPDATE observer_grants SET withdrawn_at = $1
		WHERE observer_id = $2 AND approved_at IS NULL AND withdrawn_at IS NULL`, now, observerID)
}

func approveGrant(ctx context.Context, q db.Queryer, id, by int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "approving a grant", `UPDATE observer_grants SET approved_by = $1, approved_at = $2
		WHERE id = $3 AND approved_at IS NULL AND withdrawn_at IS NULL`, by, now, id)
}

func withdrawGrant(ctx context.Context, q db.Queryer, id int64, now time.Time) (bool, error) {
	return exec1(ctx, q, "withdrawing a grant", `UPDATE observer_grants SET withdrawn_at = $1
		WHERE id = $2 AND approved_at IS NULL AND withdrawn_at IS NULL`, now, id)
}
