package testkit

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"email": {u.Email}, "password": {Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/totp" {
		t.Fatalf("login %s: status %d to %q", u.Email, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = c.PostForm(srv.URL+"/login/totp", url.Values{"code": {s.Code(t, u)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/directory" {
		t.Fatalf("totp %s: status %d to %q", u.Email, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

// PostForm posts a form as a same-origin browser would (with the
// Sec-Fetch-Site header that cross-origin protection reads).
func PostForm(t testing.TB, c *http.Client, u string, v url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
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
