package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// SMTP is how to reach the mail server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is "starttls" (required), "tls" (implicit, port 465) or "none"
	// (only for a server on the same host).
	TLS string
	// Connections is how many connections a round of the outbox opens at
	// once (4 when 0): the share of the server that pocdir may take.
	Connections int
}

// MaxConnections bounds SMTP.Connections: past it a mail server sees a
// flood from one client, and throttles or refuses it.
const MaxConnections = 32

// Sender delivers the outbox. Several instances may run one each: a message
// is claimed (for claimFor, renewed while it is sent) before it is sent, so
// each goes out once.
type Sender struct {
	DB   *db.DB
	Now  app.Clock
	SMTP SMTP
	Log  *slog.Logger
	// Batch is how many messages one connection sends in a round at most
	// (100 when 0): with SMTP.Connections, a check campaign to every PoC
	// goes out in seconds.
	Batch int
	// MaxAttempts is how often a message is tried before it is marked failed.
	MaxAttempts int
	// Replies, when set, is where bounces come back: each message's
	// envelope sender is its bounce address.
	Replies *Replies
	// ClaimFor and RenewEvery are the claim's length and how often it is
	// renewed while sending (claimFor and renewEvery when 0).
	ClaimFor, RenewEvery time.Duration
	// Outcomes, when set, is told what each round did: how many messages
	// went out, were deferred to try again, or failed for good (the
	// operator's metrics).
	Outcomes func(sent, deferred, failed int)
}

func (s *Sender) claimLength() time.Duration {
	if s.ClaimFor > 0 {
		return s.ClaimFor
	}
	return claimFor
}

// messageID is a message's Message-ID: its random part, kept in the outbox
// (a bounce names it), in the domain of the sender's address (the machine's
// short host name would mark the mail as suspect), or "localhost" when the
// address has none.
func messageID(local, from string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = strings.Trim(from[at+1:], "<> ")
	}
	if local == "" { // queued before pocdir kept it
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		local = hex.EncodeToString(b)
	}
	return local + "@" + domain
}

// NewSender returns the outbox's sender on a mail server (none when its
// host is empty: email waits in the outbox).
func NewSender(d *db.DB, now app.Clock, smtp SMTP, log *slog.Logger) *Sender {
	return &Sender{DB: d, Now: now, SMTP: smtp, Log: log}
}

