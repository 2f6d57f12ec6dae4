package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// The users table is the account package's: the other capabilities learn
// whom to write to from these functions, never by reading it. They take the
// caller's transaction (or the database), so that what is queued is
// consistent with what caused it, and they need no actor: background jobs
// call them.

// FocalPoints returns the enabled focal points of a State, each with the
// language they read.
func FocalPoints(ctx context.Context, q db.Queryer, state string) ([]notify.Reader, error) {
	return readers(ctx, q, `SELECT email, language FROM users WHERE role = $1 AND state_code = $2 AND disabled_at IS NULL ORDER BY id`,
		string(app.RoleFocalPoint), state)
}

// Secretariat returns the enabled accounts of the Secretariat, each with the
// language they read.
func Secretariat(ctx context.Context, q db.Queryer) ([]notify.Reader, error) {
	return readers(ctx, q, `SELECT email, language FROM users WHERE role = $1 AND state_code IS NULL AND disabled_at IS NULL ORDER BY id`,
		string(app.RoleSecretariat))
}

// ReaderOf returns the address and language of a user, whether enabled or
// not; ok is false when there is no such user.
func ReaderOf(ctx context.Context, q db.Queryer, userID int64) (r notify.Reader, ok bool, err error) {
	err = db.PreparedRow(ctx, q, `SELECT email, language FROM users WHERE id = $1`, userID).Scan(&r.Email, &r.Lang)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("account store: reading the address of user %d: %w", userID, err)
	}
	return r, true, nil
}

// sameSide is the condition on a user u's delegate d that canStandIn
// decides when the delegate is chosen, checked again where it stands in:
// one of u's State, and, outside every State, of u's role and
// organisation.
const sameSide = `COALESCE(d.state_code, '') = COALESCE(u.state_code, '') AND (u.state_code IS NOT NULL OR (d.role = u.role AND d.organisation = u.organisation))`

// StandIn returns whom to write to in a user's place: the user, or, while
// they are away, their delegate (if still enabled).
func StandIn(ctx context.Context, q db.Queryer, userID int64, now time.Time) (r notify.Reader, ok bool, err error) {
	var demail, dlang string
	var away, ddisabled sql.NullTime
	// Each act that tells a sender asks: a statement prepared once.
	err = db.PreparedRow(ctx, q, `SELECT u.email, u.language, u.away_until, COALESCE(d.email, ''), COALESCE(d.language, ''), d.disabled_at
		FROM users u LEFT JOIN users d ON d.id = u.delegate_id AND `+sameSide+` WHERE u.id = $1`, userID).Scan(&r.Email, &r.Lang, &away, &demail, &dlang, &ddisabled)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("account store: reading the address of user %d: %w", userID, err)
	}
	if standsIn(away, demail, ddisabled, now) {
		r = notify.Reader{Email: demail, Lang: dlang}
	}
	return r, true, nil
}

func readers(ctx context.Context, q db.Queryer, query string, args ...any) ([]notify.Reader, error) {
	rows, err := db.Query(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("account store: listing readers: %w", err)
	}
	defer rows.Close()
	var out []notify.Reader
	for rows.Next() {
		var r notify.Reader
		if err := rows.Scan(&r.Email, &r.Lang); err != nil {
			return nil, fmt.Errorf("account store: listing readers: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing readers: %w", err)
	}
	return out, nil
}
