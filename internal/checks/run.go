package checks

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// The background job. Each step claims its work with a conditional update
// in the transaction that does it, so several instances running the job
// send each message once, and a restart picks up where it stopped.

// RunOnce starts the campaigns that are due, queues one batch of messages
// per running campaign, records bounces, sends the reminders that are due
// and closes the campaigns whose window has passed. It returns how many
// messages it queued.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	now := s.Now()
	// One campaign's failure does not hold up the others: the first error
	// is returned after every campaign had its turn.
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	list, err := listActive(ctx, s.DB, StatusScheduled)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, c := range list {
		if !c.StartAt.After(now) {
			_, err := s.start(ctx, c.ID)
			keep(err)
		}
	}
	keep(s.recordBounces(ctx))
	list, err = listActive(ctx, s.DB, StatusRunning)
	if err != nil {
		return queued, err
	}
	for _, c := range list {
		n, err := s.dispatch(ctx, c)
		queued += n
		keep(err)
		// Reminders and the close wait until every message is queued (by
		// this instance or another).
		waiting, err := unqueuedTargets(ctx, s.DB, c.ID)
		if err != nil {
			keep(err)
			continue
		}
		if n > 0 || waiting {
			continue
		}
		if now.After(c.WindowEnd) {
			n, err = s.close(ctx, c)
		} else if c.RemindedAt == nil && now.After(c.StartAt.Add(c.WindowEnd.Sub(c.StartAt)/2)) {
			n, err = s.remind(ctx, c)
		}
		queued += n
		keep(err)
	}
	return queued, first
}

// start moves a scheduled campaign to running and records its targets: the
// PoCs its scope selects, as they are now. A repeating campaign schedules
// its next run in the same transaction.
func (s *Service) start(ctx context.Context, id int64) (bool, error) {
	c, err := getCampaign(ctx, s.DB, id)
	if err != nil || c == nil {
		return false, err
	}
	targets, err := s.selectTargets(ctx, c)
	if err != nil {
		return false, err
	}
	now := s.Now()
	started := false
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := moveCampaign(ctx, tx, id, "running", now)
		if err != nil || !ok {
			return err // or another instance started it
		}
		started = true
		for _, t := range targets {
			if err := insertTarget(ctx, tx, c.ID, t); err != nil {
				return err
			}
		}
		if c.RepeatMonths > 0 {
			next := *c
			next.Status, next.StartAt, next.CreatedAt = StatusScheduled, c.StartAt.AddDate(0, c.RepeatMonths, 0), now
			next.WindowEnd = next.StartAt.Add(c.WindowEnd.Sub(c.StartAt))
			if err := insertCampaign(ctx, tx, &next); err != nil {
				return err
			}
		}
		return nil
	})
	return started, err
}

