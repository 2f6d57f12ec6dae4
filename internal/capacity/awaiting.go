package capacity

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
)

// A proposed match waits for answers: the needing State's focal point
// first; then the offering State's (which may not see the need before),
// or, for a partner's offer, a Secretariat officer other than the one who
// proposed it. The inbox lists what waits for the actor (Awaiting); those
// who chose an e-mail for each new item are written to when it starts to
// wait (in place of one who is away, their delegate), and the daily digest
// lists it with the rest of the inbox. The
// e-mail names the match only: no State, topic nor details.

// Awaiting lists the proposed matches that wait for the actor's answer,
// oldest first. Every page counts them for its navigation, so it reads only
// the proposed matches of a side the actor answers for (waitsFor: a match
// that waits for the actor is one the actor sees), not every match, need
// and offer of ten years.
func (s *Service) Awaiting(ctx context.Context) ([]*Match, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if a.ReadOnly || (!a.IsSecretariat() && !a.IsFocalPointOf(a.State)) {
		return nil, nil
	}
	all, err := proposedMatches(ctx, s.DB, a)
	if err != nil {
		return nil, err
	}
	var out []*Match
	for i := len(all) - 1; i >= 0; i-- {
		if m := all[i]; waitsFor(a, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// waitsFor reports whether a match waits for the actor's answer.
func waitsFor(a *app.Actor, m *Match) bool {
	if m.Status != MatchProposed {
		return false
	}
	side := AnswersFor(a, m)
	return (side.Need && m.NeedAnswer == "") ||
		(side.Offer && m.OfferAnswer == "" && (m.NeedAnswer == Accept || m.OfferState == ""))
}

// tellAwaiting writes, in the caller's transaction, to those who chose an
// e-mail for each new item and now answer for a side of the match: state
// names the side ("" for the Secretariat, on a partner's offer), except the
// user who caused it. In place of one who is away, their delegate, as for
// every e-mail about new work (account.AnswerWatchers).
func (s *Service) tellAwaiting(ctx context.Context, tx *sql.Tx, m *Match, state string, except int64, now time.Time) error {
	if s.mail == nil {
		return nil
	}
	to, err := account.AnswerWatchers(ctx, tx, state, except, now)
	if err != nil {
		return err
	}
	link := s.mail.Link("/capacity#match-" + strconv.FormatInt(m.ID, 10))
	for _, w := range to {
		l := notify.Letter{Kind: "capacity", To: w.Reader, Subject: notify.T("mail.capacity_match.subject", "ID", m.ID),
			Body: []notify.Text{notify.T("mail.capacity_match.body", "ID", m.ID, "Link", link),
				w.Why(notify.T("mail.new_item.why", "Link", s.mail.Link("/account#notifications")))}}
		if err := notify.Enqueue(ctx, tx, now, s.mail.Write(l)); err != nil {
			return err
		}
	}
	return nil
}
