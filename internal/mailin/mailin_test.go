package mailin_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	imapmemory "github.com/emersion/go-imap/backend/memory"
	imapclient "github.com/emersion/go-imap/client"
	imapserver "github.com/emersion/go-imap/server"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/mailin"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// world is a pocdir that sends its email to a real SMTP server (the
// catcher) and receives replies on its own SMTP listener, with a French
// officer who writes to Kenya (whose PoC has a GnuPG-made OpenPGP key) and
// Germany (whose PoC has none).
type world struct {
	sys     *testkit.System
	catcher *notify.Catcher
	off     *testkit.User
	fpDEU   *testkit.User
	gpg     *gnupg // Kenya's PoC's keyring, nil without gpg
	inbound string // the listener's host:port
}

const replyAddress = "reply@reply.pocdir.test"

func newWorld(t testing.TB, e testkit.Engine) *world {
	t.Helper()
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	sys := testkit.New(t, e, testkit.WithConfig(func(c *system.Config) {
		c.ReplyAddress, c.InboundSMTPAddr = replyAddress, "127.0.0.1:0"
		c.SMTP = notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@pocdir.test", TLS: "none"}
	}))
	go sys.InboundSMTP.Serve()
	w := &world{sys: sys, catcher: catcher, off: sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		fpDEU: sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU"), inbound: sys.InboundSMTP.Addr().String()}
	fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	w.gpg = newGnuPG(t, sys.Clock.Now().Add(-time.Hour), "KEN CERT <cert@ken.example>")
	for _, p := range []struct {
		u     *testkit.User
		email string
		key   string
	}{{fpKEN, "cert@ken.example", w.gpg.publicKey(t)}, {w.fpDEU, "cert@deu.example", ""}, {fpFRA, "cert@fra.example", ""}} {
		in := testkit.ValidPoC()
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: p.email, Preferred: true}}
		in.PGPKey = p.key
		sys.AddPoC(t, p.u.Ctx(), p.u.State, in)
	}
	return w
}

