package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// notified is a communication from France to Germany's PoC, sent through a
// real SMTP server to a catcher.
type notified struct {
	sys  *testkit.System
	srv  *httptest.Server
	off  *testkit.User // its sender
	c    *comms.Communication
	body string // of the e-mail that reached the PoC
}

func notifiedByMail(t *testing.T, e testkit.Engine) notified {
	t.Helper()
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	sys, srv := testkit.NewServed(t, e, testkit.WithConfig(func(c *system.Config) {
		c.SMTP = notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}
	}))
	fp := sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU")
	off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	sys.AddPoC(t, fp.Ctx(), "DEU", testkit.ValidPoC())
	c, err := sys.Comms.Compose(off.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"DEU"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Wiper against the grid", "urgency": "high", "tlp": comms.TLPAmber, "description": "Destructive activity."}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Sender.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := notified{sys: sys, srv: srv, off: off, c: c}
	for _, m := range catcher.Messages() {
		if strings.Contains(m.Subject, c.Ref) {
			n.body = m.Body
		}
	}
	return n
}

// TestAckLinkFromARealEmail follows the acknowledgement link of a
// notification received over SMTP, without signing in: the page says that
// acknowledging is not agreeing and shows nothing of the content; opening
// it records nothing, the button does, once.
func TestAckLinkFromARealEmail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		n := notifiedByMail(t, e)
		sys, srv, off, c := n.sys, n.srv, n.off, n.c
		link := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/ack/[a-z2-7]{40}`).FindString(n.body)
		if link == "" {
			t.Fatal("no acknowledgement link in the notification")
		}
		anon := testkit.Client(t)
		resp, page := get(t, anon, link)
		if resp.StatusCode != 200 || !strings.Contains(page, "does not mean") || strings.Contains(page, "Wiper") || strings.Contains(page, "Destructive") {
			t.Errorf("the page shows (%d)\n%s", resp.StatusCode, page)
		}
		if resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Error("the token could leak in a Referer")
		}
		acked := func() bool {
			got, err := sys.Comms.Communication(app.WithActor(t.Context(), off.Actor()), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Recipients[0].AckedAt != nil
		}
		if acked() {
			t.Fatal("opening the page acknowledged")
		}
		post := func() (int, string) {
			resp := testkit.PostForm(t, anon, link, url.Values{})
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if st, body := post(); st != 200 || !strings.Contains(body, "has acknowledged receipt") {
			t.Fatalf("acknowledge: %d\n%s", st, body)
		}
		if !acked() {
			t.Error("the button did not acknowledge")
		}
		if st, _ := post(); st != http.StatusConflict {
			t.Errorf("a second acknowledgement: %d", st)
		}
		if resp, _ := get(t, anon, srv.URL+"/ack/"+strings.Repeat("a", 32)); resp.StatusCode != 404 {
			t.Errorf("an unknown link: %d", resp.StatusCode)
		}
		sys.Clock.Advance(200 * 24 * time.Hour)
		if resp, _ := get(t, anon, link); resp.StatusCode != http.StatusConflict {
			t.Errorf("an expired link: %d", resp.StatusCode)
		}
	})
}

// TestCommLinkFromARealEmail follows a notification's link to the
// communication, which names it by its reference (the e-mail is written
// before the communication has its id): it leads a reader of the recipient
// State to the communication's page, the Secretariat to its metadata, the
// anonymous to the sign-in page, and a third State nowhere.
func TestCommLinkFromARealEmail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		n := notifiedByMail(t, e)
		sys, srv, c := n.sys, n.srv, n.c
		reader := sys.User(t, "off@deu.example", app.RoleOfficer, "DEU")
		third := sys.User(t, "off@gbr.example", app.RoleOfficer, "GBR")
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		link := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/comms/PC-[0-9]{4}-[A-Z2-7]{8}\b`).FindString(n.body)
		if link != srv.URL+"/comms/"+c.Ref {
			t.Fatalf("the notification's link to the communication: %q", link)
		}
		page := srv.URL + "/comms/" + strconv.FormatInt(c.ID, 10)
		for _, tc := range []struct {
			who     string
			client  *http.Client
			status  int
			landing string // where the link leads
			shows   string
		}{
			{"a reader of the recipient State", sys.Login(t, srv, reader), 200, page, "Wiper against the grid"},
			{"the Secretariat", sys.Login(t, srv, sec), 200, page, c.Ref},
			{"a third State", sys.Login(t, srv, third), 404, link, ""},
			{"the anonymous", testkit.Client(t), 200, srv.URL + "/login", ""},
		} {
			resp, body := get(t, tc.client, link)
			for i := 0; i < 3 && resp.StatusCode == http.StatusSeeOther; i++ {
				next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				resp, body = get(t, tc.client, next.String())
			}
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Request.URL.String(), tc.landing) || !strings.Contains(body, tc.shows) {
				t.Errorf("%s: %d at %s", tc.who, resp.StatusCode, resp.Request.URL)
			}
			if tc.who != "a reader of the recipient State" && strings.Contains(body, "Destructive") {
				t.Errorf("%s reads the content", tc.who)
			}
		}
		t.Run("signing in after following the link lands on the communication", func(t *testing.T) {
			anon := testkit.Client(t)
			if resp, _ := get(t, anon, link); resp.Header.Get("Location") != "/login" {
				t.Fatalf("signed out: to %q", resp.Header.Get("Location"))
			}
			sys.Clock.Advance(30 * time.Second)
			testkit.PostForm(t, anon, srv.URL+"/login", url.Values{"email": {reader.Email}, "password": {testkit.Password}}).Body.Close()
			resp := testkit.PostForm(t, anon, srv.URL+"/login/totp", url.Values{"code": {sys.Code(t, reader)}})
			resp.Body.Close()
			if got := resp.Header.Get("Location"); got != "/comms/"+c.Ref {
				t.Fatalf("after signing in: to %q", got)
			}
		})
		for _, bad := range []string{"PC-2026-AAAAAAAA", "PC-" + strings.Repeat("A", 60), "PC-%27"} {
			if resp, _ := get(t, sys.Login(t, srv, reader), srv.URL+"/comms/"+bad); resp.StatusCode != 404 {
				t.Errorf("/comms/%s: %d", bad, resp.StatusCode)
			}
		}
	})
}
