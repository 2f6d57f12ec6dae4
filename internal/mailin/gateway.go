// Package mailin owns inbound email: the gateway through which a PoC with
// nothing but a mail client acknowledges, answers, declines, disputes or
// asks for more information on a communication, and answers a
// communication check, by replying to pocdir's email (seed 002: functional
// equivalence). It reads what arrives (parse.go), tells a person's reply
// from an auto-reply and a delivery status notification, verifies and
// decrypts OpenPGP, chooses the act by the first line's word in any of the
// six languages, and hands the act to the capability that owns it (comms,
// checks), which records it as the portal would. Mail arrives over SMTP, to
// pocdir's own listener (smtp.go), or from a mailbox over IMAP (imap.go);
// each message is recorded once in inbound_mail, whichever instance
// receives it, in the transaction of the act it carried.
package mailin

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// DefaultMaxSize is the largest message accepted (bytes): the portal's
// attachments (comms.MaxTotalAttachment) in base64, and room for the text.
const DefaultMaxSize = 30 << 20

// Gateway receives replies and records what they carry.
type Gateway struct {
	db      *db.DB
	now     app.Clock
	replies *notify.Replies
	comms   *comms.Service
	checks  *checks.Service
	pgp     *notify.PGPSigner
	mail    *notify.Writer
	log     *slog.Logger
	words   *keywords
	// MaxSize is the largest message accepted, in bytes.
	maxSize  int64
	limits   Limits
	received func(result string)
	// group commits together the records of messages that arrive at
	// once (see record).
	group *db.Group
}

// Config is what a Gateway needs.
type Config struct {
	DB      *db.DB
	Now     app.Clock
	Replies *notify.Replies // the addresses pocdir receives at (required)
	Comms   *comms.Service
	Checks  *checks.Service
	PGP     *notify.PGPSigner // decrypts and verifies (nil: neither)
	Mail    *notify.Writer    // writes the explanations, and names the words
	Log     *slog.Logger
	MaxSize int64 // DefaultMaxSize when 0
	// Received, when set, is told the result of each message handled
	// (the operator's metrics).
	Received func(result string)
}

