package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// How a user hears of the communications their State receives, beside the
// PoCs' own mailboxes, which always receive them.
const (
	NotifyNone   = "none"   // by the inbox only
	NotifyEach   = "each"   // an e-mail for each new communication
	NotifyDigest = "digest" // a daily e-mail of what waits, at 07:00 in their zone
)

// maxAway bounds an absence: a delegate is for a while, not for good.
const maxAway = 366 * 24 * time.Hour

// Prefs are a user's choices for hearing of new work: the mode, and while
// they are away (until AwayUntil), the user of their State who receives
// their e-mails in their place.
type Prefs struct {
	Mode      string     `json:"notify_new"`
	AwayUntil *time.Time `json:"away_until,omitempty"`
	// Delegate is the e-mail address of the user who stands in.
	Delegate string `json:"delegate,omitempty"`
}

// Prefs returns the signed-in user's choices.
func (s *Service) Prefs(ctx context.Context) (*Prefs, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var p Prefs
	var away sql.NullTime
	err = s.DB.QueryRowContext(ctx, `SELECT u.notify_new, u.away_until, COALESCE(d.email, '') FROM users u LEFT JOIN users d ON d.id = u.delegate_id
		WHERE u.id = $1`, a.UserID).Scan(&p.Mode, &away, &p.Delegate)
	if err != nil {
		return nil, fmt.Errorf("account store: reading the notification choices: %w", err)
	}
	p.AwayUntil = db.TimeOf(away)
	return &p, nil
}

// Delegates are the users who may stand in for the signed-in user while
// away: the other enabled users of their State (of the Secretariat, for
// its members).
func (s *Service) Delegates(ctx context.Context) ([]*User, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	state := a.State
	if state == "" {
		state = NoState
	}
	users, err := listUsers(ctx, s.DB, UserFilter{State: state, Status: UsersActive}, app.Cursor{}, maxStateAccounts)
	if err != nil {
		return nil, err
	}
	var out []*User
	for _, u := range users {
		if u.ID != a.UserID && canStandIn(a, u.State, u.Role, u.Organisation) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(x, y *User) int { return strings.Compare(x.Email, y.Email) })
	return out, nil
}

// canStandIn reports whether a user of the State, role and organisation
// given may stand in for the actor while away: one of the same State, and,
// outside every State, one of the same role (the Secretariat for the
// Secretariat) and organisation (an observer for an observer of its own).
func canStandIn(a *app.Actor, state string, role app.Role, organisation string) bool {
	if state != a.State {
		return false
	}
	return state != "" || (role == a.Role && organisation == a.Organisation)
}

