package comms_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/testkit"
)

// world is France, Kenya, Germany and Brazil with PoCs, their users and the
// Secretariat.
type world struct {
	sys                          *testkit.System
	s                            *comms.Service
	sec, fpFRA, offFRA, offKEN   *testkit.User
	fpKEN, offDEU, offBRA, fpBRA *testkit.User
	kenTech, kenAlt, kenDipl     *directory.PoC
	deuDipl                      *directory.PoC
}

func newWorld(t testing.TB, e testkit.Engine) *world {
	sys := testkit.New(t, e)
	w := &world{sys: sys, s: sys.Comms,
		sec:    sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
		fpFRA:  sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		offFRA: sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		fpKEN:  sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		offKEN: sys.User(t, "off@ken.example", app.RoleOfficer, "KEN"),
		offDEU: sys.User(t, "off@deu.example", app.RoleOfficer, "DEU"),
		fpBRA:  sys.User(t, "fp@bra.example", app.RoleFocalPoint, "BRA"),
		offBRA: sys.User(t, "off@bra.example", app.RoleOfficer, "BRA"),
	}
	poc := func(u *testkit.User, level directory.Level, alt bool, email, tz string) *directory.PoC {
		in := testkit.ValidPoC()
		in.Level, in.Alternate, in.Agency, in.TimeZone = level, alt, "Agency "+email, tz
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: email, Preferred: true}}
		return sys.AddPoC(t, u.Ctx(), u.State, in)
	}
	poc(w.fpFRA, directory.LevelTechnical, false, "cert@fra.example", "Europe/Paris")
	w.kenTech = poc(w.fpKEN, directory.LevelTechnical, false, "cert@ken.example", "Africa/Nairobi")
	w.kenAlt = poc(w.fpKEN, directory.LevelTechnical, true, "cert2@ken.example", "Africa/Nairobi")
	w.kenDipl = poc(w.fpKEN, directory.LevelDiplomatic, false, "mfa@ken.example", "Africa/Nairobi")
	fpDEU := sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU")
	w.deuDipl = poc(fpDEU, directory.LevelDiplomatic, false, "mfa@deu.example", "Europe/Berlin")
	poc(w.fpBRA, directory.LevelTechnical, false, "cert@bra.example", "America/Sao_Paulo")
	return w
}

func notification(to ...string) comms.CommInput {
	return comms.CommInput{Template: "notification", ToStates: to, Level: comms.LevelTechnical, Fields: map[string]string{
		"subject": "Scanning from AS64500", "urgency": "high", "tlp": comms.TLPAmber,
		"description": "Scanning of our ministries' mail servers since 20 November.",
		"indicators":  "203.0.113.7\nevil.example\nmalware: Emotet",
	}}
}

func wantCode(t *testing.T, what string, err error, code app.Code) {
	t.Helper()
	if app.ErrorCode(err) != code {
		t.Errorf("%s: got %v (%s), want %s", what, err, app.ErrorCode(err), code)
	}
}

func stages(c *comms.Communication) map[string]string {
	out := map[string]string{}
	for _, r := range c.Recipients {
		out[r.Address] = r.Stage()
	}
	return out
}

