package comms

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// Acts by email: a PoC with nothing but a mail client acknowledges, answers,
// declines, disputes or asks for more information by replying to its
// notification (seed 002, functional equivalence). The reply address's
// token is the credential, as a check's answer link is: it is bound to one
// recipient line and expires with the communication. The act is the same
// act as in the portal, by the line's State, and its thread says it came by
// email and whether its signature was verified against the PoC's OpenPGP
// key; the State's users confirm or reject an unverified one.

// The acts a reply can carry.
const (
	MailAcknowledge = "acknowledge"
	MailRespond     = "respond"
	MailDecline     = OutcomeDeclined
	MailDispute     = OutcomeDisputed
	MailMoreInfo    = OutcomeMoreInfo
)

// The verification of an act received by email.
const (
	Verified   = "verified"   // signed with the PoC's OpenPGP key
	Unverified = "unverified" // not signed (or not by the PoC's key): the State may confirm or reject it
	Confirmed  = "confirmed"  // unverified, then confirmed by a user of the State
	Rejected   = "rejected"   // unverified, then rejected by a user of the State
)

// MailLine is what the mail gateway needs of the recipient line a reply
// address is bound to: whose key verifies a signature, the language an
// explanation is written in, and whether the content may travel by email.
type MailLine struct {
	ID       int64
	CommID   int64
	Ref      string
	State    string
	Address  string
	TLP      string
	PGPKey   string // the PoC's OpenPGP public key, "" when it has none (see WithPoC)
	Language string // the first of the PoC's working languages pocdir writes (see WithPoC)

	pocID int64
	comm  *Communication
}

// MailAct is an act received by email on a recipient line.
type MailAct struct {
	Act         string // MailAcknowledge, MailRespond, MailDecline, MailDispute or MailMoreInfo
	Subject     string // the reply's subject, for a response
	Text        string // the person's text, without what it quotes
	Attachments []*Attachment
	From        string // the From address
	Verified    bool   // signed by the PoC's OpenPGP key, and the signature holds
}

type mailOriginKey struct{}

// mailOrigin is how an act came by email, carried to the thread's event.
type mailOrigin struct{ verification string }

func mailFrom(ctx context.Context) *mailOrigin {
	o, _ := ctx.Value(mailOriginKey{}).(*mailOrigin)
	return o
}

// ReplyLine returns the recipient line a reply token is bound to. An
// unknown token is NotFound, a spent one (its communication is over)
// Conflict; a token of another kind (a check's) is NotFound here.
func (s *Service) ReplyLine(ctx context.Context, token string) (*MailLine, error) {
	t, err := notify.LookupReplyToken(ctx, s.DB, token)
	if errors.Is(err, notify.ErrUnknownReply) {
		return nil, app.Errorf(app.NotFound, "error.reply_unknown", "this reply address is not valid")
	}
	if err != nil {
		return nil, err
	}
	return s.LineOf(ctx, t)
}

// LineOf is ReplyLine for a token already looked up (the mail gateway
// looks it up to learn its kind): the same answers, one query fewer.
func (s *Service) LineOf(ctx context.Context, t *notify.ReplyTarget) (*MailLine, error) {
	if t.Kind != notify.ReplyComm {
		return nil, app.Errorf(app.NotFound, "error.reply_unknown", "this reply address is not valid")
	}
	if s.Now().After(t.ExpiresAt) {
		return nil, app.Errorf(app.Conflict, "error.reply_expired", "this reply address has expired: answer in the portal")
	}
	r, comm, err := lineByID(ctx, s.DB, t.ObjectID)
	if err != nil {
		return nil, err
	}
	c, err := s.load(ctx, comm)
	if err != nil {
		return nil, err
	}
	return &MailLine{ID: r.ID, CommID: c.ID, Ref: c.Ref, State: r.State, Address: r.Address, TLP: c.TLP, Language: "en",
		pocID: r.PoCID, comm: c}, nil
}

