package notify_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestEnqueueMany: messages queued by the hundred, over more than one
// statement, each come back with the id of its own outbox row, in their
// order; a refused message queues none of its statement's.
func TestEnqueueMany(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		n := 2*notify.EnqueueRows + 57
		ms := make([]notify.Message, n)
		for i := range ms {
			ms[i] = notify.Message{Kind: "test", To: fmt.Sprintf("poc%d@example.org", i), Subject: fmt.Sprintf("Message %d", i), Body: strings.Repeat("x", i)}
		}
		var ids []int64
		err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			ids, err = notify.EnqueueMany(ctx, sys.DB, tx, sys.Clock.Now(), ms)
			return err
		})
		if err != nil || len(ids) != n {
			t.Fatalf("%d ids: %v", len(ids), err)
		}
		seen := map[int64]bool{}
		for i, id := range ids {
			var to, subject, body string
			var created, next sql.NullTime
			if err := sys.DB.QueryRowContext(ctx, `SELECT to_addr, subject, body, created_at, next_attempt_at FROM outbox WHERE id = $1`, id).Scan(&to, &subject, &body, &created, &next); err != nil {
				t.Fatal(err)
			}
			if seen[id] || to != ms[i].To || subject != ms[i].Subject || len(body) != i || !created.Valid || !next.Time.Equal(created.Time) {
				t.Fatalf("message %d has id %d, whose row is to %s, %q, %d bytes (twice: %v)", i, id, to, subject, len(body), seen[id])
			}
			seen[id] = true
		}
		bad := append([]notify.Message{{Kind: "test", To: "ok@example.org", Subject: "fine", Body: "b"}},
			notify.Message{Kind: "test", To: "x@example.org\r\nBcc: y@example.org", Subject: "s", Body: "b"})
		err = sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			_, err := notify.EnqueueMany(ctx, sys.DB, tx, sys.Clock.Now(), bad)
			return err
		})
		var count int
		if qerr := sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE to_addr = 'ok@example.org'`).Scan(&count); qerr != nil {
			t.Fatal(qerr)
		}
		if err == nil || count != 0 {
			t.Errorf("a header on two lines: %v, %d queued", err, count)
		}
	})
}

// TestReplyTokensOfBothForms: a token of today's form and one issued
// before it (stored as its SHA-256 alone) are both found; a token whose
// second was changed is not.
func TestReplyTokensOfBothForms(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		now := sys.Clock.Now()
		token, hash := notify.NewReplyToken()
		legacy := strings.Repeat("q7", 16)
		sum := sha256.Sum256([]byte(legacy))
		err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
			var b notify.TokenBatch
			b.Add(hash, notify.ReplyComm, 11, now, now.Add(time.Hour))
			b.Add(hex.EncodeToString(sum[:]), notify.ReplyCheck, 12, now, now.Add(time.Hour))
			return b.Insert(ctx, sys.DB, tx)
		})
		if err != nil {
			t.Fatal(err)
		}
		for tok, want := range map[string]int64{token: 11, strings.ToUpper(legacy): 12} {
			got, err := notify.LookupReplyToken(ctx, sys.DB, tok)
			if err != nil || got.ObjectID != want {
				t.Errorf("%q: %+v, %v", tok, got, err)
			}
		}
		other := "a" + token[1:]
		if other == token {
			other = "b" + token[1:]
		}
		if _, err := notify.LookupReplyToken(ctx, sys.DB, other); !errors.Is(err, notify.ErrUnknownReply) {
			t.Errorf("a token with another second: %v", err)
		}
	})
}
