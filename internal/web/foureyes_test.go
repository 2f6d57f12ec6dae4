package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestFourEyesInThePages: in the pages as in the API, a Secretariat officer
// who proposes a PoC on a State's written request cannot apply it, nor can
// a second officer while the State has a focal point; the State's focal
// point sees it waiting for its confirmation and confirms it. An
// invitation the Secretariat makes has no link until the State approves it.
func TestFourEyesInThePages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		cs, cs2, cf := sys.Login(t, srv, sec), sys.Login(t, srv, sec2), sys.Login(t, srv, fp)
		form := url.Values{"level": {"technical"}, "agency": {"Agency on request"}, "function_title": {"Duty officer"},
			"ch_rows": {"1"}, "ch_kind_0": {"email"}, "ch_value_0": {"desk@example.net"}, "ch_pref": {"0"},
			"languages": {"en"}, "time_zone": {"UTC"}, "available_24_7": {"1"}, "request_ref": {"Letter of the Permanent Mission, ref. 9/2026"}}
		resp := testkit.PostForm(t, cs, srv.URL+"/states/FRA/pocs/new", form)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/nominations/") {
			t.Fatalf("proposing: %d %q", resp.StatusCode, loc)
		}
		if _, page := get(t, cs, srv.URL+loc); !strings.Contains(page, "confirmation by a focal point of the State") || strings.Contains(page, `action="`+loc+`/validate"`) {
			t.Errorf("the proposer's page offers to validate, or does not say what it waits for")
		}
		for who, c := range map[string]*http.Client{"the proposer": cs, "a second officer": cs2} {
			resp := testkit.PostForm(t, c, srv.URL+loc+"/validate", url.Values{"version": {"1"}, "reference": {"NV 9/2026"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s validating: %d", who, resp.StatusCode)
			}
		}
		if st, _ := sys.Directory.Get(fp.Ctx(), "FRA"); len(st.PoCs) != 0 {
			t.Fatal("applied without the State")
		}
		_, page := get(t, cf, srv.URL+loc)
		if !strings.Contains(page, "Confirm this change for your State") || !strings.Contains(page, "Letter of the Permanent Mission, ref. 9/2026") {
			t.Errorf("the focal point's page does not offer to confirm")
		}
		resp = testkit.PostForm(t, cf, srv.URL+loc+"/validate", url.Values{"version": {"1"}})
		resp.Body.Close()
		if st, _ := sys.Directory.Get(fp.Ctx(), "FRA"); resp.StatusCode != http.StatusSeeOther || len(st.PoCs) != 1 {
			t.Fatalf("the focal point confirming: %d", resp.StatusCode)
		}

		resp = testkit.PostForm(t, cs, srv.URL+"/invitations/new", url.Values{"email": {"new@fra.example"}, "role": {"officer"}, "state": {"FRA"}, "language": {"en"}})
		b := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || strings.Contains(b, "/invite/pdi_") || !strings.Contains(b, "Waiting for approval by a focal point of the State") {
			t.Fatalf("the Secretariat's invitation: %d", resp.StatusCode)
		}
		inv, _ := sys.Accounts.Invitations(fp.Ctx(), app.Cursor{}, 0)
		id := ""
		for _, i := range inv.List {
			if i.Email == "new@fra.example" {
				id = strconvI(i.ID)
			}
		}
		resp = testkit.PostForm(t, cs, srv.URL+"/invitations/"+id+"/approve", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("the inviter approving: %d", resp.StatusCode)
		}
		if _, page := get(t, cf, srv.URL+"/users"); !strings.Contains(page, `action="/invitations/`+id+`/approve"`) {
			t.Error("the focal point is not offered to approve")
		}
		resp = testkit.PostForm(t, cf, srv.URL+"/invitations/"+id+"/approve", nil)
		if b := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "/invite/pdi_") {
			t.Errorf("the focal point approving: %d", resp.StatusCode)
		} else if !strings.Contains(b, "pocdir has emailed this link to new@fra.example") || strings.Contains(b, "Send this link to the person") {
			t.Error("the page asks to send the link that pocdir emailed")
		}
		if _, page := get(t, cf, srv.URL+"/states/FRA/access"); !strings.Contains(page, "new@fra.example") || !strings.Contains(page, "invitation of new@fra.example approved") {
			t.Error("the access page does not show the approved invitation")
		}
	})
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

// TestSecureSessionCookieIsHostOnly: served over TLS (or behind a TLS
// proxy), the session cookie carries the __Host- prefix.
func TestSecureSessionCookieIsHostOnly(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) { c.SecureCookies = true }))
	srv := sys.Serve(t)
	u := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	// The form cookie given with the first page is host-only too.
	resp, err := http.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form := resp.Cookies()
	if len(form) != 1 || form[0].Name != "__Host-pocdir_form" || !form[0].Secure || form[0].Path != "/" || form[0].Domain != "" {
		t.Fatalf("Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"csrf": {account.FormToken(form[0].Value)},
		"email": {u.Email}, "password": {testkit.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(form[0])
	resp, err = testkit.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(c, "__Host-pocdir_session=") || !strings.Contains(c, "Secure") || !strings.Contains(c, "Path=/") || strings.Contains(c, "Domain") {
		t.Errorf("Set-Cookie %q", c)
	}
}

// TestFactorResetPages: a user who has lost every second factor asks for a
// reset after the password; a focal point of the State sees it on the
// users page and approves it; the user then sets up a new authenticator.
func TestFactorResetPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		lost := testkit.Client(t)
		resp := testkit.PostForm(t, lost, srv.URL+"/login", url.Values{"email": {off.Email}, "password": {testkit.Password}})
		resp.Body.Close()
		_, page := get(t, lost, srv.URL+"/login/totp")
		if !strings.Contains(page, "Lost your authenticator and your passkeys?") {
			t.Fatalf("the second factor page offers no reset:\n%s", page)
		}
		resp = testkit.PostForm(t, lost, srv.URL+"/login/reset", nil)
		if b := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "Your request is recorded.") {
			t.Fatalf("%d\n%s", resp.StatusCode, b)
		}
		var body string
		if err := sys.DB.QueryRowContext(context.Background(), `SELECT body FROM outbox WHERE kind = 'access' AND to_addr = $1 ORDER BY id DESC LIMIT 1`, fp.Email).Scan(&body); err != nil ||
			!strings.Contains(body, "asks for a reset of their second factor") {
			t.Errorf("the focal point was not told: %v\n%s", err, body)
		}
		cf := sys.Login(t, srv, fp)
		_, page = get(t, cf, srv.URL+"/users")
		m := regexp.MustCompile(`action="(/resets/\d+)/approve"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the users page shows no reset to approve:\n%s", page)
		}
		co := sys.Login(t, srv, off) // the officer's own session cannot approve
		if resp := testkit.PostForm(t, co, srv.URL+m[1]+"/approve", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("the officer approved their own reset: %d", resp.StatusCode)
		}
		if resp := testkit.PostForm(t, cf, srv.URL+m[1]+"/approve", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approving: %d", resp.StatusCode)
		}
		if resp, _ := get(t, co, srv.URL+"/directory"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the officer's session outlived the reset: %d", resp.StatusCode)
		}
		again := testkit.Client(t)
		resp = testkit.PostForm(t, again, srv.URL+"/login", url.Values{"email": {off.Email}, "password": {testkit.Password}})
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/enrol/totp" {
			t.Errorf("after the reset, sign-in leads to %q", loc)
		}
	})
}