// WithPoC reads what the directory says of the line's PoC: the OpenPGP key
// that verifies its signatures, and the language it reads. The gateway asks
// only when a reply is signed or encrypted, or must be explained.
func (s *Service) WithPoC(ctx context.Context, l *MailLine) error {
	if l.pocID == 0 {
		return nil
	}
	p, err := s.dir.GetPoC(app.WithActor(ctx, app.System), l.pocID)
	if app.ErrorCode(err) == app.NotFound {
		return nil // the PoC left the directory
	}
	if err != nil {
		return err
	}
	l.PGPKey, l.Language = p.PGPKey, s.mail.ReaderOf(l.Address, p.Languages...).Lang
	return nil
}

// mailActor is who acts by email: the line's State, named by the address
// the reply came from. It has no account: the reply token is its right.
func mailActor(l *MailLine, from string) *app.Actor {
	from = strings.ToLower(strings.TrimSpace(from))
	if from == "" {
		from = l.Address
	}
	return &app.Actor{Email: from, Name: from, State: l.State, Role: app.RoleOfficer}
}

// ActByMail records the act a reply carries on the line its reply address
// is bound to (from ReplyLine or LineOf, read just before), as the same
// act in the portal would be recorded, for the line's State, and returns
// the communication it concerns (for a response, the response). A TLP:RED
// communication is acknowledged by email but not answered: its content
// never travels by email, in either direction. The act's transaction
// decides (an acknowledgement given meanwhile is a conflict there).
func (s *Service) ActByMail(ctx context.Context, l *MailLine, m MailAct) (int64, error) {
	if m.Act != MailAcknowledge && !TLPAllowsEmail(l.TLP) {
		return 0, app.Errorf(app.Forbidden, "error.reply_red", "the content of a TLP:RED communication is not sent by email: answer in the portal")
	}
	verification := Unverified
	if m.Verified {
		verification = Verified
	}
	a := mailActor(l, m.From)
	ctx = app.WithActor(context.WithValue(ctx, mailOriginKey{}, &mailOrigin{verification}), a)
	c := l.comm
	text := strings.TrimSpace(m.Text)
	switch m.Act {
	case MailAcknowledge:
		return c.ID, s.acknowledge(ctx, a, c)
	case MailDecline, MailDispute, MailMoreInfo:
		rs, err := recipientsOf(ctx, s.DB, c.ID)
		if err != nil {
			return 0, err
		}
		c.Recipients = rs
		return c.ID, s.reply(ctx, a, c, m.Act, text)
	case MailRespond:
		if text == "" && len(m.Attachments) == 0 {
			return 0, app.FieldError("text", "error.reply_empty", "the reply says nothing that pocdir could record", nil)
		}
		if text == "" {
			text = "—"
		}
		subject := strings.TrimSpace(m.Subject)
		if subject == "" || utf8.RuneCountInString(subject) > MaxTextRunes {
			subject = "Re: " + c.Ref
		}
		r, err := s.Compose(ctx, CommInput{ParentID: c.ID, Template: "response", Attachments: m.Attachments,
			Fields: map[string]string{"subject": subject, "urgency": c.Urgency, "tlp": c.TLP, "description": text}})
		if err != nil {
			return 0, err
		}
		return r.ID, nil
	}
	return 0, app.FieldError("act", "error.reply_act", "unknown act", nil)
}

// AutoReplyByMail records in the thread that the PoC's mailbox answered a
// notification automatically (an out-of-office): it is no act of the
// State, but it tells the sender that the PoC may be away, and to look
// for its alternate.
func (s *Service) AutoReplyByMail(ctx context.Context, token string) error {
	l, err := s.ReplyLine(ctx, token)
	if err != nil {
		return err
	}
	c := l.comm
	ctx = context.WithValue(ctx, mailOriginKey{}, &mailOrigin{})
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		return s.event(ctx, tx, &app.Actor{State: l.State}, c.ThreadID, c.ID, EvAutoReply, l.State, "", 0, nil, s.Now())
	})
}

// AckView is what an acknowledgement link shows: the reference and the
// label, and whether the State has acknowledged; never the content.
type AckView struct {
	Ref          string
	TLP          string
	Acknowledged bool
}

// The acknowledgement page needs no sign-in, so unknown links are counted
// per address, as failed sign-ins are.
const ackLimitWindow = 15 * time.Minute