// New returns the gateway.
func New(c Config) *Gateway {
	if c.Replies == nil || c.Comms == nil || c.Checks == nil || c.Mail == nil {
		panic("mailin: New needs the reply address, comms, checks and the mail writer")
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxSize <= 0 {
		c.MaxSize = DefaultMaxSize
	}
	g := &Gateway{db: c.DB, now: c.Now, replies: c.Replies, comms: c.Comms, checks: c.Checks, pgp: c.PGP, mail: c.Mail, log: c.Log,
		words: newKeywords(c.Mail.Catalog()), maxSize: c.MaxSize, limits: Limits{MaxAttachments: comms.MaxAttachments + 5},
		received: c.Received}
	if c.DB != nil {
		lanes := 1 // SQLite has one writer: a second batch would wait for it
		if c.DB.Dialect == db.Postgres {
			lanes = pgLanes
		}
		g.group = c.DB.NewGroup(groupSize, lanes)
	}
	return g
}

// groupSize bounds how many messages' records commit in one transaction:
// as many as the SMTP listener serves connections at once.
const groupSize = maxConnections

// pgLanes is how many batches run at once on PostgreSQL: a batch runs
// its members' statements one after another on one connection, so a
// single lane would give up the parallelism of the connections (it was
// slower than no batching at all in two runs on a busy machine); with a
// few, one batch runs its statements while another waits for its commit.
// PostgreSQL flushes the WAL of concurrent commits together anyway.
const pgLanes = 4

// record returns the context in which a message's transaction is recorded:
// the message's record and its act commit with those of the other messages
// received at the same time, each in its own savepoint (db.Group). The
// sender's 250, or the message's removal from the mailbox, still waits for
// its own commit: Deliver returns after it.
func (g *Gateway) record(ctx context.Context) context.Context {
	return db.WithGroup(ctx, g.group)
}

// MaxSize is the largest message the gateway accepts, in bytes.
func (g *Gateway) MaxSize() int64 { return g.maxSize }

// The results of a message, as inbound_mail records them.
const (
	ResultRecorded  = "recorded"   // its act was recorded
	ResultAutoReply = "auto-reply" // an auto-reply or out-of-office: never an act, never answered
	ResultBounce    = "bounce"     // a delivery status notification
	ResultUnclear   = "unclear"    // a person's reply that could not be recorded: explained to them
	ResultRefused   = "refused"    // not to an address pocdir knows, or expired
	ResultDuplicate = "duplicate"  // already received (by this or another instance)
)

// Outcome is what became of a message.
type Outcome struct {
	Result string
	Act    string // the act recorded, if any
	Detail string // why, in English, for the operator's log
}

// ErrUnknownRecipient is returned by Accepts for an address pocdir does not
// receive at (an SMTP server refuses it at RCPT time).
var ErrUnknownRecipient = errors.New("no such reply address")

// Accepts reports whether pocdir receives mail at the address now: a reply
// address it issued that has not expired, or the bounce address of an
// outbox message. Unknown and expired addresses are refused at RCPT time,
// so that a guessed address learns nothing more than a refusal.
func (g *Gateway) Accepts(ctx context.Context, address string) error {
	token, bounce, ok := g.replies.Parse(address)
	if !ok {
		return ErrUnknownRecipient
	}
	if bounce != 0 {
		return nil // believed only when it names the message's Message-ID
	}
	t, err := notify.LookupReplyToken(ctx, g.db, token)
	if errors.Is(err, notify.ErrUnknownReply) {
		return ErrUnknownRecipient
	}
	if err != nil {
		return err
	}
	if g.now().After(t.ExpiresAt) {
		return fmt.Errorf("%w: expired", ErrUnknownRecipient)
	}
	return nil
}

// Deliver takes one message received (via is "smtp" or "imap"; rcpts the
// envelope recipients, or none for a message collected from a mailbox,
// whose headers then say whom it was for) and records what it carries. It
// returns an error only when the message could not be handled now (the
// database is unreachable): the sender (or the next collection) tries
// again, and nothing is recorded twice.
func (g *Gateway) Deliver(ctx context.Context, via string, rcpts []string, raw []byte) (*Outcome, error) {
	out, err := g.deliver(ctx, via, rcpts, raw)
	if err == nil && g.received != nil {
		g.received(out.Result)
	}
	return out, err
}

func (g *Gateway) deliver(ctx context.Context, via string, rcpts []string, raw []byte) (*Outcome, error) {
	sum := sha256.Sum256(raw)
	in := &inbound{via: via, key: "sha256:" + hex.EncodeToString(sum[:]), at: g.now()}
	if int64(len(raw)) > g.maxSize {
		return g.finish(ctx, in, &Outcome{Result: ResultRefused, Detail: "message too large"})
	}
	m, err := Parse(raw, g.limits)
	if err != nil {
		return g.finish(ctx, in, &Outcome{Result: ResultRefused, Detail: "unreadable: " + err.Error()})
	}
	if m.MessageID != "" {
		in.key = "id:" + clean(strings.ToLower(m.MessageID), 250)
	}
	in.sender = m.From
	if len(rcpts) == 0 {
		rcpts = m.Recipients
	}
	var token string
	var bounce int64
	for _, r := range rcpts {
		if t, b, ok := g.replies.Parse(r); ok {
			token, bounce = t, b
			break
		}
	}
	switch {
	case bounce != 0:
		return g.bounce(ctx, in, m, bounce)
	case token == "":
		return g.finish(ctx, in, &Outcome{Result: ResultRefused, Detail: "not to a reply address"})
	}
	t, err := notify.LookupReplyToken(ctx, g.db, token)
	if errors.Is(err, notify.ErrUnknownReply) {
		return g.finish(ctx, in, &Outcome{Result: ResultRefused, Detail: "unknown reply address"})
	}
	if err != nil {
		return nil, err
	}
	in.address = t.ID
	if m.DSN != nil || m.Auto {
		// Never an act, never answered: two robots must not talk. The
		// thread says that the PoC's mailbox answered by itself.
		why := m.AutoWhy
		if m.DSN != nil {
			why = "delivery status notification"
		}
		out := &Outcome{Result: ResultAutoReply, Detail: why}
		if t.Kind == notify.ReplyComm {
			hooked := g.hook(ctx, in, out)
			err := g.comms.AutoReplyByMail(hooked, token)
			switch {
			case err == nil && db.CommitHookRan(hooked):
				return out, nil
			case errors.Is(err, errDuplicate):
				return &Outcome{Result: ResultDuplicate}, nil
			case err != nil && (app.ErrorCode(err) == app.Internal || app.ErrorCode(err) == app.Unavailable):
				return nil, err
			}
		}
		return g.finish(ctx, in, out)
	}
	switch t.Kind {
	case notify.ReplyComm:
		return g.commReply(ctx, in, m, t)
	case notify.ReplyCheck:
		return g.checkReply(ctx, in, m, token)
	}
	return g.finish(ctx, in, &Outcome{Result: ResultRefused, Detail: "unknown kind of reply address"})
}

// commReply records the act a reply to a notification carries.
func (g *Gateway) commReply(ctx context.Context, in *inbound, m *Message, t *notify.ReplyTarget) (*Outcome, error) {
	l, err := g.comms.LineOf(ctx, t)
	if err != nil {
		if app.ErrorCode(err) == app.Internal || app.ErrorCode(err) == app.Unavailable {
			return nil, err
		}
		in.object = "comm"
		return g.explain(ctx, in, m, l, nil, err)
	}
	in.object = "comm:" + l.Ref
	in.encrypted = m.Encrypted != ""
	if m.Encrypted != "" || m.Signed != nil || m.ClearSigned != "" {
		if err := g.comms.WithPoC(ctx, l); err != nil {
			return nil, err
		}
	}
	verified, err := g.open(m, l.PGPKey)
	if err != nil {
		return g.explain(ctx, in, m, l, nil, app.Errorf(app.Invalid, "error.reply_decrypt", "pocdir could not decrypt your reply: encrypt it to pocdir's OpenPGP key"))
	}
	in.signature = comms.Unverified
	if verified {
		in.signature = comms.Verified
	}
	act, text := g.words.act(StripQuoted(m.Text))
	atts := make([]*comms.Attachment, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		atts = append(atts, &comms.Attachment{Name: a.Name, Type: a.ContentType, Size: int64(len(a.Data)), Data: a.Data})
	}
	in.act = act
	hooked := g.hook(ctx, in, &Outcome{Result: ResultRecorded, Act: act})
	_, err = g.comms.ActByMail(hooked, l, comms.MailAct{Act: act, Subject: m.Subject, Text: text, Attachments: atts,
		From: m.From, Verified: verified})
	return g.after(ctx, hooked, in, m, l, nil, err)
}

// checkReply answers the check a reply to a check's email is for.
func (g *Gateway) checkReply(ctx context.Context, in *inbound, m *Message, token string) (*Outcome, error) {
	t, err := g.checks.ReplyTarget(ctx, token)
	if err != nil {
		if app.ErrorCode(err) == app.Internal || app.ErrorCode(err) == app.Unavailable {
			return nil, err
		}
		return g.explain(ctx, in, m, nil, nil, err)
	}
	in.object, in.act = fmt.Sprintf("check_target:%d", t.ID), "check"
	hooked := g.hook(ctx, in, &Outcome{Result: ResultRecorded, Act: in.act})
	err = g.checks.AnswerByMail(hooked, token, m.From)
	return g.after(ctx, hooked, in, m, nil, t, err)
}

// after settles a message once its act was tried: recorded with the act
// (the hook ran in its transaction), a duplicate, or explained.
func (g *Gateway) after(ctx, hooked context.Context, in *inbound, m *Message, l *comms.MailLine, t *checks.MailTarget, err error) (*Outcome, error) {
	switch {
	case err == nil && db.CommitHookRan(hooked):
		return &Outcome{Result: ResultRecorded, Act: in.act}, nil
	case errors.Is(err, errDuplicate):
		return &Outcome{Result: ResultDuplicate}, nil
	case err == nil:
		// The act committed nothing of its own (cannot happen today):
		// record the message apart.
		return g.finish(ctx, in, &Outcome{Result: ResultRecorded, Act: in.act})
	case app.ErrorCode(err) == app.Internal || app.ErrorCode(err) == app.Unavailable:
		return nil, err
	}
	return g.explain(ctx, in, m, l, t, err)
}

// open decrypts an encrypted reply and verifies a signed one against the
// PoC's key; it reports whether the signature holds.
func (g *Gateway) open(m *Message, key string) (bool, error) {
	verified := false
	if m.Encrypted != "" {
		if g.pgp == nil {
			return false, errors.New("no OpenPGP key to decrypt with")
		}
		plain, signed, err := g.pgp.Decrypt(m.Encrypted, key)
		if err != nil {
			return false, err
		}
		if err := ParseEntity(m, plain, g.limits); err != nil {
			return false, err
		}
		verified = signed
	}
	if key == "" || g.pgp == nil {
		return false, nil
	}
	switch {
	case m.Signed != nil:
		verified = g.pgp.VerifyDetached(key, m.Signed.Data, m.Signed.Signature)
	case m.ClearSigned != "":
		if _, ok := g.pgp.VerifyCleartext(key, m.ClearSigned); ok {
			verified = true
		}
	}
	return verified, nil
}

// bounce records a delivery status notification returned to an outbox
// message's bounce address: the message's recipient line, or check target,
// is marked bounced when the report says delivery failed for good and
// names the message's Message-ID.
func (g *Gateway) bounce(ctx context.Context, in *inbound, m *Message, outbox int64) (*Outcome, error) {
	in.object = fmt.Sprintf("outbox:%d", outbox)
	if m.DSN == nil {
		return g.finish(ctx, in, &Outcome{Result: ResultAutoReply, Detail: "not a delivery status notification"})
	}
	var failed *DSNRecipient
	for i := range m.DSN.Recipients {
		if m.DSN.Recipients[i].Failed() {
			failed = &m.DSN.Recipients[i]
			break
		}
	}
	if failed == nil {
		return g.finish(ctx, in, &Outcome{Result: ResultBounce, Detail: "no failed recipient (delayed or delivered)"})
	}
	why := strings.TrimSpace(failed.Status + " " + failed.Diagnostic)
	out := &Outcome{Result: ResultBounce, Detail: "not matched: " + why}
	err := g.db.Tx(g.record(ctx), func(tx *sql.Tx) error {
		if err := insertInbound(ctx, tx, in, out); err != nil {
			return err
		}
		ok, err := notify.LateBounce(ctx, tx, outbox, m.DSN.OriginalMessageID, in.at, why)
		if err != nil || !ok {
			return err
		}
		if _, err := g.comms.LateBounce(ctx, tx, outbox, in.at, why); err != nil {
			return err
		}
		if _, err := g.checks.LateBounce(ctx, tx, outbox, in.at, why); err != nil {
			return err
		}
		out.Detail = "bounced: " + why
		return setDetail(ctx, tx, in.key, out.Detail)
	})
	if errors.Is(err, errDuplicate) {
		return &Outcome{Result: ResultDuplicate}, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// finish records a message that carried no act.
func (g *Gateway) finish(ctx context.Context, in *inbound, out *Outcome) (*Outcome, error) {
	err := g.db.Tx(g.record(ctx), func(tx *sql.Tx) error { return insertInbound(ctx, tx, in, out) })
	if errors.Is(err, errDuplicate) {
		return &Outcome{Result: ResultDuplicate}, nil
	}
	if err != nil {
		return nil, err
	}
	if out.Result != ResultRecorded && out.Result != ResultDuplicate {
		g.log.Info("inbound email not recorded as an act", "via", in.via, "result", out.Result, "why", out.Detail, "object", in.object)
	}
	return out, nil
}

// hook returns a context whose act's transaction records the message too:
// a second instance that received the same message fails on its key, and
// its act rolls back.
func (g *Gateway) hook(ctx context.Context, in *inbound, out *Outcome) context.Context {
	return db.WithCommitHook(g.record(ctx), func(ctx context.Context, tx *sql.Tx) error {
		return insertInbound(ctx, tx, in, out)
	})
}
