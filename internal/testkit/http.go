package testkit

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
)

// Serve starts the system's handler on 127.0.0.1 for the test.
func (s *System) Serve(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.Handler)
	t.Cleanup(srv.Close)
	return srv
}

// Client returns an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
func Client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Login signs the user in through the login pages and returns a client
// holding the session cookie. The clock moves on by one TOTP step first, so
// that each login uses a fresh code.
func (s *System) Login(t testing.TB, srv *httptest.Server, u *User) *http.Client {
	t.Helper()
	c := Client(t)
	s.Clock.Advance(30 * time.Second)
	resp := PostForm(t, c, srv.URL+"/login", url.Values{"email": {u.Email}, "password": {Password}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/totp" {
		t.Fatalf("login %s: status %d to %q", u.Email, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = PostForm(t, c, srv.URL+"/login/totp", url.Values{"code": {s.Code(t, u)}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("totp %s: status %d to %q", u.Email, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

// PostForm posts a form as a same-origin browser would: with the
// Sec-Fetch-Site header that cross-origin protection reads, and the form's
// anti-forgery token first (unless v has its own).
func PostForm(t testing.TB, c *http.Client, u string, v url.Values) *http.Response {
	t.Helper()
	body := v.Encode()
	if _, own := v["csrf"]; !own {
		body = "csrf=" + FormToken(t, c, u) + "&" + body
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// FormToken returns the anti-forgery token that the pages show to the
// client's browser at u: from its session cookie, or before sign-in from its
// form cookie (given to the client here if it has none yet, as its first
// page would).
func FormToken(t testing.TB, c *http.Client, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil || c.Jar == nil {
		t.Fatalf("a form token for %s: %v (the client needs a cookie jar)", u, err)
	}
	form := ""
	for _, ck := range c.Jar.Cookies(pu) {
		switch ck.Name {
		case "pocdir_session", "__Host-pocdir_session":
			return account.FormToken(ck.Value)
		case "pocdir_form", "__Host-pocdir_form":
			form = ck.Value
		}
	}
	if form == "" {
		form = account.NewFormSecret()
		c.Jar.SetCookies(&url.URL{Scheme: pu.Scheme, Host: pu.Host, Path: "/"}, []*http.Cookie{{Name: "pocdir_form", Value: form, Path: "/"}})
	}
	return account.FormToken(form)
}
