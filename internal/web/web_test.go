package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAnonymousVisitorsSeeOnlyTheLoginPage(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	c := testkit.Client(t)
	for _, p := range []string{"/", "/directory", "/states/FRA", "/states/FRA/history", "/states/FRA/edit", "/states/FRA/pocs/new",
		"/pocs/1/edit", "/pocs/1/remove", "/users", "/invitations/new", "/account", "/directory/export?format=csv", "/states/FRA/export?format=json",
		"/pocs/1/vcard", "/offline-copy"} {
		t.Run("GET "+p+" sends an anonymous visitor to the login page", func(t *testing.T) {
			resp, body := get(t, c, srv.URL+p)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Errorf("status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if strings.Contains(body, "France") {
				t.Error("the response leaks directory data")
			}
		})
	}
	for _, p := range []string{"/states/FRA/edit", "/states/FRA/pocs/new", "/pocs/1/edit", "/pocs/1/remove", "/users/1/disable",
		"/invitations/new", "/invitations/1/revoke", "/account/tokens", "/account/password", "/account/sessions/1/revoke", "/offline-copy"} {
		t.Run("POST "+p+" does nothing for an anonymous visitor", func(t *testing.T) {
			resp := testkit.PostForm(t, c, srv.URL+p, url.Values{"agency": {"x"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Errorf("status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	for _, p := range []string{"/login", "/healthz", "/readyz"} {
		t.Run(p+" is open", func(t *testing.T) {
			if resp, _ := get(t, c, srv.URL+p); resp.StatusCode != http.StatusOK {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	t.Run("the API without a token answers 401 in JSON", func(t *testing.T) {
		resp, body := get(t, c, srv.URL+"/api/v1/states/FRA")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("status %d body %s", resp.StatusCode, body)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	resp, body := get(t, testkit.Client(t), srv.URL+"/login")
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	// Scripts come from pocdir itself only (the passkey script), never
	// inline or from elsewhere; the login page has none.
	if strings.Contains(csp, "unsafe") || !strings.Contains(csp, "script-src 'self';") || strings.Count(csp, "script-src") != 1 {
		t.Errorf("CSP allows other script: %q", csp)
	}
	if strings.Contains(body, "<script") || regexp.MustCompile(`\sstyle="`).MatchString(body) || regexp.MustCompile(`\son[a-z]+="`).MatchString(body) {
		t.Error("the page has inline script or style")
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
	t.Run("HSTS is sent when serving over TLS", func(t *testing.T) {
		sys2 := testkit.New(t, testkit.Engines()[0])
		sys2.Web.HSTS = true
		srv2 := sys2.Serve(t)
		sys2.Handler = sys2.Web.Handler()
		srv2.Config.Handler = sys2.Handler
		resp, _ := get(t, testkit.Client(t), srv2.URL+"/login")
		if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("HSTS %q", resp.Header.Get("Strict-Transport-Security"))
		}
	})
	t.Run("the API's answers carry the headers an API needs, and no page's", func(t *testing.T) {
		u := sys.User(t, "api@fra.example", app.RoleOfficer, "FRA")
		tok := sys.Token(t, u, "read")
		for _, p := range []string{"/api/v1/states/FRA", "/api/v1/states/XYZ", "/api/v1/nowhere"} {
			req, _ := http.NewRequest("GET", srv.URL+p, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := testkit.Client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "Referrer-Policy": "", "Permissions-Policy": ""} {
				if h.Get(k) != v {
					t.Errorf("%s: %s = %q, want %q", p, k, h.Get(k), v)
				}
			}
		}
	})
	t.Run("the session cookie is HttpOnly and SameSite", func(t *testing.T) {
		u := sys.User(t, "x@fra.example", app.RoleOfficer, "FRA")
		resp := testkit.PostForm(t, testkit.Client(t), srv.URL+"/login", url.Values{"email": {u.Email}, "password": {testkit.Password}})
		resp.Body.Close()
		sc := resp.Header.Get("Set-Cookie")
		if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
			t.Errorf("Set-Cookie %q", sc)
		}
	})
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		c := sys.Login(t, srv, fp)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/states/FRA/edit", strings.NewReader(url.Values{"initiate_via": {"forged"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
		got, _ := sys.Directory.Get(fp.Ctx(), "FRA")
		if got.InitiateVia != "" {
			t.Errorf("forged change stored: %q", got.InitiateVia)
		}
	})
}

func TestPartialSessionReachesOnlyTheSecondFactor(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	u := sys.User(t, "x@fra.example", app.RoleOfficer, "FRA")
	c := testkit.Client(t)
	resp := testkit.PostForm(t, c, srv.URL+"/login", url.Values{"email": {u.Email}, "password": {testkit.Password}})
	resp.Body.Close()
	for _, p := range []string{"/directory", "/states/FRA", "/account"} {
		resp, body := get(t, c, srv.URL+p)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/totp" || strings.Contains(body, "France") {
			t.Errorf("%s: status %d to %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp = testkit.PostForm(t, c, srv.URL+"/login/totp", url.Values{"code": {"000000"}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Wrong or expired code") {
		t.Errorf("wrong code: status %d", resp.StatusCode)
	}
}

func TestFormsKeepWhatWasTyped(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		c := sys.Login(t, srv, fp)
		form := url.Values{"level": {"technical"}, "agency": {"Agence nationale <test>"}, "function_title": {"Veille"},
			"ch_rows": {"2"}, "ch_kind_0": {"email"}, "ch_value_0": {"not-an-email"}, "ch_kind_1": {"phone"}, "ch_value_1": {"+33 1 23 45 67 89"},
			"languages": {"fr"}, "languages_other": {"klingon!"}, "time_zone": {"Europe/Paris"}, "available_24_7": {"1"}, "notes_lang": {"fr"}, "notes": {"Bonjour"}}
		resp := testkit.PostForm(t, c, srv.URL+"/states/FRA/pocs/new", form)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, want := range []string{
			`value="Agence nationale &lt;test&gt;"`, `value="not-an-email"`, `value="&#43;33 1 23 45 67 89"`, `value="klingon!"`, ">Bonjour</textarea>",
			`name="languages" value="fr" checked`, "This is not a valid email address.", "“klingon!” is not a language pocdir knows", "An English translation is required.",
			`href="#f-channels.0"`, `aria-describedby="e-channels.0"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the re-rendered form lacks %q", want)
			}
		}
		got, _ := sys.Directory.Get(fp.Ctx(), "FRA")
		if len(got.PoCs) != 0 {
			t.Error("an invalid PoC was stored")
		}
		t.Run("the corrected form is saved and shown", func(t *testing.T) {
			form.Set("ch_value_0", "cert@fra.example")
			form.Set("languages_other", "English, Kiswahili")
			form.Set("notes_en", "Hello")
			resp := testkit.PostForm(t, c, srv.URL+"/states/FRA/pocs/new", form)
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/nominations/") {
				t.Fatalf("status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			_, page := get(t, c, srv.URL+resp.Header.Get("Location"))
			for _, want := range []string{"Agence nationale &lt;test&gt;", "cert@fra.example", "The change is submitted: the Secretariat will validate it.", "Submitted"} {
				if !strings.Contains(page, want) {
					t.Errorf("nomination page lacks %q", want)
				}
			}
			_, page = get(t, c, srv.URL+"/states/FRA")
			if !strings.Contains(page, "1 open change") || !strings.Contains(page, "Agence nationale &lt;test&gt;") {
				t.Error("the State page does not show the pending change")
			}
			if !strings.Contains(page, "Waiting for validation by the Secretariat") {
				t.Error("the State page does not say whose decision the change waits for")
			}
			if !strings.Contains(page, `class="card pending noprint"`) || !strings.Contains(page, `<p class="print-only">The validated entry as of `) {
				t.Error("the printed State page would show drafts, or no date")
			}
		})
	})
}

func TestPagesRefuseOtherStatesData(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	p := sys.AddPoC(t, fpFRA.Ctx(), "FRA", testkit.ValidPoC())
	id := strconv.FormatInt(p.ID, 10)
	for _, u := range []*testkit.User{fpKEN, off} {
		c := sys.Login(t, srv, u)
		for _, path := range []string{"/pocs/" + id + "/edit", "/pocs/" + id + "/remove", "/states/FRA/edit", "/states/FRA/pocs/new"} {
			t.Run(u.Email+" cannot open or post "+path, func(t *testing.T) {
				if resp, _ := get(t, c, srv.URL+path); resp.StatusCode != http.StatusForbidden {
					t.Errorf("GET status %d", resp.StatusCode)
				}
				resp := testkit.PostForm(t, c, srv.URL+path, url.Values{"agency": {"Hijacked"}, "initiate_via": {"Hijacked"}, "level": {"technical"}})
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST status %d", resp.StatusCode)
				}
			})
		}
		t.Run(u.Email+" sees FRA's PoC without edit links", func(t *testing.T) {
			_, body := get(t, c, srv.URL+"/states/FRA")
			if !strings.Contains(body, "National CERT") || strings.Contains(body, "/pocs/"+id+"/edit") {
				t.Error("wrong state page")
			}
		})
	}
	c := sys.Login(t, srv, sec)
	for _, path := range []string{"/pocs/" + id + "/edit", "/pocs/" + id + "/remove", "/states/FRA/edit", "/states/FRA/pocs/new"} {
		t.Run("the Secretariat opens "+path+" but must give the State's written request", func(t *testing.T) {
			if resp, body := get(t, c, srv.URL+path); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="request_ref"`) {
				t.Errorf("GET status %d", resp.StatusCode)
			}
			resp := testkit.PostForm(t, c, srv.URL+path, url.Values{"agency": {"Hijacked"}, "initiate_via": {"Hijacked"}, "level": {"technical"}, "version": {"1"}})
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "written request") {
				t.Errorf("POST status %d", resp.StatusCode)
			}
		})
	}
	if n, err := sys.Directory.Nominations(fpFRA.Ctx(), directory.NominationFilter{Open: true}, app.Cursor{}, 0); err != nil || len(n.List) != 0 {
		t.Errorf("refused posts left nominations: %+v %v", n, err)
	}
	got, _ := sys.Directory.Get(fpFRA.Ctx(), "FRA")
	if got.PoCs[0].Agency != "National CERT" || got.InitiateVia != "" {
		t.Errorf("changed: %+v", got)
	}
	t.Run("an officer has no users page", func(t *testing.T) {
		c := sys.Login(t, srv, off)
		if resp, _ := get(t, c, srv.URL+"/users"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// TestPageWeight checks the budget for slow links: every page, with its
// stylesheet, under 30 KB compressed.
func TestPageWeight(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	for _, code := range []string{"FRA", "KEN"} {
		ctx := fp.Ctx()
		if code == "KEN" {
			ctx = sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN").Ctx()
		}
		for i := 0; i < 4; i++ {
			in := testkit.ValidPoC()
			in.Agency += " " + strconv.Itoa(i)
			sys.AddPoC(t, ctx, code, in)
		}
	}
	// A communication from Kenya to France with indicators.
	ken := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	if _, err := sys.Comms.Compose(ken.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"FRA"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Scanning", "urgency": "high", "tlp": comms.TLPAmber, "description": "Scanning of our ministries.",
			"indicators": "198.51.100.7\nevil.example\nmalware: Emotet"}}); err != nil {
		t.Fatal(err)
	}
	const budget = 30 << 10
	css := 0
	t.Run("the login page", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/login", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) > budget {
			t.Errorf("the login page weighs %d bytes", len(b))
		}
	})
	for _, u := range []*testkit.User{fp, sec} {
		c := sys.Login(t, srv, u)
		c.Transport = &http.Transport{DisableCompression: true}
		for _, lang := range []string{"en", "ar", "ru"} {
			// The account's language wins over the cookie: set both.
			if err := sys.Accounts.SetLanguage(u.Ctx(), lang); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/directory", "/states/FRA", "/states/FRA/history", "/states/FRA/edit", "/states/FRA/pocs/new", "/pocs/1/edit",
				"/pocs/1/remove", "/users", "/invitations/new", "/account", "/log", "/admin/outbox", "/states/XXX", "/nominations", "/nominations/1",
				"/nominations/1/edit", "/dashboard", "/checks", "/checks/new", "/check/notavalidlinknotavalidlinknotavalidlink",
				"/templates", "/templates/1", "/templates/1/edit", "/comms", "/comms/new", "/comms/new?template=notification", "/comms/1", "/comms/routing"} {
				req, _ := http.NewRequest("GET", srv.URL+p, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				req.AddCookie(&http.Cookie{Name: "pocdir_lang", Value: lang})
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: status %d", p, resp.StatusCode)
					continue
				}
				if css == 0 {
					css = cssSize(t, c, srv.URL, b, resp.Header.Get("Content-Encoding") == "gzip")
				}
				if html := gunzipped(t, b, resp.Header.Get("Content-Encoding") == "gzip"); !bytes.Contains(html, []byte(`<html lang="`+lang+`"`)) {
					t.Errorf("%s was not weighed in %s", p, lang)
				}
				if total := len(b) + css; total > budget {
					t.Errorf("%s as %s weighs %d bytes compressed with its CSS, over %d", p, u.Email, total, budget)
				} else {
					t.Logf("%s in %s as %s: %d bytes page + %d bytes CSS", p, lang, u.Email, len(b), css)
				}
			}
		}
	}
}

// gunzipped is a page's HTML, from its body as sent.
func gunzipped(t *testing.T, page []byte, gz bool) []byte {
	t.Helper()
	if !gz {
		return page
	}
	r, err := gzip.NewReader(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(r)
	return page
}

func cssSize(t *testing.T, c *http.Client, base string, page []byte, gz bool) int {
	page = gunzipped(t, page, gz)
	m := regexp.MustCompile(`href="(/static/app\.[0-9a-f]+\.css)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	req, _ := http.NewRequest("GET", base+string(m[1]), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("stylesheet cache control %q", resp.Header.Get("Cache-Control"))
	}
	return len(b)
}

func TestConflictingEditKeepsTheTypedValuesAndCanBeResolved(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	p := sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	c := sys.Login(t, srv, fp)
	// Someone else saves first.
	other := testkit.ValidPoC()
	other.Agency, other.Version = "Changed by a colleague", 1
	sys.ChangePoC(t, fp.Ctx(), p.ID, other)
	form := url.Values{"version": {"1"}, "level": {"technical"}, "agency": {"My edit"}, "ch_rows": {"1"}, "ch_kind_0": {"email"},
		"ch_value_0": {"cert@example.org"}, "languages": {"en"}, "time_zone": {"Europe/Zurich"}, "available_24_7": {"1"}}
	path := srv.URL + "/pocs/" + strconv.FormatInt(p.ID, 10) + "/edit"
	resp := testkit.PostForm(t, c, path, form)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), `value="My edit"`) || !strings.Contains(string(b), `name="version" value="2"`) {
		t.Fatalf("status %d; the form should keep the typed agency and carry version 2", resp.StatusCode)
	}
	form.Set("version", "2")
	resp = testkit.PostForm(t, c, path, form)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving again: status %d", resp.StatusCode)
	}
	page, err := sys.Directory.Nominations(fp.Ctx(), directory.NominationFilter{Open: true}, app.Cursor{}, 0)
	if err != nil || len(page.List) != 1 {
		t.Fatalf("open nominations: %+v %v", page, err)
	}
	open := page.List
	sys.Validate(t, open[0], nil)
	got, _ := sys.Directory.GetPoC(fp.Ctx(), p.ID)
	if got.Agency != "My edit" {
		t.Errorf("agency %q", got.Agency)
	}
}

func TestLogPageAndReceipts(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	ken := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	c := sys.Login(t, srv, fp)
	resp, body := get(t, c, srv.URL+"/log")
	if resp.StatusCode != 200 || !strings.Contains(body, strings.ReplaceAll(sys.Audit.VerifierKey, "+", "&#43;")) || !strings.Contains(body, "directory.poc.create") || !strings.Contains(body, "— pocdir.test/log ") {
		t.Fatalf("log page: %d\n%s", resp.StatusCode, body)
	}
	_, hist := get(t, c, srv.URL+"/states/FRA/history")
	m := regexp.MustCompile(`href="(/log/receipts/\d+)"`).FindStringSubmatch(hist)
	if m == nil {
		t.Fatal("no receipt link in the history")
	}
	resp, receipt := get(t, c, srv.URL+m[1]+".json")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("receipt: %d", resp.StatusCode)
	}
	if _, err := auditlog.VerifyReceipt([]byte(receipt), sys.Audit.VerifierKey); err != nil {
		t.Errorf("the downloaded receipt does not verify: %v", err)
	}
	t.Run("another State sees the history without receipt links and gets no receipt", func(t *testing.T) {
		ck := sys.Login(t, srv, ken)
		_, hist := get(t, ck, srv.URL+"/states/FRA/history")
		if strings.Contains(hist, "/log/receipts/") {
			t.Error("receipt links shown to another State")
		}
		if resp, _ := get(t, ck, srv.URL+m[1]); resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestLanguageSwitch(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	c := testkit.Client(t)
	resp := testkit.PostForm(t, c, srv.URL+"/language", url.Values{"lang": {"fr"}, "back": {"/login"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := get(t, c, srv.URL+"/login")
	if !strings.Contains(body, `<html lang="fr" dir="ltr">`) {
		t.Error("the login page did not follow the chosen language")
	}
	for _, back := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`, "javascript:alert(1)"} {
		resp := testkit.PostForm(t, c, srv.URL+"/language", url.Values{"lang": {"en"}, "back": {back}})
		resp.Body.Close()
		if resp.Header.Get("Location") != "/" {
			t.Errorf("back=%q redirected to %q", back, resp.Header.Get("Location"))
		}
	}
	resp = testkit.PostForm(t, c, srv.URL+"/language", url.Values{"lang": {"xx"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown language: %d", resp.StatusCode)
	}
	t.Run("a signed-in user's choice is kept in the account", func(t *testing.T) {
		u := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		uc := sys.Login(t, srv, u)
		resp := testkit.PostForm(t, uc, srv.URL+"/language", url.Values{"lang": {"ru"}, "back": {"/directory"}})
		resp.Body.Close()
		got, _ := sys.Accounts.UserByEmail(app.WithActor(context.Background(), app.System), u.Email)
		if got.Language != "ru" {
			t.Errorf("language %q", got.Language)
		}
		_, body := get(t, uc, srv.URL+"/states/FRA")
		if !strings.Contains(body, `<html lang="ru"`) || !strings.Contains(body, "Франция") {
			t.Error("the State page is not in Russian with the State's Russian name")
		}
	})
}

func TestHistoryValuesAreTranslated(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	c := sys.Login(t, srv, fp)
	resp := testkit.PostForm(t, c, srv.URL+"/language", url.Values{"lang": {"fr"}, "back": {"/"}})
	resp.Body.Close()
	_, body := get(t, c, srv.URL+"/states/FRA/history")
	fr := sys.Web.Catalog.For("fr")
	for _, want := range []string{fr.T("level.technical"), fr.T("channel.email") + ": cert@example.org (" + fr.T("poc.preferred") + ")", "français"} {
		if !strings.Contains(body, html.EscapeString(want)) {
			t.Errorf("the French history lacks %q", want)
		}
	}
	if strings.Contains(body, ">technical<") || strings.Contains(body, "email: cert") {
		t.Error("the history shows untranslated values")
	}
}

func TestReconfirmationPage(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	sys.Clock.Advance(400 * 24 * time.Hour)
	c := sys.Login(t, srv, fp)
	_, body := get(t, c, srv.URL+"/directory?q=france")
	if !strings.Contains(body, `<span class="badge bad">Stale</span>`) {
		t.Error("the overdue entry is not marked stale in the directory")
	}
	resp := testkit.PostForm(t, c, srv.URL+"/states/FRA/reconfirm", url.Values{})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("reconfirming without ticking the review box: %d", resp.StatusCode)
	}
	resp = testkit.PostForm(t, c, srv.URL+"/states/FRA/reconfirm", url.Values{"reviewed": {"1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reconfirming: %d", resp.StatusCode)
	}
	_, body = get(t, c, srv.URL+"/states/FRA")
	if !strings.Contains(body, "The entry has been reconfirmed for another year.") || !strings.Contains(body, `<span class="badge ok">Confirmed</span>`) {
		t.Error("the State page does not show the reconfirmation")
	}
	ken := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	kc := sys.Login(t, srv, ken)
	resp = testkit.PostForm(t, kc, srv.URL+"/states/FRA/reconfirm", url.Values{"reviewed": {"1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another State's focal point reconfirmed: %d", resp.StatusCode)
	}
}

func TestThirtyDayRuleIsShown(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	in := testkit.ValidPoC()
	in.EffectiveDate = sys.Clock.Now().AddDate(0, 0, -45).Format("2006-01-02")
	sys.AddPoC(t, fp.Ctx(), "FRA", in)
	c := sys.Login(t, srv, fp)
	_, body := get(t, c, srv.URL+"/states/FRA/history")
	if !strings.Contains(body, "notified 45 days after it took effect: late") {
		t.Error("the history does not show the late change")
	}
	_, body = get(t, c, srv.URL+"/states/FRA")
	if !strings.Contains(body, "notified late: 1 of 1 changes") {
		t.Error("the State page does not show the 30-day rule")
	}
	_, body = get(t, c, srv.URL+"/directory")
	if !strings.Contains(body, "30-day rule: notified late: 1 of 1 changes") {
		t.Error("the directory does not show the 30-day rule in aggregate")
	}
}