// backoff is the wait before attempt n+1: one minute, doubling, at most six
// hours.
func backoff(attempts int) time.Duration {
	d := time.Minute
	for i := 1; i < attempts && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// claimFor is how long a claimed message is left to its instance, which
// renews the claim every renewEvery while it sends (a batch over a slow
// relay, with 30 s timeouts, takes longer than a claim): when an instance
// dies, another sends what it had claimed within claimFor, not minutes
// later, and an urgent notification does not wait for it.
const (
	claimFor   = 30 * time.Second
	renewEvery = 10 * time.Second
)

type claimed struct {
	id        int64
	to        string
	subject   string
	body      string
	attempts  int
	pgp       bool
	replyTo   string
	inReplyTo string
	autoReply bool
	messageID string
	attName   string
	att       []byte
}

// claim takes up to n due messages for this instance.
func (s *Sender) claim(ctx context.Context, n int) ([]claimed, error) {
	now := s.Now()
	var out []claimed
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// The WHERE is evaluated again on each row when another instance
		// claimed it first (PostgreSQL re-checks after the row lock; SQLite
		// runs one writer at a time), so a row is claimed once.
		query := `UPDATE outbox SET claimed_until = $1
			WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
				AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3)
			AND sent_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2)
			RETURNING id, to_addr, subject, body, attempts, pgp, reply_to, in_reply_to, auto_reply, message_id, attachment_name, attachment`
		if s.DB.Dialect == db.Postgres {
			// Instances skip the rows another one is claiming, and the
			// join keeps the planner from re-running the subquery per row.
			query = `WITH due AS (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
				AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
			UPDATE outbox o SET claimed_until = $1 FROM due WHERE o.id = due.id
			RETURNING o.id, o.to_addr, o.subject, o.body, o.attempts, o.pgp, o.reply_to, o.in_reply_to, o.auto_reply, o.message_id, o.attachment_name, o.attachment`
		}
		rows, err := tx.QueryContext(ctx, query, now.Add(s.claimLength()), now, n)
		if err != nil {
			return fmt.Errorf("notify: claiming messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.id, &c.to, &c.subject, &c.body, &c.attempts, &c.pgp, &c.replyTo, &c.inReplyTo, &c.autoReply, &c.messageID, &c.attName, &c.att); err != nil {
				return fmt.Errorf("notify: claiming messages: %w", err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("notify: claiming messages: %w", err)
		}
		return nil
	})
	return out, err
}

// renew keeps the claim on items while they are being sent, until the
// returned function is called.
func (s *Sender) renew(ctx context.Context, items []claimed) (stop func()) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		every := s.RenewEvery
		if every <= 0 {
			every = renewEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			until := s.Now().Add(s.claimLength())
			err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
				return db.InChunks(ids, 500, 2, func(marks string, args []any) error {
					_, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_until = $1 WHERE id IN (`+marks+`)
						AND sent_at IS NULL AND failed_at IS NULL AND claimed_until IS NOT NULL`, append([]any{until}, args...)...)
					return err
				})
			})
			if err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Warn("renewing the claim on messages being sent", "count", len(ids), "err", err)
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// RunOnce sends what is due and returns how many messages went out.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	if s.SMTP.Host == "" {
		return 0, nil
	}
	batch, conns := s.Batch, min(s.SMTP.Connections, MaxConnections)
	if batch <= 0 {
		batch = 100
	}
	if conns <= 0 {
		conns = 4
	}
	items, err := s.claim(ctx, batch*conns)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	stopRenewing := s.renew(ctx, items)
	// Each connection sends its share and hands what the server accepted
	// to the recorder, which records it as sent while sending goes on (see
	// recordAccepted); the refusals are recorded after.
	whys := make([]error, len(items))
	recorded := make([]bool, len(items))
	accepted := make(chan int, batch*conns)
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		s.recordAccepted(ctx, items, accepted, recorded)
	}()
	done := make(chan error, conns)
	parts := 0
	// The round's messages are shared evenly among the connections: the
	// first messages of a burst, claimed as soon as they are queued, do not
	// all wait on one connection while the others stay closed.
	per := (len(items) + conns - 1) / conns
	for start := 0; start < len(items); start += per {
		end := min(start+per, len(items))
		parts++
		go func() { done <- s.send(ctx, items, start, end, whys, accepted) }()
	}
	var sendErr error
	for range parts {
		if err := <-done; err != nil {
			sendErr = err
		}
	}
	close(accepted)
	<-recorderDone
	stopRenewing()
	// What the server accepted is recorded even when the job is being
	// stopped, or it would be sent again after the restart.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var sent, unrecorded []int64
	deferred, failed := 0, 0
	for i, it := range items {
		switch {
		case whys[i] == nil && recorded[i]:
			sent = append(sent, it.id)
		case whys[i] == nil && sendErr == nil:
			sent = append(sent, it.id)
			unrecorded = append(unrecorded, it.id)
		case whys[i] != nil:
			final, err := s.failed(rctx, it, whys[i])
			if err != nil {
				return 0, err
			}
			if final {
				failed++
			} else {
				deferred++
			}
		}
	}
	if err := s.markSent(rctx, unrecorded); err != nil {
		return 0, err
	}
	if sendErr != nil {
		return 0, sendErr
	}
	if s.Outcomes != nil {
		s.Outcomes(len(sent), deferred, failed)
	}
	return len(sent), nil
}

// The mail server's acceptance of a message and pocdir's record that it was
// sent cannot be one act: an instance killed between the two leaves
// messages that another instance sends again (with the same Message-ID,
// which mail clients show once). So each accepted message is handed at once
// to a recorder, which records what waits in one transaction while sending
// goes on: the window is one commit's worth of messages, not a round's
// hundreds, and the commits do not multiply with the messages.

// send delivers items[start:end] over one connection, puts each one's
// error, if any, in whys, and hands the index of each one the server
// accepted to the recorder. It returns an error only when it could not
// start.
func (s *Sender) send(ctx context.Context, all []claimed, start, end int, whys []error, accepted chan<- int) error {
	items, whys := all[start:end], whys[start:end]
	client, err := s.client()
	if err != nil {
		return err
	}
	msgs := make([]*mail.Msg, len(items))
	for i, it := range items {
		var m *mail.Msg
		var boundary string
		if it.pgp {
			if boundary, err = newBoundary(); err != nil {
				return err
			}
			m = mail.NewMsg(mail.WithPGPType(mail.PGPEncrypt), mail.WithEncoding(mail.NoEncoding), mail.WithBoundary(boundary))
		} else {
			m = mail.NewMsg()
		}
		if err := m.From(s.SMTP.From); err != nil {
			return fmt.Errorf("smtp from: %w", err)
		}
		if err := m.To(it.to); err != nil {
			continue
		}
		m.Subject(it.subject)
		m.SetDate()
		m.SetMessageIDWithValue(messageID(it.messageID, s.SMTP.From))
		setReplyHeaders(m, it)
		if s.Replies != nil {
			if err := m.EnvelopeFrom(s.Replies.Bounce(it.id)); err != nil {
				return fmt.Errorf("smtp envelope sender: %w", err)
			}
		}
		if it.pgp {
			setPGPMIMEBody(m, boundary, it.body)
		} else {
			m.SetBodyString(mail.TypeTextPlain, it.body)
			if it.attName != "" {
				if err := m.AttachReader(it.attName, bytes.NewReader(it.att)); err != nil {
					return fmt.Errorf("attaching %s: %w", it.attName, err)
				}
			}
		}
		msgs[i] = m
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		for i := range items {
			whys[i] = fmt.Errorf("dial failed: %w", err)
			if msgs[i] == nil {
				whys[i] = errors.New("invalid recipient address")
			}
		}
		return nil
	}
	defer client.CloseWithSMTPClient(conn)
	for i, m := range msgs {
		if m == nil {
			whys[i] = errors.New("invalid recipient address")
			continue
		}
		sendErr := client.SendWithSMTPClient(conn, m)
		switch {
		case m.IsDelivered():
			// Accepted by the server, even if what followed (RSET) failed:
			// sending again would duplicate it.
			accepted <- start + i
		case m.HasSendError():
			whys[i] = m.SendError()
		case sendErr != nil:
			whys[i] = sendErr
		}
	}
	return nil
}

// recordPause is how long the recorder gathers accepted messages before a
// commit: at most a hundred commits a second per sending instance.
const recordPause = 10 * time.Millisecond

// recordAccepted records as sent what the connections hand it, in one
// transaction for everything waiting at each turn, so that the number of
// commits stays bounded by the database's speed, not the messages'; it marks
// what it recorded. What it could not record, RunOnce records at the end.
func (s *Sender) recordAccepted(ctx context.Context, items []claimed, accepted <-chan int, recorded []bool) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for first := range accepted {
		idx := []int{first}
		// A moment to gather what the other connections accept, so that a
		// fast mail server does not cost a commit per message.
		time.Sleep(recordPause)
	more:
		for {
			select {
			case next, ok := <-accepted:
				if !ok {
					break more
				}
				idx = append(idx, next)
			default:
				break more
			}
		}
		ids := make([]int64, len(idx))
		for k, i := range idx {
			ids[k] = items[i].id
		}
		if s.markSent(rctx, ids) == nil {
			for _, i := range idx {
				recorded[i] = true
			}
		}
	}
}

// setReplyHeaders sets where answers go, and marks the message as one no
// person wrote (RFC 3834), so that an out-of-office responder does not
// answer it and two robots never talk to each other.
func setReplyHeaders(m *mail.Msg, it claimed) {
	if it.replyTo != "" {
		_ = m.ReplyTo(it.replyTo) // checked at enqueue: one line
	}
	if it.inReplyTo != "" {
		id := "<" + strings.Trim(it.inReplyTo, "<>") + ">"
		m.SetGenHeader(mail.HeaderInReplyTo, id)
		m.SetGenHeader(mail.HeaderReferences, id)
	}
	auto := "auto-generated"
	if it.autoReply {
		auto = "auto-replied"
	}
	m.SetGenHeader("Auto-Submitted", auto)
}

// markSent records the delivered messages in one transaction, and drops
// their bodies: they may carry a link that opens something.
func (s *Sender) markSent(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var marked int64
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(start+500, len(ids))]
			args := []any{now}
			marks := make([]string, len(part))
			for i, id := range part {
				args = append(args, id)
				marks[i] = fmt.Sprintf("$%d", i+2)
			}
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = $1, body = '', attachment = NULL, claimed_until = NULL, attempts = attempts + 1, last_error = ''
				WHERE id IN (`+strings.Join(marks, ", ")+`) AND sent_at IS NULL`, args...)
			if err != nil {
				return fmt.Errorf("notify: recording %d messages as sent: %w", len(part), err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("notify: recording %d messages as sent: %w", len(part), err)
			}
			marked += n
		}
		return tally(ctx, tx, marked, 0)
	})
}