// send composes a communication to the States and delivers its email.
func (w *world) send(t testing.TB, tlp string, to ...string) *comms.Communication {
	t.Helper()
	c, err := w.sys.Comms.Compose(w.off.Ctx(), comms.CommInput{Template: "notification", ToStates: to, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Wiper against the grid", "urgency": "high", "tlp": tlp, "description": "Destructive activity since 02:00 UTC."}})
	if err != nil {
		t.Fatal(err)
	}
	w.flush(t)
	return c
}

func (w *world) flush(t testing.TB) {
	t.Helper()
	if _, err := w.sys.Sender.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// notice returns the email last sent to an address with a subject that
// says what: its Reply-To, its Message-ID, its envelope sender and its text.
func (w *world) notice(t testing.TB, to, what string) (replyTo, messageID, envelope, body string) {
	t.Helper()
	msgs := w.catcher.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if len(m.To) == 0 || m.To[0] != to || !strings.Contains(m.Subject, what) {
			continue
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if a, err := mail.ParseAddress(parsed.Header.Get("Reply-To")); err == nil {
			replyTo = a.Address
		}
		return replyTo, strings.Trim(parsed.Header.Get("Message-Id"), "<>"), m.From, m.Body
	}
	t.Fatalf("no email to %s about %q", to, what)
	return
}

// reply sends a raw message to pocdir's listener, as the PoC's mail server
// would.
func (w *world) reply(from, to string, raw []byte) error {
	return smtp.SendMail(w.inbound, nil, from, []string{to}, raw)
}

var msgSeq int

// plain is a plain-text reply with the usual headers, and a Message-ID.
func plain(from, to, subject, text string, extra ...string) []byte {
	msgSeq++
	h := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <reply-%d-%d@mail.example>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n",
		from, to, subject, time.Now().UnixNano(), msgSeq)
	for _, x := range extra {
		h += x + "\r\n"
	}
	return []byte(h + "\r\n" + strings.ReplaceAll(text, "\n", "\r\n") + "\r\n")
}

// view is a communication with its thread, as a user sees it.
type view struct {
	*comms.Communication
	Thread *comms.Thread
}

func (w *world) comm(t testing.TB, u *testkit.User, id int64) *view {
	t.Helper()
	ctx := app.WithActor(context.Background(), &app.Actor{UserID: u.ID, Email: u.Email, Role: u.Role, State: u.State, ReadOnly: true})
	c, err := w.sys.Comms.Communication(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	th, err := w.sys.Comms.Thread(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return &view{c, th}
}

func lineOf(c *view, state string) *comms.Recipient {
	for _, r := range c.Recipients {
		if r.State == state {
			return r
		}
	}
	return nil
}

func lastEvent(c *view, kind string) *comms.Event {
	var out *comms.Event
	for _, e := range c.Thread.Events {
		if e.Kind == kind {
			out = e
		}
	}
	return out
}

func (w *world) received(t testing.TB) mailin.Received {
	t.Helper()
	r, err := mailin.Recent(context.Background(), w.sys.DB, 1)
	if err != nil || len(r) == 0 {
		t.Fatalf("nothing received: %v", err)
	}
	return r[0]
}

// TestRepliesByEmail runs the whole workflow by email only: a PoC
// acknowledges, disputes (signed with GnuPG), answers, asks for more
// information in an encrypted reply, and answers a check, each by replying
// to pocdir's email; auto-replies, unknown addresses and garbage are not
// acts; a bounce that comes back later marks the line.
func TestRepliesByEmail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		c := w.send(t, comms.TLPAmber, "KEN", "DEU")
		replyDEU, _, envelope, body := w.notice(t, "cert@deu.example", c.Ref)
		replyKEN, _, _, _ := w.notice(t, "cert@ken.example", c.Ref)

		t.Run("every notification carries its own reply address, an acknowledgement link, the words, and a bounce address", func(t *testing.T) {
			if !regexp.MustCompile(`^reply\+[a-z2-7]{40}@reply\.pocdir\.test$`).MatchString(replyDEU) || replyDEU == replyKEN {
				t.Fatalf("Reply-To %q and %q", replyDEU, replyKEN)
			}
			if !regexp.MustCompile(`^reply\+bounce-[0-9]+@reply\.pocdir\.test$`).MatchString(envelope) {
				t.Errorf("envelope sender %q", envelope)
			}
			token := strings.TrimSuffix(strings.TrimPrefix(replyDEU, "reply+"), "@reply.pocdir.test")
			if !strings.Contains(body, "/ack/"+token) || !strings.Contains(body, "ACKNOWLEDGE") || !strings.Contains(body, "DISPUTE") {
				t.Errorf("the email does not say how to answer by email:\n%s", body)
			}
		})

		t.Run("an unsigned ACKNOWLEDGE acknowledges for the State, marked unverified; the same message twice is recorded once", func(t *testing.T) {
			raw := plain("cert@deu.example", replyDEU, "Re: "+c.Ref, "Acknowledge\n\nOn Mon, pocdir wrote:\n> A communication awaits")
			for range 2 {
				if err := w.reply("cert@deu.example", replyDEU, raw); err != nil {
					t.Fatal(err)
				}
			}
			got := w.comm(t, w.fpDEU, c.ID)
			if l := lineOf(got, "DEU"); l.AckedAt == nil || l.AckedBy != "cert@deu.example" {
				t.Fatalf("line %+v", l)
			}
			ev := lastEvent(got, comms.EvAcknowledged)
			if ev == nil || ev.Via != "email" || ev.Verification != comms.Unverified {
				t.Fatalf("event %+v", ev)
			}
			n := 0
			for _, e := range got.Thread.Events {
				if e.Kind == comms.EvAcknowledged {
					n++
				}
			}
			if r := w.received(t); n != 1 || r.Result != mailin.ResultDuplicate && r.Result != mailin.ResultRecorded {
				t.Errorf("%d acknowledgements; last received %+v", n, r)
			}
		})

		t.Run("the State rejects the unverified act, and it is undone", func(t *testing.T) {
			got := w.comm(t, w.fpDEU, c.ID)
			ev := lastEvent(got, comms.EvAcknowledged)
			if ev == nil {
				t.Fatal("no acknowledgement")
			}
			if _, err := w.sys.Comms.ReviewMailAct(w.off.Ctx(), c.ID, ev.ID, false); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("the sender State reviewed another State's act: %v", err)
			}
			fpKEN := w.sys.User(t, "fp2@ken.example", app.RoleFocalPoint, "KEN")
			if _, err := w.sys.Comms.ReviewMailAct(fpKEN.Ctx(), c.ID, ev.ID, false); app.ErrorCode(err) != app.NotFound {
				t.Errorf("another recipient State reviewed Germany's act: %v", err)
			}
			sec := w.sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
			if _, err := w.sys.Comms.ReviewMailAct(sec.Ctx(), c.ID, ev.ID, false); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("the Secretariat reviewed a State's act: %v", err)
			}
			ro := w.fpDEU.Actor()
			ro.ReadOnly = true
			if _, err := w.sys.Comms.ReviewMailAct(app.WithActor(context.Background(), ro), c.ID, ev.ID, false); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("a read-only token reviewed an act: %v", err)
			}
			if _, err := w.sys.Comms.ReviewMailAct(w.fpDEU.Ctx(), c.ID, ev.ID, false); err != nil {
				t.Fatal(err)
			}
			got = w.comm(t, w.fpDEU, c.ID)
			if l := lineOf(got, "DEU"); l.AckedAt != nil {
				t.Errorf("still acknowledged: %+v", l)
			}
			if ev := lastEvent(got, comms.EvAcknowledged); ev.Verification != comms.Rejected {
				t.Errorf("event %+v", ev)
			}
			if _, err := w.sys.Comms.ReviewMailAct(w.fpDEU.Ctx(), c.ID, ev.ID, true); app.ErrorCode(err) != app.Conflict {
				t.Errorf("reviewed twice: %v", err)
			}
		})

		t.Run("a DISPUTE signed with the PoC's GnuPG key is verified, with its note", func(t *testing.T) {
			text := "DISPUTE: the address 198.51.100.7 is not in our territory.\r\n"
			raw := w.gpg.signedMIME(t, "cert@ken.example", replyKEN, "Re: "+c.Ref, text)
			if err := w.reply("cert@ken.example", replyKEN, raw); err != nil {
				t.Fatal(err)
			}
			got := w.comm(t, w.off, c.ID)
			if l := lineOf(got, "KEN"); l.Outcome != comms.OutcomeDisputed {
				t.Fatalf("line %+v (received %+v)", l, w.received(t))
			}
			ev := lastEvent(got, comms.EvDisputed)
			if ev == nil || ev.Verification != comms.Verified || !strings.Contains(ev.Note, "not in our territory") || strings.Contains(ev.Note, "DISPUTE") {
				t.Errorf("event %+v", ev)
			}
		})

		t.Run("a signature by another key is not verified", func(t *testing.T) {
			other := newGnuPG(t, w.sys.Clock.Now().Add(-time.Hour), "Someone <someone@example.org>")
			raw := other.signedMIME(t, "cert@ken.example", replyKEN, "Re: "+c.Ref, "DECLINE\r\nWe cannot act on this.\r\n")
			if err := w.reply("cert@ken.example", replyKEN, raw); err != nil {
				t.Fatal(err)
			}
			if r := w.received(t); r.Result != mailin.ResultRecorded || r.Signature != comms.Unverified {
				t.Errorf("received %+v", r)
			}
		})

		t.Run("a reply encrypted to pocdir's key is decrypted and its signature verified", func(t *testing.T) {
			raw := w.gpg.encryptedMIME(t, w.sys.PGP.PublicKey(), "cert@ken.example", replyKEN, "Re: "+c.Ref, "More information\nWhich sectors were hit?\n")
			if err := w.reply("cert@ken.example", replyKEN, raw); err != nil {
				t.Fatal(err)
			}
			r := w.received(t)
			if r.Result != mailin.ResultRecorded || !r.Encrypted || r.Signature != comms.Verified || r.Act != comms.MailMoreInfo {
				t.Fatalf("received %+v", r)
			}
			if ev := lastEvent(w.comm(t, w.off, c.ID), comms.EvMoreInfo); ev == nil || !strings.Contains(ev.Note, "Which sectors") {
				t.Errorf("event %+v", ev)
			}
		})

		t.Run("a plain reply is the State's response, with its attachment, in the thread", func(t *testing.T) {
			raw := []byte("From: cert@deu.example\r\nTo: " + replyDEU + "\r\nSubject: Re: " + c.Ref + "\r\nMessage-ID: <resp-1@deu.example>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWir haben die Adresse gesperrt.\r\n\r\n> quoted\r\n" +
				"--b1\r\nContent-Type: text/plain; name=log.txt\r\nContent-Disposition: attachment; filename=log.txt\r\n\r\nfirewall log\r\n--b1--\r\n")
			if err := w.reply("cert@deu.example", replyDEU, raw); err != nil {
				t.Fatal(err)
			}
			got := w.comm(t, w.off, c.ID)
			if l := lineOf(got, "DEU"); l.Outcome != comms.OutcomeResponded {
				t.Fatalf("line %+v (received %+v)", l, w.received(t))
			}
			var resp *view
			for _, tc := range got.Thread.Comms {
				if tc.ParentID == c.ID && tc.SenderState == "DEU" {
					resp = w.comm(t, w.off, tc.ID)
				}
			}
			if resp == nil || !strings.Contains(resp.Content.Fields["description"], "gesperrt") || strings.Contains(resp.Content.Fields["description"], "quoted") ||
				len(resp.Attachments) != 1 || resp.Attachments[0].Name != "log.txt" {
				t.Fatalf("response %+v", resp)
			}
		})

		t.Run("auto-replies are recorded as such, never as acts, and never answered", func(t *testing.T) {
			w.flush(t)
			before := len(w.catcher.Messages())
			queued := outboxCount(t, w.sys)
			raw := plain("cert@deu.example", replyDEU, "Out of Office: Re: "+c.Ref, "I am away until Monday.", "Auto-Submitted: auto-replied")
			if err := w.reply("cert@deu.example", replyDEU, raw); err != nil {
				t.Fatal(err)
			}
			if r := w.received(t); r.Result != mailin.ResultAutoReply || r.Answered {
				t.Errorf("received %+v", r)
			}
			w.flush(t)
			if outboxCount(t, w.sys) != queued || len(w.catcher.Messages()) != before {
				t.Error("an auto-reply was answered")
			}
		})

		t.Run("unknown and made-up addresses are refused at RCPT time", func(t *testing.T) {
			for _, to := range []string{"reply+" + strings.Repeat("a", 32) + "@reply.pocdir.test", "reply@reply.pocdir.test", "postmaster@reply.pocdir.test", "reply+x@elsewhere.example"} {
				err := w.reply("x@example.org", to, plain("x@example.org", to, "hello", "ACKNOWLEDGE"))
				if err == nil || !strings.Contains(err.Error(), "550") {
					t.Errorf("%s: %v", to, err)
				}
			}
		})

		t.Run("garbage is refused without an act", func(t *testing.T) {
			if err := w.reply("x@example.org", replyKEN, []byte("\x00\x01 not a message at all")); err != nil {
				t.Fatal(err)
			}
			if r := w.received(t); r.Result != mailin.ResultRefused && r.Result != mailin.ResultUnclear {
				t.Errorf("received %+v", r)
			}
		})

		t.Run("a bounce that comes back later marks the line bounced, only when it names the message", func(t *testing.T) {
			c2 := w.send(t, comms.TLPGreen, "DEU")
			_, msgID, envelope, _ := w.notice(t, "cert@deu.example", c2.Ref)
			forged := dsn(envelope, "cert@deu.example", "someone-else@pocdir.test")
			if err := w.reply("MAILER-DAEMON@mx.deu.example", envelope, forged); err != nil {
				t.Fatal(err)
			}
			if l := lineOf(w.comm(t, w.off, c2.ID), "DEU"); l.BouncedAt != nil {
				t.Fatal("a report that does not name the message marked the line")
			}
			if err := w.reply("MAILER-DAEMON@mx.deu.example", envelope, dsn(envelope, "cert@deu.example", msgID)); err != nil {
				t.Fatal(err)
			}
			l := lineOf(w.comm(t, w.off, c2.ID), "DEU")
			if l.BouncedAt == nil || !strings.Contains(l.BounceError, "5.1.1") {
				t.Errorf("line %+v (received %+v)", l, w.received(t))
			}
		})

		t.Run("a TLP:RED communication is acknowledged by email but not answered, and the explanation quotes nothing, once a day", func(t *testing.T) {
			red := w.send(t, comms.TLPRed, "DEU")
			replyRed, _, _, body := w.notice(t, "cert@deu.example", red.Ref)
			if strings.Contains(body, "Destructive") || !strings.Contains(body, "TLP:RED") {
				t.Errorf("the RED notification:\n%s", body)
			}
			for i := range 2 {
				if err := w.reply("cert@deu.example", replyRed, plain("cert@deu.example", replyRed, "Re: "+red.Ref, "The secret names are X and Y.")); err != nil {
					t.Fatal(err)
				}
				r := w.received(t)
				if r.Result != mailin.ResultUnclear || r.Answered != (i == 0) {
					t.Errorf("reply %d: received %+v", i, r)
				}
			}
			w.flush(t)
			_, _, _, explanation := w.notice(t, "cert@deu.example", "could not record your reply ("+red.Ref)
			if !strings.Contains(explanation, "TLP:RED") || strings.Contains(explanation, "secret names") {
				t.Errorf("explanation:\n%s", explanation)
			}
			if err := w.reply("cert@deu.example", replyRed, plain("cert@deu.example", replyRed, "Re: "+red.Ref, "REÇU")); err != nil {
				t.Fatal(err)
			}
			if l := lineOf(w.comm(t, w.off, red.ID), "DEU"); l.AckedAt == nil {
				t.Errorf("not acknowledged: %+v", l)
			}
		})

		t.Run("a reply to a check answers it", func(t *testing.T) {
			sec := w.sys.User(t, "sec@un.example", app.RoleSecretariat, "")
			camp, err := w.sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Quarterly check", Scope: "states", Value: "DEU", Channel: checks.ChannelEmail, WindowHours: 24})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := w.sys.Checks.RunOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			w.flush(t)
			replyCheck, _, _, _ := w.notice(t, "cert@deu.example", "Quarterly check")
			if err := w.reply("cert@deu.example", replyCheck, plain("cert@deu.example", replyCheck, "Re: check", "Received, all well.")); err != nil {
				t.Fatal(err)
			}
			res, err := w.sys.Checks.Results(sec.Ctx(), camp.ID)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, g := range res.Targets {
				if g.Address == "cert@deu.example" {
					found = g.Via == "email" && g.AnsweredAt != nil
				}
			}
			if !found {
				t.Errorf("the check is not answered by email (received %+v)", w.received(t))
			}
		})

		t.Run("the Secretariat follows the mail flow, without what the replies concerned", func(t *testing.T) {
			sec := w.sys.User(t, "sec3@un.example", app.RoleSecretariat, "")
			list, err := w.sys.Inbound.Received(sec.Ctx())
			if err != nil || len(list) == 0 {
				t.Fatalf("%d received: %v", len(list), err)
			}
			for _, r := range list {
				if r.Act != "" || r.Object != "" || r.Result == mailin.ResultRecorded && r.Detail != "" {
					t.Errorf("the Secretariat sees %+v", r)
				}
			}
			if _, err := w.sys.Inbound.Received(w.off.Ctx()); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("an officer read the mail received: %v", err)
			}
			srv := w.sys.Serve(t)
			resp, page := getPage(t, w.sys.Login(t, srv, sec), srv.URL+"/admin/outbox")
			if resp.StatusCode != 200 || !strings.Contains(page, "Received") || !strings.Contains(page, "automatic reply") || strings.Contains(page, "not in our territory") {
				t.Errorf("outbox page %d", resp.StatusCode)
			}
		})

		t.Run("an expired reply address is refused at RCPT time", func(t *testing.T) {
			w.sys.Clock.Advance(100 * 24 * time.Hour)
			err := w.reply("cert@deu.example", replyDEU, plain("cert@deu.example", replyDEU, "late", "ACKNOWLEDGE"))
			if err == nil || !strings.Contains(err.Error(), "550") {
				t.Errorf("got %v", err)
			}
		})
	})
}

