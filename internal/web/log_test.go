package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestEveryLogEventIsTranslated wants a sentence in every catalog for each
// event type that a capability declares (auditlog.Register; Append refuses
// any other), and no sentence for a type nobody writes.
func TestEveryLogEventIsTranslated(t *testing.T) {
	types := auditlog.EventTypes()
	if len(types) < 50 {
		t.Fatalf("only %d event types declared: the capabilities' declarations are not linked in", len(types))
	}
	declared := map[string]bool{}
	for _, typ := range types {
		declared[typ] = true
	}
	c := i18n.MustLoad()
	for _, lang := range c.Languages() {
		have := c.Keys(lang)
		for _, typ := range types {
			if !have["logevent."+typ] {
				t.Errorf("%s: no translation of the log event %q (logevent.%s)", lang, typ, typ)
			}
		}
		for k := range have {
			if typ, ok := strings.CutPrefix(k, "logevent."); ok && !declared[typ] {
				t.Errorf("%s: %q translates an event type that nothing declares", lang, k)
			}
		}
	}
}

// logFixture is France, Kenya and Germany with a PoC each; a communication
// from France to Kenya that Kenya shared with Germany; a check between
// France and Kenya; France's routing preference with Germany.
type logFixture struct {
	sys                  *testkit.System
	srv                  *httptest.Server
	sec, fpFRA, offFRA   *testkit.User
	fpKEN, offDEU, fpDEU *testkit.User
	poc                  *directory.PoC
	comm                 *comms.Communication
	check                *checks.Campaign
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	sys := testkit.New(t, testkit.Engines()[0])
	f := &logFixture{sys: sys, srv: sys.Serve(t),
		sec:    sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
		fpFRA:  sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		offFRA: sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		fpKEN:  sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		fpDEU:  sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU"),
		offDEU: sys.User(t, "off@deu.example", app.RoleOfficer, "DEU"),
	}
	f.poc = sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
	sys.AddPoC(t, f.fpKEN.Ctx(), "KEN", testkit.ValidPoC())
	sys.AddPoC(t, f.fpDEU.Ctx(), "DEU", testkit.ValidPoC())
	var err error
	f.comm, err = sys.Comms.Compose(f.offFRA.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Secret subject of France", "urgency": "high", "tlp": comms.TLPGreen, "share_freely": "true",
			"description": "Scanning of our ministries."}})
	if err != nil {
		t.Fatal(err)
	}
	if forwarded, err := sys.Comms.Share(f.fpKEN.Ctx(), f.comm.ID, "DEU", ""); err != nil || !forwarded {
		t.Fatalf("sharing with Germany: %v %v", forwarded, err)
	}
	if f.check, err = sys.Checks.Create(f.fpFRA.Ctx(), checks.Input{Title: "France checks Kenya", Scope: "all", Channel: checks.ChannelEmail,
		WindowHours: 24, Counterpart: "KEN"}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Comms.SetTension(f.fpFRA.Ctx(), "DEU", true); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *logFixture) page(t *testing.T, u *testkit.User, path string) string {
	t.Helper()
	resp, body := get(t, f.sys.Login(t, f.srv, u), f.srv.URL+path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s at %s: status %d", u.Email, path, resp.StatusCode)
	}
	return html.UnescapeString(body)
}

