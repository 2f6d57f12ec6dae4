package comms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// outboxMail returns the subject and body of the last queued email of a
// kind to an address.
func outboxMail(t *testing.T, sys *testkit.System, kind, to string) (string, string) {
	t.Helper()
	var subject, body string
	err := sys.DB.QueryRowContext(context.Background(), `SELECT subject, body FROM outbox WHERE kind = $1 AND to_addr = $2 ORDER BY id DESC LIMIT 1`,
		kind, to).Scan(&subject, &body)
	if err != nil {
		t.Fatalf("no %s email to %s: %v", kind, to, err)
	}
	return subject, body
}

// TestEmailsInTheReadersLanguage: a notification goes to a PoC in the
// first of its working languages that pocdir writes, with English below;
// the news of an answer goes to the sender in the language of their
// account. Neither carries the content, and both say that notifying is not
// accusing and acknowledging is not agreeing, in both languages.
func TestEmailsInTheReadersLanguage(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		fpEGY := w.sys.User(t, "fp@egy.example", app.RoleFocalPoint, "EGY")
		offEGY := w.sys.User(t, "off@egy.example", app.RoleOfficer, "EGY")
		in := testkit.ValidPoC()
		in.Languages = []string{"sw", "ar", "en"} // Swahili is not a UN language: Arabic is read
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@egy.example", Preferred: true}}
		w.sys.AddPoC(t, fpEGY.Ctx(), "EGY", in)
		if err := w.sys.Accounts.SetLanguage(w.offFRA.Ctx(), "fr"); err != nil {
			t.Fatal(err)
		}
		n := notification("EGY")
		n.Fields["respond_by"] = w.sys.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
		c, err := w.s.Compose(w.offFRA.Ctx(), n)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the PoC's notification is in Arabic, with English below, without content", func(t *testing.T) {
			subject, body := outboxMail(t, w.sys, "comm", "cert@egy.example")
			if subject != "[TLP:AMBER] "+c.Ref+" (درجة الاستعجال: عالية)" {
				t.Errorf("subject %q", subject)
			}
			fra, egy := i18n.StateName("ar", "FR", "France"), i18n.StateName("ar", "EG", "Egypt")
			for _, want := range []string{"رسالة من " + fra + " في انتظار دولتكم (" + egy + ")", "— English —", "A communication from France awaits your State (Egypt). Level: Technical.",
				testkit.BaseURL + "/comms/", "Response requested by: ", comms.Statement, "لا يعني ضمنًا أن تلك الدولة مسؤولة عنه"} {
				if !strings.Contains(body, want) {
					t.Errorf("the body lacks %q:\n%s", want, body)
				}
			}
			if strings.Index(body, "رسالة من "+fra) > strings.Index(body, "— English —") || strings.Contains(body, "FRA") {
				t.Error("English comes first")
			}
			for _, secret := range []string{"Scanning from AS64500", "203.0.113.7", "ministries"} {
				if strings.Contains(body, secret) || strings.Contains(subject, secret) {
					t.Errorf("the email carries the content %q", secret)
				}
			}
		})
		t.Run("the sender learns of the acknowledgement in French, with English below", func(t *testing.T) {
			if _, err := w.s.Acknowledge(offEGY.Ctx(), c.ID); err != nil {
				t.Fatal(err)
			}
			subject, body := outboxMail(t, w.sys, "comm-activity", "off@fra.example")
			if subject != "[TLP:AMBER] "+c.Ref+" : du nouveau sur votre communication" {
				t.Errorf("subject %q", subject)
			}
			for _, want := range []string{"l'État " + i18n.StateName("fr", "EG", "Egypt") + " a accusé réception de votre communication " + c.Ref, "— English —",
				"Egypt acknowledged your communication " + c.Ref, "ne signifie pas souscrire à son contenu"} {
				if !strings.Contains(body, want) {
					t.Errorf("the body lacks %q:\n%s", want, body)
				}
			}
		})
	})
}

