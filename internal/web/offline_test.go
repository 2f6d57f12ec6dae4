package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestOfflineCopyPage(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@egy.example", app.RoleFocalPoint, "EGY")
		off := sys.User(t, "off@egy.example", app.RoleOfficer, "EGY")
		if err := sys.Accounts.SetLanguage(off.Ctx(), "ar"); err != nil {
			t.Fatal(err)
		}
		in := testkit.ValidPoC()
		in.Agency = "المركز الوطني للاستجابة لطوارئ الحاسب"
		sys.AddPoC(t, fp.Ctx(), "EGY", in)
		c := sys.Login(t, srv, off)

		for _, p := range []string{"/directory", "/account"} {
			t.Run("the page "+p+" links to the offline copy", func(t *testing.T) {
				_, body := get(t, c, srv.URL+p)
				if !strings.Contains(body, `href="/offline-copy"`) {
					t.Error("no link")
				}
			})
		}
		t.Run("the page asks for a required passphrase, its form's first field the anti-forgery token", func(t *testing.T) {
			resp, body := get(t, c, srv.URL+"/offline-copy")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if !regexp.MustCompile(`<form method="post" action="/offline-copy" class="stack"><input type="hidden" name="csrf" value="[^"]+">`).MatchString(body) {
				t.Error("no form with the token first")
			}
			if !strings.Contains(body, `name="passphrase" type="password" autocomplete="new-password" required minlength="12"`) || !strings.Contains(body, "(مطلوب)") {
				t.Errorf("the passphrase is not marked required: %.2000s", body)
			}
			if !strings.Contains(body, strings.ReplaceAll(sys.Keys.VerifierKey, "+", "&#43;")) {
				t.Error("the page does not show the log's key to verify with")
			}
		})
		t.Run("a short passphrase is refused on the page", func(t *testing.T) {
			resp := testkit.PostForm(t, c, srv.URL+"/offline-copy", url.Values{"passphrase": {"short"}})
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `id="e-passphrase"`) {
				t.Errorf("status %d: %.300s", resp.StatusCode, body)
			}
		})
		t.Run("a passphrase gives an encrypted copy that opens with it and verifies, in the user's language", func(t *testing.T) {
			pass := "correct horse battery staple"
			resp := testkit.PostForm(t, c, srv.URL+"/offline-copy", url.Values{"passphrase": {pass}})
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %.300s", resp.StatusCode, body)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="pocdir-offline-copy-2026-03-02.tar.gpg"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			dec, err := crypto.PGP().Decryption().Password([]byte(pass)).New()
			if err != nil {
				t.Fatal(err)
			}
			res, err := dec.Decrypt(body, crypto.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			v, err := offline.Verify(res.Bytes(), sys.Keys.VerifierKey)
			if err != nil {
				t.Fatal(err)
			}
			if page := string(v.Files["index.html"]); !strings.Contains(page, `dir="rtl"`) || !strings.Contains(page, in.Agency) {
				t.Errorf("the page is not the Arabic one: %.300s", page)
			}
		})
	})
}
