package account

import (
	"context"
	"database/sql"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// A user who has lost every second factor (the authenticator and the
// passkeys) asks for a reset after giving the password. It takes effect
// only when a second person approves it: a focal point of the user's State
// (or, where the State has no other, a Secretariat officer), or for the
// Secretariat another officer; never the user. The approver is asked to
// confirm with the person by another channel first. Once approved, the
// account's second factors are removed, its sessions end, and the user
// sets up a new one at the next sign-in.

// FactorReset is a reset waiting for a decision.
type FactorReset struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"user_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        app.Role  `json:"role"`
	State       string    `json:"state,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
	RequestedIP string    `json:"requested_ip"`
}

// RequestFactorReset records the request of a session that has given the
// password, and writes to those who may approve it. A request already
// waiting is not made twice.
func (s *Service) RequestFactorReset(ctx context.Context, token, ip string) error {
	st, err := s.partial(ctx, token)
	if err != nil {
		return err
	}
	u := st.User
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		created, err := insertFactorReset(ctx, tx, u.ID, ip, now)
		if err != nil || !created {
			return err
		}
		if err := logEvent(ctx, tx, u.Actor(), "factor_reset.request", "user", u.ID, u.State, now); err != nil {
			return err
		}
		approvers, err := s.resetApprovers(ctx, tx, u)
		if err != nil {
			return err
		}
		for _, r := range approvers {
			l := notify.Letter{Kind: "access", To: r, Subject: notify.T("mail.reset.subject", "Email", u.Email),
				Body: []notify.Text{notify.T("mail.reset.requested", "Email", u.Email, "Role", notify.Term("role."+string(u.Role)),
					"State", notify.State(u.State), "IP", ip, "Link", s.mail.Link("/users"))}}
			if err := notify.Enqueue(ctx, tx, now, s.mail.Write(l)); err != nil {
				return err
			}
		}
		return nil
	})
}

// resetApprovers are those who may approve u's reset: the other focal
// points of u's State, or the Secretariat where there are none (and for the
// Secretariat's own accounts), u excepted.
func (s *Service) resetApprovers(ctx context.Context, q db.Queryer, u *User) ([]notify.Reader, error) {
	var list []notify.Reader
	var err error
	if u.State != "" {
		if list, err = FocalPoints(ctx, q, u.State); err != nil {
			return nil, err
		}
		list = without(list, u.Email)
	}
	if len(list) == 0 {
		if list, err = Secretariat(ctx, q); err != nil {
			return nil, err
		}
		list = without(list, u.Email)
	}
	return list, nil
}

func without(list []notify.Reader, email string) []notify.Reader {
	var out []notify.Reader
	for _, r := range list {
		if !containsFold([]string{email}, r.Email) {
			out = append(out, r)
		}
	}
	return out
}

// canDecideReset reports whether a may decide the reset of u.
func (s *Service) canDecideReset(ctx context.Context, q db.Queryer, a *app.Actor, u *User) (bool, error) {
	if a.UserID == u.ID {
		return false, nil
	}
	approvers, err := s.resetApprovers(ctx, q, u)
	if err != nil {
		return false, err
	}
	return containsFold(emails(approvers), a.Email), nil
}

func emails(list []notify.Reader) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Email
	}
	return out
}

// FactorResets lists the resets waiting for the signed-in user's decision.
//
// Every page counts them for its navigation, so they are read without a
// transaction: on SQLite a transaction waits for the one writer, and a page
// must not wait behind a crisis's writes. Each statement reads what was
// committed; a reset decided between two of them is checked again, in a
// transaction, when it is decided (DecideFactorReset).
func (s *Service) FactorResets(ctx context.Context) ([]*FactorReset, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Role != app.RoleSecretariat && a.Role != app.RoleFocalPoint {
		return nil, nil
	}
	list, err := pendingFactorResets(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	var out []*FactorReset
	for _, r := range list {
		u, err := getUser(ctx, s.DB, "id = $1", r.UserID)
		if err != nil {
			return nil, err
		}
		if u == nil {
			continue
		}
		if ok, err := s.canDecideReset(ctx, s.DB, a, u); err != nil {
			return nil, err
		} else if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// DecideFactorReset approves or refuses a reset. Approved, the user's
// authenticator and passkeys are removed and their sessions end; the user
// and the State's focal points are told.
func (s *Service) DecideFactorReset(ctx context.Context, id int64, approve bool) error {
	a, err := requireSession(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		r, err := factorReset(ctx, tx, id)
		if err != nil {
			return err
		}
		if r == nil {
			return app.ErrNotFound("reset")
		}
		u, err := getUser(ctx, tx, "id = $1", r.UserID)
		if err != nil || u == nil {
			return app.ErrNotFound("reset")
		}
		if a.UserID == u.ID {
			return app.Errorf(app.Forbidden, "error.reset_own", "a second person decides a reset of your second factor")
		}
		if ok, err := s.canDecideReset(ctx, tx, a, u); err != nil {
			return err
		} else if !ok {
			return app.ErrForbidden()
		}
		if ok, err := decideFactorReset(ctx, tx, id, a.UserID, approve, now); err != nil {
			return err
		} else if !ok {
			return app.Errorf(app.Conflict, "error.reset_decided", "this reset was already decided")
		}
		typ, mail := "factor_reset.refuse", "mail.reset.refused"
		if approve {
			typ, mail = "factor_reset.approve", "mail.reset.done"
			if err := clearSecondFactors(ctx, tx, u.ID, now); err != nil {
				return err
			}
		}
		if err := logEvent(ctx, tx, a, typ, "user", u.ID, u.State, now); err != nil {
			return err
		}
		to := notify.Reader{Email: u.Email, Lang: u.Language}
		l := notify.Letter{Kind: "access", To: to, Subject: notify.T("mail.reset.subject", "Email", u.Email),
			Body: []notify.Text{notify.T(mail, "By", a.Email, "Link", s.mail.Link("/login"))}}
		if err := notify.Enqueue(ctx, tx, now, s.mail.Write(l)); err != nil {
			return err
		}
		if !approve {
			return nil
		}
		s.dropTokenCache()
		return s.announce(ctx, tx, u.State, now, []string{a.Email, u.Email},
			notify.T("mail.access.subject", "State", notify.State(u.State)),
			notify.T("mail.access.reset", "Email", u.Email, "State", notify.State(u.State), "By", a.Email))
	})
}