func TestCommunicationLifecycle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		in := notification("KEN", "DEU")
		in.Fields["respond_by"] = w.sys.Clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04")
		in.IdemKey = "form-1"
		c, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("sending routes to each State's PoCs at the level, and records template and version", func(t *testing.T) {
			got := stages(c)
			want := map[string]string{"cert@ken.example": "notified", "mfa@deu.example": "notified"}
			if len(got) != len(want) || got["cert@ken.example"] != "notified" || got["mfa@deu.example"] != "notified" {
				t.Errorf("recipients %v, want %v", got, want)
			}
			for _, r := range c.Recipients {
				if r.State == "DEU" && r.Route != comms.RouteOtherLevel {
					t.Errorf("Germany has no technical PoC: route %q", r.Route)
				}
			}
			if c.TemplateSlug != "notification" || c.TemplateVersion != 1 || c.Status != comms.StatusSent || c.LogIndex == nil {
				t.Errorf("%+v", c)
			}
			if len(c.Content.Indicators) != 3 || c.Content.Indicators[0].Type != comms.IndIPv4 {
				t.Errorf("indicators %+v", c.Content.Indicators)
			}
		})
		t.Run("a double submission makes one communication", func(t *testing.T) {
			again, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil || again.ID != c.ID {
				t.Errorf("got %v, %v; want communication %d", again, err, c.ID)
			}
			var n int
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM comms`).Scan(&n)
			if n != 1 {
				t.Errorf("%d communications", n)
			}
		})
		t.Run("the email carries no content: reference, urgency, TLP in the subject, a link and the statement", func(t *testing.T) {
			var subject, body string
			if err := w.sys.DB.QueryRowContext(context.Background(), `SELECT subject, body FROM outbox WHERE to_addr = 'cert@ken.example' AND kind = 'comm'`).Scan(&subject, &body); err != nil {
				t.Fatal(err)
			}
			if subject != "[TLP:AMBER] "+c.Ref+" (urgency: high)" {
				t.Errorf("subject %q", subject)
			}
			for _, secret := range []string{"Scanning", "203.0.113.7", "evil.example", "Emotet"} {
				if strings.Contains(subject+body, secret) {
					t.Errorf("the email holds %q", secret)
				}
			}
			if !strings.Contains(body, "http://pocdir.test/comms/") || !strings.Contains(body, "does not imply that the State is responsible") {
				t.Errorf("body %q", body)
			}
		})
		t.Run("delivery is followed from the outbox", func(t *testing.T) {
			now := w.sys.Clock.Now()
			testkit.MailSent(t, w.sys.DB, "cert@ken.example", now)
			testkit.MailFailed(t, w.sys.DB, "mfa@deu.example", now)
			if _, err := w.s.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := w.s.Communication(w.offFRA.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if s := stages(got); s["cert@ken.example"] != "delivered" || s["mfa@deu.example"] != "bounced" {
				t.Errorf("%v", s)
			}
		})
		t.Run("the first view by a recipient State records the opening", func(t *testing.T) {
			got, err := w.s.Communication(w.offKEN.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Content == nil || got.Content.Subject != "Scanning from AS64500" {
				t.Errorf("Kenya reads %+v", got.Content)
			}
			if len(got.Recipients) != 1 || got.Recipients[0].State != "KEN" {
				t.Errorf("Kenya sees other States' lines: %+v", got.Recipients)
			}
			if got.Recipients[0].Stage() != "opened" || got.Recipients[0].OpenedBy != "off@ken.example" {
				t.Errorf("%+v", got.Recipients[0])
			}
		})
		t.Run("acknowledging is explicit, once, and recorded", func(t *testing.T) {
			got, err := w.s.Acknowledge(w.offKEN.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Recipients[0].Stage() != "acknowledged" || got.Recipients[0].AckedBy != "off@ken.example" {
				t.Errorf("%+v", got.Recipients[0])
			}
			_, err = w.s.Acknowledge(w.offKEN.Ctx(), c.ID)
			wantCode(t, "a second acknowledgement", err, app.Conflict)
			_, err = w.s.Acknowledge(w.offFRA.Ctx(), c.ID)
			wantCode(t, "the sender acknowledging", err, app.Forbidden)
			_, err = w.s.Acknowledge(w.offBRA.Ctx(), c.ID)
			wantCode(t, "a third State acknowledging", err, app.NotFound)
			var n int
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'comm-activity' AND to_addr = 'off@fra.example'`).Scan(&n)
			if n != 1 {
				t.Errorf("the sender got %d activity emails", n)
			}
		})
		t.Run("a response in the thread marks the recipient as responded", func(t *testing.T) {
			resp, err := w.s.Compose(w.offKEN.Ctx(), comms.CommInput{ParentID: c.ID, Fields: map[string]string{
				"subject": "Re: scanning", "urgency": "medium", "tlp": comms.TLPAmber, "description": "We blocked the address."}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.ThreadID != c.ThreadID || len(resp.ToStates) != 1 || resp.ToStates[0] != "FRA" || resp.TemplateSlug != "response" {
				t.Errorf("%+v", resp)
			}
			got, _ := w.s.Communication(w.offFRA.Ctx(), c.ID)
			if s := stages(got); s["cert@ken.example"] != "responded" {
				t.Errorf("%v", s)
			}
			th, err := w.s.Thread(w.offFRA.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range th.Events {
				kinds = append(kinds, e.Kind)
			}
			if len(th.Comms) != 2 || strings.Join(kinds, ",") != "sent,opened,acknowledged,sent,responded" {
				t.Errorf("thread: %d communications, events %v", len(th.Comms), kinds)
			}
		})
		t.Run("a recipient may decline, dispute or ask for more information, with a note", func(t *testing.T) {
			_, err := w.s.Reply(w.offDEU.Ctx(), c.ID, comms.OutcomeDisputed, "")
			wantCode(t, "a dispute without a note", err, app.Invalid)
			_, err = w.s.Reply(w.offDEU.Ctx(), c.ID, "agreed", "x")
			wantCode(t, "an unknown outcome", err, app.Invalid)
			got, err := w.s.Reply(w.offDEU.Ctx(), c.ID, comms.OutcomeDisputed, "The address is not in our territory.")
			if err != nil {
				t.Fatal(err)
			}
			if got.Recipients[0].Stage() != comms.OutcomeDisputed {
				t.Errorf("%+v", got.Recipients[0])
			}
			th, _ := w.s.Thread(w.offFRA.Ctx(), c.ID)
			found := false
			for _, e := range th.Events {
				found = found || (e.Kind == comms.EvDisputed && e.Note == "The address is not in our territory.")
			}
			if !found {
				t.Error("the sender does not see the dispute and its note")
			}
			th, _ = w.s.Thread(w.offKEN.Ctx(), c.ID)
			for _, e := range th.Events {
				if e.State == "DEU" {
					t.Errorf("Kenya sees Germany's act %+v", e)
				}
			}
			if len(th.Comms) != 2 {
				t.Errorf("Kenya's thread holds %d communications, want the notification and its response", len(th.Comms))
			}
			// Kenya's response went to France only.
			th, _ = w.s.Thread(w.offDEU.Ctx(), c.ID)
			if len(th.Comms) != 1 || th.Comms[0].ID != c.ID {
				t.Errorf("Germany's thread holds %d communications, want the notification only", len(th.Comms))
			}
		})
		t.Run("the Secretariat sees metadata, never content", func(t *testing.T) {
			got, err := w.s.Communication(w.sec.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Content != nil || got.TLP != "" || got.Urgency != "" || got.SenderEmail != "" || got.CommitSalt != "" {
				t.Errorf("the Secretariat sees %+v", got)
			}
			// The sender and the recipients get the commitment's salt, to
			// recompute it; the Secretariat could try contents against it.
			for _, u := range []*testkit.User{w.offFRA, w.offKEN} {
				if mine, err := w.s.Communication(u.Ctx(), c.ID); err != nil || mine.CommitSalt == "" || mine.LogIndex == nil {
					t.Errorf("%s: salt %q, %v", u.Email, mine.CommitSalt, err)
				}
			}
			if got.SenderState != "FRA" || len(got.Recipients) != 2 || got.Recipients[0].Address != "" {
				t.Errorf("metadata %+v", got)
			}
			th, _ := w.s.Thread(w.sec.Ctx(), c.ID)
			for _, e := range th.Events {
				if e.Note != "" || e.Actor != "" {
					t.Errorf("the Secretariat sees %+v", e)
				}
			}
			if len(th.Comms) != 2 {
				t.Errorf("the Secretariat's thread holds %d communications, want both", len(th.Comms))
			}
			list, err := w.s.Comms(w.sec.Ctx(), comms.Filter{Query: "Scanning"})
			if err != nil || len(list) != 2 {
				t.Errorf("the Secretariat's list: %d, %v", len(list), err)
			}
			for _, x := range list {
				if x.Content != nil || x.CommitSalt != "" {
					t.Error("content or salt in the Secretariat's list")
				}
			}
			_, err = w.s.Compose(w.sec.Ctx(), notification("KEN"))
			wantCode(t, "the Secretariat sending", err, app.Forbidden)
		})
		t.Run("a State outside the exchange sees nothing", func(t *testing.T) {
			_, err := w.s.Communication(w.offBRA.Ctx(), c.ID)
			wantCode(t, "Brazil reading", err, app.NotFound)
			_, err = w.s.Thread(w.offBRA.Ctx(), c.ID)
			wantCode(t, "Brazil reading the thread", err, app.NotFound)
			list, _ := w.s.Comms(w.offBRA.Ctx(), comms.Filter{})
			if len(list) != 0 {
				t.Errorf("Brazil lists %d", len(list))
			}
			_, err = w.s.Reply(w.offBRA.Ctx(), c.ID, comms.OutcomeDeclined, "no")
			wantCode(t, "Brazil answering", err, app.NotFound)
			_, err = w.s.Escalate(w.offBRA.Ctx(), c.ID)
			wantCode(t, "Brazil escalating", err, app.NotFound)
		})
		t.Run("search finds a State's own communications by subject and indicator", func(t *testing.T) {
			for q, want := range map[string]int{"emotet": 1, "203.0.113.7": 1, "nothing-like-this": 0, "": 2} {
				list, err := w.s.Comms(w.offFRA.Ctx(), comms.Filter{Query: q})
				if err != nil || len(list) != want {
					t.Errorf("%q: %d, %v; want %d", q, len(list), err, want)
				}
			}
			list, _ := w.s.Comms(w.offFRA.Ctx(), comms.Filter{Stage: "bounced"})
			if len(list) != 0 {
				t.Errorf("the bounce was superseded by the dispute, yet %d", len(list))
			}
			list, _ = w.s.Comms(w.offFRA.Ctx(), comms.Filter{To: w.sys.Clock.Now().Add(-time.Hour)})
			if len(list) != 0 {
				t.Errorf("before the sending: %d", len(list))
			}
		})
	})
}

func TestComposeInputIsCheckedAndNothingIsSent(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		cases := []struct {
			name  string
			edit  func(in *comms.CommInput)
			field string
		}{
			{"an indicator that does not parse", func(in *comms.CommInput) { in.Fields["indicators"] = "203.0.113.7\n999.1.1.1" }, "fields.indicators"},
			{"no State", func(in *comms.CommInput) { in.ToStates = nil }, "to_states"},
			{"an unknown State", func(in *comms.CommInput) { in.ToStates = []string{"XXX"} }, "to_states"},
			{"its own State", func(in *comms.CommInput) { in.ToStates = []string{"FRA"} }, "to_states"},
			{"no subject", func(in *comms.CommInput) { in.Fields["subject"] = "" }, "fields.subject"},
			{"a TLP that is not TLP 2.0", func(in *comms.CommInput) { in.Fields["tlp"] = "TLP:WHITE" }, "fields.tlp"},
			{"a past deadline", func(in *comms.CommInput) { in.Fields["respond_by"] = "2001-01-01T00:00" }, "fields.respond_by"},
			{"a level other than technical or diplomatic", func(in *comms.CommInput) { in.Level = "legal" }, "level"},
			{"an executable attachment", func(in *comms.CommInput) {
				in.Attachments = []*comms.Attachment{{Name: "tool.exe", Data: []byte("MZ\x90\x00")}}
			}, "attachments"},
			{"a PDF that is not one", func(in *comms.CommInput) {
				in.Attachments = []*comms.Attachment{{Name: "report.pdf", Data: []byte("<html>")}}
			}, "attachments"},
			{"an attachment over the limit", func(in *comms.CommInput) {
				in.Attachments = []*comms.Attachment{{Name: "big.txt", Data: []byte(strings.Repeat("a", comms.MaxAttachmentBytes+1))}}
			}, "attachments"},
		}
		for _, tc := range cases {
			t.Run(tc.name+" is refused", func(t *testing.T) {
				in := notification("KEN")
				tc.edit(&in)
				_, err := w.s.Compose(w.offFRA.Ctx(), in)
				ae := app.AsError(err)
				if ae.Code != app.Invalid {
					t.Fatalf("got %v", err)
				}
				found := false
				for _, f := range ae.Fields {
					found = found || f.Field == tc.field
				}
				if !found {
					t.Errorf("no error on %s: %+v", tc.field, ae.Fields)
				}
			})
		}
		t.Run("the bad indicator is listed back with its line", func(t *testing.T) {
			in := notification("KEN")
			in.Fields["indicators"] = "203.0.113.7\n999.1.1.1"
			_, err := w.s.Compose(w.offFRA.Ctx(), in)
			ae := app.AsError(err)
			if len(ae.Fields) != 1 || ae.Fields[0].Args["Line"] != 2 || ae.Fields[0].Args["Text"] != "999.1.1.1" {
				t.Errorf("%+v", ae.Fields)
			}
		})
		var n int
		_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT (SELECT COUNT(*) FROM comms) + (SELECT COUNT(*) FROM outbox WHERE kind LIKE 'comm%')`).Scan(&n)
		if n != 0 {
			t.Errorf("refused input left %d rows", n)
		}
		t.Run("a read-only token cannot send", func(t *testing.T) {
			a := w.offFRA.Actor()
			a.ReadOnly = true
			_, err := w.s.Compose(app.WithActor(context.Background(), a), notification("KEN"))
			wantCode(t, "read-only", err, app.Forbidden)
		})
	})
}

func TestDraftsAttachmentsAndTLP(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		in := notification("KEN")
		in.Draft = true
		in.Fields["tlp"] = comms.TLPRed
		in.Attachments = []*comms.Attachment{{Name: "report.pdf", Data: []byte("%PDF-1.7 report")}, {Name: "iocs.csv", Data: []byte("ip,first\n203.0.113.7,2026-11-20\n")}}
		d, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a draft is seen by its State only and sends nothing", func(t *testing.T) {
			if d.Status != comms.StatusDraft || len(d.Recipients) != 0 {
				t.Errorf("%+v", d)
			}
			for _, u := range []*testkit.User{w.offKEN, w.sec, w.offBRA} {
				_, err := w.s.Communication(u.Ctx(), d.ID)
				wantCode(t, u.User.Email+" reading a draft", err, app.NotFound)
			}
			if got, err := w.s.Communication(w.fpFRA.Ctx(), d.ID); err != nil || got.Content.Subject != in.Fields["subject"] {
				t.Errorf("a colleague reads the draft: %v", err)
			}
		})
		t.Run("content and attachments are sealed at rest", func(t *testing.T) {
			var content, data string
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT content FROM comms WHERE id = $1`, d.ID).Scan(&content)
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT data FROM comm_attachments WHERE comm_id = $1 ORDER BY id LIMIT 1`, d.ID).Scan(&data)
			if !strings.HasPrefix(content, "s1.") || strings.Contains(content, "Scanning") || !strings.HasPrefix(data, "s1.") {
				t.Errorf("stored in clear: %.40s / %.40s", content, data)
			}
			// A sealed value copied to another row does not open.
			for _, col := range []string{"data", "meta"} {
				if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comm_attachments SET `+col+` = (SELECT `+col+` FROM comm_attachments WHERE comm_id = $1 ORDER BY id LIMIT 1) WHERE id = (SELECT MAX(id) FROM comm_attachments)`, d.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.s.AttachmentFile(w.offFRA.Ctx(), d.ID, d.Attachments[1].ID); err == nil {
				t.Error("a swapped attachment opened")
			}
			if _, err := w.s.Communication(w.offFRA.Ctx(), d.ID); err == nil {
				t.Error("a swapped attachment's name opened")
			}
			if _, err := w.s.UpdateDraft(w.offFRA.Ctx(), d.ID, func() comms.CommInput { x := in; x.Attachments = nil; return x }(), []int64{d.Attachments[1].ID}); err != nil {
				t.Fatal(err)
			}
		})
		c, err := w.s.Send(w.offFRA.Ctx(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("TLP:RED is never exported", func(t *testing.T) {
			if c.Status != comms.StatusSent || len(c.Attachments) != 1 {
				t.Fatalf("%+v", c)
			}
			_, _, err := w.s.STIX(w.offKEN.Ctx(), c.ID)
			wantCode(t, "exporting TLP:RED", err, app.Forbidden)
		})
		t.Run("attachments are for the two States only", func(t *testing.T) {
			f, err := w.s.AttachmentFile(w.offKEN.Ctx(), c.ID, c.Attachments[0].ID)
			if err != nil || string(f.Data) != "%PDF-1.7 report" || f.Type != "application/pdf" {
				t.Errorf("%v %v", f, err)
			}
			_, err = w.s.AttachmentFile(w.sec.Ctx(), c.ID, c.Attachments[0].ID)
			wantCode(t, "the Secretariat downloading", err, app.Forbidden)
			_, err = w.s.AttachmentFile(w.offBRA.Ctx(), c.ID, c.Attachments[0].ID)
			wantCode(t, "Brazil downloading", err, app.NotFound)
		})
		t.Run("a sent communication cannot be edited or sent again", func(t *testing.T) {
			_, err := w.s.UpdateDraft(w.offFRA.Ctx(), c.ID, in, nil)
			wantCode(t, "editing", err, app.Conflict)
			_, err = w.s.Send(w.offFRA.Ctx(), c.ID)
			wantCode(t, "sending again", err, app.Conflict)
		})
		t.Run("sharing TLP:RED with a third State needs the sender's consent", func(t *testing.T) {
			forwarded, err := w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "Brazil hosts the server.")
			if err != nil || forwarded {
				t.Fatalf("forwarded %v, %v", forwarded, err)
			}
			if list, _ := w.s.Comms(w.offBRA.Ctx(), comms.Filter{}); len(list) != 0 {
				t.Fatal("forwarded before consent")
			}
			_, err = w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "again")
			wantCode(t, "asking twice", err, app.Conflict)
			th, _ := w.s.Thread(w.offFRA.Ctx(), c.ID)
			var req int64
			for _, e := range th.Events {
				if e.Kind == comms.EvConsentRequested {
					req = e.ID
				}
			}
			_, err = w.s.Consent(w.offKEN.Ctx(), c.ID, req, true)
			wantCode(t, "the recipient granting itself", err, app.Forbidden)
			if _, err := w.s.Consent(w.offFRA.Ctx(), c.ID, req, true); err != nil {
				t.Fatal(err)
			}
			_, err = w.s.Consent(w.offFRA.Ctx(), c.ID, req, false)
			wantCode(t, "answering twice", err, app.Conflict)
			list, _ := w.s.Comms(w.offBRA.Ctx(), comms.Filter{})
			if len(list) != 1 || list[0].ForwardedFrom != c.ID || list[0].SenderState != "KEN" || list[0].TLP != comms.TLPRed || list[0].Content.Subject != c.Content.Subject {
				t.Fatalf("Brazil got %+v", list)
			}
			if fw, err := w.s.Communication(w.offBRA.Ctx(), list[0].ID); err != nil || len(fw.Attachments) != 1 {
				t.Errorf("the forward lost the attachment: %v", err)
			}
			if _, err := w.s.Communication(w.offBRA.Ctx(), c.ID); app.ErrorCode(err) != app.NotFound {
				t.Error("Brazil reads the original exchange")
			}
			th, _ = w.s.Thread(w.offFRA.Ctx(), c.ID)
			if last := th.Events[len(th.Events)-1]; last.Kind != comms.EvForwarded || last.Target != "BRA" {
				t.Errorf("the forward is not recorded: %+v", last)
			}
		})
	})
}

