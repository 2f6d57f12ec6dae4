package comms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// Findings of the review of the communications change, each kept as a
// test.
func TestReviewFindings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		t.Run("sending a saved draft keeps its requested response time", func(t *testing.T) {
			in := notification("KEN")
			in.Draft = true
			in.Fields["respond_by"] = w.sys.Clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04")
			d, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			c, err := w.s.Send(w.offFRA.Ctx(), d.ID)
			if err != nil || c.RespondBy == nil {
				t.Errorf("%v %v", c.RespondBy, err)
			}
		})
		t.Run("a shared copy is not shared on: only the originator consents", func(t *testing.T) {
			in := notification("KEN")
			in.Fields["subject"] = "Shared on?"
			c, _ := w.s.Compose(w.offFRA.Ctx(), in)
			if _, err := w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "please"); err != nil {
				t.Fatal(err)
			}
			th, _ := w.s.Thread(w.offFRA.Ctx(), c.ID)
			for _, ev := range th.Events {
				if ev.Kind == comms.EvConsentRequested {
					if _, err := w.s.Consent(w.offFRA.Ctx(), c.ID, ev.ID, true); err != nil {
						t.Fatal(err)
					}
				}
			}
			l, _ := w.s.Comms(w.offBRA.Ctx(), comms.Filter{Box: "in"})
			if len(l) != 1 {
				t.Fatalf("Brazil has %d", len(l))
			}
			_, err := w.s.Share(w.offBRA.Ctx(), l[0].ID, "DEU", "onward")
			wantCode(t, "sharing a copy on", err, app.Forbidden)
			_, err = w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "again")
			wantCode(t, "sharing again with the same State", err, app.Conflict)
		})
		t.Run("another recipient State does not see a request to share, nor its answer", func(t *testing.T) {
			in := notification("KEN", "BRA")
			in.Fields["subject"] = "Two recipients"
			c, _ := w.s.Compose(w.offFRA.Ctx(), in)
			if _, err := w.s.Share(w.offKEN.Ctx(), c.ID, "DEU", "secret reason"); err != nil {
				t.Fatal(err)
			}
			th, _ := w.s.Thread(w.offFRA.Ctx(), c.ID)
			for _, ev := range th.Events {
				if ev.Kind == comms.EvConsentRequested {
					if _, err := w.s.Consent(w.offFRA.Ctx(), c.ID, ev.ID, false); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, u := range []*testkit.User{w.offBRA, w.sec} {
				th, _ := w.s.Thread(u.Ctx(), c.ID)
				for _, ev := range th.Events {
					if strings.HasPrefix(ev.Kind, "consent") || ev.Kind == comms.EvForwarded {
						t.Errorf("%s sees %s (%s)", u.User.Email, ev.Kind, ev.Target)
					}
				}
			}
			th, _ = w.s.Thread(w.offKEN.Ctx(), c.ID)
			n := 0
			for _, ev := range th.Events {
				if strings.HasPrefix(ev.Kind, "consent") {
					n++
				}
			}
			if n != 2 {
				t.Errorf("Kenya sees %d of its request and the answer", n)
			}
		})
		t.Run("the Secretariat's outbox shows no label, urgency, answer or sender's address", func(t *testing.T) {
			in := notification("KEN")
			in.Fields["tlp"], in.Fields["urgency"], in.Fields["subject"] = comms.TLPRed, "critical", "Red one"
			c, _ := w.s.Compose(w.offFRA.Ctx(), in)
			if _, err := w.s.Reply(w.offKEN.Ctx(), c.ID, comms.OutcomeDisputed, "not us"); err != nil {
				t.Fatal(err)
			}
			st, err := w.sys.Outbox.Status(w.sec.Ctx(), 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range st.Items {
				// "TLP:" and not "TLP": a reference is random letters,
				// and PC-2026-6NTLPXLW names no label.
				if strings.Contains(it.Subject, "TLP:") || strings.Contains(it.Subject, "urgency") || it.To == "off@fra.example" {
					t.Errorf("the Secretariat's outbox shows %q to %q", it.Subject, it.To)
				}
			}
		})
		t.Run("the accountability log names no person for acts on communications", func(t *testing.T) {
			entries, err := w.sys.Audit.Entries(w.sec.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				if strings.HasPrefix(en.Type, "comms.") && !strings.HasPrefix(en.Type, "comms.template") && en.ActorEmail != "" {
					t.Errorf("%s names %s", en.Type, en.ActorEmail)
				}
			}
		})
		t.Run("the same answer twice is refused and emails the sender once", func(t *testing.T) {
			in := notification("KEN")
			in.Fields["subject"] = "Answer twice"
			c, _ := w.s.Compose(w.offFRA.Ctx(), in)
			var before, after int
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'comm-activity'`).Scan(&before)
			if _, err := w.s.Reply(w.offKEN.Ctx(), c.ID, comms.OutcomeDeclined, "no"); err != nil {
				t.Fatal(err)
			}
			_, err := w.s.Reply(w.offKEN.Ctx(), c.ID, comms.OutcomeDeclined, "no")
			wantCode(t, "the same answer again", err, app.Conflict)
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'comm-activity'`).Scan(&after)
			if after-before != 1 {
				t.Errorf("%d emails", after-before)
			}
			if _, err := w.s.Reply(w.offKEN.Ctx(), c.ID, comms.OutcomeMoreInfo, "which ports?"); err != nil {
				t.Errorf("another answer: %v", err)
			}
		})
		t.Run("a file name with a direction override is refused", func(t *testing.T) {
			in := notification("KEN")
			in.Attachments = []*comms.Attachment{{Name: "report\u202Eexe.pdf", Data: []byte("%PDF-1.7")}}
			_, err := w.s.Compose(w.offFRA.Ctx(), in)
			wantCode(t, "a bidi name", err, app.Invalid)
		})
		t.Run("an exercise says so in its email", func(t *testing.T) {
			in := comms.CommInput{Template: "exercise", ToStates: []string{"KEN"}, Level: comms.LevelTechnical, Fields: map[string]string{
				"subject": "Drill", "urgency": "low", "tlp": comms.TLPClear, "exercise_name": "Cyber Drill 2026", "description": "Play."}}
			c, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			var subject, body string
			if err := w.sys.DB.QueryRowContext(context.Background(), `SELECT subject, body FROM outbox WHERE subject LIKE $1`, "%"+c.Ref+"%").Scan(&subject, &body); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(subject, "[EXERCISE]") || !strings.Contains(body, "EXERCISE") {
				t.Errorf("%q", subject)
			}
		})
	})
}