// setPGPMIMEBody makes m's body the two parts of an encrypted PGP/MIME
// message (RFC 3156 §4): the version part and the armored OpenPGP message,
// without transfer encoding (quoted-printable would break the armor, which
// is 7-bit anyway).
//
// go-mail (v0.8.1) writes the multipart/encrypted header and the parts but
// not the close delimiter, without which a strict parser sees a truncated
// message; the last part's body ends with it. Were go-mail to write it too,
// the second one would fall in the epilogue, which readers ignore.
func setPGPMIMEBody(m *mail.Msg, boundary, armored string) {
	armored = strings.ReplaceAll(strings.TrimRight(armored, "\r\n"), "\r\n", "\n")
	armored = strings.ReplaceAll(armored, "\n", "\r\n")
	m.SetBodyString(mail.TypePGPEncrypted, "Version: 1\r\n",
		mail.WithPartEncoding(mail.NoEncoding), mail.WithPartContentDescription("PGP/MIME version identification"))
	// With a PGP type set, go-mail writes every part inside the
	// multipart/encrypted: "alternative" only adds the second one.
	m.AddAlternativeString(mail.TypeAppOctetStream, armored+"\r\n\r\n--"+boundary+"--\r\n",
		mail.WithPartEncoding(mail.NoEncoding), mail.WithPartContentDescription("OpenPGP encrypted message"))
}

