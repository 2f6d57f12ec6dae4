package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestInboxIsThePageAfterSignIn: a Kenyan officer signs in to the list of
// what waits for Kenya, with the number in the navigation on every page,
// States named (in the reader's language), never coded.
func TestInboxIsThePageAfterSignIn(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
	c, err := sys.Comms.Compose(offFRA.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Scanning from AS64500", "urgency": "critical", "tlp": comms.TLPAmber, "description": "Scanning."}})
	if err != nil {
		t.Fatal(err)
	}
	cl := sys.Login(t, srv, offKEN) // lands on /inbox (testkit checks it)
	resp, _ := get(t, cl, srv.URL+"/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		t.Errorf("/ goes to %q", resp.Header.Get("Location"))
	}
	_, page := get(t, cl, srv.URL+"/inbox")
	for _, want := range []string{"What waits for you", "Acknowledge receipt", c.Ref, "Scanning from AS64500", "France", "Critical",
		`href="/comms/`, `Inbox <span class="count">1</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the inbox lacks %q", want)
		}
	}
	if strings.Contains(page, ">FRA<") {
		t.Error("the inbox shows a State's code, not its name")
	}
	_, page = get(t, cl, srv.URL+"/directory")
	if !strings.Contains(page, `Inbox <span class="count">1</span>`) {
		t.Error("the navigation does not count the inbox")
	}
	t.Run("in French, the sender State is named in French", func(t *testing.T) {
		testkit.PostForm(t, cl, srv.URL+"/language", url.Values{"lang": {"fr"}, "back": {"/inbox"}}).Body.Close()
		_, page := get(t, cl, srv.URL+"/inbox")
		if !strings.Contains(page, "Accuser réception") || !strings.Contains(page, "France") {
			t.Error("the French inbox")
		}
	})
	t.Run("acknowledged, it leaves the inbox", func(t *testing.T) {
		if _, err := sys.Comms.Acknowledge(offKEN.Ctx(), c.ID); err != nil {
			t.Fatal(err)
		}
		testkit.PostForm(t, cl, srv.URL+"/language", url.Values{"lang": {"en"}, "back": {"/inbox"}}).Body.Close()
		_, page := get(t, cl, srv.URL+"/inbox")
		if !strings.Contains(page, "Nothing waits for you.") || strings.Contains(page, `class="count"`) {
			t.Error("the inbox still shows the acknowledged communication")
		}
	})
	cf := sys.Login(t, srv, offFRA)
	t.Run("France's officer has nothing of Kenya's", func(t *testing.T) {
		_, page := get(t, cf, srv.URL+"/inbox")
		if strings.Contains(page, c.Ref) {
			t.Error("France sees Kenya's inbox item")
		}
	})
	t.Run("France writes to Kenya from Kenya's page, Kenya chosen", func(t *testing.T) {
		_, page := get(t, cf, srv.URL+"/states/KEN")
		if !strings.Contains(page, `href="/comms/new?to=KEN"`) {
			t.Fatal("Kenya's page has no link to write to it")
		}
		_, page = get(t, cf, srv.URL+"/comms/new?to=KEN")
		if !strings.Contains(page, `href="/comms/new?template=notification&amp;to=KEN"`) {
			t.Fatal("the choice of a template forgets Kenya")
		}
		_, page = get(t, cf, srv.URL+"/comms/new?template=notification&to=KEN")
		if !strings.Contains(page, `<input type="checkbox" name="to_states" value="KEN" checked>`) || !strings.Contains(page, "Chosen: <strong>Kenya</strong>") {
			t.Error("Kenya is not chosen in the form")
		}
		// Brazil has no PoC: shown, not choosable, and why.
		if !strings.Contains(page, `value="BRA" disabled> Brazil</label> <span class="hint">(no PoC yet: cannot be reached)</span>`) {
			t.Error("a State without PoC is offered")
		}
		if strings.Contains(page, `value="FRA"`) {
			t.Error("France is offered to write to itself")
		}
		if !strings.Contains(page, `<details open><summary>African States`) || strings.Contains(page, `<details open><summary>Asia-Pacific`) {
			t.Error("the regions are not folded, with the chosen one's open")
		}
		_, page = get(t, cf, srv.URL+"/states/FRA")
		if strings.Contains(page, `/comms/new?to=FRA`) {
			t.Error("France is offered to write to itself")
		}
	})
	t.Run("the name filter finds States without losing what was chosen or typed", func(t *testing.T) {
		_, page := get(t, cf, srv.URL+"/comms/new?template=notification")
		m := regexp.MustCompile(`name="idem" value="([^"]+)"`).FindStringSubmatch(page)
		form := url.Values{"template": {"notification"}, "idem": {m[1]}, "to_states": {"KEN"}, "level": {"technical"}, "action": {"filter"},
			"filter": {"ger"}, "fields.subject": {"Typed before filtering"}}
		resp := postMultipart(t, cf, srv.URL+"/comms/new", form, nil)
		b := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(b, "> Germany</label>") || !strings.Contains(b, "> Nigeria</label>") ||
			strings.Contains(b, "> Brazil</label>") || !strings.Contains(b, `<input type="hidden" name="to_states" value="KEN">`) ||
			!strings.Contains(b, "Chosen: <strong>Kenya</strong>") || !strings.Contains(b, "Typed before filtering") {
			t.Errorf("filtering: %d", resp.StatusCode)
		}
		var n int
		_ = sys.DB.QueryRow(`SELECT COUNT(*) FROM comms WHERE status = 'draft'`).Scan(&n)
		if n != 0 {
			t.Error("filtering saved a draft")
		}
	})
	t.Run("Kenya disputes: France's inbox and list say so, by name", func(t *testing.T) {
		if _, err := sys.Comms.Reply(offKEN.Ctx(), c.ID, comms.OutcomeDisputed, "Not ours."); err != nil {
			t.Fatal(err)
		}
		_, page := get(t, cf, srv.URL+"/inbox")
		for _, want := range []string{"A recipient State answered what your State sent", c.Ref, "Disputed", "Kenya"} {
			if !strings.Contains(page, want) {
				t.Errorf("France's inbox lacks %q", want)
			}
		}
		_, page = get(t, cf, srv.URL+"/comms?box=out")
		if !strings.Contains(page, `Kenya: <span class="badge bad">Disputed</span>`) {
			t.Error("the sender's list does not show Kenya's dispute")
		}
	})
}