func TestLogNamesEventsAndLinksWhatTheReaderMaySee(t *testing.T) {
	f := newLogFixture(t)
	commLink := fmt.Sprintf(`href="/comms/%d"`, f.comm.ID)
	checkLink := fmt.Sprintf(`href="/checks/%d"`, f.check.ID)

	t.Run("a State's focal point reads the events and follows its objects", func(t *testing.T) {
		body := f.page(t, f.fpFRA, "/log")
		for _, want := range []string{
			// The event in words, the type beside for engineers.
			"Point of Contact added<br><span class=\"raw\" dir=\"ltr\">directory.poc.create</span>",
			"Communication sent<br><span class=\"raw\" dir=\"ltr\">comms.sent</span>",
			"Communication check campaign created",
			"Routing preference declared: diplomatic level first",
			fmt.Sprintf(`href="/states/FRA#poc-%d"`, f.poc.ID),
			"Point of Contact (France): ",
			commLink, "Communication: <span dir=\"auto\">" + f.comm.Ref + "</span>",
			checkLink, "France checks Kenya",
			`href="/comms/routing"`,
			`href="/nominations/`,
			// The object as the log holds it, beside.
			"comm:" + f.comm.Ref, "routing:FRA",
			// Communications name the State, not the person.
			"<td>France</td>",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the log page lacks %q", want)
			}
		}
		if strings.Contains(body, ">checks.campaign_created<") && !strings.Contains(body, "<span class=\"raw\" dir=\"ltr\">checks.campaign_created</span>") {
			t.Error("a raw event type shown as the event")
		}
	})

	t.Run("a critical infrastructure list and a regional import are named and linked", func(t *testing.T) {
		if _, err := f.sys.CII.Publish(f.fpFRA.Ctx(), "FRA", cii.Input{Sectors: []cii.Sector{{Key: "energy"}}}); err != nil {
			t.Fatal(err)
		}
		imp, err := f.sys.Regional.Import(f.sec.Ctx(), []byte("body,state,ref,agency,level,channels\nOSCE,FRA,1,ANSSI,technical,email:a@fra.example\n"))
		if err != nil {
			t.Fatal(err)
		}
		body := f.page(t, f.fpFRA, "/log")
		if !strings.Contains(body, `href="/states/FRA/cii"`) || !strings.Contains(body, "Critical infrastructure list") {
			t.Error("France's log does not name and link its list")
		}
		body = f.page(t, f.sec, "/log")
		if !strings.Contains(body, fmt.Sprintf(`href="/regional/imports/%d"`, imp.ID)) || !strings.Contains(body, "Regional directory") {
			t.Error("the Secretariat's log does not link the regional import")
		}
	})

	t.Run("capacity objects are named and linked where the reader may open them, named generically where not", func(t *testing.T) {
		in := capacity.NeedInput{Kind: "training_course", Topics: []string{"forensics"}, Level: directory.LevelTechnical, Languages: []string{"en"},
			Visibility: capacity.VisibleOfferers, Details: capacity.Text{Lang: "en", Text: "Disk forensics for the national CERT."}}
		n, err := f.sys.Capacity.RecordNeed(f.fpKEN.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		o, err := f.sys.Capacity.RecordOffer(f.fpFRA.Ctx(), capacity.OfferInput{Kind: "workshop", Topics: []string{"forensics"}, Languages: []string{"en"}, Format: "online"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.sys.Capacity.Propose(f.sec.Ctx(), n.ID, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		needLink, offerLink, matchLink := fmt.Sprintf(`href="/capacity#need-%d"`, n.ID), fmt.Sprintf(`href="/capacity#offer-%d"`, o.ID), fmt.Sprintf(`href="/capacity#match-%d"`, m.ID)
		body := html.UnescapeString(f.page(t, f.fpKEN, "/log"))
		for _, want := range []string{needLink, matchLink, `Capacity need: <span dir="auto">Kenya: Training course</span>`, `Capacity-building match: <span dir="auto">#`} {
			if !strings.Contains(body, want) {
				t.Errorf("Kenya's log lacks %q", want)
			}
		}
		body = html.UnescapeString(f.page(t, f.fpFRA, "/log"))
		if !strings.Contains(body, offerLink) || !strings.Contains(body, `<span dir="auto">France: Workshop</span>`) || !strings.Contains(body, matchLink) {
			t.Error("France's log does not name and link its offer and the match")
		}
		if _, err := f.sys.Capacity.WithdrawNeed(f.fpKEN.Ctx(), n.ID); err != nil {
			t.Fatal(err)
		}
		body = html.UnescapeString(f.page(t, f.fpFRA, "/log"))
		if strings.Contains(body, matchLink) || strings.Contains(body, needLink) || !strings.Contains(body, `Capacity-building match: <span dir="auto">not shown to you</span>`) ||
			strings.Contains(body, "Kenya: Training") {
			t.Error("France's log links or names the match of a need it may no longer see")
		}
	})

	t.Run("in the reader's language", func(t *testing.T) {
		c := f.sys.Login(t, f.srv, f.fpFRA)
		resp := testkit.PostForm(t, c, f.srv.URL+"/language", url.Values{"lang": {"fr"}, "back": {"/log"}})
		resp.Body.Close()
		_, body := get(t, c, f.srv.URL+"/log")
		body = html.UnescapeString(body)
		for _, want := range []string{"Point de contact ajouté", "Communication envoyée", "Point de contact (France)\u00a0: "} {
			if !strings.Contains(body, want) {
				t.Errorf("the French log page lacks %q", want)
			}
		}
	})

	t.Run("the recipient State follows the communication and the check it is part of", func(t *testing.T) {
		body := f.page(t, f.fpKEN, "/log")
		for _, want := range []string{commLink, checkLink, "Communication shared with a third State"} {
			if !strings.Contains(body, want) {
				t.Errorf("Kenya's log page lacks %q", want)
			}
		}
		if strings.Contains(body, "routing:FRA") {
			t.Error("Kenya sees France's routing preference")
		}
	})

	t.Run("a third State sees that the original was shared with it, without a link to it", func(t *testing.T) {
		body := f.page(t, f.offDEU, "/log")
		if !strings.Contains(body, "comms.forwarded") || !strings.Contains(body, `<span class="mono" dir="ltr">comm:`+f.comm.Ref+`</span>`) {
			t.Fatalf("Germany's log does not show the sharing as the log holds it")
		}
		if strings.Contains(body, commLink) || strings.Contains(body, checkLink) {
			t.Error("Germany is led to the original communication or to the check between France and Kenya")
		}
		if _, err := f.sys.Comms.Communication(f.offDEU.Ctx(), f.comm.ID); app.ErrorCode(err) != app.NotFound {
			t.Fatalf("the fixture is wrong: Germany may open the original (%v)", err)
		}
	})

	t.Run("the Secretariat is led to metadata, never to content, nor to what it may not see", func(t *testing.T) {
		body := f.page(t, f.sec, "/log")
		if !strings.Contains(body, commLink) {
			t.Error("the Secretariat has no link to the communication's metadata")
		}
		for _, hidden := range []string{checkLink, `href="/comms/routing"`} {
			if strings.Contains(body, hidden) {
				t.Errorf("the Secretariat is led to %s", hidden)
			}
		}
		// The check's title is not the Secretariat's to read; a routing
		// preference is named by its State, which the object says.
		for _, raw := range []string{`<span class="mono" dir="ltr">check:` + strconv.FormatInt(f.check.ID, 10) + `</span>`,
			`Routing preferences: <span dir="auto">France</span><br><span class="raw" dir="ltr">routing:FRA</span>`} {
			if !strings.Contains(body, raw) {
				t.Errorf("the Secretariat's log lacks %q", raw)
			}
		}
		if strings.Contains(body, "France checks Kenya") {
			t.Error("the Secretariat reads the title of a check between two States")
		}
		comm := f.page(t, f.sec, fmt.Sprintf("/comms/%d", f.comm.ID))
		if strings.Contains(comm, "Secret subject of France") || strings.Contains(comm, "Scanning of our ministries") {
			t.Error("the communication's page shows its content to the Secretariat")
		}
	})
}

// receiptLinks returns the receipt addresses a page links to.
func receiptLinks(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="(/log/receipts/\d+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestReceiptPageAndFile(t *testing.T) {
	f := newLogFixture(t)
	// The receipt of the communication's sending, linked from its page.
	commPage := f.page(t, f.offFRA, fmt.Sprintf("/comms/%d", f.comm.ID))
	want := fmt.Sprintf("/log/receipts/%d", *f.comm.LogIndex)
	if links := receiptLinks(commPage); len(links) == 0 || links[0] != want {
		t.Fatalf("the communication links to receipts %v, want %s first", links, want)
	}
	if strings.Contains(commPage, want+`" download`) {
		t.Error("the communication's receipt link downloads a file instead of opening the receipt")
	}

	t.Run("the page reads as a receipt, and says how to verify the file", func(t *testing.T) {
		// One session: a sign-in is logged, and would move the checkpoint
		// between the page and the file.
		cl := f.sys.Login(t, f.srv, f.offFRA)
		_, body := get(t, cl, f.srv.URL+want)
		body = html.UnescapeString(body)
		_, file := get(t, cl, f.srv.URL+want+".json")
		rc, err := auditlog.VerifyReceipt([]byte(file), f.sys.Audit.VerifierKey)
		if err != nil {
			t.Fatalf("the receipt file does not verify: %v", err)
		}
		_, size, root, err := auditlog.ParseCheckpoint(auditlog.CheckpointBodyOf(rc.Checkpoint))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("pocdir-receipt-%d.json", *f.comm.LogIndex)
		for _, want := range []string{
			fmt.Sprintf("<h1>Receipt of log entry %d</h1>", *f.comm.LogIndex),
			"Communication sent", "comms.sent", "France",
			"Communication: <span dir=\"auto\">" + f.comm.Ref + "</span>",
			"pocdir.test/log",
			rc.Event.At.UTC().Format(time.RFC3339Nano),
			tlog.RecordHash(rc.Entry).String(),
			string(rc.Entry),
			root.String(), rc.Checkpoint,
			fmt.Sprintf("<dd>%d</dd>", size),
			fmt.Sprintf(`href="%s.json" download="%s"`, want, name),
			"pocdir audit verify-receipt " + name + " --key " + f.sys.Audit.VerifierKey,
			rc.Event.Commitment,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the receipt page lacks %q", want)
			}
		}
		for _, h := range rc.Proof {
			if !strings.Contains(body, "<li>"+h.String()+"</li>") {
				t.Errorf("the receipt page lacks the proof's hash %s", h)
			}
		}
		if strings.Contains(body, "Secret subject of France") {
			t.Error("the receipt shows the communication's content")
		}
	})

	t.Run("the file downloads as before, named by its entry", func(t *testing.T) {
		resp, file := get(t, f.sys.Login(t, f.srv, f.fpFRA), f.srv.URL+want+".json")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="pocdir-receipt-%d.json"`, *f.comm.LogIndex) {
			t.Fatalf("status %d, %q, %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
		var rc auditlog.Receipt
		if err := json.Unmarshal([]byte(file), &rc); err != nil || rc.Index != *f.comm.LogIndex {
			t.Errorf("%v %+v", err, rc)
		}
	})

	t.Run("in Arabic, right to left, with the hashes left to right", func(t *testing.T) {
		c := f.sys.Login(t, f.srv, f.fpFRA)
		resp := testkit.PostForm(t, c, f.srv.URL+"/language", url.Values{"lang": {"ar"}, "back": {want}})
		resp.Body.Close()
		_, body := get(t, c, f.srv.URL+want)
		for _, want := range []string{`<html lang="ar" dir="rtl">`, "إرسال مراسلة", `<pre class="secret" dir="ltr">pocdir audit verify-receipt`} {
			if !strings.Contains(html.UnescapeString(body), want) {
				t.Errorf("the Arabic receipt lacks %q", want)
			}
		}
	})

	// Who may fetch a receipt: those who may see the entry (the States it
	// concerns and the Secretariat), on the page and in the file alike.
	for _, c := range []struct {
		who  *testkit.User
		want int
	}{
		{f.offFRA, http.StatusOK}, {f.fpFRA, http.StatusOK}, {f.fpKEN, http.StatusOK}, {f.sec, http.StatusOK},
		{f.offDEU, http.StatusNotFound}, {f.fpDEU, http.StatusNotFound},
	} {
		t.Run(fmt.Sprintf("%s gets status %d", c.who.Email, c.want), func(t *testing.T) {
			cl := f.sys.Login(t, f.srv, c.who)
			for _, p := range []string{want, want + ".json"} {
				if resp, _ := get(t, cl, f.srv.URL+p); resp.StatusCode != c.want {
					t.Errorf("%s: status %d", p, resp.StatusCode)
				}
			}
		})
	}
	t.Run("France's PoC change is not Germany's to see", func(t *testing.T) {
		hist := f.page(t, f.fpFRA, "/states/FRA/history")
		links := receiptLinks(hist)
		if len(links) == 0 {
			t.Fatal("no receipt in France's history")
		}
		cl := f.sys.Login(t, f.srv, f.fpDEU)
		for _, p := range []string{links[0], links[0] + ".json"} {
			if resp, _ := get(t, cl, f.srv.URL+p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d", p, resp.StatusCode)
			}
		}
	})
	t.Run("without a session, the sign-in page", func(t *testing.T) {
		for _, p := range []string{want, want + ".json"} {
			resp, _ := get(t, testkit.Client(t), f.srv.URL+p)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Errorf("%s: status %d to %q", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
	t.Run("an address that names no entry is not found", func(t *testing.T) {
		cl := f.sys.Login(t, f.srv, f.sec)
		for _, p := range []string{"/log/receipts/x", "/log/receipts/12.txt", "/log/receipts/-1", "/log/receipts/.json", "/log/receipts/999999.json"} {
			if resp, _ := get(t, cl, f.srv.URL+p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d", p, resp.StatusCode)
			}
		}
	})
}