// AckLink reads an acknowledgement link without using it: opening the
// page records nothing (mail scanners open links).
func (s *Service) AckLink(ctx context.Context, token, ip string) (*AckView, error) {
	l, err := s.ackLine(ctx, token, ip)
	if err != nil {
		return nil, err
	}
	c := l.comm
	rs, err := recipientsOf(ctx, s.DB, l.CommID)
	if err != nil {
		return nil, err
	}
	v := &AckView{Ref: c.Ref, TLP: c.TLP}
	for _, r := range rs {
		if r.State == l.State && r.AckedAt != nil {
			v.Acknowledged = true
		}
	}
	return v, nil
}

// AcknowledgeByLink records the acknowledgement a link carries, for the
// line's State. It says nothing of agreement (principle 3).
func (s *Service) AcknowledgeByLink(ctx context.Context, token, ip string) (*AckView, error) {
	l, err := s.ackLine(ctx, token, ip)
	if err != nil {
		return nil, err
	}
	a := mailActor(l, "")
	ctx = app.WithActor(context.WithValue(ctx, mailOriginKey{}, &mailOrigin{Unverified}), a)
	if err := s.acknowledge(ctx, a, l.comm); err != nil {
		return nil, err
	}
	return s.AckLink(ctx, token, "")
}

func (s *Service) ackLine(ctx context.Context, token, ip string) (*MailLine, error) {
	key := "ack:" + ip
	if ip != "" {
		n, err := db.Attempts(ctx, s.DB, key, s.Now().Add(-ackLimitWindow))
		if err != nil {
			return nil, err
		}
		if n >= 30 {
			return nil, app.Errorf(app.TooMany, "error.throttled", "too many failed attempts from your address: wait a few minutes")
		}
	}
	l, err := s.ReplyLine(ctx, token)
	if err != nil && ip != "" && (app.ErrorCode(err) == app.NotFound || app.ErrorCode(err) == app.Conflict) {
		now := s.Now()
		db.CountAttempt(ctx, s.DB, key, now, now.Add(-ackLimitWindow))
	}
	return l, err
}

// ReviewMailAct confirms or rejects an act that came by email unverified,
// on behalf of the State that it claims to come from: only that State's
// users decide. A rejected act is undone on the State's lines (an
// acknowledgement or an answer it set) and stays in the thread, struck
// through, as it stays in the log.
func (s *Service) ReviewMailAct(ctx context.Context, commID, eventID int64, confirm bool) (*Communication, error) {
	a, c, err := s.recipientComm(ctx, commID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		e, err := mailEvent(ctx, tx, s.DB.Dialect, commID, eventID)
		if err != nil {
			return err
		}
		if e == nil || e.State != a.State {
			return app.ErrNotFound("event")
		}
		if e.Verification != Unverified {
			return app.Errorf(app.Conflict, "error.reply_reviewed", "this act has already been confirmed or rejected")
		}
		to, typ := Confirmed, "comms.email_act_confirmed"
		if !confirm {
			to, typ = Rejected, "comms.email_act_rejected"
			if err := undoMailAct(ctx, tx, commID, a.State, e); err != nil {
				return err
			}
		}
		if err := setVerification(ctx, tx, eventID, to, a.Email); err != nil {
			return err
		}
		err = auditlog.Append(ctx, tx, auditlog.Event{Type: typ, Object: "comm:" + c.Ref, States: []string{c.SenderState, a.State}, At: now}.ByState(a))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Communication(ctx, commID)
}

// LateBounce records, on the line whose notification it was, a bounce that
// came back after the relay accepted the message (RFC 3464), in the
// caller's transaction. It reports whether a line had that message.
func (s *Service) LateBounce(ctx context.Context, tx *sql.Tx, outboxID int64, at time.Time, why string) (bool, error) {
	id, ref, sender, state, err := lineByOutbox(ctx, tx, outboxID)
	if err != nil || id == 0 {
		return false, err
	}
	if err := setLateBounce(ctx, tx, id, at, why); err != nil {
		return false, err
	}
	err = auditlog.Append(ctx, tx, auditlog.Event{Type: "comms.bounced", Object: "comm:" + ref + "/recipient:" + strconv.FormatInt(id, 10),
		States: []string{sender, state}, At: at}.By(app.System))
	return err == nil, err
}