// selectTargets picks the PoCs of the campaign's scope, one target per PoC
// on the campaign's channel: on email, its preferred email address (or its
// first one); PoCs without one are not checked by email.
func (s *Service) selectTargets(ctx context.Context, c *Campaign) ([]*Target, error) {
	sys := app.WithActor(ctx, app.System)
	var codes []string
	switch {
	case c.Kind == KindBilateral:
		codes = []string{c.Counterpart}
	case c.Scope == "states":
		codes = splitCodes(c.Value)
	default:
		list, err := s.directory.List(sys, directory.Filter{})
		if err != nil {
			return nil, err
		}
		for _, st := range list {
			if (c.Scope == "group" && st.Group != c.Value) || (c.Scope == "body" && !contains(st.Bodies, c.Value)) {
				continue
			}
			codes = append(codes, st.Code)
		}
	}
	var failed map[int64]bool
	if c.Scope == "failed" {
		var err error
		if failed, err = s.failedLastTime(ctx, c); err != nil {
			return nil, err
		}
	}
	var out []*Target
	for _, code := range codes {
		e, err := s.directory.Get(sys, code)
		if err != nil {
			continue // an unknown code selects nobody
		}
		for _, p := range e.PoCs {
			if c.Scope == "level" && string(p.Level) != c.Value {
				continue
			}
			if failed != nil && !failed[p.ID] {
				continue
			}
			t := &Target{PoCID: p.ID, State: p.State, Level: string(p.Level), Agency: p.Agency, Channel: c.Channel,
				language: s.mail.ReaderOf("", p.Languages...).Lang}
			if c.Channel == ChannelEmail {
				t.Address = p.Email()
				if t.Address == "" {
					continue
				}
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// failedLastTime returns the PoCs that did not answer in time in the last
// closed campaign of the same kind (and counterpart).
func (s *Service) failedLastTime(ctx context.Context, c *Campaign) (map[int64]bool, error) {
	last, err := lastClosed(ctx, s.DB, c)
	if err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	if last == 0 {
		return out, nil
	}
	prev, err := getCampaign(ctx, s.DB, last)
	if err != nil {
		return nil, err
	}
	targets, err := listTargets(ctx, s.DB, last, "")
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		t.outcome(prev, s.Now())
		if t.Outcome != OutcomeAnswered && t.PoCID != 0 {
			out[t.PoCID] = true
		}
	}
	return out, nil
}

// dispatch queues the next batch of a running campaign's messages, each
// with a fresh answer link, in one transaction.
func (s *Service) dispatch(ctx context.Context, c *Campaign) (int, error) {
	now := s.Now()
	n := 0
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// Only a running campaign dispatches. The no-op update locks its row
		// until this batch commits, so a cancellation waits for the batch
		// or stops it before it starts.
		running, err := lockRunning(ctx, tx, c.ID)
		if err != nil || !running {
			return err
		}
		claimed, err := claimTargets(ctx, tx, s.DB.Dialect, c.ID, s.batch, now)
		if err != nil {
			return err
		}
		for _, t := range claimed {
			n++
			if t.Channel != ChannelEmail {
				continue // the manual channel is answered by hand
			}
			token, hash := newToken()
			if err := insertToken(ctx, tx, hash, t.ID, c.WindowEnd.Add(Grace)); err != nil {
				return err
			}
			m, err := s.withReplyAddress(ctx, tx, s.checkMail(c, t, token, false), c, t, now)
			if err != nil {
				return err
			}
			id, err := notify.EnqueueID(ctx, tx, now, m)
			if err != nil {
				return err
			}
			if err := setTargetOutbox(ctx, tx, t.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// recordBounces marks the targets whose message the mail server refused
// for good. Only the campaigns running or closed within a week are looked
// at: the outbox gives up on a message within three days.
func (s *Service) recordBounces(ctx context.Context) error {
	open, err := unsettledTargets(ctx, s.DB, s.Now().Add(-7*24*time.Hour))
	if err != nil {
		return err
	}
	if len(open) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(open))
	for outbox := range open {
		ids = append(ids, outbox)
	}
	outcomes, err := notify.Outcomes(ctx, s.DB, ids)
	if err != nil {
		return err
	}
	for outbox, o := range outcomes {
		if o.FailedAt == nil {
			continue
		}
		// The bounce and its count in the campaign's tally, together.
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error { return recordBounce(ctx, tx, open[outbox], *o.FailedAt, o.Error) })
		if err != nil {
			return err
		}
	}
	return nil
}

// remind sends the silent email targets one reminder inside the window,
// with a second answer link (the first still works).
func (s *Service) remind(ctx context.Context, c *Campaign) (int, error) {
	now := s.Now()
	n := 0
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		first, err := markReminded(ctx, tx, c.ID, now)
		if err != nil || !first {
			return err
		}
		silent, err := silentTargets(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		for _, t := range silent {
			token, hash := newToken()
			if err := insertToken(ctx, tx, hash, t.ID, c.WindowEnd.Add(Grace)); err != nil {
				return err
			}
			m, err := s.withReplyAddress(ctx, tx, s.checkMail(c, t, token, true), c, t, now)
			if err != nil {
				return err
			}
			if err := notify.Enqueue(ctx, tx, now, m); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// close ends a campaign after its window and tells each State's focal
// points which of their PoCs did not answer, and the Secretariat (or, for a
// bilateral check, the State that ran it) the whole list.
func (s *Service) close(ctx context.Context, c *Campaign) (int, error) {
	now := s.Now()
	n := 0
	targets, err := listTargets(ctx, s.DB, c.ID, "")
	if err != nil {
		return 0, err
	}
	silentBy := map[string][]*Target{}
	var all []*Target
	for _, t := range targets {
		t.outcome(c, now)
		if t.Outcome != OutcomeAnswered {
			silentBy[t.State] = append(silentBy[t.State], t)
			all = append(all, t)
		}
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := moveCampaign(ctx, tx, c.ID, "closed", now)
		if err != nil || !ok {
			return err
		}
		for state, list := range silentBy {
			to, err := account.FocalPoints(ctx, tx, state)
			if err != nil {
				return err
			}
			for _, r := range to {
				if err := notify.Enqueue(ctx, tx, now, s.silentMail(c, list, r)); err != nil {
					return err
				}
				n++
			}
		}
		if len(all) > 0 {
			var to []notify.Reader
			var err error
			if c.Kind == KindBilateral {
				to, err = account.FocalPoints(ctx, tx, c.OwnerState)
			} else {
				to, err = account.Secretariat(ctx, tx)
			}
			if err != nil {
				return err
			}
			for _, r := range to {
				if err := notify.Enqueue(ctx, tx, now, s.silentMail(c, all, r)); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

// checkMail is the check (or its reminder) sent to a PoC, in the first of
// its working languages that pocdir writes, with English below; the link
// is the whole point.
func (s *Service) checkMail(c *Campaign, t *Target, token string, reminder bool) notify.Message {
	var from any = notify.Term("mail.check.from_secretariat")
	if c.Kind == KindBilateral {
		from = c.OwnerState
	}
	subject := "mail.check.subject"
	if reminder {
		subject = "mail.check.reminder_subject"
	}
	body := []notify.Text{notify.T("mail.check.body", "From", from, "Agency", t.Agency, "Link", s.mail.Link("/check/"+token),
		"Deadline", c.WindowEnd.UTC().Format("2006-01-02 15:04")+" UTC")}
	if s.mail.Replies() != nil {
		body = append(body, notify.T("mail.check.reply"))
	}
	return s.mail.Write(notify.Letter{Kind: "check", To: notify.Reader{Email: t.Address, Lang: t.language}, Note: c.Message,
		Subject: notify.T(subject, "Title", c.Title), Body: body})
}

// withReplyAddress lets the PoC answer the check by replying to its email,
// where pocdir receives mail: a reply address bound to the target, valid as
// long as its answer link.
func (s *Service) withReplyAddress(ctx context.Context, tx *sql.Tx, m notify.Message, c *Campaign, t *Target, now time.Time) (notify.Message, error) {
	replies := s.mail.Replies()
	if replies == nil {
		return m, nil
	}
	token, hash := notify.NewReplyToken()
	if err := notify.RecordReplyToken(ctx, tx, hash, notify.ReplyCheck, t.ID, now, c.WindowEnd.Add(Grace)); err != nil {
		return m, err
	}
	m.ReplyTo = replies.To(token)
	return m, nil
}

// silentMail lists, for a focal point or the Secretariat, the PoCs that
// did not answer a check.
func (s *Service) silentMail(c *Campaign, list []*Target, r notify.Reader) notify.Message {
	var lines []string
	for _, t := range list {
		lines = append(lines, fmt.Sprintf("- %s: %s (%s, %s)", t.State, t.Agency, t.Level, t.Outcome))
	}
	return s.mail.Write(notify.Letter{Kind: "check-report", To: r, Subject: notify.T("mail.check.silent_subject", "Title", c.Title),
		Body: []notify.Text{notify.T("mail.check.silent_body", "Title", c.Title, "List", strings.Join(lines, "\n"), "Link", s.mail.Link("/checks/"+itoa(c.ID)))}})
}
