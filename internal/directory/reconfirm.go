package directory

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

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
		if _, err := tx.ExecContext(ctx, `UPDATE states SET confirmed_at = $1 WHERE code = $2`, now, state); err != nil {
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
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO reminders_sent (state_code, due_date, kind, sent_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (state_code, due_date, kind) DO NOTHING`, e.Code, due.Format(time.DateOnly), kind, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil // another instance, or an earlier run, sent it
			}
			rows, err := tx.QueryContext(ctx, `SELECT email, language FROM users WHERE state_code = $1 AND role = $2 AND disabled_at IS NULL`,
				e.Code, "focal-point")
			if err != nil {
				return err
			}
			type rcpt struct{ email, lang string }
			var to []rcpt
			for rows.Next() {
				var r rcpt
				if err := rows.Scan(&r.email, &r.lang); err != nil {
					rows.Close()
					return err
				}
				to = append(to, r)
			}
			rows.Close()
			for _, r := range to {
				if err := notify.Enqueue(ctx, tx, now, s.reminderMail(e, *due, kind, r.email, r.lang)); err != nil {
					return err
				}
			}
			sent++
			return nil
		})
		if err != nil {
			return sent, err
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
			if strings.HasPrefix(kind, "after-") {
				kind = "expired" // once, not every week
			}
			kind = "key:" + strconv.FormatInt(p.ID, 10) + ":" + kind
			err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, `INSERT INTO reminders_sent (state_code, due_date, kind, sent_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT (state_code, due_date, kind) DO NOTHING`, e.Code, p.PGPExpiresAt.Format(time.DateOnly), kind, now)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n != 1 {
					return nil
				}
				rows, err := tx.QueryContext(ctx, `SELECT email, language FROM users WHERE state_code = $1 AND role = $2 AND disabled_at IS NULL`, e.Code, "focal-point")
				if err != nil {
					return err
				}
				type rcpt struct{ email, lang string }
				var to []rcpt
				for rows.Next() {
					var r rcpt
					if err := rows.Scan(&r.email, &r.lang); err != nil {
						rows.Close()
						return err
					}
					to = append(to, r)
				}
				rows.Close()
				for _, r := range to {
					if err := notify.Enqueue(ctx, tx, now, s.keyWarningMail(e, p, strings.HasSuffix(kind, ":expired"), r.email, r.lang)); err != nil {
						return err
					}
				}
				sent++
				return nil
			})
			if err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

func (s *Service) keyWarningMail(e *Entry, p *PoC, expired bool, to, lang string) notify.Message {
	link := strings.TrimRight(s.BaseURL, "/") + "/pocs/" + strconv.FormatInt(p.ID, 10) + "/edit"
	date := p.PGPExpiresAt.Format(time.DateOnly)
	text := func(lang string) (string, string) {
		if s.Catalog == nil {
			return "pocdir: an OpenPGP key of " + e.Code + " expires on " + date, "The OpenPGP key of " + p.Agency + " expires on " + date + ": " + link
		}
		l := s.Catalog.For(lang)
		key := "mail.key_warning.before"
		if expired {
			key = "mail.key_warning.expired"
		}
		return l.T("mail.key_warning.subject", "State", e.Code, "Date", date),
			l.T(key, "Agency", p.Agency, "Fingerprint", p.PGPFingerprint, "Date", date, "Link", link)
	}
	subject, body := text(lang)
	if lang != "en" && lang != "" {
		_, en := text("en")
		body += "\n\n— English —\n\n" + en
	}
	return notify.Message{Kind: "key-warning", To: to, Subject: subject, Body: body}
}

func (s *Service) reminderMail(e *Entry, due time.Time, kind, to, lang string) notify.Message {
	link := strings.TrimRight(s.BaseURL, "/") + "/states/" + e.Code
	text := func(lang string) (string, string) {
		if s.Catalog == nil {
			return "pocdir: reconfirm the entry of " + e.Code, "Reconfirm the entry of " + e.Code + " by " + due.Format(time.DateOnly) + ": " + link
		}
		l := s.Catalog.For(lang)
		key := "mail.reminder.before"
		if strings.HasPrefix(kind, "after-") {
			key = "mail.reminder.after"
		}
		return l.T("mail.reminder.subject", "State", e.Code), l.T(key, "State", e.Code, "Date", due.Format(time.DateOnly), "Link", link)
	}
	subject, body := text(lang)
	if lang != "en" && lang != "" {
		_, en := text("en")
		body += "\n\n— English —\n\n" + en
	}
	return notify.Message{Kind: "reminder", To: to, Subject: subject, Body: body}
}
