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
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestOwnOpenPGPKey sets a key on the account page, and downloads the
// offline copy encrypted to it.
func TestOwnOpenPGPKey(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		off := sys.User(t, "off@egy.example", app.RoleOfficer, "EGY")
		k := testkit.NewKeyPair(t, "Officer", off.Email)
		fp := strings.ToUpper(k.Private.GetFingerprint())
		c := sys.Login(t, srv, off)
		post := func(t *testing.T, path string, v url.Values) (*http.Response, string) {
			t.Helper()
			resp := testkit.PostForm(t, c, srv.URL+path, v)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, string(body)
		}
		t.Run("without a key, the offline copy page offers no copy to it and links to the account", func(t *testing.T) {
			_, body := get(t, c, srv.URL+"/offline-copy")
			if strings.Contains(body, `name="to" value="mine"`) || !strings.Contains(body, `href="/account#openpgp"`) {
				t.Errorf("%.3000s", body)
			}
		})
		t.Run("the account page's key form has the anti-forgery token first and a length limit", func(t *testing.T) {
			_, body := get(t, c, srv.URL+"/account")
			if !regexp.MustCompile(`<form method="post" action="/account/openpgp-key" class="stack"><input type="hidden" name="csrf" value="[^"]+">`).MatchString(body) {
				t.Error("no form with the token first")
			}
			if !strings.Contains(body, `maxlength="65536"`) {
				t.Error("no length limit on the key")
			}
		})
		t.Run("a private key is refused on the page, with the field's error", func(t *testing.T) {
			resp, body := post(t, "/account/openpgp-key", url.Values{"openpgp_key": {k.ArmoredPrivate(t, nil)}})
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-openpgp_key"`) {
				t.Errorf("status %d: %.300s", resp.StatusCode, body)
			}
		})
		t.Run("a public key is saved and its fingerprint shown", func(t *testing.T) {
			resp, _ := post(t, "/account/openpgp-key", url.Values{"openpgp_key": {k.Public}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account#openpgp" {
				t.Fatalf("status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			_, body := get(t, c, srv.URL+"/account")
			if !strings.Contains(body, fp[:4]+" "+fp[4:8]) {
				t.Errorf("no fingerprint %s on the account page", fp)
			}
		})
		t.Run("the offline copy page offers the copy to the user's key first, and it opens with the private key", func(t *testing.T) {
			_, page := get(t, c, srv.URL+"/offline-copy")
			mine, pass := strings.Index(page, `name="to" value="mine"`), strings.Index(page, `name="passphrase"`)
			if mine < 0 || mine > pass {
				t.Fatalf("the copy to my key is not offered first: %d, %d", mine, pass)
			}
			resp, body := post(t, "/offline-copy", url.Values{"to": {"mine"}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %.300s", resp.StatusCode, body)
			}
			tar, err := offline.DecryptWithKey([]byte(body), k.ArmoredPrivate(t, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := offline.Verify(tar, sys.Keys.VerifierKey); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("the user removes the key", func(t *testing.T) {
			post(t, "/account/openpgp-key", url.Values{"remove": {"1"}})
			_, body := get(t, c, srv.URL+"/account")
			if strings.Contains(body, fp[:4]+" "+fp[4:8]) {
				t.Error("the fingerprint is still shown")
			}
			resp, _ := post(t, "/offline-copy", url.Values{"to": {"mine"}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
		})
	})
}

// TestOfflineCopiesByMailPage turns the copies by e-mail on and off from
// the offline copy page, as the State's focal point only.
func TestOfflineCopiesByMailPage(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		in := testkit.ValidPoC()
		in.Agency = "Ministère sans clé"
		sys.AddPoC(t, fp.Ctx(), "FRA", in)
		cfp, coff := sys.Login(t, srv, fp), sys.Login(t, srv, off)
		t.Run("the focal point sees the section, off, and the PoC without a key that will receive none", func(t *testing.T) {
			_, body := get(t, cfp, srv.URL+"/offline-copy")
			if !regexp.MustCompile(`<form method="post" action="/offline-copy/mail"><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" name="on" value="1">`).MatchString(body) {
				t.Errorf("no form to turn it on: %.3000s", body)
			}
			if !strings.Contains(body, "Ministère sans clé") || !strings.Contains(body, "No: no OpenPGP key on its entry") {
				t.Error("the PoC without a key is not said")
			}
		})
		t.Run("an officer sees no section and may not turn it on", func(t *testing.T) {
			_, body := get(t, coff, srv.URL+"/offline-copy")
			if strings.Contains(body, `id="by-mail"`) {
				t.Error("the officer sees the section")
			}
			resp := testkit.PostForm(t, coff, srv.URL+"/offline-copy/mail", url.Values{"on": {"1"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
		for _, tt := range []struct {
			name, on, want string
		}{
			{"the focal point turns it on", "1", `name="on" value="0"`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp := testkit.PostForm(t, cfp, srv.URL+"/offline-copy/mail", url.Values{"on": {tt.on}})
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if _, body := get(t, cfp, srv.URL+"/offline-copy"); !strings.Contains(body, tt.want) {
					t.Errorf("the page does not show the change")
				}
			})
		}
		t.Run("the page says when a PoC with a key last received a copy", func(t *testing.T) {
			in := testkit.ValidPoC()
			in.Agency, in.PGPKey = "CERT avec clé", testkit.NewKeyPair(t, "CERT", "cert@example.org").Public
			sys.AddPoC(t, fp.Ctx(), "FRA", in)
			if n, err := sys.Offline.MailCopies(context.Background()); err != nil || n != 1 {
				t.Fatalf("sent %d: %v", n, err)
			}
			_, body := get(t, cfp, srv.URL+"/offline-copy")
			if !strings.Contains(body, "waiting to be sent") || !strings.Contains(body, "None yet") {
				t.Errorf("%.4000s", body[strings.Index(body, `id="by-mail"`):])
			}
		})
		t.Run("the focal point turns it off", func(t *testing.T) {
			resp := testkit.PostForm(t, cfp, srv.URL+"/offline-copy/mail", url.Values{"on": {"0"}})
			resp.Body.Close()
			if _, body := get(t, cfp, srv.URL+"/offline-copy"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, `name="on" value="1"`) {
				t.Errorf("status %d, or the page does not show it off", resp.StatusCode)
			}
		})
	})
}
