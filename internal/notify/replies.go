package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// Reply addresses let a PoC answer from its mail client (functional
// equivalence, seed 002): every notification and check email carries a
// Reply-To unique to its recipient line, reply+TOKEN@domain, whose token
// (the second it was made, then 160 random bits) is stored hashed, bound to
// the line, and expires with what it answers. The same token makes the
// email's acknowledgement link.
// Bounces come back to bounce-ID@ the same domain (the outbox id of the
// message), and are believed only when they name the message's Message-ID.

// Replies is the reply address of a deployment: the local part and domain
// that pocdir receives mail for (reply@reply.pocdir.example.org). Tokens are
// added as a subaddress (reply+TOKEN@…), which mail servers deliver to the
// base mailbox, so that a deployment behind an existing mail system needs
// only one mailbox.
type Replies struct {
	local, domain string
}

// NewReplies parses the reply address; an empty one gives nil (emails
// carry no Reply-To: answers go through the portal and the links).
func NewReplies(address string) (*Replies, error) {
	if strings.TrimSpace(address) == "" {
		return nil, nil
	}
	a, err := mail.ParseAddress(address)
	if err != nil {
		return nil, fmt.Errorf("reply address %q: %w", address, err)
	}
	at := strings.LastIndexByte(a.Address, '@')
	local, domain := a.Address[:at], strings.ToLower(a.Address[at+1:])
	if local == "" || domain == "" || strings.ContainsAny(local, "+\"") {
		return nil, fmt.Errorf("reply address %q: give a plain mailbox such as reply@reply.example.org (pocdir adds +TOKEN)", address)
	}
	// RFC 5321 allows 64 characters before the @: local+TOKEN must fit.
	if most := maxLocalPart - 1 - replyTokenChars; len(local) > most {
		return nil, fmt.Errorf("reply address %q: its part before the @ has %d characters, at most %d fit with the +TOKEN that pocdir adds (64 in all)", address, len(local), most)
	}
	return &Replies{local: strings.ToLower(local), domain: domain}, nil
}

// Address returns the base reply address.
func (r *Replies) Address() string { return r.local + "@" + r.domain }

// To returns the reply address of a token.
func (r *Replies) To(token string) string { return r.local + "+" + token + "@" + r.domain }

// Bounce returns the envelope sender of an outbox message: delivery status
// notifications come back to it.
func (r *Replies) Bounce(outboxID int64) string {
	return r.local + "+bounce-" + strconv.FormatInt(outboxID, 10) + "@" + r.domain
}

// Parse reads an address pocdir receives mail at: a reply token, or the
// outbox id of a bounce. ok is false for any other address (another
// domain, the base mailbox itself, a malformed token).
func (r *Replies) Parse(address string) (token string, bounce int64, ok bool) {
	address = strings.ToLower(strings.Trim(strings.TrimSpace(address), "<>"))
	at := strings.LastIndexByte(address, '@')
	if at < 0 || address[at+1:] != r.domain {
		return "", 0, false
	}
	local, tag, found := strings.Cut(address[:at], "+")
	if !found || local != r.local {
		return "", 0, false
	}
	if n, isBounce := strings.CutPrefix(tag, "bounce-"); isBounce {
		id, err := strconv.ParseInt(n, 10, 64)
		if err != nil || id <= 0 {
			return "", 0, false
		}
		return "", id, true
	}
	if !ValidReplyToken(tag) {
		return "", 0, false
	}
	return tag, 0, true
}

// tokenEncoding is base32 in lower case: mail systems may change the case
// of a local part, and the token survives it.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// A token is 40 characters: the second it was made (5 bytes, 8
// characters), then 160 random bits (32 characters). What is stored is
// that second in hexadecimal followed by the token's SHA-256, so that the
// tokens of a burst of notifications join the index of the stored ones at
// its end, together, instead of one leaf page each at random places among
// years of older ones, each to be read and then written again (SQLite
// writes every page a commit touched to its log). BenchmarkReplyTokens
// measures both forms. The second says no more than the email's Date
// header.
//
// Tokens issued before were the 160 random bits alone (32 characters),
// stored as their SHA-256 alone: they are still read, until they expire.
const (
	maxLocalPart     = 64 // RFC 5321, 4.5.3.1.1
	tokenTimeBytes   = 5
	replyTokenBytes  = 20
	tokenTimeChars   = 8 // tokenTimeBytes in base32
	replyTokenChars  = tokenTimeChars + 32
	legacyTokenChars = 32
)

// NewReplyToken returns a fresh reply token and the hash that is stored.
func NewReplyToken() (token, hash string) {
	b := make([]byte, tokenTimeBytes+replyTokenBytes)
	sec := uint64(time.Now().Unix())
	for i := tokenTimeBytes - 1; i >= 0; i-- {
		b[i], sec = byte(sec), sec>>8
	}
	if _, err := rand.Read(b[tokenTimeBytes:]); err != nil {
		panic(err)
	}
	t := tokenEncoding.EncodeToString(b)
	return t, HashReplyToken(t)
}