// TestASharedCopyWithATakenReferenceIsMadeAgain: a copy shared onward, at
// once or once the sender consents, is a new communication with a random
// reference of its own; one already given makes the share run again with
// another, and three in a row are an internal error that changes nothing.
func TestASharedCopyWithATakenReferenceIsMadeAgain(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		in := notification("KEN")
		in.Fields["tlp"] = comms.TLPGreen
		in.Fields["share_freely"] = "true"
		c, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		// Every reference made from now on is c's, then (from the
		// (after+1)th) a new one each time.
		refs := func(after int) func() {
			calls := 0
			return comms.SetNewRef(func(time.Time) string {
				calls++
				if calls <= after {
					return c.Ref
				}
				return fmt.Sprintf("PC-2026-C%07d", calls)
			})
		}
		restore := refs(3)
		_, err = w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "")
		restore()
		if err == nil || app.ErrorCode(err) != app.Internal {
			t.Fatalf("three taken references: %v (%s)", err, app.ErrorCode(err))
		}
		if list, _ := w.s.Comms(w.offBRA.Ctx(), comms.Filter{}); len(list) != 0 {
			t.Fatalf("Brazil got %d communications from a share that failed", len(list))
		}
		restore = refs(2)
		forwarded, err := w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "")
		restore()
		if err != nil || !forwarded {
			t.Fatalf("shared at the third reference: %v, %v", forwarded, err)
		}
		list, _ := w.s.Comms(w.offBRA.Ctx(), comms.Filter{})
		if len(list) != 1 || list[0].Ref != "PC-2026-C0000003" || list[0].ForwardedFrom != c.ID {
			t.Fatalf("Brazil got %+v", list)
		}

		// Once the sender consents.
		in.Fields["tlp"] = comms.TLPAmber
		delete(in.Fields, "share_freely")
		in.Fields["subject"] = "Amber"
		c, err = w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		if forwarded, err := w.s.Share(w.offKEN.Ctx(), c.ID, "DEU", "Germany hosts the server."); err != nil || forwarded {
			t.Fatalf("asking: %v, %v", forwarded, err)
		}
		th, _ := w.s.Thread(w.offFRA.Ctx(), c.ID)
		var req int64
		for _, ev := range th.Events {
			if ev.Kind == comms.EvConsentRequested {
				req = ev.ID
			}
		}
		// Three taken references leave the request open, and nothing
		// recorded of the grant.
		restore = refs(3)
		_, err = w.s.Consent(w.offFRA.Ctx(), c.ID, req, true)
		restore()
		if app.ErrorCode(err) != app.Internal {
			t.Fatalf("granting with three taken references: %v (%s)", err, app.ErrorCode(err))
		}
		restore = refs(1)
		_, err = w.s.Consent(w.offFRA.Ctx(), c.ID, req, true)
		restore()
		if err != nil {
			t.Fatalf("granting at the second reference: %v", err)
		}
		got, _ := w.s.Comms(w.offDEU.Ctx(), comms.Filter{})
		if len(got) != 1 || got[0].Ref != "PC-2026-C0000002" || got[0].ForwardedFrom != c.ID {
			t.Fatalf("Germany got %+v", got)
		}
		th, _ = w.s.Thread(w.offFRA.Ctx(), c.ID)
		kinds := map[string]int{}
		for _, ev := range th.Events {
			kinds[ev.Kind]++
		}
		if kinds[comms.EvConsentGranted] != 1 || kinds[comms.EvForwarded] != 1 {
			t.Errorf("the thread records %d grants and %d forwards, where one of each was made", kinds[comms.EvConsentGranted], kinds[comms.EvForwarded])
		}
	})
}