// TestSignInReturnsToThePageAskedFor: a PoC follows an email's link to a
// communication while signed out, signs in, and lands on it; signing in
// from the login page lands on the inbox.
func TestSignInReturnsToThePageAskedFor(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	u := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	signIn := func(c *http.Client) string {
		sys.Clock.Advance(30 * time.Second)
		testkit.PostForm(t, c, srv.URL+"/login", url.Values{"email": {u.Email}, "password": {testkit.Password}}).Body.Close()
		resp := testkit.PostForm(t, c, srv.URL+"/login/totp", url.Values{"code": {sys.Code(t, u)}})
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	c := testkit.Client(t)
	resp, _ := get(t, c, srv.URL+"/comms/42?view=thread")
	if resp.Header.Get("Location") != "/login" {
		t.Fatalf("signed out: to %q", resp.Header.Get("Location"))
	}
	if got := signIn(c); got != "/comms/42?view=thread" {
		t.Errorf("after signing in: to %q, want the page asked for", got)
	}
	c2 := testkit.Client(t)
	if got := signIn(c2); got != "/inbox" {
		t.Errorf("signing in from the login page: to %q", got)
	}
	t.Run("a page of another site is never returned to", func(t *testing.T) {
		c3 := testkit.Client(t)
		base, _ := url.Parse(srv.URL)
		c3.Jar.SetCookies(base, []*http.Cookie{{Name: "pocdir_return", Value: url.QueryEscape("//evil.example/"), Path: "/"}})
		if got := signIn(c3); got != "/inbox" {
			t.Errorf("to %q", got)
		}
	})
}
