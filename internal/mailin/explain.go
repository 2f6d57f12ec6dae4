package mailin

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/notify"
)

// explainEvery is how often one reply address gets an explanation at most:
// a person who keeps replying wrongly gets one a day, and a loop with a
// robot that escaped the auto-reply tests stops at the first.
const explainEvery = 24 * time.Hour

// explain records a person's reply that could not be recorded and tells
// them why, once, in their language with English below, without quoting
// anything of what they wrote (a TLP:RED communication's content never
// travels by email). The explanation goes to the address the directory
// has for the line (the reply's From only when the line is no longer
// known), so that a forged From gets nothing back.
func (g *Gateway) explain(ctx context.Context, in *inbound, m *Message, l *comms.MailLine, t *checks.MailTarget, cause error) (*Outcome, error) {
	out := &Outcome{Result: ResultUnclear, Act: in.act, Detail: cause.Error()}
	to, lang := m.From, "en"
	if l != nil {
		if err := g.comms.WithPoC(ctx, l); err != nil {
			return nil, err
		}
	}
	switch {
	case l != nil:
		to, lang = l.Address, l.Language
	case t != nil:
		to, lang = t.Address, t.Language
	}
	err := g.db.Tx(g.record(ctx), func(tx *sql.Tx) error {
		recent, err := explainedSince(ctx, tx, in.address, in.at.Add(-explainEvery))
		if err != nil {
			return err
		}
		in.answered = !recent && to != "" && in.address != 0
		if err := insertInbound(ctx, tx, in, out); err != nil {
			return err
		}
		if !in.answered {
			return nil
		}
		letter := notify.Letter{Kind: "mail-explain", To: g.mail.ReaderOf(to, lang),
			Subject: notify.T("mail.reply.subject"),
			Body:    []notify.Text{notify.T("mail.reply.unclear"), reason(cause)}}
		if l != nil {
			letter.Subject = notify.T("mail.reply.subject_comm", "Ref", l.Ref)
			letter.Body = append(letter.Body, comms.ReplyHelp(l.TLP)...)
			letter.Body = append(letter.Body, notify.T("mail.comm.link", "Link", g.mail.Link("/comms/"+itoa(l.CommID))))
		}
		msg := g.mail.Write(letter)
		msg.InReplyTo, msg.AutoReply = m.MessageID, true
		return notify.Enqueue(ctx, tx, in.at, msg)
	})
	if errors.Is(err, errDuplicate) {
		return &Outcome{Result: ResultDuplicate}, nil
	}
	if err != nil {
		return nil, err
	}
	g.log.Info("inbound email could not be recorded", "via", in.via, "object", in.object, "why", out.Detail, "explained", in.answered)
	return out, nil
}

// reason is the cause of a refusal as the catalog says it, in the reader's
// language: the same message the portal would show.
func reason(err error) notify.Text {
	e := app.AsError(err)
	if e == nil || e.Key == "" {
		return notify.T("mail.reply.unreadable")
	}
	keys := make([]string, 0, len(e.Args))
	for k := range e.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var args []any
	for _, k := range keys {
		args = append(args, k, e.Args[k])
	}
	return notify.T(e.Key, args...)
}