func outboxCount(t testing.TB, sys *testkit.System) int {
	t.Helper()
	var n int
	if err := sys.DB.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// dsn is a delivery status notification as Postfix writes it, for a
// message sent with the given Message-ID.
func dsn(to, rcpt, messageID string) []byte {
	msgSeq++
	return []byte(fmt.Sprintf("From: MAILER-DAEMON@mx.deu.example (Mail Delivery System)\r\nTo: %s\r\nSubject: Undelivered Mail Returned to Sender\r\n"+
		"Message-ID: <dsn-%d-%d@mx.deu.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"+
		"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n"+
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.deu.example\r\n\r\nFinal-Recipient: rfc822; %s\r\nOriginal-Recipient: rfc822;%s\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
		"Diagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown\r\n\r\n"+
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: pocdir@pocdir.test\r\nTo: %s\r\nMessage-ID: <%s>\r\nSubject: [TLP:GREEN] notice\r\n\r\n--B--\r\n",
		to, time.Now().UnixNano(), msgSeq, rcpt, rcpt, rcpt, rcpt, messageID))
}

// gnupg is a GnuPG home with one key pair, made by gpg itself: the tests
// verify what a PoC's real mail client would send.
type gnupg struct {
	home string
	uid  string
}

func newGnuPG(t testing.TB, created time.Time, uid string) *gnupg {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
			t.Fatal("gpg is required (CI installs gnupg)")
		}
		t.Skip("gpg is not installed")
	}
	home, err := os.MkdirTemp("", "gnupg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	g := &gnupg{home: home, uid: uid}
	g.run(t, nil, "--faked-system-time", created.UTC().Format("20060102T150405")+"!", "--passphrase", "", "--quick-gen-key", uid, "future-default", "default", "never")
	return g
}

