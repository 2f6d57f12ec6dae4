package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// The browser tests drive Debian's chromium through the real HTTP server, as
// a member of a national delegation would, and check what the pages show.
// Without a browser they skip, unless POCDIR_REQUIRE_BROWSER=1 (CI), where a
// missing browser is a failure.

// browserTimeout bounds each test, browser start included.
const browserTimeout = 180 * time.Second

// browser is one chromium, with its own profile, pointed at one server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// chromiumPath returns the browser to run, or skips (or fails, where a
// browser is required) when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("POCDIR_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
			t.Fatalf("chromium not found at %s (POCDIR_REQUIRE_BROWSER=1): %v", p, err)
		}
		t.Skipf("chromium not found at %s: %v (set POCDIR_CHROMIUM)", p, err)
	}
	return p
}

// newBrowser starts a headless chromium for the test; it is stopped, and its
// profile removed, when the test ends.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir()
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("lang", "en-GB"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser stops before the profile
	// directory (a t.TempDir, registered earlier) is removed.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	return &browser{t: t, ctx: bctx, base: base}
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s (at %s): %v", what, b.location(), err)
	}
}

// open loads a path of the site and returns the final HTTP status (after
// redirects).
func (b *browser) open(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// submit clicks a button or link and waits for the page it leads to; it
// returns that page's HTTP status.
func (b *browser) submit(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s (at %s): %v", sel, b.location(), err)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// location returns the URL of the page shown, read from the navigation
// history so that it works with JavaScript disabled.
func (b *browser) location() string {
	h, err := chromedp.Run(b.ctx, chromedp.NavigationEntries())
	if err != nil || h.CurrentIndex < 0 || int(h.CurrentIndex) >= len(h.Entries) {
		return "?"
	}
	return h.Entries[h.CurrentIndex].URL
}

// path returns the path (and query) of the page shown, without the fragment.
func (b *browser) path() string {
	b.t.Helper()
	u, err := url.Parse(b.location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	u.Fragment = ""
	return strings.TrimPrefix(u.String(), b.base)
}

func (b *browser) wantPath(want string) {
	b.t.Helper()
	if got := b.path(); got != want {
		b.t.Fatalf("page: got %s, want %s\n%s", got, want, b.text("body"))
	}
}

// text returns the rendered text of the first element matching the CSS
// selector, with runs of white space made one.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s (at %s): %v", sel, b.location(), err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// texts returns the rendered text of every element matching the selector.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		b.t.Fatalf("nodes %s (at %s): %v", sel, b.location(), err)
	}
	var out []string
	for _, n := range nodes {
		s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.NodeIDs{n.NodeID}))
		if err != nil {
			b.t.Fatalf("text of %s (at %s): %v", sel, b.location(), err)
		}
		out = append(out, strings.Join(strings.Fields(s), " "))
	}
	return out
}

// count returns how many elements match the selector now, without waiting.
func (b *browser) count(sel string) int {
	b.t.Helper()
	nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		b.t.Fatalf("nodes %s (at %s): %v", sel, b.location(), err)
	}
	return len(nodes)
}

// fill replaces the value of a text field by typing, as a user would.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
	got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	if got != value {
		b.t.Fatalf("field %s: got %q after typing, want %q", sel, got, value)
	}
}

// wantNoHorizontalScroll checks that the page fits the window's width (1280
// px): nothing overflows sideways on a desktop screen.
func (b *browser) wantNoHorizontalScroll() {
	b.t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		b.t.Fatalf("page width: %v", err)
	}
	if w[0] > w[1] {
		b.t.Errorf("%s is %d px wide in a %d px window", b.path(), w[0], w[1])
	}
}

// screenshot saves the page to docs/screenshots when POCDIR_SCREENSHOTS=1, so
// that an ordinary test run writes nothing into the repository. full takes
// the whole page, not only the window.
func (b *browser) screenshot(name string, full bool) {
	b.t.Helper()
	if os.Getenv("POCDIR_SCREENSHOTS") != "1" {
		return
	}
	var (
		buf []byte
		err error
	)
	if full {
		buf, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	} else {
		buf, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%d bytes)", filepath.Join(dir, name), len(buf))
}