// newBoundary returns a random multipart boundary. No line of an armored
// message starts with it: they are base64 ('_' is not in its alphabet),
// armor headers, or "-----BEGIN/END".
func newBoundary() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "pgp_" + hex.EncodeToString(b), nil
}

func (s *Sender) failed(ctx context.Context, it claimed, why error) (final bool, err error) {
	now := s.Now()
	msg := why.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	max := s.MaxAttempts
	if max <= 0 {
		max = 20
	}
	// A permanent refusal of the recipient (a 5xx to RCPT TO, such as an
	// unknown mailbox) is a bounce: retrying would not change it. A 5xx at
	// another stage (our sender refused, authentication, relaying) is a
	// problem of the server or of pocdir's account, and is retried.
	var se *mail.SendError
	permanent := errors.As(why, &se) && se.Reason == mail.ErrSMTPRcptTo && se.ErrorCode() >= 500 && se.ErrorCode() < 600
	if it.attempts+1 >= max || permanent {
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET failed_at = $1, attempts = attempts + 1, last_error = $2, claimed_until = NULL, body = '', attachment = NULL
				WHERE id = $3 AND sent_at IS NULL AND failed_at IS NULL`, now, msg, it.id)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			return tally(ctx, tx, 0, n)
		})
		if err != nil {
			return true, fmt.Errorf("notify: recording message %d as failed: %w", it.id, err)
		}
		return true, nil
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, claimed_until = NULL, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL`,
		msg, now.Add(backoff(it.attempts+1)), it.id)
	if s.Log != nil {
		s.Log.Warn("email not delivered; will retry", "outbox_id", it.id, "attempt", it.attempts+1, "err", msg)
	}
	if err != nil {
		return false, fmt.Errorf("notify: recording an attempt at message %d: %w", it.id, err)
	}
	return false, nil
}

func (s *Sender) client() (*mail.Client, error) {
	// Messages are sent one call at a time (see send): no NOOP before each,
	// which would double the round trips.
	opts := []mail.Option{mail.WithPort(s.SMTP.Port), mail.WithTimeout(30 * time.Second), mail.WithoutNoop()}
	switch strings.ToLower(s.SMTP.TLS) {
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "tls":
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.SMTP.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.SMTP.Username), mail.WithPassword(s.SMTP.Password))
	}
	return mail.NewClient(s.SMTP.Host, opts...)
}
