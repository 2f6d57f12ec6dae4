package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestAttachments(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		c := catcher(t)
		ctx := context.Background()
		put := func(m notify.Message) error {
			return sys.DB.Tx(ctx, func(tx *sql.Tx) error { return notify.Enqueue(ctx, tx, sys.Clock.Now(), m) })
		}
		data := bytes.Repeat([]byte{0x85, 0x00, 0xff, 'a'}, 4096) // binary, as an OpenPGP message is
		refused := []struct {
			name string
			att  notify.Attachment
			pgp  bool
			want string
		}{
			{"an attachment over the limit is refused", notify.Attachment{Name: "big.gpg", Data: make([]byte, notify.MaxAttachment+1)}, false, "over the limit"},
			{"an attachment's name with a path is refused", notify.Attachment{Name: "../x.gpg", Data: data}, false, "without a path"},
			{"an attachment's name on two lines is refused", notify.Attachment{Name: "x\r\nBcc: a@b", Data: data}, false, "one line"},
			{"a PGP/MIME message carries no attachment", notify.Attachment{Name: "x.gpg", Data: data}, true, "no attachment"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				body := "text"
				if tt.pgp {
					body = "-----BEGIN PGP MESSAGE-----\n"
				}
				err := put(notify.Message{Kind: "test", To: "poc@example.org", Subject: "s", Body: body, PGP: tt.pgp, Attachment: &tt.att})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %v, want %q", err, tt.want)
				}
			})
		}
		t.Run("an attachment arrives whole beside the text, and is dropped once sent", func(t *testing.T) {
			if err := put(notify.Message{Kind: "test", To: "poc@example.org", Subject: "A file", Body: "See the file.",
				Attachment: &notify.Attachment{Name: "copy.tar.gpg", Data: data}}); err != nil {
				t.Fatal(err)
			}
			if n, err := sender(sys, c.Port()).RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("sent %d: %v", n, err)
			}
			msgs := c.Messages()
			name, got := attachmentOf(t, msgs[len(msgs)-1].Raw)
			if name != "copy.tar.gpg" || !bytes.Equal(got, data) {
				t.Errorf("attachment %q of %d bytes", name, len(got))
			}
			var kept int
			if err := sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE attachment IS NOT NULL`).Scan(&kept); err != nil || kept != 0 {
				t.Errorf("%d attachments kept (%v)", kept, err)
			}
		})
	})
}

// attachmentOf returns the name and decoded body of a message's one
// attachment.
func attachmentOf(t *testing.T, raw []byte) (string, []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no attachment: %v", err)
		}
		if part.FileName() == "" {
			continue
		}
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, part))
		if err != nil {
			t.Fatal(err)
		}
		return part.FileName(), b
	}
}