func TestSharingWithoutConsentWhereTheLabelAllows(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		in := notification("KEN")
		in.Fields["tlp"] = comms.TLPGreen
		c2, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		forwarded, err := w.s.Share(w.offKEN.Ctx(), c2.ID, "BRA", "")
		if err != nil || forwarded {
			t.Errorf("TLP:GREEN shared without the sender's consent, which it did not waive: %v %v", forwarded, err)
		}
		// The sender waives consent explicitly: allowed for TLP:GREEN and
		// TLP:CLEAR only.
		in.Fields["share_freely"] = "true"
		in.Fields["subject"] = "Second"
		c, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil || c.OnwardConsent {
			t.Fatalf("%+v %v", c, err)
		}
		forwarded, err = w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "")
		if err != nil || !forwarded {
			t.Fatalf("TLP:GREEN with consent waived: %v %v", forwarded, err)
		}
		for _, tlp := range []string{comms.TLPAmber, comms.TLPAmberStrict, comms.TLPRed} {
			in.Fields["tlp"] = tlp
			_, err := w.s.Compose(w.offFRA.Ctx(), in)
			if e := app.AsError(err); e.Code != app.Invalid || e.Field != "fields.share_freely" {
				t.Errorf("%s with consent waived: %v", tlp, err)
			}
		}
		_, err = w.s.Share(w.offKEN.Ctx(), c2.ID, "FRA", "")
		wantCode(t, "sharing with the sender", err, app.Invalid)
		x, name, err := w.s.STIX(w.offKEN.Ctx(), c.ID)
		if name != c.Ref+".stix.json" {
			t.Errorf("the STIX file is named %q, not by the reference", name)
		}
		if err != nil || !strings.Contains(string(x), `"type": "bundle"`) && !strings.Contains(string(x), `"type":"bundle"`) {
			t.Errorf("STIX: %v %.80s", err, x)
		}
		_, _, err = w.s.STIX(w.sec.Ctx(), c.ID)
		wantCode(t, "the Secretariat exporting", err, app.Forbidden)
	})
}