func (g *gnupg) run(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--batch", "--homedir", g.home, "--pinentry-mode", "loopback", "--trust-model", "always"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("gpg %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

func (g *gnupg) publicKey(t testing.TB) string {
	return string(g.run(t, nil, "--armor", "--export", g.uid))
}

// signedMIME is a PGP/MIME signed message (RFC 3156 §5), as Thunderbird
// sends it.
func (g *gnupg) signedMIME(t testing.TB, from, to, subject, text string) []byte {
	part := "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + text
	sig := g.run(t, []byte(part), "--armor", "--detach-sign", "--digest-algo", "SHA256")
	msgSeq++
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <signed-%d-%d@ken.example>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n"+
		"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--sig\r\n%s\r\n--sig\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n%s\r\n--sig--\r\n",
		from, to, subject, time.Now().UnixNano(), msgSeq, part, strings.ReplaceAll(string(sig), "\n", "\r\n")))
}

// encryptedMIME is a PGP/MIME encrypted and signed message (RFC 3156 §4,
// §6.2) to the armored public key.
func (g *gnupg) encryptedMIME(t testing.TB, recipientKey, from, to, subject, text string) []byte {
	keyFile := filepath.Join(g.home, "recipient.asc")
	if err := os.WriteFile(keyFile, []byte(recipientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	inner := "Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(text, "\n", "\r\n")
	enc := g.run(t, []byte(inner), "--armor", "--sign", "--encrypt", "--recipient-file", keyFile)
	msgSeq++
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <enc-%d-%d@ken.example>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n"+
		"--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--enc\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\r\n%s\r\n--enc--\r\n",
		from, to, subject, time.Now().UnixNano(), msgSeq, strings.ReplaceAll(string(enc), "\n", "\r\n")))
}

