package web_test

import (
	"bytes"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// postRaw posts body as an old browser would: no Origin, no Sec-Fetch-Site,
// so that only the form's token stands between it and a forged request.
func postRaw(t *testing.T, c *http.Client, u, ctype, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

const urlencoded = "application/x-www-form-urlencoded"

// TestFormsNeedTheirToken: a browser that sends neither Origin nor
// Sec-Fetch-Site (old browsers) is protected by the per-session token that
// every form carries.
func TestFormsNeedTheirToken(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		ken := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		sys.Clock.Advance(400 * 24 * time.Hour)
		c, kc := sys.Login(t, srv, fp), sys.Login(t, srv, ken)
		reconfirm := srv.URL + "/states/FRA/reconfirm"
		reconfirmed := func() bool {
			_, body := get(t, c, srv.URL+"/states/FRA")
			return strings.Contains(body, `<span class="badge ok">Confirmed</span>`)
		}

		for name, body := range map[string]string{
			"no token":                          "reviewed=1",
			"an empty token":                    "csrf=&reviewed=1",
			"a made-up token":                   "csrf=" + account.FormToken("guess") + "&reviewed=1",
			"another session's token":           "csrf=" + testkit.FormToken(t, kc, srv.URL) + "&reviewed=1",
			"the token of a browser signed out": "csrf=" + account.FormToken(account.NewFormSecret()) + "&reviewed=1",
		} {
			t.Run("refused: "+name, func(t *testing.T) {
				resp := postRaw(t, c, reconfirm, urlencoded, body)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("status %d, want 403", resp.StatusCode)
				}
				if reconfirmed() {
					t.Fatal("the forged form took effect")
				}
			})
		}
		t.Run("the refusal says what to do, in the user's language", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, reconfirm, strings.NewReader("reviewed=1"))
			req.Header.Set("Content-Type", urlencoded)
			req.Header.Set("Accept-Language", "fr")
			resp, err := testkit.Client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b := readBody(t, resp)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "rechargez la page") {
				t.Errorf("%d\n%s", resp.StatusCode, b)
			}
		})
		t.Run("a multipart form whose token is not among its first bytes is refused", func(t *testing.T) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			_ = mw.WriteField("reviewed", strings.Repeat("1", 5000))
			_ = mw.WriteField("csrf", testkit.FormToken(t, c, srv.URL))
			mw.Close()
			if resp := postRaw(t, c, reconfirm, mw.FormDataContentType(), b.String()); resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
		t.Run("the token shown on the page is accepted", func(t *testing.T) {
			_, page := get(t, c, srv.URL+"/states/FRA")
			m := regexp.MustCompile(`<form method="post" action="/states/FRA/reconfirm"[^>]*><input type="hidden" name="csrf" value="([^"]+)">`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no token in the reconfirmation form:\n%s", page)
			}
			if resp := postRaw(t, c, reconfirm, urlencoded, "csrf="+m[1]+"&reviewed=1"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d, want 303", resp.StatusCode)
			}
			if !reconfirmed() {
				t.Error("the genuine form did not take effect")
			}
		})
		t.Run("before sign-in: the login form needs the token of the browser's form cookie", func(t *testing.T) {
			login := url.Values{"email": {fp.Email}, "password": {testkit.Password}}.Encode()
			anon := testkit.Client(t)
			if resp := postRaw(t, anon, srv.URL+"/login", urlencoded, login); resp.StatusCode != http.StatusForbidden {
				t.Errorf("login without a form cookie nor token: %d", resp.StatusCode)
			}
			_, page := get(t, anon, srv.URL+"/login")
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no token on the login page:\n%s", page)
			}
			other := testkit.Client(t)
			get(t, other, srv.URL+"/login")
			if resp := postRaw(t, other, srv.URL+"/login", urlencoded, "csrf="+m[1]+"&"+login); resp.StatusCode != http.StatusForbidden {
				t.Errorf("another browser's login token: %d", resp.StatusCode)
			}
			if resp := postRaw(t, anon, srv.URL+"/login", urlencoded, "csrf="+m[1]+"&"+login); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("the genuine login form: %d", resp.StatusCode)
			}
		})
	})
}

// TestProbesGetNoCookie: health probes, static files and the API are not
// pages: a load balancer polling /healthz is not given a form cookie.
func TestProbesGetNoCookie(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	for _, p := range []string{"/healthz", "/readyz", "/api/v1/me"} {
		resp, _ := get(t, testkit.Client(t), srv.URL+p)
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("%s sets %q", p, c)
		}
	}
	if resp, _ := get(t, testkit.Client(t), srv.URL+"/login"); len(resp.Cookies()) != 1 {
		t.Errorf("the login page gives no form cookie: %q", resp.Header.Values("Set-Cookie"))
	}
}

// TestEveryFormCarriesItsToken: each form that posts has the token as its
// first field, so that the check finds it in the first bytes of the body.
func TestEveryFormCarriesItsToken(t *testing.T) {
	forms := 0
	err := filepath.WalkDir("templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`(?i)<form[^>]*>(.{0,80})`).FindAllStringSubmatch(string(b), -1) {
			if strings.Contains(strings.ToLower(m[0]), `method="get"`) {
				continue
			}
			forms++
			if !strings.HasPrefix(m[1], `<input type="hidden" name="csrf" value="{{$.CSRF}}">`) {
				t.Errorf("%s: a form without its token first: %s", path, m[0])
			}
		}
		return nil
	})
	if err != nil || forms < 40 {
		t.Fatalf("%d forms read: %v", forms, err)
	}
}