// login signs a user in through the two login pages and checks that the
// directory opens. The clock moves on one TOTP step first, so that each
// login uses a fresh code (a code is refused a second time).
func (b *browser) login(sys *testkit.System, u *testkit.User) {
	b.t.Helper()
	sys.Clock.Advance(30 * time.Second)
	b.open("/login")
	b.wantPath("/login")
	b.fill("#f-email", u.Email)
	b.fill("#f-password", testkit.Password)
	b.submit(`main form[action="/login"] button[type=submit]`)
	b.wantPath("/login/totp")
	if got, want := b.text("h1"), "Second factor"; got != want {
		b.t.Fatalf("TOTP page heading: got %q, want %q", got, want)
	}
	b.fill("#f-code", sys.Code(b.t, u))
	b.submit(`main form[action="/login/totp"] button[type=submit]`)
	// Signed in: the inbox, or the page asked for before signing in.
	if p := b.path(); strings.HasPrefix(p, "/login") {
		b.t.Fatalf("still at %s after the second factor", p)
	}
	if got := b.text("footer"); !strings.Contains(got, u.Email) {
		b.t.Fatalf("footer after login: got %q, want the user's email %s", got, u.Email)
	}
}

// logout signs out with the header's button.
func (b *browser) logout() {
	b.t.Helper()
	b.submit(`header form[action="/logout"] button`)
	b.wantPath("/login")
	if got, want := b.text(".flash"), "You have signed out."; got != want {
		b.t.Fatalf("flash after sign-out: got %q, want %q", got, want)
	}
}

func wantContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

func wantNotContains(t *testing.T, what, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%s: %q contains %q", what, got, w)
		}
	}
}

func sqlite(t *testing.T) *testkit.System {
	t.Helper()
	for _, e := range testkit.Engines() {
		if e.Name == "sqlite" {
			return testkit.New(t, e)
		}
	}
	t.Fatal("no SQLite engine")
	return nil
}

