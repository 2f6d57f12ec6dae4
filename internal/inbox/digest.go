package inbox

import (
	"context"
	"database/sql"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

// digestLines bounds the items a digest lists; the rest are counted.
const digestLines = 30

// Digests sends the daily digests that are due (07:00 in each user's zone):
// to each user who chose one and is not away, what waits in their inbox,
// as the inbox lists it, without any communication's content (references,
// States and urgency only). A user with nothing waiting gets no e-mail.
// Several instances may run it at once: each digest is claimed in the
// transaction that queues it.
func (s *Service) Digests(ctx context.Context) (int, error) {
	now := s.Comms.Now()
	due, err := account.DigestsDue(ctx, s.DB, now, directory.DefaultZone)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		box, err := s.For(app.WithActor(ctx, d.User.Actor()))
		if err != nil {
			return sent, err
		}
		err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
			ok, err := account.ClaimDigest(ctx, tx, d.User.ID, d.Last, now)
			if err != nil || !ok || box.Count == 0 {
				return err
			}
			sent++
			return notify.Enqueue(ctx, tx, now, s.Mail.Write(digestLetter(s.Mail, d.User, box)))
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func digestLetter(w *notify.Writer, u *account.User, box *Inbox) notify.Letter {
	body := []notify.Text{notify.T("mail.digest.intro", "Count", box.Count)}
	for i, it := range box.Items {
		if i == digestLines {
			body = append(body, notify.T("mail.digest.more", "Count", box.Count-digestLines))
			break
		}
		what := notify.Term("inbox.kind_" + it.Kind)
		if it.Kind == KindCommunication {
			what = notify.Term("inbox.need_" + it.Need)
		}
		line := notify.T("mail.digest.item", "What", what, "State", notify.State(it.State), "Link", w.Link(it.Path))
		if it.Ref != "" {
			line = notify.T("mail.digest.item_comm", "What", what, "Ref", it.Ref, "State", notify.State(it.State),
				"Urgency", notify.Term("comm.urgency_"+it.Urgency), "Link", w.Link(it.Path))
		}
		body = append(body, line)
	}
	body = append(body, notify.T("mail.digest.link", "Link", w.Link("/inbox")), notify.T("mail.digest.why", "Link", w.Link("/account#notifications")))
	return notify.Letter{Kind: "digest", To: notify.Reader{Email: u.Email, Lang: u.Language},
		Subject: notify.T("mail.digest.subject", "Count", box.Count), Body: body}
}
