// Package notify owns email: the outbox that messages are written to in the
// transaction of what caused them, the worker that delivers them over SMTP
// with retries and backoff (safe to run on several instances at once), and
// the mail catcher that the demo runs so that a newcomer reads its emails in
// the browser.
package notify

import (
	"context"
	"database/sql"
	"fmt"
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
	Body    string // plain text
}

// Enqueue writes a message to the outbox in the caller's transaction.
func Enqueue(ctx context.Context, tx *sql.Tx, now time.Time, m Message) error {
	_, err := EnqueueID(ctx, tx, now, m)
	return err
}

// EnqueueID is Enqueue returning the message's outbox id, for callers that
// follow its delivery (a communication check records a bounce).
func EnqueueID(ctx context.Context, tx *sql.Tx, now time.Time, m Message) (int64, error) {
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return 0, fmt.Errorf("outbox: header values must be one line")
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox (kind, to_addr, subject, body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
		m.Kind, m.To, m.Subject, m.Body, now).Scan(&id)
	return id, err
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
	LastError     string     `json:"last_error,omitempty"`
}

// Status of the outbox, for the Secretariat's page.
type Status struct {
	Queued, Sent, Failed int
	Items                []*Item
}

// Outbox reads the state of the outbox.
type Outbox struct {
	DB  *db.DB
	Now app.Clock
}

// Status lists the latest messages and counts them. Only the Secretariat
// may see it.
func (o *Outbox) Status(ctx context.Context) (*Status, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	st := &Status{}
	if err := o.DB.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM outbox`).Scan(&st.Queued, &st.Sent, &st.Failed); err != nil {
		return nil, err
	}
	rows, err := o.DB.QueryContext(ctx, `SELECT id, kind, to_addr, subject, created_at, attempts, next_attempt_at, sent_at, failed_at, last_error
		FROM outbox ORDER BY id DESC LIMIT 200`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it Item
		var sent, failed sql.NullTime
		if err := rows.Scan(&it.ID, &it.Kind, &it.To, &it.Subject, &it.CreatedAt, &it.Attempts, &it.NextAttemptAt, &sent, &failed, &it.LastError); err != nil {
			return nil, err
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
	return st, rows.Err()
}