// HashReplyToken is what is stored of a token: for a token of today's
// form, the second it was made in hexadecimal, then its SHA-256; for one of
// the earlier form, its SHA-256.
func HashReplyToken(token string) string {
	token = strings.ToLower(token)
	h := sha256.Sum256([]byte(token))
	if len(token) != replyTokenChars {
		return hex.EncodeToString(h[:])
	}
	made, err := tokenEncoding.DecodeString(token[:tokenTimeChars])
	if err != nil {
		return hex.EncodeToString(h[:])
	}
	return hex.EncodeToString(made) + hex.EncodeToString(h[:])
}

// ValidReplyToken reports whether s has the form of a token, of today's
// form or the earlier one.
func ValidReplyToken(s string) bool {
	if len(s) != replyTokenChars && len(s) != legacyTokenChars {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// The kinds of what a reply address answers.
const (
	ReplyComm  = "comm"  // a communication's recipient line
	ReplyCheck = "check" // a communication check's target
)

// ReplyTarget is what a reply token stands for.
type ReplyTarget struct {
	ID        int64 // the address's id
	Kind      string
	ObjectID  int64
	ExpiresAt time.Time
}

// TokenBatch records the reply tokens of a communication to many PoCs in
// a few statements, in the caller's transaction: one row per line, but
// not one statement per line.
type TokenBatch struct {
	rows []tokenRow
}

type tokenRow struct {
	hash, kind   string
	object       int64
	now, expires time.Time
}

// Add binds a token's hash to what it answers until it expires, when the
// batch is inserted.
func (b *TokenBatch) Add(hash, kind string, objectID int64, now, expires time.Time) {
	b.rows = append(b.rows, tokenRow{hash, kind, objectID, now, expires})
}

// Insert writes the batch (100 rows a statement).
func (b *TokenBatch) Insert(ctx context.Context, d *db.DB, tx *sql.Tx) error {
	for start := 0; start < len(b.rows); start += 100 {
		part := b.rows[start:min(start+100, len(b.rows))]
		args := make([]any, 0, 5*len(part))
		for _, r := range part {
			args = append(args, r.hash, r.kind, r.object, r.now, r.expires)
		}
		if _, err := db.ExecTx(ctx, tx, `INSERT INTO reply_addresses (token_hash, kind, object_id, created_at, expires_at) VALUES `+d.Values(len(part), 5), args...); err != nil {
			return fmt.Errorf("notify: recording %d reply addresses: %w", len(part), err)
		}
	}
	b.rows = b.rows[:0]
	return nil
}

// RecordReplyToken binds one token, in the caller's transaction.
func RecordReplyToken(ctx context.Context, tx *sql.Tx, hash, kind string, objectID int64, now, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO reply_addresses (token_hash, kind, object_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, kind, objectID, now, expires); err != nil {
		return fmt.Errorf("notify: recording a reply address: %w", err)
	}
	return nil
}

// ErrUnknownReply is returned for a token pocdir never issued.
var ErrUnknownReply = errors.New("unknown reply address")

// LookupReplyToken returns what a token stands for (expired or not: the
// caller says which), or ErrUnknownReply.
func LookupReplyToken(ctx context.Context, q db.Queryer, token string) (*ReplyTarget, error) {
	if !ValidReplyToken(token) {
		return nil, ErrUnknownReply
	}
	var t ReplyTarget
	err := db.PreparedRow(ctx, q, `SELECT id, kind, object_id, expires_at FROM reply_addresses WHERE token_hash = $1`, HashReplyToken(token)).
		Scan(&t.ID, &t.Kind, &t.ObjectID, &t.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownReply
	}
	if err != nil {
		return nil, fmt.Errorf("notify: reading a reply address: %w", err)
	}
	t.ExpiresAt = t.ExpiresAt.UTC()
	return &t, nil
}

// LateBounce records a bounce that came back after the relay accepted the
// message: it names the outbox message and the random part of its
// Message-ID, which only the mail's recipients have seen, so a forged
// report does not mark a message bounced. It reports whether it matched.
func LateBounce(ctx context.Context, tx *sql.Tx, outboxID int64, messageID string, at time.Time, why string) (bool, error) {
	local, _, _ := strings.Cut(strings.Trim(messageID, "<> "), "@")
	if local == "" {
		return false, nil
	}
	if len(why) > 500 {
		why = why[:500]
	}
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET bounced_at = $1, last_error = $2 WHERE id = $3 AND message_id = $4 AND message_id <> '' AND bounced_at IS NULL`,
		at, why, outboxID, local)
	if err != nil {
		return false, fmt.Errorf("notify: recording a late bounce of %d: %w", outboxID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