// TestRepliesCollectedOverIMAP collects replies from a real IMAP mailbox
// (go-imap's server), with two instances collecting at once: each reply is
// recorded once, and the mailbox is emptied of what was recorded.
func TestRepliesCollectedOverIMAP(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		c := w.send(t, comms.TLPAmber, "DEU")
		replyDEU, _, _, _ := w.notice(t, "cert@deu.example", c.Ref)

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := imapserver.New(imapmemory.New())
		srv.AllowInsecureAuth = true
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		url := "imap://username:password@" + ln.Addr().String() + "/INBOX?tls=none"

		cl, err := imapclient.Dial(ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Logout()
		if err := cl.Login("username", "password"); err != nil {
			t.Fatal(err)
		}
		for _, raw := range [][]byte{
			plain("cert@deu.example", replyDEU, "Re: "+c.Ref, "ACKNOWLEDGE"),
			plain("cert@deu.example", replyDEU, "Abwesenheitsnotiz", "Ich bin nicht im Büro.", "Auto-Submitted: auto-replied"),
		} {
			if err := cl.Append("INBOX", nil, time.Now(), bytes.NewBuffer(raw)); err != nil {
				t.Fatal(err)
			}
		}

		second := w.sys.Instance(t, testkit.WithConfig(func(c *system.Config) { c.InboundSMTPAddr = "" }))
		collectors := []*mailin.Gateway{w.sys.Inbound, second.Inbound}
		errs := make(chan error, 2)
		for _, g := range collectors {
			imap, err := g.NewIMAP(url)
			if err != nil {
				t.Fatal(err)
			}
			go func() { _, err := imap.Collect(context.Background()); errs <- err }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}

		got := w.comm(t, w.fpDEU, c.ID)
		acks := 0
		for _, e := range got.Thread.Events {
			if e.Kind == comms.EvAcknowledged {
				acks++
			}
		}
		if acks != 1 || lineOf(got, "DEU").AckedAt == nil {
			t.Errorf("%d acknowledgements", acks)
		}
		if ev := lastEvent(got, comms.EvAutoReply); ev == nil || ev.Via != "email" {
			t.Errorf("the out-of-office is not in the thread: %+v", ev)
		}
		recent, err := mailin.Recent(context.Background(), w.sys.DB, 10)
		if err != nil {
			t.Fatal(err)
		}
		results := map[string]int{}
		for _, r := range recent {
			if r.Via == "imap" {
				results[r.Result]++
			}
		}
		if results[mailin.ResultRecorded] != 1 || results[mailin.ResultAutoReply] != 1 {
			t.Errorf("recorded: %v", results)
		}
		st, err := cl.Select("INBOX", false)
		if err != nil {
			t.Fatal(err)
		}
		if st.Messages != 0 {
			t.Errorf("%d messages left in the mailbox", st.Messages)
		}
	})
}

