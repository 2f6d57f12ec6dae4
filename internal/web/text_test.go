package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestTextIsRefusedNotReplaced: text that is not UTF-8, or that holds a
// control character, is refused with a clear message, the same way in
// forms, uploads and query strings, and a form comes back as typed.
func TestTextIsRefusedNotReplaced(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		commsWorld(t, sys)
		fp := sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
		c := sys.Login(t, srv, fp)
		poc := url.Values{"level": {"technical"}, "function_title": {"Veille nationale"}, "ch_rows": {"1"}, "ch_kind_0": {"email"},
			"ch_value_0": {"veille@fra.example"}, "languages": {"fr, en"}, "time_zone": {"Europe/Paris"}, "notes_lang": {"en"}}
		pending := func() int {
			n, err := sys.Directory.Nominations(fp.Ctx(), directory.NominationFilter{State: "FRA"}, app.Cursor{}, app.MaxPageSize)
			if err != nil {
				t.Fatal(err)
			}
			return len(n.List)
		}
		before := pending()
		for name, tc := range map[string]struct{ agency, want string }{
			"a NUL":           {"CERT\x00FR", "invisible control character (U&#43;0000, at byte 5)"},
			"an escape code":  {"\x1b[31mCERT", "invisible control character (U&#43;001B, at byte 1)"},
			"bytes not UTF-8": {"Minist\xe8re", "This text is not valid UTF-8 (at byte 7)"},
		} {
			t.Run(name+" in a form field comes back next to the field, the rest as typed", func(t *testing.T) {
				f := url.Values{}
				for k, v := range poc {
					f[k] = v
				}
				f.Set("agency", tc.agency)
				resp := testkit.PostForm(t, c, srv.URL+"/states/FRA/pocs/new", f)
				body := readBody(t, resp)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) ||
					!strings.Contains(body, `value="Veille nationale"`) || !strings.Contains(body, `href="#f-agency"`) {
					t.Errorf("%d\n%s", resp.StatusCode, body)
				}
				if pending() != before {
					t.Fatal("the PoC was proposed")
				}
			})
		}
		t.Run("a form in another character set is refused", func(t *testing.T) {
			f := url.Values{}
			for k, v := range poc {
				f[k] = v
			}
			f.Set("agency", "Minist\xe8re")
			f.Set("csrf", testkit.FormToken(t, c, srv.URL))
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/states/FRA/pocs/new", strings.NewReader("csrf="+f.Get("csrf")+"&"+f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=iso-8859-1")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "The text must be sent in UTF-8, not iso-8859-1.") {
				t.Errorf("%d\n%s", resp.StatusCode, body)
			}
		})
		t.Run("a query string that is not UTF-8 is refused", func(t *testing.T) {
			resp, err := c.Get(srv.URL + "/directory?q=%FF")
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not valid UTF-8") {
				t.Errorf("%d\n%s", resp.StatusCode, body)
			}
		})
		t.Run("a control character pasted in a communication comes back in the compose form", func(t *testing.T) {
			off := sys.User(t, "off2@fra.example", app.RoleOfficer, "FRA")
			oc := sys.Login(t, srv, off)
			_, page := get(t, oc, srv.URL+"/comms/new?template=notification")
			m := regexp.MustCompile(`name="idem" value="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatal("no compose form")
			}
			form := url.Values{"template": {"notification"}, "idem": {m[1]}, "to_states": {"KEN"}, "level": {"technical"}, "action": {"send"},
				"fields.subject": {"Scanning from AS64500"}, "fields.urgency": {"high"}, "fields.tlp": {"TLP:AMBER"},
				"fields.description": {"Log lines:\f203.0.113.7 scanned us"}}
			resp := postMultipart(t, oc, srv.URL+"/comms/new", form, map[string][]byte{"notes.txt": []byte("kept")})
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "U&#43;000C") || !strings.Contains(body, `value="Scanning from AS64500"`) {
				t.Errorf("%d\n%s", resp.StatusCode, body)
			}
			form.Set("fields.description", "Log lines: 203.0.113.7 scanned us")
			resp = postMultipart(t, oc, srv.URL+"/comms/new", form, map[string][]byte{"notes\u0085.txt": []byte("kept")})
			if b := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "U&#43;0085") {
				t.Errorf("a control character in a file name: %d\n%s", resp.StatusCode, b)
			}
		})
	})
}
