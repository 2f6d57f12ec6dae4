package comms

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// ReminderLead is how long before a requested response time the silent
// recipients are reminded (or halfway there, when the time is shorter).
const ReminderLead = 24 * time.Hour

// RunOnce follows delivery, sends reminders before deadlines, and moves a
// departed PoC's pending communications to its State's other PoCs. Every
// step is a conditional update, so several instances do each thing once.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	n, err := s.syncDelivery(ctx)
	if err != nil {
		return n, err
	}
	m, err := s.remind(ctx)
	if err != nil {
		return n + m, err
	}
	k, err := s.moveDeparted(ctx)
	return n + m + k, err
}

// syncDelivery copies the outbox's outcome to the recipients' lines: sent
// to the mail server is "delivered"; refused for good is "bounced". The
// outbox is notify's: it tells the outcomes of the lines' messages.
func (s *Service) syncDelivery(ctx context.Context) (int, error) {
	open, err := undeliveredLines(ctx, s.DB)
	if err != nil || len(open) == 0 {
		return 0, err
	}
	ids := make([]int64, 0, len(open))
	for outbox := range open {
		ids = append(ids, outbox)
	}
	outcomes, err := notify.Outcomes(ctx, s.DB, ids)
	if err != nil || len(outcomes) == 0 {
		return 0, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// The messages a round of the outbox sent share the time it
		// recorded them: the lines they notify are recorded together.
		delivered := map[time.Time][]int64{}
		evs := make([]auditlog.Event, 0, len(outcomes))
		for outbox, o := range outcomes {
			l := open[outbox]
			typ := "comms.delivered"
			if o.SentAt != nil {
				delivered[*o.SentAt] = append(delivered[*o.SentAt], l.id)
			} else {
				typ = "comms.bounced"
				if err := setBounced(ctx, tx, l.id, *o.FailedAt, o.Error); err != nil {
					return err
				}
			}
			// Every transmission is accounted for: the log says when each
			// notification reached the mail server, or was refused.
			evs = append(evs, auditlog.Event{Type: typ, Object: "comm:" + l.ref + "/recipient:" + strconv.FormatInt(l.id, 10),
				States: []string{l.sender, l.state}, At: now}.By(app.System))
		}
		if err := auditlog.AppendMany(ctx, tx, evs); err != nil {
			return err
		}
		for at, lines := range delivered {
			if err := setDelivered(ctx, tx, lines, at); err != nil {
				return err
			}
		}
		return nil
	})
	return len(outcomes), err
}

// remind sends each recipient that has not answered one reminder before
// the requested response time.
func (s *Service) remind(ctx context.Context) (int, error) {
	now := s.Now()
	list, err := remindable(ctx, s.DB, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		lead := ReminderLead
		if c.SentAt != nil && c.RespondBy.Sub(*c.SentAt)/2 < lead {
			lead = c.RespondBy.Sub(*c.SentAt) / 2
		}
		if now.Before(c.RespondBy.Add(-lead)) {
			continue
		}
		if err := s.openContent(c); err != nil {
			return n, err
		}
		if t, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion); err == nil {
			c.TemplateSlug = t.Slug
		}
		rs, err := recipientsOf(ctx, s.DB, c.ID)
		if err != nil {
			return n, err
		}
		for _, r := range rs {
			if r.RemindedAt != nil || r.Outcome != "" || r.MovedAt != nil || r.Address == "" {
				continue
			}
			p := &directory.PoC{State: r.State, Level: directory.Level(r.Level)}
			if r.PoCID != 0 {
				if cur, err := s.dir.GetPoC(app.WithActor(ctx, app.System), r.PoCID); err == nil {
					p = cur
				}
			}
			// To the PoC's address of today, if it changed since; written
			// (and encrypted) before the transaction, as a send's are.
			to := r.Address
			if cur := p.Email(); cur != "" {
				to = cur
			}
			token, hash := notify.NewReplyToken()
			m, _ := s.notification(ctx, c, p, to, true, nil, token)
			err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
				if ok, err := markReminded(ctx, tx, r.ID, now); err != nil || !ok {
					return err
				}
				if err := notify.Enqueue(ctx, tx, now, m); err != nil {
					return err
				}
				if err := notify.RecordReplyToken(ctx, tx, hash, notify.ReplyComm, r.ID, now, replyExpiry(c, now)); err != nil {
					return err
				}
				n++
				return s.event(ctx, tx, nil, c.ThreadID, c.ID, EvReminded, r.State, "", 0, nil, now)
			})
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// moveDeparted hands a departed PoC's pending communications (not yet
// acknowledged or answered) to its State's alternate at the same level, or
// to its other PoCs at the level.
func (s *Service) moveDeparted(ctx context.Context) (int, error) {
	today := s.Now().Format(time.DateOnly)
	// From the departed PoCs (few) to their open lines (by index): the
	// open lines of every silent recipient ever are many.
	departed, err := directory.DepartedPoCs(ctx, s.DB, today)
	if err != nil || len(departed) == 0 {
		return 0, err
	}
	list, err := openLinesOf(ctx, s.DB, departed)
	if err != nil {
		return 0, err
	}
	n := 0
	sys := app.WithActor(ctx, app.System)
	for _, g := range list {
		e, err := s.dir.Get(sys, g.state)
		if err != nil {
			return n, err
		}
		have, err := recipientsOf(ctx, s.DB, g.comm)
		if err != nil {
			return n, err
		}
		taken, others := map[int64]bool{}, 0
		for _, r := range have {
			if r.MovedAt == nil {
				taken[r.PoCID] = true
				if r.ID != g.id && r.State == g.state {
					others++
				}
			}
		}
		var next []target
		for _, alt := range []bool{true, false} {
			for _, p := range e.PoCs {
				if string(p.Level) == g.level && p.Alternate == alt && !taken[p.ID] && p.Email() != "" && len(next) == 0 {
					next = append(next, target{p, RouteMoved})
				}
			}
		}
		if len(next) == 0 && others == 0 {
			continue // nobody to hand it to: the line stays, to be seen
		}
		// Only now the communication itself, to notify the new PoC.
		c, err := s.load(ctx, g.comm)
		if err != nil {
			return n, err
		}
		if err := s.openContent(c); err != nil {
			return n, err
		}
		if t, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion); err == nil {
			c.TemplateSlug = t.Slug
		}
		now := s.Now()
		ls := s.letters(ctx, c, next) // before the transaction, as a send's
		err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
			if ok, err := markMoved(ctx, tx, g.id, now); err != nil || !ok {
				return err
			}
			n++
			if err := s.addRecipients(ctx, tx, c, next, ls, false, now); err != nil {
				return err
			}
			return s.event(ctx, tx, nil, c.ThreadID, c.ID, EvMoved, g.state, "", 0, nil, now)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
