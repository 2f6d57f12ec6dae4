package directory

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
)

// Reconfirm records that a focal point reviewed the State's entry and
// confirms it as it stands (the annual update of the seeds). It is a change
// of the entry in its own right: versioned, logged, with a receipt.
func (s *Service) Reconfirm(ctx context.Context, state string) (*State, error) {
	state = strings.ToUpper(state)
	a, old, err := s.editableState(ctx, state)
	if err != nil {
		return nil, err
	}
	if old.FirstNominatedAt == nil {
		return nil, app.Errorf(app.Invalid, "error.reconfirm_empty", "nominate a PoC before confirming the entry")
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := setConfirmed(ctx, tx, state, now); err != nil {
			return err
		}
		return record(ctx, tx, a, &Change{State: state, Action: "entry.reconfirm", ActorEmail: a.Email, ChangedAt: now,
			EffectiveDate: now.Format(time.DateOnly), Diff: []FieldChange{{Field: "confirmed_at", Old: timeString(old.ConfirmedAt), New: now.Format(time.DateOnly)}}})
	})
	if err != nil {
		return nil, err
	}
	s.invalidate()
	return s.requireState(ctx, s.DB, state)
}

// reminderKind names the reminder due at now for a due date: 30, 14 and 7
// days before, then once a week after; "" when none is due.
func reminderKind(due, now time.Time) string {
	left := due.Sub(now)
	day := 24 * time.Hour
	switch {
	case left > 30*day:
		return ""
	case left > 14*day:
		return "before-30"
	case left > 7*day:
		return "before-14"
	case left > 0:
		return "before-7"
	}
	return fmt.Sprintf("after-%d", int(-left/(7*day))+1)
}

// SendReminders puts in the outbox the reconfirmation reminders that are
// due: to each focal point of each State whose entry is due within 30 days
// or overdue. Each (State, due date, kind) is recorded in the same
// transaction as its emails, so several instances, or a restart, never send
// one twice. It returns how many reminders it queued.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now := s.Now()
	states, err := loadAll(ctx, s.DB, s.today())
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, e := range states {
		due := e.DueAt()
		if due == nil {
			continue
		}
		kind := reminderKind(*due, now)
		if kind == "" {
			continue
		}
		body := "mail.reminder.before"
		if strings.HasPrefix(kind, "after-") {
			body = "mail.reminder.after"
		}
		date := due.Format(time.DateOnly)
		ok, err := s.tellFocalPoints(ctx, e.Code, date, kind, now, func(to notify.Reader) notify.Letter {
			return notify.Letter{Kind: "reminder", To: to, Subject: notify.T("mail.reminder.subject", "State", notify.State(e.Code)),
				Body: []notify.Text{notify.T(body, "State", notify.State(e.Code), "Date", date, "Link", s.mail.Link("/states/"+e.Code))}}
		})
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	n, err := s.sendKeyWarnings(ctx, states, now)
	return sent + n, err
}

// sendKeyWarnings tells a State's focal points that an OpenPGP key of one
// of its PoCs expires in 30, 14 and 7 days, and when it has expired: after
// that, communications reach the PoC without their content (C4). Each
// warning is recorded with its emails, so it goes once.
func (s *Service) sendKeyWarnings(ctx context.Context, states []*Entry, now time.Time) (int, error) {
	sent := 0
	for _, e := range states {
		for _, p := range e.PoCs {
			if p.PGPExpiresAt == nil {
				continue
			}
			kind := reminderKind(*p.PGPExpiresAt, now)
			if kind == "" {
				continue
			}
			body := "mail.key_warning.before"
			if strings.HasPrefix(kind, "after-") {
				kind, body = "expired", "mail.key_warning.expired" // once, not every week
			}
			date := p.PGPExpiresAt.Format(time.DateOnly)
			link := s.mail.Link("/pocs/" + strconv.FormatInt(p.ID, 10) + "/edit")
			ok, err := s.tellFocalPoints(ctx, e.Code, date, "key:"+strconv.FormatInt(p.ID, 10)+":"+kind, now, func(to notify.Reader) notify.Letter {
				return notify.Letter{Kind: "key-warning", To: to, Subject: notify.T("mail.key_warning.subject", "State", notify.State(e.Code), "Date", date),
					Body: []notify.Text{notify.T(body, "Agency", p.Agency, "Fingerprint", p.PGPFingerprint, "Date", date, "Link", link)}}
			})
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

// tellFocalPoints writes a letter to each focal point of a State, once for
// (State, date, kind): the record and the emails are in one transaction,
// so several instances, or a restart, never send it twice. It reports
// whether it was sent now.
func (s *Service) tellFocalPoints(ctx context.Context, state, date, kind string, now time.Time, letter func(notify.Reader) notify.Letter) (bool, error) {
	sent := false
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// A State without a focal point has nobody to remind yet: nothing
		// is recorded, so that the reminder goes once one is invited.
		to, err := account.FocalPoints(ctx, tx, state)
		if err != nil || len(to) == 0 {
			return err
		}
		first, err := recordReminder(ctx, tx, state, date, kind, now)
		if err != nil || !first {
			return err // or another instance, or an earlier run, sent it
		}
		for _, r := range to {
			if err := notify.Enqueue(ctx, tx, now, s.mail.Write(letter(r))); err != nil {
				return err
			}
		}
		sent = true
		return nil
	})
	return sent, err
}

// Backdate sets when a State first nominated a PoC and last reconfirmed its
// entry (nil: never). Only the system actor may: the demonstration data
// has a history of nominations, and an import of an existing directory
// would keep its dates.
func (s *Service) Backdate(ctx context.Context, state string, firstNominated time.Time, confirmed *time.Time) error {
	if app.ActorFrom(ctx) != app.System {
		return app.ErrForbidden()
	}
	if err := backdate(ctx, s.DB, state, firstNominated, confirmed); err != nil {
		return err
	}
	s.invalidate()
	return nil
}
