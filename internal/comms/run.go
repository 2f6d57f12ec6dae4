package comms

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// ReminderLead is how long before a requested response time the silent
// recipients are reminded (or halfway there, when the time is shorter).
const ReminderLead = 24 * time.Hour

// Run does RunOnce every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			log.Error("communications job", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

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
// to the mail server is "delivered"; refused for good is "bounced".
func (s *Service) syncDelivery(ctx context.Context) (int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT r.id, o.sent_at, o.failed_at, o.last_error FROM comm_recipients r JOIN outbox o ON o.id = r.outbox_id
		WHERE r.delivered_at IS NULL AND r.bounced_at IS NULL AND (o.sent_at IS NOT NULL OR o.failed_at IS NOT NULL)`)
	if err != nil {
		return 0, err
	}
	type upd struct {
		id           int64
		sent, failed sql.NullTime
		why          string
	}
	var list []upd
	for rows.Next() {
		var u upd
		if err := rows.Scan(&u.id, &u.sent, &u.failed, &u.why); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, u := range list {
			var err error
			if u.sent.Valid {
				_, err = tx.ExecContext(ctx, `UPDATE comm_recipients SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL`, u.sent.Time, u.id)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE comm_recipients SET bounced_at = $1, bounce_error = $2 WHERE id = $3 AND bounced_at IS NULL`, u.failed.Time, u.why, u.id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return len(list), err
}

// remind sends each recipient that has not answered one reminder before
// the requested response time.
func (s *Service) remind(ctx context.Context) (int, error) {
	now := s.Now()
	list, err := s.query(ctx, `SELECT `+commColumns+` FROM comms c WHERE c.status = 'sent' AND c.respond_by > $1
		AND EXISTS (SELECT 1 FROM comm_recipients r WHERE r.comm_id = c.id AND r.reminded_at IS NULL AND r.outcome = '' AND r.moved_at IS NULL)`, now)
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
		rs, err := s.recipients(ctx, c.ID)
		if err != nil {
			return n, err
		}
		for _, r := range rs {
			if r.RemindedAt != nil || r.Outcome != "" || r.MovedAt != nil || r.Address == "" {
				continue
			}
			p := &directory.PoC{State: r.State, Level: directory.Level(r.Level)}
			if r.PoCID != 0 {
				if cur, err := s.Dir.GetPoC(app.WithActor(ctx, app.System), r.PoCID); err == nil {
					p = cur
				}
			}
			err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, `UPDATE comm_recipients SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND outcome = ''`, now, r.ID)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k != 1 {
					return nil
				}
				// To the PoC's address of today, if it changed since.
				to := r.Address
				if cur := p.Email(); cur != "" {
					to = cur
				}
				m, _ := s.notification(c, p, to, true)
				if err := notify.Enqueue(ctx, tx, now, m); err != nil {
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
	rows, err := s.DB.QueryContext(ctx, `SELECT r.id, r.comm_id, r.state_code, r.level FROM comm_recipients r
		WHERE r.moved_at IS NULL AND r.acked_at IS NULL AND r.outcome = ''
		AND r.poc_id IN (SELECT id FROM pocs WHERE removed_at IS NOT NULL OR (leaving_on <> '' AND leaving_on <= $1))`, today)
	if err != nil {
		return 0, err
	}
	type gone struct {
		id, comm     int64
		state, level string
	}
	var list []gone
	for rows.Next() {
		var g gone
		if err := rows.Scan(&g.id, &g.comm, &g.state, &g.level); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	sys := app.WithActor(ctx, app.System)
	for _, g := range list {
		e, err := s.Dir.Get(sys, g.state)
		if err != nil {
			return n, err
		}
		have, err := s.recipients(ctx, g.comm)
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
		err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE comm_recipients SET moved_at = $1 WHERE id = $2 AND moved_at IS NULL`, now, g.id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return nil
			}
			n++
			if err := s.addRecipients(ctx, tx, c, next, now, false); err != nil {
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
