package mailin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// inbound is a message received, as inbound_mail records it.
type inbound struct {
	key       string // the Message-ID, or the hash of the message
	via       string
	at        time.Time
	sender    string
	address   int64 // the reply address's id, 0 when none
	object    string
	act       string
	signature string
	encrypted bool
	answered  bool
}

// errDuplicate is returned when the message was already recorded, by this
// instance or another one.
var errDuplicate = errors.New("mailin: this message was already received")

// insertInbound records a message once: a second copy (a retry of the
// sender, the same message collected by two instances) fails on its key.
func insertInbound(ctx context.Context, tx *sql.Tx, in *inbound, out *Outcome) error {
	var addr any
	if in.address != 0 {
		addr = in.address
	}
	sender, detail := clean(in.sender, 320), clean(out.Detail, 500)
	_, err := db.ExecTx(ctx, tx, `INSERT INTO inbound_mail (dedupe_key, received_at, via, sender, address_id, object, result, act, signature, encrypted, answered, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		in.key, in.at, in.via, sender, addr, in.object, out.Result, in.act, in.signature, in.encrypted, in.answered, detail)
	if db.IsUniqueViolation(err) {
		return errDuplicate
	}
	if err != nil {
		return fmt.Errorf("mailin store: recording a message received: %w", err)
	}
	return nil
}

// clean makes what a message said storable: valid UTF-8 without control
// characters (PostgreSQL refuses NUL), at most max bytes.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

func setDetail(ctx context.Context, tx *sql.Tx, key, detail string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE inbound_mail SET detail = $1 WHERE dedupe_key = $2`, clean(detail, 500), key); err != nil {
		return fmt.Errorf("mailin store: recording a bounce: %w", err)
	}
	return nil
}

// explainedSince reports whether an explanation went to a reply address's
// sender since the time given.
func explainedSince(ctx context.Context, q db.Queryer, address int64, since time.Time) (bool, error) {
	if address == 0 {
		return false, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_mail WHERE address_id = $1 AND answered AND received_at > $2`, address, since).Scan(&n); err != nil {
		return false, fmt.Errorf("mailin store: reading the explanations sent: %w", err)
	}
	return n > 0, nil
}

// Received is a message received, for the operator.
type Received struct {
	At        time.Time
	Via       string
	Sender    string
	Object    string
	Result    string
	Act       string
	Signature string
	Encrypted bool
	Answered  bool
	Detail    string
}

// Recent lists the latest messages received (the newest first), for tests
// and the operator: never their text, which pocdir does not keep.
func Recent(ctx context.Context, q db.Queryer, n int) ([]Received, error) {
	rows, err := q.QueryContext(ctx, `SELECT received_at, via, sender, object, result, act, signature, encrypted, answered, detail FROM inbound_mail ORDER BY id DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("mailin store: listing messages received: %w", err)
	}
	defer rows.Close()
	var out []Received
	for rows.Next() {
		var r Received
		if err := rows.Scan(&r.At, &r.Via, &r.Sender, &r.Object, &r.Result, &r.Act, &r.Signature, &r.Encrypted, &r.Answered, &r.Detail); err != nil {
			return nil, fmt.Errorf("mailin store: listing messages received: %w", err)
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailin store: listing messages received: %w", err)
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Received lists, for the Secretariat, the latest messages received: when,
// how, from whom, and what became of them, to follow the mail flow. Not
// what they concerned nor which act they carried: the Secretariat runs the
// mail, it does not read communications. Why a message was refused is
// shown (an unknown address, an unreadable message), nothing else.
func (g *Gateway) Received(ctx context.Context) ([]Received, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	list, err := Recent(ctx, g.db, 200)
	if err != nil {
		return nil, err
	}
	for i := range list {
		r := &list[i]
		r.Object, r.Act = "", ""
		if r.Result != ResultRefused && r.Result != ResultBounce {
			r.Detail = ""
		}
	}
	return list, nil
}
