package account

import (
	"context"
	"database/sql"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

const userColumns = `id, email, name, role, state_code, password_hash, totp_secret, totp_enabled, totp_last_step, language,
	failed_logins, locked_until, created_at, last_login_at, disabled_at`

func scanUser(sc interface{ Scan(...any) error }) (*User, error) {
	var u User
	var state sql.NullString
	var locked, last, disabled sql.NullTime
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &state, &u.passwordHash, &u.totpSecret, &u.TOTPEnabled, &u.totpLastStep,
		&u.Language, &u.failed, &locked, &u.CreatedAt, &last, &disabled)
	if err != nil {
		return nil, err
	}
	u.State = state.String
	u.lockedUntil = db.TimeOf(locked)
	u.LastLoginAt = db.TimeOf(last)
	u.DisabledAt = db.TimeOf(disabled)
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
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return u, err
}

func insertUser(ctx context.Context, q db.Queryer, u *User) error {
	return q.QueryRowContext(ctx, `INSERT INTO users (email, name, role, state_code, password_hash, language, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		u.Email, u.Name, string(u.Role), nullString(u.State), u.passwordHash, u.Language, u.CreatedAt).Scan(&u.ID)
}

func listUsers(ctx context.Context, q db.Queryer, state string) ([]*User, error) {
	query := `SELECT ` + userColumns + ` FROM users ORDER BY state_code, role, email`
	var args []any
	if state != "" {
		query = `SELECT ` + userColumns + ` FROM users WHERE state_code = $1 ORDER BY role, email`
		args = append(args, state)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func exec1(ctx context.Context, q db.Queryer, query string, args ...any) (bool, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// recordFailure counts a failed login and locks the account when the count
// reaches the limit. The counter lives in the database so that it holds
// across instances.
func recordFailure(ctx context.Context, q db.Queryer, userID int64, limit int, lockUntil time.Time) error {
	// Locking restarts the count, so that after the lock ends one typo does
	// not lock the account again.
	_, err := q.ExecContext(ctx, `UPDATE users SET
		failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
		locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END WHERE id = $1`, userID, limit, lockUntil)
	return err
}

const inviteColumns = `i.id, i.email, i.name, i.role, i.state_code, i.language, COALESCE(u.email, ''), i.created_at, i.expires_at, i.used_at, i.revoked_at`

func scanInvite(sc interface{ Scan(...any) error }) (*Invitation, error) {
	var inv Invitation
	var state sql.NullString
	var used, revoked sql.NullTime
	if err := sc.Scan(&inv.ID, &inv.Email, &inv.Name, &inv.Role, &state, &inv.Language, &inv.InvitedBy, &inv.CreatedAt, &inv.ExpiresAt, &used, &revoked); err != nil {
		return nil, err
	}
	inv.State = state.String
	inv.UsedAt, inv.RevokedAt = db.TimeOf(used), db.TimeOf(revoked)
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	return &inv, nil
}

func insertInvite(ctx context.Context, q db.Queryer, inv *Invitation, tokenHash string, invitedBy int64) error {
	var by any
	if invitedBy != 0 {
		by = invitedBy
	}
	return q.QueryRowContext(ctx, `INSERT INTO invitations (token_hash, email, name, role, state_code, invited_by, created_at, expires_at, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		tokenHash, inv.Email, inv.Name, string(inv.Role), nullString(inv.State), by, inv.CreatedAt, inv.ExpiresAt, inv.Language).Scan(&inv.ID)
}

func getInvite(ctx context.Context, q db.Queryer, where string, arg any) (*Invitation, error) {
	inv, err := scanInvite(q.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invitations i LEFT JOIN users u ON u.id = i.invited_by WHERE `+where, arg))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return inv, err
}

func listInvites(ctx context.Context, q db.Queryer, state string) ([]*Invitation, error) {
	query := `SELECT ` + inviteColumns + ` FROM invitations i LEFT JOIN users u ON u.id = i.invited_by ORDER BY i.id DESC LIMIT 500`
	var args []any
	if state != "" {
		query = `SELECT ` + inviteColumns + ` FROM invitations i LEFT JOIN users u ON u.id = i.invited_by WHERE i.state_code = $1 ORDER BY i.id DESC LIMIT 500`
		args = append(args, state)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Invitation{}
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
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
	return q.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, user_id, mfa_done, created_at, last_seen_at, expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		tokenHash, s.UserID, s.MFADone, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.UserAgent, s.IP).Scan(&s.ID)
}

func listSessions(ctx context.Context, q db.Queryer, userID int64, now time.Time) ([]*Session, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY last_seen_at DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Session{}
	for rows.Next() {
		s, _, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		if s.ExpiresAt.After(now) {
			out = append(out, s)
		}
	}
	return out, rows.Err()
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
	return q.QueryRowContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, scope, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, hash, t.UserID, t.Name, t.Scope, t.CreatedAt, exp).Scan(&t.ID)
}

func listTokens(ctx context.Context, q db.Queryer, userID int64) ([]*Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