// TestInboundLimits refuses an oversized message at the size limit and
// offers STARTTLS when given a certificate; two instances that receive the
// same message at once record it once.
func TestInboundLimits(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		c := w.send(t, comms.TLPAmber, "DEU")
		replyDEU, _, _, _ := w.notice(t, "cert@deu.example", c.Ref)

		t.Run("a message over the size limit is refused, and the limit is announced", func(t *testing.T) {
			cl, err := smtp.Dial(w.inbound)
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.Hello("mx.deu.example"); err != nil {
				t.Fatal(err)
			}
			if ok, size := cl.Extension("SIZE"); !ok || size != fmt.Sprint(mailin.DefaultMaxSize) {
				t.Errorf("SIZE %v %q", ok, size)
			}
			cl.Close()
			before, _ := mailin.Recent(context.Background(), w.sys.DB, 100)
			big := plain("cert@deu.example", replyDEU, "Re: "+c.Ref, strings.Repeat("x", mailin.DefaultMaxSize+1))
			if err := w.reply("cert@deu.example", replyDEU, big); err == nil {
				t.Error("an oversized message was accepted")
			}
			if after, _ := mailin.Recent(context.Background(), w.sys.DB, 100); len(after) != len(before) {
				t.Errorf("an oversized message was recorded: %+v", after)
			}
		})

		t.Run("two instances receiving one message record it once", func(t *testing.T) {
			second := w.sys.Instance(t, testkit.WithConfig(func(c *system.Config) { c.InboundSMTPAddr = "" }))
			raw := plain("cert@deu.example", replyDEU, "Re: "+c.Ref, "DISPUTE\nNot us.")
			outs := make(chan *mailin.Outcome, 2)
			for _, g := range []*mailin.Gateway{w.sys.Inbound, second.Inbound} {
				go func() {
					o, err := g.Deliver(context.Background(), "smtp", []string{replyDEU}, raw)
					if err != nil {
						t.Error(err)
					}
					outs <- o
				}()
			}
			got := map[string]int{}
			for range 2 {
				if o := <-outs; o != nil {
					got[o.Result]++
				}
			}
			if got[mailin.ResultRecorded] != 1 || got[mailin.ResultDuplicate] != 1 {
				t.Errorf("outcomes %v", got)
			}
			n := 0
			for _, e := range w.comm(t, w.off, c.ID).Thread.Events {
				if e.Kind == comms.EvDisputed {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d disputes recorded", n)
			}
		})

		t.Run("STARTTLS is offered with a certificate", func(t *testing.T) {
			cert := selfSigned(t)
			tlsSys := w.sys.Instance(t, testkit.WithConfig(func(c *system.Config) {
				c.InboundSMTPAddr = "127.0.0.1:0"
				c.InboundTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}))
			go tlsSys.InboundSMTP.Serve()
			t.Cleanup(func() { tlsSys.InboundSMTP.Close() })
			cl, err := smtp.Dial(tlsSys.InboundSMTP.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if ok, _ := cl.Extension("STARTTLS"); !ok {
				t.Fatal("no STARTTLS")
			}
			if err := cl.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
				t.Fatal(err)
			}
			if err := cl.Mail("cert@deu.example"); err != nil {
				t.Fatal(err)
			}
			if err := cl.Rcpt(replyDEU); err != nil {
				t.Fatal(err)
			}
			wc, err := cl.Data()
			if err != nil {
				t.Fatal(err)
			}
			wc.Write(plain("cert@deu.example", replyDEU, "Re: "+c.Ref, "MORE INFORMATION\nWhich hosts?"))
			if err := wc.Close(); err != nil {
				t.Fatal(err)
			}
			if r := w.received(t); r.Result != mailin.ResultRecorded || r.Act != comms.MailMoreInfo {
				t.Errorf("received %+v", r)
			}
		})
	})
}

// TestRefusedRecipientsAreThrottled tells a client that tries many unknown
// addresses to wait, even for an address that exists.
func TestRefusedRecipientsAreThrottled(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		c := w.send(t, comms.TLPAmber, "DEU")
		replyDEU, _, _, _ := w.notice(t, "cert@deu.example", c.Ref)
		cl, err := smtp.Dial(w.inbound)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.Mail("x@example.org"); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if err := cl.Rcpt(fmt.Sprintf("reply+%032d@reply.pocdir.test", i)); err == nil || !strings.Contains(err.Error(), "550") {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if err := cl.Rcpt(replyDEU); err == nil || !strings.Contains(err.Error(), "450") {
			t.Errorf("after 30 guesses: %v", err)
		}
	})
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reply.pocdir.test"}, DNSNames: []string{"reply.pocdir.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func getPage(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
