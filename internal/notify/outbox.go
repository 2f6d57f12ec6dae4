// Package notify owns email: the outbox that messages are written to in the
// transaction of what caused them, and that is read only through it (the
// outcomes of the messages, for the capabilities that follow delivery); the
// Writer that writes every email of pocdir from the catalog, in the
// reader's language with English below; the worker that delivers them over
// SMTP with retries and backoff (safe to run on several instances at once);
// pocdir's OpenPGP key that signs the messages it encrypts to a PoC (sent as
// PGP/MIME); and the mail catcher that the demo runs so that a newcomer
// reads its emails in the browser.
package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// Message is an email to send.
type Message struct {
	Kind    string // what caused it, e.g. "invitation"
	To      string
	Subject string
	Body    string // plain text, or an ASCII-armored OpenPGP message when PGP
	// PGP is set when Body is an ASCII-armored OpenPGP message (see
	// PGPSigner.EncryptAndSign): it goes out as PGP/MIME (RFC 3156).
	PGP bool
	// ReplyTo is the address answers go to (a reply address of Replies),
	// InReplyTo the Message-ID answered (for pocdir's explanations of a
	// reply it could not read), and AutoReply marks such an explanation
	// (Auto-Submitted: auto-replied, RFC 3834) rather than a message pocdir
	// generated (auto-generated).
	ReplyTo   string
	InReplyTo string
	AutoReply bool
	// Attachment, when set, goes out attached to a plain message (an
	// offline copy, itself encrypted); it is dropped once sent, as the
	// body is.
	Attachment *Attachment
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name string
	Data []byte
}

// MaxAttachment is the largest attachment the outbox takes: base64 makes
// it a third larger, and 10 MiB (about 14 MB on the wire) passes the
// limits of the usual mail servers (Exchange Online and Gmail take 25 MB
// and more; many government relays 20 MB). Communications keep to the same
// size per file.
const MaxAttachment = 10 << 20

// Enqueue writes a message to the outbox in the caller's transaction.
func Enqueue(ctx context.Context, tx *sql.Tx, now time.Time, m Message) error {
	_, err := EnqueueID(ctx, tx, now, m)
	return err
}

// EnqueueID is Enqueue returning the message's outbox id, for callers that
// follow its delivery (a communication check records a bounce).
func EnqueueID(ctx context.Context, tx *sql.Tx, now time.Time, m Message) (int64, error) {
	var id int64
	if err := checkMessage(m); err != nil {
		return 0, err
	}
	if err := db.QueryRowTx(ctx, tx, enqueueSQL, enqueueArgs(m, now)...).Scan(&id); err != nil {
		return 0, fmt.Errorf("notify: queueing a %s message: %w", m.Kind, err)
	}
	wakeOnCommit(tx)
	return id, nil
}

// Mail queued wakes its database's sender as soon as the transaction that
// queued it commits: an urgent notification leaves at once, not at the
// outbox's next round. The rounds still come, for what another instance
// queued and for what is due to be tried again.

type queuedKey struct{}

// queuedOf is d's channel of commits that queued mail. One signal waits at
// most: one round takes everything due.
func queuedOf(d *db.DB) chan struct{} {
	return d.Value(queuedKey{}, func() any { return make(chan struct{}, 1) }).(chan struct{})
}

// Queued returns the channel that receives when a transaction run by the
// sender's database (its Tx) has queued mail and committed.
func (s *Sender) Queued() <-chan struct{} { return queuedOf(s.DB) }

// wakeOnCommit arranges for tx's commit to wake the sender, once however
// many messages tx queues; a rollback wakes nothing.
func wakeOnCommit(tx *sql.Tx) {
	d, ok := db.Of(tx)
	if !ok {
		return
	}
	db.AfterCommit(tx, queuedKey{}, func() {
		select {
		case queuedOf(d) <- struct{}{}:
		default: // a round is due already
		}
	})
}