func TestBrowserFocalPointEditsPoC(t *testing.T) {
	t.Run("a focal point signs in with password and TOTP, edits a PoC and submits it; the Secretariat validates it; another State sees it and its history", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		officer := sys.User(t, "officer@ken.example", app.RoleOfficer, "KEN")
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		poc := sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		editLink := fmt.Sprintf(`a[href="/pocs/%d/edit"]`, poc.ID)
		const newAgency = "ANSSI / CERT-FR"
		const newEmail = "cert-fr@example.org"

		b := newBrowser(t, srv.URL)

		// A visitor without a session is sent to the login page.
		b.open("/")
		b.wantPath("/login")
		if got, want := b.text("h1"), "Sign in"; got != want {
			t.Fatalf("login heading: got %q, want %q", got, want)
		}
		b.login(sys, fp)
		b.wantPath("/inbox")

		// The directory lists France, with its one technical PoC.
		b.open("/directory")
		if got, want := b.text("h1"), "Directory of Points of Contact"; got != want {
			t.Errorf("directory heading: got %q, want %q", got, want)
		}
		rows := b.texts("main table tbody tr")
		if len(rows) < 190 {
			t.Errorf("directory rows: got %d, want every State (190 or more)", len(rows))
		}
		france := ""
		for _, r := range rows {
			if strings.HasPrefix(r, "France FRA") {
				france = r
			}
		}
		if france == "" {
			t.Fatalf("no row for France among %d rows", len(rows))
		}
		wantContains(t, "France's row", france, "Western European and other States", "OSCE, EU", "yes", "en, fr")
		b.wantNoHorizontalScroll()
		b.screenshot("directory-en.png", false)

		// The filters are a plain GET form.
		b.do("choose a UN group", chromedp.SetValue(chromedp.CSS("#f-group"), "Western European and Others"))
		b.fill("#f-q", "France")
		b.submit(`form.filters button[type=submit]`)
		if u, err := url.Parse(b.path()); err != nil || u.Path != "/directory" || u.Query().Get("q") != "France" || u.Query().Get("group") != "Western European and Others" {
			t.Fatalf("after filtering: at %s, want /directory with q=France and group=Western European and Others", b.path())
		}
		rows = b.texts("main table tbody tr")
		if len(rows) != 1 || !strings.HasPrefix(rows[0], "France FRA") {
			t.Fatalf("filtered directory: got rows %q, want France alone", rows)
		}
		wantContains(t, "filter status", b.text(`main p[role=status]`), "1 State shown of")
		if got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#f-q"))); err != nil || got != "France" {
			t.Errorf("search field after filtering: got %q (%v), want it kept", got, err)
		}

		// The State page shows the PoC, with an Edit link for its focal point.
		b.submit(`main table a[href="/states/FRA"]`)
		b.wantPath("/states/FRA")
		wantContains(t, "State heading", b.text("h1"), "France", "FRA")
		card := b.text("main section.card")
		wantContains(t, "PoC card", card, "Technical", "National CERT", "cert@example.org", "+41 22 917 1234", "24/7")
		if got := b.text(editLink); got != "Edit" {
			t.Errorf("edit link: got %q, want Edit", got)
		}

		// Edit the agency and the e-mail channel.
		b.submit(editLink)
		b.wantPath(fmt.Sprintf("/pocs/%d/edit", poc.ID))
		wantContains(t, "edit form heading", b.text("h1"), "Edit Point of Contact", "France")
		b.fill("#f-agency", newAgency)
		b.fill(`input[name=ch_value_0]`, newEmail)
		if st := b.submit(`main form.stack p.actions button[type=submit]`); st != 200 {
			t.Fatalf("after saving: status %d at %s\n%s", st, b.location(), b.text("main"))
		}
		// The change is a nomination, submitted to the Secretariat.
		nomPath := b.path()
		if !strings.HasPrefix(nomPath, "/nominations/") {
			t.Fatalf("after submitting: at %s, want the nomination's page", nomPath)
		}
		if got, want := b.text("main .flash"), "The change is submitted: the Secretariat will validate it."; got != want {
			t.Errorf("flash: got %q, want %q", got, want)
		}
		wantContains(t, "nomination page", b.text("main"), "Submitted", "National CERT", newAgency, newEmail)

		// The flash is shown once.
		b.open(nomPath)
		if n := b.count("main .flash"); n != 0 {
			t.Errorf("flash on reload: %d, want none", n)
		}

		// Until it is validated, the State's page shows the entry as it was
		// and the pending change; another State sees only the entry.
		const pocCard = `main section.card[aria-labelledby^="poc-"]`
		b.open("/states/FRA")
		wantContains(t, "PoC card before validation", b.text(pocCard), "National CERT", "cert@example.org")
		wantContains(t, "pending changes", b.text("main section.pending"), "1 open change", "PoC changed")
		b.logout()
		b.login(sys, officer)
		b.open("/states/FRA")
		wantContains(t, "PoC card seen by another State before validation", b.text(pocCard), "National CERT")
		wantNotContains(t, "FRA's page seen by another State before validation", b.text("main"), newAgency)
		if n := b.count("main section.pending"); n != 0 {
			t.Errorf("another State sees FRA's pending changes")
		}
		if st := b.open(nomPath); st != 404 {
			t.Errorf("another State opening the nomination: status %d, want 404", st)
		}

		// The Secretariat finds it in its queue and validates it with the
		// official reference.
		b.logout()
		b.login(sys, sec)
		b.open("/nominations")
		b.submit(`main table a[href="` + nomPath + `"]`)
		b.wantPath(nomPath)
		b.fill("#f-reference", "Note verbale No. 42/2026 of 20 November 2026")
		b.submit(`form[action$="/validate"] button[type=submit]`)
		b.wantPath(nomPath)
		if got, want := b.text("main .flash"), "The change is validated and now in the directory."; got != want {
			t.Errorf("flash: got %q, want %q", got, want)
		}
		wantContains(t, "validated nomination", b.text("main"), "Validated", "sec@un.example", "Note verbale No. 42/2026")

		// Now every State sees the new values.
		b.logout()
		b.login(sys, officer)
		b.open("/states/FRA")
		card = b.text(pocCard)
		wantContains(t, "PoC card after validation", card, newAgency, newEmail, "+41 22 917 1234")
		wantNotContains(t, "PoC card after validation", card, "National CERT", "cert@example.org")
		b.wantNoHorizontalScroll()
		b.screenshot("state-en.png", true)

		// The history shows the old and new values, who proposed and who
		// validated them.
		b.submit(`main a[href="/states/FRA/history"]`)
		b.wantPath("/states/FRA/history")
		var changed string
		for _, s := range b.texts("main section.card") {
			if strings.HasPrefix(s, "PoC changed") {
				changed = s
			}
		}
		if changed == "" {
			t.Fatalf("no \"PoC changed\" entry in the history:\n%s", b.text("main"))
		}
		wantContains(t, "history entry", changed, "By fp@fra.example", "Validated by sec@un.example under Note verbale No. 42/2026", "Agency National CERT "+newAgency)
		wantContains(t, "history entry", changed, "cert@example.org", newEmail)
		if got := b.texts("main section.card del"); !contains(got, "National CERT") {
			t.Errorf("struck-out old values: got %q, want National CERT among them", got)
		}
		if got := b.texts("main section.card ins"); !contains(got, newAgency) {
			t.Errorf("inserted new values: got %q, want %q among them", got, newAgency)
		}

		// The officer of another State has no Edit link.
		b.open("/states/FRA")
		if n := b.count(`main a[href^="/pocs/"]:not([href$="/vcard"])`); n != 0 {
			t.Errorf("officer of KEN sees %d edit/remove links on FRA's page, want none", n)
		}
		if n := b.count(`main a[href^="/pocs/"][href$="/vcard"]`); n == 0 {
			t.Error("officer of KEN has no vCard link for FRA's PoC")
		}
		if n := b.count(`main a[href="/states/FRA/pocs/new"]`); n != 0 {
			t.Errorf("officer of KEN sees the add-PoC link on FRA's page")
		}
		wantNotContains(t, "State page seen by an officer", b.text("main"), "Edit")
		if st := b.open(fmt.Sprintf("/pocs/%d/edit", poc.ID)); st != 403 {
			t.Errorf("officer opening the edit form: status %d, want 403", st)
		}
	})
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func TestBrowserInvitation(t *testing.T) {
	t.Run("a new user accepts an invitation and must set up TOTP before seeing anything", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		inv := sys.Invite(t, sec, account.InviteInput{Email: "fp@ken.example", Name: "Wanjiru Kamau", Role: app.RoleFocalPoint, State: "KEN"})
		b := newBrowser(t, srv.URL)

		b.open("/invite/" + inv.Token)
		if got, want := b.text("h1"), "Accept your invitation"; got != want {
			t.Fatalf("invitation heading: got %q, want %q\n%s", got, want, b.text("main"))
		}
		wantContains(t, "invitation", b.text("main"), "fp@ken.example", "Focal point of Kenya")
		b.fill("#f-password", "a long enough passphrase for pocdir")
		b.submit(`main form button[type=submit]`)
		b.wantPath("/enrol/totp")
		if got, want := b.text("h1"), "Set up your authenticator"; got != want {
			t.Fatalf("enrolment heading: got %q, want %q", got, want)
		}

		// Nothing else opens before the second factor is set up.
		for _, p := range []string{"/directory", "/states/KEN", "/account", "/login/totp"} {
			b.open(p)
			if got := b.path(); got != "/enrol/totp" {
				t.Errorf("opening %s before enrolment: landed on %s, want /enrol/totp", p, got)
			}
		}
		if n := b.count("header nav"); n != 0 {
			t.Errorf("navigation shown before enrolment")
		}

		// The page shows the secret as text and as a QR code.
		secret := b.text("#totp-secret")
		if len(secret) < 16 {
			t.Fatalf("TOTP secret: got %q", secret)
		}
		if src, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("main img"), "src")); err != nil || !strings.HasPrefix(src.Value, "data:image/png;base64,") {
			t.Errorf("QR code image: src %q (%v), want a PNG data URL", src.Value, err)
		}
		if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelector("main img").naturalWidth`)); err != nil || w != 200 {
			t.Errorf("QR code image: natural width %d (%v), want 200 (the image loads under the CSP)", w, err)
		}

		code, err := account.TOTPCode(secret, sys.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		// A wrong code is refused, on the same page.
		n, _ := strconv.Atoi(code)
		b.fill("#f-code", fmt.Sprintf("%06d", (n+500000)%1000000))
		b.submit(`main form button[type=submit]`)
		b.wantPath("/enrol/totp")
		wantContains(t, "wrong code", b.text("#e-code"), "Wrong or expired code")
		if got := b.text("#totp-secret"); got != secret {
			t.Errorf("secret changed after a wrong code: %q, then %q", secret, got)
		}

		b.fill("#f-code", code)
		b.submit(`main form button[type=submit]`)
		b.wantPath("/inbox")
		if got, want := b.text("main .flash"), "Your authenticator is set up. Welcome to pocdir."; got != want {
			t.Errorf("flash: got %q, want %q", got, want)
		}
		wantContains(t, "footer", b.text("footer"), "fp@ken.example", "KEN")
		b.open("/states/KEN")
		if n := b.count(`main a[href="/states/KEN/pocs/new"]`); n != 1 {
			t.Errorf("new focal point of KEN: %d add-PoC links on KEN's page, want 1", n)
		}
	})
}

func TestBrowserWithoutJavaScript(t *testing.T) {
	t.Run("the login, second factor, filters and PoC form work with JavaScript disabled", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		poc := sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		b := newBrowser(t, srv.URL)
		if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		// Make sure scripts are really off: a page's script does not run and
		// its <noscript> shows.
		b.do("load a scripted page", chromedp.Navigate(`data:text/html,<title>t</title><p id="js">off</p><script>document.getElementById("js").textContent="on"</script><noscript><p id="ns">no script</p></noscript>`))
		if got := b.text("#js"); got != "off" {
			t.Fatalf("scripts still run: got %q", got)
		}
		if n := b.count("#ns"); n != 1 {
			t.Fatalf("<noscript> not shown: %d", n)
		}

		b.open("/directory")
		b.wantPath("/login")
		b.login(sys, fp)

		b.fill("#f-q", "france")
		b.submit(`form.filters button[type=submit]`)
		if rows := b.texts("main table tbody tr"); len(rows) != 1 || !strings.HasPrefix(rows[0], "France FRA") {
			t.Fatalf("filtered directory: got rows %q, want France alone", rows)
		}

		b.open(fmt.Sprintf("/pocs/%d/edit", poc.ID))
		b.fill("#f-agency", "Agence nationale")
		// The blank rows let a focal point add a channel without script;
		// its kind is chosen with the keyboard, as script is off.
		b.do("choose the channel kind", chromedp.SendKeys(chromedp.CSS(`select[name=ch_kind_2]`), "Tel"))
		if got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`select[name=ch_kind_2]`))); err != nil || got != "phone" {
			t.Fatalf("channel kind of the new row: got %q (%v), want phone", got, err)
		}
		b.fill(`input[name=ch_value_2]`, "+33 1 23 45 67 89")
		b.submit(`main form.stack p.actions button[type=submit]`)
		if !strings.HasPrefix(b.path(), "/nominations/") {
			t.Fatalf("after submitting: at %s", b.path())
		}
		wantContains(t, "nomination", b.text("main"), "Agence nationale", "+33 1 23 45 67 89")
		if got, want := b.text("main .flash"), "The change is submitted: the Secretariat will validate it."; got != want {
			t.Errorf("flash: got %q, want %q", got, want)
		}
		// Revising it brings back the form with what was proposed.
		b.submit(`main a[href$="/edit"]`)
		if got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#f-agency"))); err != nil || got != "Agence nationale" {
			t.Errorf("revision form agency: got %q (%v)", got, err)
		}
		b.open(fmt.Sprintf("/pocs/%d/edit", poc.ID))

		// A form error is shown next to its field, without script.
		b.fill("#f-agency", "")
		if st := b.submit(`main form.stack p.actions button[type=submit]`); st != 400 {
			t.Errorf("empty agency: status %d, want 400", st)
		}
		if got, want := b.text("#e-agency"), "This field is required."; got != want {
			t.Errorf("error next to the agency field: got %q, want %q", got, want)
		}
		wantContains(t, "error summary", b.text("#error-summary"), "Please correct the following:", "This field is required.")

		b.logout()
		b.open("/directory")
		b.wantPath("/login")
	})
}

func TestBrowserCheckCampaign(t *testing.T) {
	t.Run("the Secretariat creates a check campaign, a PoC answers by its link without signing in, and the answer shows in the results", func(t *testing.T) {
		sys, srv := testkit.NewServed(t, testkit.Engines()[0])
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		b := newBrowser(t, srv.URL)
		b.login(sys, sec)
		b.open("/checks")
		b.submit(`main a[href="/checks/new"]`)
		b.wantPath("/checks/new")
		b.fill("#f-title", "Quarterly reachability check")
		b.do("type the message", chromedp.SendKeys(chromedp.CSS("#f-message"), "Please confirm with one click."))
		b.do("choose a list of States", chromedp.Click(chromedp.CSS(`#f-scope-states`)))
		b.fill("#f-value_states", "FRA")
		b.fill("#f-window_hours", "48")
		b.submit(`main form.stack p.actions button[type=submit]`)
		if !strings.HasPrefix(b.path(), "/checks/") {
			t.Fatalf("after creating: at %s\n%s", b.path(), b.text("main"))
		}
		campaign := b.path()
		wantContains(t, "campaign page", b.text("main"), "Quarterly reachability check", "Running", "0 of 1")

		// The background job queues the message; the page shows it.
		if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.open(campaign)
		wantContains(t, "campaign page after dispatch", b.text("main"), "1 of 1", "Waiting")

		// The PoC opens the link from its email in a browser without a session.
		var body string
		if err := sys.DB.QueryRowContext(context.Background(), `SELECT body FROM outbox WHERE kind = 'check'`).Scan(&body); err != nil {
			t.Fatal(err)
		}
		link := regexp.MustCompile(`/check/[A-Za-z0-9_-]{43}`).FindString(body)
		if link == "" {
			t.Fatalf("no link in %s", body)
		}
		b.logout()
		sys.Clock.Advance(90 * time.Minute)
		b.open(link)
		wantContains(t, "answer page", b.text("main"), "Quarterly reachability check", "Please confirm with one click.")
		if n := b.count(`header nav`); n != 0 {
			t.Error("the answer page shows the site's navigation")
		}
		b.submit(`main form button[type=submit]`)
		wantContains(t, "after answering", b.text("main"), "your answer was recorded")
		b.open(link)
		wantContains(t, "the link again", b.text("main"), "your answer was recorded")

		// The Secretariat sees the answer and the time it took.
		b.login(sys, sec)
		b.open(campaign)
		wantContains(t, "results", b.text("main"), "1 answered in time (100 %)", "Answered", "1:30:00")
		b.screenshot("check-en.png", true)
		b.open("/dashboard")
		b.screenshot("dashboard-en.png", true)
	})
}