func TestRoutingEscalationAndTension(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		t.Run("escalation adds the diplomatic PoCs in the same thread", func(t *testing.T) {
			c, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.s.Escalate(w.offKEN.Ctx(), c.ID)
			wantCode(t, "the recipient escalating", err, app.Forbidden)
			got, err := w.s.Escalate(w.offFRA.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if s := stages(got); got.Level != comms.LevelDiplomatic || s["mfa@ken.example"] != "notified" || s["cert@ken.example"] != "notified" {
				t.Errorf("%s %v", got.Level, s)
			}
			var body string
			if err := w.sys.DB.QueryRow(`SELECT body FROM outbox WHERE to_addr = 'mfa@ken.example' AND subject LIKE $1`, "%"+c.Ref+"%").Scan(&body); err != nil ||
				!strings.Contains(body, "Level: Diplomatic") || !strings.Contains(body, "/comms/"+c.Ref) {
				t.Errorf("the diplomatic PoC's e-mail (%v):\n%s", err, body)
			}
			_, err = w.s.Escalate(w.offFRA.Ctx(), c.ID)
			wantCode(t, "escalating twice", err, app.Conflict)
			th, _ := w.s.Thread(w.offKEN.Ctx(), c.ID)
			if last := th.Events[len(th.Events)-1]; last.Kind != comms.EvEscalated {
				t.Errorf("%+v", last)
			}
		})
		t.Run("during declared tension a technical request goes to the diplomatic level first", func(t *testing.T) {
			err := w.s.SetTension(w.offKEN.Ctx(), "FRA", true)
			wantCode(t, "an officer setting routing", err, app.Forbidden)
			if err := w.s.SetTension(w.fpKEN.Ctx(), "FRA", true); err != nil {
				t.Fatal(err)
			}
			if list, _ := w.s.Tensions(w.fpKEN.Ctx()); len(list) != 1 || list[0] != "FRA" {
				t.Errorf("%v", list)
			}
			if list, _ := w.s.Tensions(w.offFRA.Ctx()); len(list) != 0 {
				t.Errorf("France sees Kenya's declaration: %v", list)
			}
			in := notification("KEN")
			in.Fields["subject"] = "During tension"
			c, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			// France sees that it went to the diplomatic level, not why:
			// only Kenya sees its own rule, and the Secretariat neither.
			if len(c.Recipients) != 1 || c.Recipients[0].Address != "mfa@ken.example" || c.Recipients[0].Route != comms.RouteLevel {
				t.Errorf("%+v", c.Recipients[0])
			}
			if k, _ := w.s.Communication(w.offKEN.Ctx(), c.ID); k.Recipients[0].Route != comms.RouteRouting {
				t.Errorf("Kenya sees %q", k.Recipients[0].Route)
			}
			if m, _ := w.s.Communication(w.sec.Ctx(), c.ID); m.Recipients[0].Route != comms.RouteLevel {
				t.Errorf("the Secretariat sees %q", m.Recipients[0].Route)
			}
			if err := w.s.SetTension(w.fpKEN.Ctx(), "FRA", false); err != nil {
				t.Fatal(err)
			}
			// When France declares it, France sees why; Kenya does not.
			if err := w.s.SetTension(w.fpFRA.Ctx(), "KEN", true); err != nil {
				t.Fatal(err)
			}
			in.Fields["subject"] = "During France's tension"
			c, err = w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Recipients) != 1 || c.Recipients[0].Route != comms.RouteTension || c.Recipients[0].Level != comms.LevelDiplomatic {
				t.Errorf("%+v", c.Recipients[0])
			}
			if k, _ := w.s.Communication(w.offKEN.Ctx(), c.ID); k.Recipients[0].Route != comms.RouteLevel {
				t.Errorf("Kenya sees %q", k.Recipients[0].Route)
			}
			if err := w.s.SetTension(w.fpFRA.Ctx(), "KEN", false); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("a departed PoC's pending communications move to its alternate", func(t *testing.T) {
			in := notification("KEN")
			in.Fields["subject"] = "Before departure"
			c, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			w.sys.RemovePoC(t, w.fpKEN.Ctx(), w.kenTech.ID, "")
			if _, err := w.s.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, _ := w.s.Communication(w.offFRA.Ctx(), c.ID)
			if s := stages(got); s["cert@ken.example"] != "moved" || s["cert2@ken.example"] != "notified" {
				t.Errorf("%v", s)
			}
			if _, err := w.s.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if again, _ := w.s.Communication(w.offFRA.Ctx(), c.ID); len(again.Recipients) != 2 {
				t.Errorf("moved twice: %d lines", len(again.Recipients))
			}
			// With the main PoC gone, new communications go to the alternate.
			in.Fields["subject"] = "After departure"
			c2, _ := w.s.Compose(w.offFRA.Ctx(), in)
			if len(c2.Recipients) != 1 || c2.Recipients[0].Route != comms.RouteAlternate {
				t.Errorf("%+v", c2.Recipients)
			}
		})
	})
}