const enqueueSQL = `INSERT INTO outbox (kind, to_addr, subject, body, pgp, created_at, next_attempt_at, reply_to, in_reply_to, auto_reply, message_id,
	attachment_name, attachment)
	VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12) RETURNING id`

// enqueueArgs are a message's values for enqueueSQL, with the random part
// of the Message-ID it will go out with: a bounce that comes back later
// names it.
func enqueueArgs(m Message, now time.Time) []any {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	name, data := "", []byte(nil)
	if m.Attachment != nil {
		name, data = m.Attachment.Name, m.Attachment.Data
	}
	return []any{m.Kind, m.To, m.Subject, m.Body, m.PGP, now, m.ReplyTo, m.InReplyTo, m.AutoReply, hex.EncodeToString(b), name, data}
}

// EnqueueRows is how many messages EnqueueMany writes in one statement:
// 13 values each, far below either engine's limit on a statement's
// parameters, and few round trips for a message to every State.
const EnqueueRows = 200

// EnqueueMany writes messages to the outbox in the caller's transaction
// with one multi-row INSERT per EnqueueRows messages, and returns their
// ids in the order of ms. A round trip per message was most of the time
// of an exercise's inject to 193 States on PostgreSQL. Each row is known
// by its Message-ID (random, unique), not by the order RETURNING gives,
// which neither engine promises.
func EnqueueMany(ctx context.Context, d *db.DB, tx *sql.Tx, now time.Time, ms []Message) ([]int64, error) {
	ids := make([]int64, len(ms))
	for start := 0; start < len(ms); start += EnqueueRows {
		part := ms[start:min(start+EnqueueRows, len(ms))]
		args := make([]any, 0, 13*len(part))
		at := make(map[string]int, len(part)) // Message-ID → index in ms
		for i, m := range part {
			if err := checkMessage(m); err != nil {
				return nil, err
			}
			a := enqueueArgs(m, now)
			at[a[9].(string)] = start + i
			// created_at, then next_attempt_at, both now.
			args = append(args, a[:6]...)
			args = append(args, a[5:]...)
		}
		if err := enqueueRows(ctx, tx, d.Values(len(part), 13), args, at, ids); err != nil {
			return nil, fmt.Errorf("notify: queueing %d messages: %w", len(part), err)
		}
	}
	if len(ms) > 0 {
		wakeOnCommit(tx)
	}
	return ids, nil
}

