package offline_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// attachment returns the name and the decoded body of a message's
// attachment.
func attachment(t *testing.T, raw []byte) (string, []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("not a multipart message: %q %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			t.Fatal("no attachment")
		}
		if err != nil {
			t.Fatal(err)
		}
		if part.FileName() == "" {
			continue
		}
		var r io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, part)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return part.FileName(), b
	}
}

func TestCopiesByMail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		key := testkit.NewKeyPair(t, "CERT-FR", "cert@fra.example")
		in := testkit.ValidPoC()
		in.Agency, in.Languages, in.PGPKey = "ANSSI CERT-FR", []string{"fr", "en"}, key.Public
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@fra.example", Preferred: true}}
		withKey := sys.AddPoC(t, fpFRA.Ctx(), "FRA", in)
		in = testkit.ValidPoC()
		in.Level, in.Agency = directory.LevelPolicy, "Ministère des Affaires étrangères"
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "mfa@fra.example", Preferred: true}}
		noKey := sys.AddPoC(t, fpFRA.Ctx(), "FRA", in)
		kenKey := testkit.NewKeyPair(t, "KE-CIRT", "cirt@ken.example")
		in = testkit.ValidPoC()
		in.Agency, in.PGPKey = "KE-CIRT/CC", kenKey.Public
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cirt@ken.example", Preferred: true}}
		sys.AddPoC(t, fpKEN.Ctx(), "KEN", in)

		catcher, err := notify.StartCatcher("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { catcher.Close() })
		sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}}
		ctx := context.Background()
		// round runs the job and sends what it wrote, and returns how
		// many copies it sent and the copies the mail server received.
		received := 0
		round := func(t *testing.T) (int, []notify.Caught) {
			t.Helper()
			n, err := sys.Offline.MailCopies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sender.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var copies []notify.Caught
			for _, m := range catcher.Messages() {
				if bytes.Contains(m.Raw, []byte(`filename="pocdir-offline-copy-`)) {
					copies = append(copies, m)
				}
			}
			copies = copies[received:]
			received += len(copies)
			return n, copies
		}
		mailed := func(t *testing.T) int {
			t.Helper()
			all, err := sys.Audit.Entries(app.WithActor(ctx, app.System), 0, 100000)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, en := range all {
				if en.Type == "offline.copy.mailed" {
					n++
				}
			}
			return n
		}

		ro := fpFRA.Actor()
		ro.ReadOnly = true
		auth := []struct {
			name       string
			ctx        context.Context
			state      string
			read, turn app.Code // "" when allowed
		}{
			{"the State's focal point sees and turns it on", fpFRA.Ctx(), "FRA", "", ""},
			{"another State's focal point may not, for this State", fpKEN.Ctx(), "FRA", app.Forbidden, app.Forbidden},
			{"an officer of the State may not", offFRA.Ctx(), "FRA", app.Forbidden, app.Forbidden},
			{"the Secretariat sees it but may not turn it on", sec.Ctx(), "FRA", "", app.Forbidden},
			{"a read-only token of the focal point sees it but may not turn it on", app.WithActor(ctx, ro), "FRA", "", app.Forbidden},
			{"no one unauthenticated", ctx, "FRA", app.Unauthorized, app.Unauthorized},
		}
		for _, tt := range auth {
			t.Run(tt.name, func(t *testing.T) {
				_, err := sys.Offline.Mailing(tt.ctx, tt.state)
				if got := app.ErrorCode(err); got != tt.read {
					t.Errorf("read: %v, want %q", err, tt.read)
				}
				err = sys.Offline.SetMailing(tt.ctx, tt.state, true)
				if got := app.ErrorCode(err); got != tt.turn {
					t.Errorf("turn on: %v, want %q", err, tt.turn)
				}
			})
		}
		t.Run("turning it on is recorded in the log once", func(t *testing.T) {
			if err := sys.Offline.SetMailing(fpFRA.Ctx(), "FRA", true); err != nil {
				t.Fatal(err)
			}
			all, _ := sys.Audit.Entries(app.WithActor(ctx, app.System), 0, 100000)
			n := 0
			for _, en := range all {
				if en.Type == "offline.mailing.on" && en.Object == "state:FRA" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d events, want 1", n)
			}
		})
		t.Run("the focal point's page says which PoC will receive none and why", func(t *testing.T) {
			m, err := sys.Offline.Mailing(fpFRA.Ctx(), "FRA")
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]string{}
			for _, p := range m.PoCs {
				got[p.PoC.ID] = p.Missing
			}
			if !m.On || got[withKey.ID] != "" || got[noKey.ID] != offline.NoKey {
				t.Errorf("on %v, missing %v", m.On, got)
			}
		})
		t.Run("the PoC with a key receives a copy it opens with its private key, which verifies; the State that did not turn it on receives none", func(t *testing.T) {
			n, msgs := round(t)
			if n != 1 || len(msgs) != 1 {
				t.Fatalf("%d sent, %d received, want 1", n, len(msgs))
			}
			m := msgs[0]
			if len(m.To) != 1 || m.To[0] != "cert@fra.example" {
				t.Errorf("to %v", m.To)
			}
			if !strings.Contains(m.Subject, "copie hors ligne") {
				t.Errorf("subject %q is not in French", m.Subject)
			}
			name, body := attachment(t, m.Raw)
			if name != "pocdir-offline-copy-2026-03-02.tar.gpg" {
				t.Errorf("attachment %q", name)
			}
			tar, err := offline.DecryptWithKey(body, key.ArmoredPrivate(t, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := offline.Verify(tar, sys.Keys.VerifierKey)
			if err != nil {
				t.Fatal(err)
			}
			if v.Manifest.Holder != "cert@fra.example" || v.Manifest.Language != "fr" {
				t.Errorf("holder %s, language %s", v.Manifest.Holder, v.Manifest.Language)
			}
			if _, err := offline.DecryptWithKey(body, kenKey.ArmoredPrivate(t, nil), nil); err == nil {
				t.Error("another PoC's key opened the copy")
			}
			if got := mailed(t); got != 1 {
				t.Errorf("%d sendings in the log, want 1", got)
			}
		})
		t.Run("the page shows when the PoC last received one", func(t *testing.T) {
			m, err := sys.Offline.Mailing(fpFRA.Ctx(), "FRA")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range m.PoCs {
				switch p.PoC.ID {
				case withKey.ID:
					if p.LastSent == nil || !p.LastSent.Equal(sys.Clock.Now()) || p.Delivered == nil {
						t.Errorf("last %v, delivered %v", p.LastSent, p.Delivered)
					}
				case noKey.ID:
					if p.LastSent != nil {
						t.Errorf("a PoC without a key received one at %v", p.LastSent)
					}
				}
			}
		})
		t.Run("nothing more while the directory has not changed", func(t *testing.T) {
			sys.Clock.Advance(25 * time.Hour)
			if n, msgs := round(t); n != 0 || len(msgs) != 0 {
				t.Errorf("%d sent, %d received", n, len(msgs))
			}
		})
		t.Run("a change of the directory sends a fresh copy, at most once a day", func(t *testing.T) {
			in := testkit.ValidPoC()
			in.Agency = "Kenya National CERT, second line"
			sys.AddPoC(t, fpKEN.Ctx(), "KEN", in)
			if n, _ := round(t); n != 1 {
				t.Errorf("%d sent after the change, want 1", n)
			}
			in.Agency = "Kenya National CERT, third line"
			sys.AddPoC(t, fpKEN.Ctx(), "KEN", in)
			sys.Clock.Advance(23 * time.Hour)
			if n, _ := round(t); n != 0 {
				t.Errorf("%d sent within the day, want 0", n)
			}
			sys.Clock.Advance(time.Hour)
			if n, _ := round(t); n != 1 {
				t.Errorf("%d sent a day later, want 1", n)
			}
		})
		t.Run("a month without change sends a fresh copy", func(t *testing.T) {
			sys.Clock.Advance(20 * 24 * time.Hour)
			if n, _ := round(t); n != 0 {
				t.Errorf("%d sent after 20 days, want 0", n)
			}
			sys.Clock.Advance(12 * 24 * time.Hour)
			if n, _ := round(t); n != 1 {
				t.Errorf("%d sent after a month, want 1", n)
			}
			if got := mailed(t); got != 4 {
				t.Errorf("%d sendings in the log, want 4", got)
			}
		})
		t.Run("two instances at once send a due copy once", func(t *testing.T) {
			sys.Clock.Advance(32 * 24 * time.Hour)
			other := sys.Instance(t)
			var wg sync.WaitGroup
			counts := make([]int, 2)
			for i, s := range []*offline.Service{sys.Offline, other.Offline} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := s.MailCopies(ctx)
					if err != nil {
						t.Error(err)
					}
					counts[i] = n
				}()
			}
			wg.Wait()
			if counts[0]+counts[1] != 1 {
				t.Errorf("sent %v, want 1 in all", counts)
			}
		})
		t.Run("turned off, nothing is sent", func(t *testing.T) {
			if err := sys.Offline.SetMailing(fpFRA.Ctx(), "FRA", false); err != nil {
				t.Fatal(err)
			}
			sys.Clock.Advance(40 * 24 * time.Hour)
			if n, _ := round(t); n != 0 {
				t.Errorf("%d sent", n)
			}
		})
	})
}