func TestRemindersBeforeTheDeadline(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		in := notification("KEN", "DEU")
		in.Fields["respond_by"] = w.sys.Clock.Now().Add(72 * time.Hour).Format(time.RFC3339)
		c, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Reply(w.offDEU.Ctx(), c.ID, comms.OutcomeDeclined, "Not our competence."); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'comm-reminder'`).Scan(&n)
			return n
		}
		w.sys.Clock.Advance(47 * time.Hour)
		if _, err := w.s.RunOnce(context.Background()); err != nil || count() != 0 {
			t.Fatalf("a reminder 25 hours before: %d %v", count(), err)
		}
		w.sys.Clock.Advance(2 * time.Hour)
		for range 2 {
			if _, err := w.s.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var to string
		_ = w.sys.DB.QueryRowContext(context.Background(), `SELECT to_addr FROM outbox WHERE kind = 'comm-reminder'`).Scan(&to)
		if count() != 1 || to != "cert@ken.example" {
			t.Errorf("%d reminders, to %s: only Kenya, which has not answered, once", count(), to)
		}
	})
}

func TestDataKeyRotationResealsCommunications(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	in := notification("KEN")
	in.Attachments = []*comms.Attachment{{Name: "a.txt", Data: []byte("hello")}}
	c, err := w.s.Compose(w.offFRA.Ctx(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Reply(w.offKEN.Ctx(), c.ID, comms.OutcomeMoreInfo, "Which ports?"); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Rotate(w.sys.DataKeyPath); err != nil {
		t.Fatal(err)
	}
	w.s = w.sys.Instance(t).Comms // an instance started with the new key
	n, err := w.s.Reseal(context.Background(), nil)
	if err != nil || n != 4 { // the content, the note, the attachment and its name
		t.Fatalf("resealed %d: %v", n, err)
	}
	got, err := w.s.Communication(w.offKEN.Ctx(), c.ID)
	if err != nil || got.Content.Subject != in.Fields["subject"] {
		t.Errorf("%v", err)
	}
}

// TestATakenReferenceIsMadeAgain: two communications given the same random
// reference (see newRef: about once in ten million in a busy year) would
// make the second send fail; it gets another reference, and its e-mails
// name that one.
func TestATakenReferenceIsMadeAgain(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		const taken = "PC-2026-AAAAAAAA"
		calls := 0
		restore := comms.SetNewRef(func(time.Time) string {
			calls++
			if calls <= 2 {
				return taken
			}
			return "PC-2026-BBBBBBBB"
		})
		defer restore()
		first, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN"))
		if err != nil || first.Ref != taken {
			t.Fatalf("first: %v, %v", first, err)
		}
		in := notification("KEN")
		in.IdemKey = "form-2"
		second, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil || second.Ref != "PC-2026-BBBBBBBB" || second.ID == first.ID || len(second.Recipients) != 1 {
			t.Fatalf("second: %+v, %v", second, err)
		}
		var bodies []string
		rows, err := w.sys.DB.Query(`SELECT body FROM outbox WHERE subject LIKE $1`, "%PC-2026-BBBBBBBB%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, b)
		}
		if len(bodies) != 1 || !strings.Contains(bodies[0], "/comms/PC-2026-BBBBBBBB") || strings.Contains(bodies[0], taken) {
			t.Errorf("the second's e-mails: %q", bodies)
		}
		if again, err := w.s.Compose(w.offFRA.Ctx(), in); err != nil || again.ID != second.ID {
			t.Errorf("the same submission again: %v, %v", again, err)
		}
		// Three taken references in a row: an internal error, and nothing
		// sent.
		always := comms.SetNewRef(func(time.Time) string { return taken })
		_, err = w.s.Compose(w.offFRA.Ctx(), notification("KEN"))
		always()
		if app.ErrorCode(err) != app.Internal {
			t.Errorf("three taken references: %v (%s)", err, app.ErrorCode(err))
		}
		if list, _ := w.s.Comms(w.offKEN.Ctx(), comms.Filter{}); len(list) != 2 {
			t.Errorf("Kenya has %d communications, where two were sent", len(list))
		}
	})
}