// enqueueRows runs one statement of EnqueueMany and sets the ids of its
// messages.
func enqueueRows(ctx context.Context, tx *sql.Tx, values string, args []any, at map[string]int, ids []int64) error {
	rows, err := db.QueryTx(ctx, tx, `INSERT INTO outbox (kind, to_addr, subject, body, pgp, created_at, next_attempt_at, reply_to, in_reply_to,
		auto_reply, message_id, attachment_name, attachment) VALUES `+values+` RETURNING id, message_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id int64
		var mid string
		if err := rows.Scan(&id, &mid); err != nil {
			return err
		}
		i, ok := at[mid]
		if !ok {
			return errors.New("an unknown Message-ID came back")
		}
		ids[i] = id
		got++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if got != len(at) {
		return fmt.Errorf("%d ids came back", got)
	}
	return nil
}

func checkMessage(m Message) error {
	if strings.ContainsAny(m.To+m.Subject+m.ReplyTo+m.InReplyTo, "\r\n") {
		return fmt.Errorf("outbox: header values must be one line")
	}
	// A clear body marked as encrypted would go out in clear under a
	// PGP/MIME envelope that no client opens.
	if m.PGP && !strings.HasPrefix(strings.TrimSpace(m.Body), "-----BEGIN PGP MESSAGE-----") {
		return fmt.Errorf("outbox: a PGP message's body must be an ASCII-armored OpenPGP message")
	}
	if a := m.Attachment; a != nil {
		switch {
		case m.PGP:
			return fmt.Errorf("outbox: a PGP/MIME message carries no attachment beside its encrypted body")
		case a.Name == "" || strings.ContainsAny(a.Name, "\r\n\"/\\") || len(a.Name) > 200:
			return fmt.Errorf("outbox: an attachment's name must be one line of at most 200 bytes, without a path")
		case len(a.Data) > MaxAttachment:
			return fmt.Errorf("outbox: an attachment of %d bytes is over the limit of %d", len(a.Data), MaxAttachment)
		}
	}
	return nil
}

// Item is an outbox row as the Secretariat sees it: never the body.
type Item struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	CreatedAt     time.Time  `json:"created_at"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	FailedAt      *time.Time `json:"failed_at,omitempty"`
	// BouncedAt is when a bounce came back after the relay accepted it.
	BouncedAt *time.Time `json:"bounced_at,omitempty"`
	LastError string     `json:"last_error,omitempty"`
}

// commRef finds a communication's reference in an email subject.
var commRef = regexp.MustCompile(`PC-[0-9]{4}-[A-Z2-7]{8}`)

// Status of the outbox, for the Secretariat's page.
type Status struct {
	Queued, Sent, Failed int
	// Items are a page of messages, newest first; Older, when not 0, is
	// the cursor of the next page (Status's before).
	Items []*Item
	Older int64
}

// StatusPage is how many messages a page of the outbox lists.
const StatusPage = 50

// Outbox reads the state of the outbox.
type Outbox struct {
	DB  *db.DB
	Now app.Clock
}

// Status counts the messages and lists a page of them, newest first:
// those before the id before (the newest when 0). Only the Secretariat may
// see it.
func (o *Outbox) Status(ctx context.Context, before int64) (*Status, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	st := &Status{}
	// The queued through the index of the sender's claims; the sent and
	// failed from their kept totals, not by counting years of messages.
	if err := o.DB.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL), sent, failed
		FROM outbox_tally WHERE id = 1`).Scan(&st.Queued, &st.Sent, &st.Failed); err != nil {
		return nil, fmt.Errorf("notify: counting the outbox: %w", err)
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := o.DB.QueryContext(ctx, `SELECT id, kind, to_addr, subject, created_at, attempts, next_attempt_at, sent_at, failed_at, last_error, bounced_at
		FROM outbox WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, StatusPage+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it Item
		var sent, failed, bounced sql.NullTime
		if err := rows.Scan(&it.ID, &it.Kind, &it.To, &it.Subject, &it.CreatedAt, &it.Attempts, &it.NextAttemptAt, &sent, &failed, &it.LastError, &bounced); err != nil {
			return nil, err
		}
		it.BouncedAt = db.TimeOf(bounced)
		// The Secretariat runs the mail, it does not read communications:
		// what a notification says of one (its label, its urgency, who
		// answered) is not shown, only that it went and where.
		if strings.HasPrefix(it.Kind, "comm") {
			ref := commRef.FindString(it.Subject)
			it.Subject = ref
			if it.Kind == "comm-activity" {
				it.To = ""
			}
		}
		if sent.Valid {
			t := sent.Time.UTC()
			it.SentAt = &t
		}
		if failed.Valid {
			t := failed.Time.UTC()
			it.FailedAt = &t
		}
		st.Items = append(st.Items, &it)
	}
	if len(st.Items) > StatusPage {
		st.Items = st.Items[:StatusPage]
		st.Older = st.Items[StatusPage-1].ID
	}
	return st, rows.Err()
}

// Outcome is what became of a message that left the queue: handed to the
// mail server (SentAt), or refused for good (FailedAt, with the server's
// answer).
type Outcome struct {
	SentAt   *time.Time
	FailedAt *time.Time
	Error    string
}

