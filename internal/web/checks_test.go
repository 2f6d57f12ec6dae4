package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCheckLinkFromARealEmail sends a campaign through a real SMTP server,
// takes the answer link from the email received, and follows it over HTTP
// without signing in.
func TestCheckLinkFromARealEmail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, srv := testkit.NewServed(t, e)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		catcher, err := notify.StartCatcher("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer catcher.Close()
		sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}}

		// The announcements of the accounts and the PoC are not what is tested.
		if err := notify.RecordSent(context.Background(), sys.DB, "entry-change", "access"); err != nil {
			t.Fatal(err)
		}
		// The Secretariat creates the campaign in the browser's way.
		c := sys.Login(t, srv, sec)
		resp := testkit.PostForm(t, c, srv.URL+"/checks/new", url.Values{"title": {"Q4 reachability"}, "message": {"Please answer."}, "scope": {"states"},
			"value_states": {"FRA"}, "channel": {"email"}, "window_hours": {"72"}, "repeat_months": {"0"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/checks/") {
			t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, err := sender.RunOnce(context.Background()); err != nil || n != 1 {
			t.Fatalf("sent %d: %v", n, err)
		}
		msgs := catcher.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "cert@example.org" || !strings.Contains(msgs[0].Subject, "Q4 reachability") {
			t.Fatalf("messages %+v", msgs)
		}
		link := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/check/[A-Za-z0-9_-]{43}`).FindString(msgs[0].Body)
		if link == "" {
			t.Fatalf("no link in\n%s", msgs[0].Body)
		}
		anon := testkit.Client(t)
		_, page := get(t, anon, link)
		if !strings.Contains(page, "Q4 reachability") || !strings.Contains(page, "I received this check") || strings.Contains(page, "cert@example.org") || strings.Contains(page, "National CERT") {
			t.Errorf("the answer page shows\n%s", page)
		}
		// Opening the link records nothing; pressing the button does.
		r, _ := sys.Checks.Results(sec.Ctx(), 1)
		if r.Targets[0].AnsweredAt != nil {
			t.Fatal("a GET recorded an answer")
		}
		answer := func() (int, string) {
			resp := testkit.PostForm(t, anon, link, url.Values{})
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if st, body := answer(); st != 200 || !strings.Contains(body, "your answer was recorded") {
			t.Fatalf("answer: %d\n%s", st, body)
		}
		if st, body := answer(); st != http.StatusConflict || !strings.Contains(body, "already been answered") {
			t.Errorf("a second answer: %d", st)
		}
		r, _ = sys.Checks.Results(sec.Ctx(), 1)
		if r.Targets[0].Outcome != checks.OutcomeAnswered || r.Targets[0].Via != "link" {
			t.Errorf("target %+v", r.Targets[0])
		}
		if resp, _ := get(t, anon, srv.URL+"/check/notavalidlinkatallnotavalidlinkatallnotava"); resp.StatusCode != 404 {
			t.Errorf("an unknown link: %d", resp.StatusCode)
		}
		// The results page and CSV.
		_, page = get(t, c, srv.URL+"/checks/1")
		if !strings.Contains(page, "1 answered in time (100 %)") {
			t.Errorf("results page lacks the tally")
		}
		resp, csvBody := get(t, c, srv.URL+"/checks/1/results.csv")
		if resp.StatusCode != 200 || !strings.Contains(csvBody, "FRA,technical,National CERT,email,cert@example.org,answered") {
			t.Errorf("CSV %d\n%s", resp.StatusCode, csvBody)
		}
	})
}

func TestCheckPagesAuthorization(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	ken := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	sys.AddPoC(t, ken.Ctx(), "KEN", testkit.ValidPoC())
	bi, err := sys.Checks.Create(fp.Ctx(), checks.Input{Title: "FRA checks KEN", Scope: "all", Channel: "email", WindowHours: 24, Counterpart: "KEN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		u      *testkit.User
		path   string
		status int
	}{
		{off, "/checks/new", 403},
		{sec, "/checks/1", 404},
		{off, "/checks/1", 200},
		{ken, "/checks/1", 200},
		{sec, "/checks/1/results.csv", 404},
		{fp, "/checks/new", 200},
		{sec, "/checks/new", 200},
	}
	for _, c := range cases {
		cl := sys.Login(t, srv, c.u)
		if resp, _ := get(t, cl, srv.URL+c.path); resp.StatusCode != c.status {
			t.Errorf("%s GET %s: %d, want %d", c.u.Email, c.path, resp.StatusCode, c.status)
		}
	}
	// KEN's focal point answers in the portal; the counterpart cannot cancel.
	cl := sys.Login(t, srv, ken)
	_, page := get(t, cl, srv.URL+"/checks")
	if !strings.Contains(page, "/checks/targets/1/answer") {
		t.Fatal("KEN's pending check is not offered")
	}
	resp := testkit.PostForm(t, cl, srv.URL+"/checks/1/cancel", url.Values{})
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("the counterpart cancelling: %d", resp.StatusCode)
	}
	resp = testkit.PostForm(t, cl, srv.URL+"/checks/targets/1/answer", url.Values{})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("answering in the portal: %d", resp.StatusCode)
	}
	got, _ := sys.Checks.Campaign(fp.Ctx(), bi.ID)
	if got.Answered != 1 {
		t.Errorf("%+v", got.Tally)
	}
	// A window that ends before it starts is refused and keeps the form.
	cs := sys.Login(t, srv, sec)
	resp = testkit.PostForm(t, cs, srv.URL+"/checks/new", url.Values{"title": {"Bad"}, "scope": {"all"}, "channel": {"email"}, "window_hours": {"0"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "must end after it starts") || !strings.Contains(string(b), `value="Bad"`) {
		t.Errorf("a bad window: %d", resp.StatusCode)
	}
}