// TestSendingASavedDraft: a draft is saved incomplete, refused until it is
// complete, then sent as stored, once.
func TestSendingASavedDraft(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		in := notification("KEN")
		in.Draft = true
		delete(in.Fields, "description")
		in.Fields["respond_by"] = w.sys.Clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
		d, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil || d.Status != comms.StatusDraft {
			t.Fatalf("draft: %+v %v", d, err)
		}
		t.Run("an incomplete draft is refused, naming the field", func(t *testing.T) {
			_, err := w.s.Send(w.offFRA.Ctx(), d.ID)
			if e := app.AsError(err); e.Code != app.Invalid || e.Field != "fields.description" {
				t.Errorf("got %v", err)
			}
		})
		t.Run("another State cannot send it", func(t *testing.T) {
			_, err := w.s.Send(w.offKEN.Ctx(), d.ID)
			wantCode(t, "Kenya sending France's draft", err, app.NotFound)
		})
		in.Fields["description"] = "Scanning since Monday."
		if _, err := w.s.UpdateDraft(w.offFRA.Ctx(), d.ID, in, nil); err != nil {
			t.Fatal(err)
		}
		t.Run("a deadline that passed since the draft was saved is refused", func(t *testing.T) {
			w.sys.Clock.Advance(3 * time.Hour)
			_, err := w.s.Send(w.offFRA.Ctx(), d.ID)
			if e := app.AsError(err); e.Code != app.Invalid || e.Field != "fields.respond_by" {
				t.Errorf("got %v", err)
			}
		})
		in.Fields["respond_by"] = w.sys.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
		if _, err := w.s.UpdateDraft(w.offFRA.Ctx(), d.ID, in, nil); err != nil {
			t.Fatal(err)
		}
		sent, err := w.s.Send(w.fpFRA.Ctx(), d.ID) // another user of the State sends it
		if err != nil {
			t.Fatal(err)
		}
		if sent.Status != comms.StatusSent || sent.Content.Fields["description"] != "Scanning since Monday." || sent.RespondBy == nil ||
			!sent.RespondBy.Equal(w.sys.Clock.Now().Add(48*time.Hour).Truncate(time.Second)) || len(sent.Recipients) != 1 {
			t.Errorf("sent %+v", sent)
		}
		t.Run("a sent draft is not sent again", func(t *testing.T) {
			_, err := w.s.Send(w.offFRA.Ctx(), d.ID)
			wantCode(t, "sending twice", err, app.Conflict)
		})
	})
}

// TestDownloadsAreAccountedFor: an attachment that leaves pocdir is in the
// log, for the sender State and the State that took it.
func TestDownloadsAreAccountedFor(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	in := notification("KEN")
	in.Attachments = []*comms.Attachment{{Name: "notes.txt", Data: []byte("seen from 20 November")}}
	c, err := w.s.Compose(w.offFRA.Ctx(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.AttachmentFile(w.offKEN.Ctx(), c.ID, c.Attachments[0].ID); err != nil {
		t.Fatal(err)
	}
	entries, err := w.sys.Audit.Entries(w.offKEN.Ctx(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Type == "comms.attachment_downloaded" && e.Object == "comm:"+c.Ref && e.ActorState == "KEN" && e.ActorEmail == "" {
			found = true
		}
	}
	if !found {
		t.Error("the download is not in the log (naming the State, not the person)")
	}
}

// TestRunningInstancesFollowADataKeyRotation: an operator rotates the data
// key ("pocdir data-key rotate" seals everything again under the new key)
// while another instance runs on the same database: that instance still
// opens the sealed communications and second factors, without a restart.
func TestRunningInstancesFollowADataKeyRotation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		c, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN"))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		running, err := system.Open(ctx, w.sys.Config) // another process, started before the rotation
		if err != nil {
			t.Fatal(err)
		}
		defer running.Close()
		if _, err := seal.Rotate(w.sys.DataKeyPath); err != nil {
			t.Fatal(err)
		}
		rotate, err := system.Open(ctx, w.sys.Config) // the command: it seals the TOTP secrets again on opening
		if err != nil {
			t.Fatal(err)
		}
		if n, err := rotate.Comms.Reseal(ctx, nil); err != nil || n == 0 {
			t.Fatalf("resealed %d: %v", n, err)
		}
		rotate.Close()
		got, err := running.Comms.Communication(w.offKEN.Ctx(), c.ID)
		if err != nil || got.Content == nil || got.Content.Subject != "Scanning from AS64500" {
			t.Fatalf("the running instance reading a resealed communication: %v", err)
		}
		w.sys.Clock.Advance(time.Minute)
		p, err := running.Accounts.Login(ctx, w.offKEN.Email, testkit.Password, "192.0.2.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := running.Accounts.VerifyTOTP(ctx, p.Token, w.sys.Code(t, w.offKEN)); err != nil {
			t.Errorf("the running instance checking a resealed second factor: %v", err)
		}
	})
}