// Outcomes returns, among the messages ids, the outcome of those that left
// the queue; messages still queued are absent. Communications and checks
// learn deliveries and bounces from it: the outbox is notify's table.
func Outcomes(ctx context.Context, q db.Queryer, ids []int64) (map[int64]Outcome, error) {
	out := map[int64]Outcome{}
	err := db.InChunks(ids, 500, 1, func(marks string, args []any) error {
		rows, err := q.QueryContext(ctx, `SELECT id, sent_at, failed_at, last_error FROM outbox
			WHERE id IN (`+marks+`) AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)`, args...)
		if err != nil {
			return fmt.Errorf("notify: reading the outcomes of %d messages: %w", len(args), err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var sent, failed sql.NullTime
			var o Outcome
			if err := rows.Scan(&id, &sent, &failed, &o.Error); err != nil {
				return fmt.Errorf("notify: reading an outcome: %w", err)
			}
			o.SentAt, o.FailedAt = db.TimeOf(sent), db.TimeOf(failed)
			out[id] = o
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("notify: reading the outcomes: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordSent marks the queued messages of the given kinds as sent, without
// sending them, and drops their text: the demonstration data writes a past
// (check campaigns that were run months ago) whose emails must not go out
// today.
func RecordSent(ctx context.Context, d *db.DB, kinds ...string) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		// The totals once, after every message is marked: messages first,
		// then the totals, as the sender takes them (no deadlock with it).
		var marked int64
		for _, k := range kinds {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = created_at, body = '', attachment = NULL WHERE kind = $1 AND sent_at IS NULL AND failed_at IS NULL`, k)
			if err != nil {
				return fmt.Errorf("notify: recording past %s messages as sent: %w", k, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("notify: recording past %s messages as sent: %w", k, err)
			}
			marked += n
		}
		return tally(ctx, tx, marked, 0)
	})
}

// OutboxMismatch is the outbox's kept totals beside what its rows count,
// when they differ.
type OutboxMismatch struct {
	KeptSent, CountedSent     int64
	KeptFailed, CountedFailed int64
}

// RecountOutbox counts again the messages sent and failed, in one
// statement (one snapshot, while the sender runs), and returns the kept
// totals when they differ from the rows: nil when they agree.
// `pocdir audit check` and the tests' check of the counters call it.
func RecountOutbox(ctx context.Context, q db.Queryer) (*OutboxMismatch, error) {
	var m OutboxMismatch
	if err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(sent_at) FROM outbox), (SELECT COUNT(failed_at) FROM outbox), sent, failed
		FROM outbox_tally WHERE id = 1`).Scan(&m.CountedSent, &m.CountedFailed, &m.KeptSent, &m.KeptFailed); err != nil {
		return nil, fmt.Errorf("notify: counting the outbox again: %w", err)
	}
	if m.KeptSent == m.CountedSent && m.KeptFailed == m.CountedFailed {
		return nil, nil
	}
	return &m, nil
}

// tally moves the outbox's kept totals by the messages that a statement
// of the caller's transaction marked sent or failed.
func tally(ctx context.Context, q db.Queryer, sent, failed int64) error {
	if sent == 0 && failed == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE outbox_tally SET sent = sent + $1, failed = failed + $2 WHERE id = 1`, sent, failed); err != nil {
		return fmt.Errorf("notify: counting %d sent and %d failed messages: %w", sent, failed, err)
	}
	return nil
}

// Queue is the state of the queue for the operator's metrics: how many
// messages wait to be handed to the mail server, and since when the oldest.
type Queue struct {
	Queued int64
	Oldest *time.Time
}

// QueueState reads the queue. It reads the waiting messages only, through
// the index that the sender's claims use, so that it stays cheap however
// long the outbox's history grows.
func QueueState(ctx context.Context, q db.Queryer) (Queue, error) {
	var qs Queue
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&qs.Queued); err != nil {
		return qs, fmt.Errorf("notify: counting the queue: %w", err)
	}
	if qs.Queued == 0 {
		return qs, nil
	}
	// The first queued by id is the oldest: ids grow with time.
	var oldest time.Time
	err := q.QueryRowContext(ctx, `SELECT created_at FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 1`).Scan(&oldest)
	if errors.Is(err, sql.ErrNoRows) {
		return qs, nil // sent in between
	}
	if err != nil {
		return qs, fmt.Errorf("notify: reading the oldest queued message: %w", err)
	}
	oldest = oldest.UTC()
	qs.Oldest = &oldest
	return qs, nil
}