// SetPrefs saves the signed-in user's choices. A delegate must be another
// enabled user of the same State (or of the Secretariat); an absence needs
// one, ends in the future and lasts at most a year.
func (s *Service) SetPrefs(ctx context.Context, in Prefs) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	var v app.Validation
	if in.Mode != NotifyNone && in.Mode != NotifyEach && in.Mode != NotifyDigest {
		v.Add("notify_new", "error.notify_mode", "choose how to hear of new work", nil)
	}
	now := s.Now()
	var delegate any
	in.Delegate = strings.TrimSpace(in.Delegate)
	if in.Delegate != "" {
		var id int64
		var state sql.NullString
		var role, organisation string
		var disabled sql.NullTime
		err := s.DB.QueryRowContext(ctx, `SELECT id, state_code, role, organisation, disabled_at FROM users WHERE email = $1`, strings.ToLower(in.Delegate)).
			Scan(&id, &state, &role, &organisation, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			v.Add("delegate", "error.delegate", "choose another user of your State", nil)
		case err != nil:
			return fmt.Errorf("account store: reading the delegate: %w", err)
		case id == a.UserID || !canStandIn(a, state.String, app.Role(role), organisation) || disabled.Valid:
			v.Add("delegate", "error.delegate", "choose another user of your State", nil)
		default:
			delegate = id
		}
	}
	var away any
	if in.AwayUntil != nil {
		switch {
		case !in.AwayUntil.After(now) || in.AwayUntil.Sub(now) > maxAway:
			v.Add("away_until", "error.away_until", "give a day within the coming year", nil)
		case in.Delegate == "":
			v.Add("delegate", "error.delegate_needed", "choose who receives your e-mails while you are away", nil)
		default:
			away = in.AwayUntil.UTC()
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	return exec(ctx, s.DB, "saving the notification choices", `UPDATE users SET notify_new = $1, away_until = $2, delegate_id = $3 WHERE id = $4`,
		in.Mode, away, delegate, a.UserID)
}

// Watcher is whom to tell of new work: a user who chose an e-mail for each
// new item, or the delegate of one who is away (For names them).
type Watcher struct {
	notify.Reader
	For   string     // the name (or address) of the user away, when a delegate
	Until *time.Time // the end of their absence
}

// Why is the line that ends the e-mail to a watcher: that they receive it
// in place of the user away, or else why, their own choice. Every e-mail
// about new work says it the same way.
func (w Watcher) Why(why notify.Text) notify.Text {
	if w.For != "" {
		return notify.T("mail.delegate", "Name", w.For, "Date", w.Until.UTC().Format("2006-01-02"))
	}
	return why
}

// Watchers returns whom to e-mail of a communication each of the States
// received, by State, in the caller's transaction (one query for all of
// them: an exercise's inject goes to 193): its enabled users who chose an
// e-mail for each, and, in place of a user who is away, their delegate
// (whatever the user chose), each address once per State.
func Watchers(ctx context.Context, q db.Queryer, states []string, now time.Time) (map[string][]Watcher, error) {
	if len(states) == 0 {
		return map[string][]Watcher{}, nil
	}
	marks := make([]string, len(states))
	args := make([]any, len(states))
	for i, st := range states {
		marks[i], args[i] = "$"+strconv.Itoa(i+3), st
	}
	return watchers(ctx, q, now, 0, `u.state_code IN (`+strings.Join(marks, ", ")+`)`, args...)
}

// AnswerWatchers returns whom to e-mail when an item starts to wait for
// the answer of those who answer for a State (its focal points) or, for
// state "", of the Secretariat's officers, by the rule of Watchers: those
// who chose an e-mail for each new item and, in place of one who is away,
// their delegate. The user except (0 for none) is left out, also as a
// delegate: the one who caused it.
func AnswerWatchers(ctx context.Context, q db.Queryer, state string, except int64, now time.Time) ([]Watcher, error) {
	var by map[string][]Watcher
	var err error
	if state == "" {
		by, err = watchers(ctx, q, now, except, `u.role = $3 AND u.state_code IS NULL`, string(app.RoleSecretariat))
	} else {
		by, err = watchers(ctx, q, now, except, `u.role = $3 AND u.state_code = $4`, string(app.RoleFocalPoint), state)
	}
	return by[state], err
}

// watchers is the rule of Watchers and AnswerWatchers for the users a
// clause selects (its parameters from $3), by State ("" for the
// Secretariat). A delegate stands in for a user of their own State (of
// the Secretariat, for its members), never an observer.
func watchers(ctx context.Context, q db.Queryer, now time.Time, except int64, where string, args ...any) (map[string][]Watcher, error) {
	rows, err := db.Query(ctx, q, `SELECT COALESCE(u.state_code, ''), u.id, u.email, u.name, u.language, u.notify_new, u.away_until,
		COALESCE(d.id, 0), COALESCE(d.email, ''), COALESCE(d.language, ''), d.disabled_at
		FROM users u LEFT JOIN users d ON d.id = u.delegate_id AND `+sameSide+` AND d.role <> '`+string(app.RoleObserver)+`'
		WHERE u.disabled_at IS NULL AND (u.notify_new = $1 OR (u.away_until > $2 AND u.delegate_id IS NOT NULL)) AND `+where+`
		ORDER BY u.id`, append([]any{NotifyEach, now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("account store: listing whom to tell: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	out := map[string][]Watcher{}
	for rows.Next() {
		var w Watcher
		var state, name, mode, demail, dlang string
		var id, did int64
		var away, ddisabled sql.NullTime
		if err := rows.Scan(&state, &id, &w.Email, &name, &w.Lang, &mode, &away, &did, &demail, &dlang, &ddisabled); err != nil {
			return nil, fmt.Errorf("account store: listing whom to tell: %w", err)
		}
		if id == except {
			continue
		}
		if standsIn(away, demail, ddisabled, now) {
			if did == except {
				continue
			}
			w.For, w.Until = name, &away.Time
			if w.For == "" {
				w.For = w.Email
			}
			w.Email, w.Lang = demail, dlang
		} else if mode != NotifyEach {
			continue
		}
		if key := state + "/" + w.Email; !seen[key] {
			seen[key] = true
			out[state] = append(out[state], w)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account store: listing whom to tell: %w", err)
	}
	return out, nil
}

// standsIn reports whether a delegate receives in a user's place at now:
// the user is away, and the delegate named and enabled.
func standsIn(away sql.NullTime, delegate string, delegateDisabled sql.NullTime, now time.Time) bool {
	return away.Valid && away.Time.After(now) && delegate != "" && !delegateDisabled.Valid
}

// DigestUser is a user whose daily digest is due.
type DigestUser struct {
	User *User
	Last *time.Time // the previous digest
}

// DigestsDue returns the users who chose a daily digest, are not away, and
// have had none since 07:00 today in their zone (zoneOf gives a State's
// default zone), now being past it.
func DigestsDue(ctx context.Context, q db.Queryer, now time.Time, zoneOf func(state string) string) ([]DigestUser, error) {
	// An observer has no inbox to digest (and cannot choose a digest).
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+`, digest_sent_at FROM users WHERE notify_new = $1 AND disabled_at IS NULL
		AND (away_until IS NULL OR away_until <= $2) AND role <> $3 ORDER BY id`, NotifyDigest, now, string(app.RoleObserver))
	if err != nil {
		return nil, fmt.Errorf("account store: listing the digests due: %w", err)
	}
	defer rows.Close()
	var out []DigestUser
	for rows.Next() {
		var last sql.NullTime
		u, err := scanUser(digestRow{rows, &last})
		if err != nil {
			return nil, fmt.Errorf("account store: listing the digests due: %w", err)
		}
		zone := u.TimeZone
		if zone == "" {
			zone = zoneOf(u.State)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		local := now.In(loc)
		seven := time.Date(local.Year(), local.Month(), local.Day(), 7, 0, 0, 0, loc)
		if local.Before(seven) || last.Valid && !last.Time.Before(seven) {
			continue
		}
		out = append(out, DigestUser{User: u, Last: db.TimeOf(last)})
	}
	return out, rows.Err()
}

// digestRow scans the user's columns and then digest_sent_at.
type digestRow struct {
	rows *sql.Rows
	last *sql.NullTime
}

func (d digestRow) Scan(dest ...any) error { return d.rows.Scan(append(dest, d.last)...) }

// ClaimDigest marks a user's digest as sent at now if no other instance
// did since last, in the caller's transaction; false when one did.
func ClaimDigest(ctx context.Context, q db.Queryer, userID int64, last *time.Time, now time.Time) (bool, error) {
	var res sql.Result
	var err error
	if last == nil {
		res, err = q.ExecContext(ctx, `UPDATE users SET digest_sent_at = $1 WHERE id = $2 AND digest_sent_at IS NULL`, now, userID)
	} else {
		res, err = q.ExecContext(ctx, `UPDATE users SET digest_sent_at = $1 WHERE id = $2 AND digest_sent_at = $3`, now, userID, *last)
	}
	if err != nil {
		return false, fmt.Errorf("account store: marking a digest: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
