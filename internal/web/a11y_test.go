package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/exercises"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// The accessibility scan runs axe-core (from the npm registry, installed
// outside the repository and never served by pocdir) on every page a user can
// reach, in English and in Arabic, and wants no violation of WCAG 2.2 AA.
// CI installs it with:
//
//	npm install --prefix ~/.cache/pocdir-axe axe-core@4

// axeDefault is where `npm install --prefix ~/.cache/pocdir-axe axe-core@4`
// puts the script, under the home directory (/root for CI's root user);
// POCDIR_AXE_JS names another file.
const axeDefault = ".cache/pocdir-axe/node_modules/axe-core/axe.min.js"

// axeSource returns axe-core's script, or skips (fails where a browser is
// required) when it is not installed.
func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv("POCDIR_AXE_JS")
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "/root"
		}
		p = filepath.Join(home, axeDefault)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		msg := fmt.Sprintf("axe-core not found at %s: %v (npm install --prefix ~/.cache/pocdir-axe axe-core@4, or set POCDIR_AXE_JS)", p, err)
		if os.Getenv("POCDIR_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (POCDIR_REQUIRE_BROWSER=1)")
		}
		t.Skip(msg)
	}
	return string(b)
}

// axeRun runs the WCAG 2.0, 2.1 and 2.2 A and AA rules on the document and
// keeps of the result what a failure message needs.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}, resultTypes: ['violations']})
.then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.map(String).join(' '), html: n.html.slice(0, 200), summary: n.failureSummary || ''}))}))}))`

type axeResult struct {
	Passes     int `json:"passes"`
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target  string `json:"target"`
			HTML    string `json:"html"`
			Summary string `json:"summary"`
		} `json:"nodes"`
	} `json:"violations"`
}

// a11y scans pages in one browser, in one language.
type a11y struct {
	*browser
	axe  string
	lang string
}

// scan checks that the page shown is in the expected language and direction,
// then runs axe-core on it and reports every violation as an error.
func (b *a11y) scan(name string) {
	b.t.Helper()
	name = fmt.Sprintf("%s [%s] (at %s)", name, b.lang, b.path())
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, document.documentElement.dir]`))
	if err != nil {
		b.t.Fatalf("%s: html lang and dir: %v", name, err)
	}
	wantDir := "ltr"
	if b.lang == "ar" {
		wantDir = "rtl"
	}
	if got[0] != b.lang || got[1] != wantDir {
		b.t.Errorf("%s: <html lang=%q dir=%q>, want lang=%q dir=%q", name, got[0], got[1], b.lang, wantDir)
	}
	// DevTools evaluation is not subject to the page's CSP, which allows no
	// script at all. Each page load starts without axe.
	b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](`if (typeof axe === 'undefined') {`+b.axe+"\n}; void 0"))
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[axeResult](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe.run: %v", name, err)
	}
	if len(res.Violations) == 0 {
		b.t.Logf("%s: no violation (%d rules pass)", name, res.Passes)
		return
	}
	var sb strings.Builder
	for _, v := range res.Violations {
		fmt.Fprintf(&sb, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "\n    %s: %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	b.t.Errorf("%s: %d axe-core violations:%s", name, len(res.Violations), sb.String())
}

// visit opens a page, checks its status and scans it.
func (b *a11y) visit(path string, status int64) {
	b.t.Helper()
	if got := b.open(path); got != status {
		b.t.Errorf("GET %s: status %d, want %d", path, got, status)
	}
	b.scan(path)
}

// reflow narrows the window to 320 CSS pixels (WCAG 1.4.10: a 1280 px
// screen zoomed to 400 %) and checks that each page fits its width, only
// data tables scrolling, each within its own region. A page where a region
// scrolls is scanned again: the region must then be reachable by keyboard.
func (b *a11y) reflow(paths ...string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 320, Height: 640, DeviceScaleFactor: 1}); err != nil {
		b.t.Fatal(err)
	}
	defer chromedp.Call(b.ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	for _, p := range paths {
		b.open(p)
		b.wantNoHorizontalScroll()
		scrolls, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll(".table-wrap")].some(e => e.scrollWidth > e.clientWidth)`))
		if err != nil {
			b.t.Fatal(err)
		}
		if scrolls {
			b.scan(p + " at 320 px")
		}
	}
}

// wantChartsReadable checks the page's charts (at least want of them):
// every label lies within its picture, in Arabic too, where a label
// anchored at its start would run off the left edge; and in forced-colours
// mode every label is drawn in the system's text colour, where a fixed
// colour could vanish on the user's background.
func (b *a11y) wantChartsReadable(want int) {
	b.t.Helper()
	if n := b.count("svg.chart"); n < want {
		b.t.Errorf("%s: %d charts, want %d", b.path(), n, want)
	}
	outside, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg.chart")].flatMap(svg => {
  const w = svg.viewBox.baseVal.width, h = svg.viewBox.baseVal.height;
  return [...svg.querySelectorAll("text")].map(t => [t, t.getBBox()])
    .filter(([t, r]) => r.width === 0 || r.x < -0.5 || r.x + r.width > w + 0.5 || r.y < -0.5 || r.y + r.height > h + 0.5)
    .map(([t, r]) => t.textContent + " at x " + Math.round(r.x) + ", " + Math.round(r.width) + " wide, in " + svg.getAttribute("aria-labelledby"));
})`))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, o := range outside {
		b.t.Errorf("%s [%s]: a chart's label runs off its picture: %s", b.path(), b.lang, o)
	}
	forced := func(on bool) {
		b.t.Helper()
		p := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "forced-colors", Value: "none"}}}
		if on {
			p.Features[0].Value = "active"
		}
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, p); err != nil {
			b.t.Fatal(err)
		}
	}
	forced(true)
	defer forced(false)
	wrong, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
  const probe = document.createElement("span");
  probe.style.color = "CanvasText";
  document.body.append(probe);
  const want = getComputedStyle(probe).color;
  probe.remove();
  if (!matchMedia("(forced-colors: active)").matches) return ["forced colours are not emulated"];
  return [...document.querySelectorAll("svg.chart text")].map(t => [t.textContent, getComputedStyle(t).fill])
    .filter(([, fill]) => fill !== want).map(([text, fill]) => text + ": " + fill + ", want " + want);
})()`))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, o := range wrong {
		b.t.Errorf("%s [%s] in forced colours: %s", b.path(), b.lang, o)
	}
}

// wantAxeWorks checks that the scan finds a violation where there is one: a
// field without a label.
func (b *a11y) wantAxeWorks() {
	b.t.Helper()
	b.do("load a page with a faulty form", chromedp.Navigate(`data:text/html,<!doctype html><html lang="en"><title>t</title><main><h1>t</h1><input name="q"></main></html>`))
	b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](b.axe+"\n; void 0"))
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[axeResult](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe.run: %v", err)
	}
	var ids []string
	for _, v := range res.Violations {
		ids = append(ids, v.ID)
	}
	if !contains(ids, "label") {
		b.t.Fatalf("axe-core on a field without a label: got violations %q, want label among them", ids)
	}
}

// signIn is login without typing: the values are set, not keyed in, which
// saves a second per sign-in in tests that sign in only to reach the pages.
func (b *browser) signIn(sys *testkit.System, u *testkit.User) {
	b.t.Helper()
	sys.Clock.Advance(30 * time.Second)
	b.open("/login")
	b.do("give the email and password", chromedp.SetValue(chromedp.CSS("#f-email"), u.Email), chromedp.SetValue(chromedp.CSS("#f-password"), testkit.Password))
	b.submit(`main form[action="/login"] button[type=submit]`)
	b.wantPath("/login/totp")
	b.do("give the code", chromedp.SetValue(chromedp.CSS("#f-code"), sys.Code(b.t, u)))
	b.submit(`main form[action="/login/totp"] button[type=submit]`)
	if u.Role == app.RoleObserver {
		b.wantPath("/directory") // an observer has no inbox
		return
	}
	b.wantPath("/inbox")
}

// switchLanguage picks a language with the switcher at the foot of the page;
// the scans that follow want the page in that language.
func (b *a11y) switchLanguage(lang string) {
	b.t.Helper()
	b.do("choose the language "+lang, chromedp.SetValue(chromedp.CSS("#f-lang-switch"), lang))
	b.submit(`footer form.lang-switch button[type=submit]`)
	b.lang = lang
}

// a11yComms adds a communication from Kenya to France, acknowledged and
// disputed, and one from France to Kenya: it returns their ids.
func a11yComms(t *testing.T, sys *testkit.System) (in, out int64) {
	t.Helper()
	fpKEN := sys.User(t, "a11y@ken.example", app.RoleFocalPoint, "KEN")
	offFRA := sys.User(t, "a11y@fra.example", app.RoleOfficer, "FRA")
	sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
	c := comms.CommInput{Template: "notification", ToStates: []string{"FRA"}, Level: comms.LevelTechnical, Fields: map[string]string{
		"subject": "Scanning from your space", "urgency": "high", "tlp": comms.TLPAmber, "respond_by": sys.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339),
		"description": "Scanning of our ministries.", "affected_systems": "Mail servers", "indicators": "198.51.100.7\nevil.example\nmalware: Emotet"},
		Attachments: []*comms.Attachment{{Name: "notes.txt", Data: []byte("first seen on 20 November")}}}
	x, err := sys.Comms.Compose(fpKEN.Ctx(), c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Comms.Acknowledge(offFRA.Ctx(), x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Comms.Reply(offFRA.Ctx(), x.ID, comms.OutcomeDisputed, "Not from our space."); err != nil {
		t.Fatal(err)
	}
	c.ToStates, c.Fields["subject"] = []string{"KEN"}, "Phishing kit"
	y, err := sys.Comms.Compose(offFRA.Ctx(), c)
	if err != nil {
		t.Fatal(err)
	}
	return x.ID, y.ID
}

// a11yMailAct makes a communication to France acknowledged through its
// email's link (an unverified act by email, which France's users may
// confirm or reject), and returns it with the acknowledgement token of the
// communication out's line (a page with its button).
func a11yMailAct(t *testing.T, sys *testkit.System, out int64) (int64, string) {
	t.Helper()
	fpKEN := sys.User(t, "a11y2@ken.example", app.RoleFocalPoint, "KEN")
	c, err := sys.Comms.Compose(fpKEN.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"FRA"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Acknowledged by email", "urgency": "low", "tlp": comms.TLPGreen, "description": "A scan."}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Comms.AcknowledgeByLink(context.Background(), ackToken(t, sys, c.ID), ""); err != nil {
		t.Fatal(err)
	}
	return c.ID, ackToken(t, sys, out)
}

// ackToken reads the acknowledgement link's token from the notification of
// a communication's first line, as its PoC would from the email.
func ackToken(t *testing.T, sys *testkit.System, comm int64) string {
	t.Helper()
	var body string
	if err := sys.DB.QueryRow(`SELECT o.body FROM outbox o JOIN comm_recipients r ON r.outbox_id = o.id WHERE r.comm_id = $1 ORDER BY r.id LIMIT 1`, comm).Scan(&body); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`/ack/([a-z2-7]{40})`).FindStringSubmatch(body)
	if token == nil {
		t.Fatalf("no acknowledgement link in\n%s", body)
	}
	return token[1]
}

// a11yFixture fills a system with what makes most parts of the pages show:
// PoCs of both levels, one of them changed, with notes in two languages and a
// regional reference, and an entry with notes; it returns the changed PoC.
func a11yFixture(t *testing.T, sys *testkit.System) (poc *directory.PoC) {
	t.Helper()
	setup := sys.User(t, "setup@fra.example", app.RoleFocalPoint, "FRA")
	in := testkit.ValidPoC()
	in.Notes = directory.Text{Lang: "fr", Text: "Joignable par le standard du ministère.", English: "Reachable through the ministry's switchboard."}
	in.RegionalRefs = []directory.RegionalRef{{Body: "OSCE", Ref: "CBM 8"}}
	poc = sys.AddPoC(t, setup.Ctx(), "FRA", in)
	in.Agency = "Agence nationale de la sécurité des systèmes d'information"
	poc = sys.ChangePoC(t, setup.Ctx(), poc.ID, in)
	dipl := directory.PoCInput{Level: directory.LevelDiplomatic, Alternate: true, Agency: "Ministère de l'Europe et des Affaires étrangères",
		Channels:  []directory.Channel{{Kind: directory.ChannelEmail, Value: "cyber@diplomatie.example", Preferred: true}},
		Languages: []string{"fr", "en"}, TimeZone: "Europe/Paris", WorkingHours: "Mon–Fri 09:00–18:00"}
	sys.AddPoC(t, setup.Ctx(), "FRA", dipl)
	sys.ChangeEntry(t, setup.Ctx(), "FRA", directory.EntryInput{InitiateVia: "Permanent Mission in Geneva",
		Notes: directory.Text{Lang: "fr", Text: "Passer par la mission.", English: "Go through the mission."}})
	return poc
}

func TestBrowserAccessibility(t *testing.T) {
	axe := axeSource(t)
	chromiumPath(t)
	langs := []string{"en", "ar"}

	// Each kind of user has its own system (and clock, so that parallel
	// logins do not move each other's TOTP step) and its own browser, which
	// goes through the pages in English, then switches to Arabic with the
	// footer's form and goes through them again.
	t.Run("a visitor's pages have no WCAG 2.2 AA violation in English and Arabic", func(t *testing.T) {
		t.Parallel()
		sys := sqlite(t)
		srv := sys.Serve(t)
		inviter := sys.User(t, "inviter@un.example", app.RoleSecretariat, "")
		u := sys.User(t, "visitor@fra.example", app.RoleOfficer, "FRA")
		b := &a11y{browser: newBrowser(t, srv.URL), axe: axe}
		b.wantAxeWorks()
		for _, lang := range langs {
			inv := sys.Invite(t, inviter, account.InviteInput{Email: "new-" + lang + "@ken.example", Name: "Wanjiru Kamau", Role: app.RoleFocalPoint, State: "KEN"})
			b.open("/login")
			b.switchLanguage(lang)
			b.wantPath("/login")
			b.scan("login")
			b.fill("#f-email", u.Email)
			b.fill("#f-password", "not the password")
			b.submit(`main form[action="/login"] button[type=submit]`)
			b.scan("login with a wrong password")
			b.fill("#f-password", testkit.Password)
			b.submit(`main form[action="/login"] button[type=submit]`)
			b.wantPath("/login/totp")
			b.scan("second factor")
			b.fill("#f-code", "000000")
			b.submit(`main form[action="/login/totp"] button[type=submit]`)
			b.scan("second factor with a wrong code")

			// The invitation is opened by someone without a session.
			b.dropSession()
			b.visit("/invite/"+inv.Token, 200)
			// A password that is the email address passes the browser's
			// checks and is refused by the server.
			b.fill("#f-password", inv.Email)
			b.submit(`main form button[type=submit]`)
			b.scan("invitation with a refused password")
			b.fill("#f-password", "a long enough passphrase for pocdir")
			b.submit(`main form button[type=submit]`)
			b.wantPath("/enrol/totp")
			b.scan("authenticator set-up")
			b.fill("#f-code", "000000")
			b.submit(`main form button[type=submit]`)
			b.scan("authenticator set-up with a wrong code")
			b.dropSession()
			b.open("/invite/not-a-token")
			b.scan("unknown invitation")
		}
	})

	t.Run("the Secretariat's pages have no WCAG 2.2 AA violation in English and Arabic", func(t *testing.T) {
		t.Parallel()
		sys := sqlite(t)
		srv := sys.Serve(t)
		a11yFixture(t, sys)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		if _, err := sys.Accounts.Invite(sec.Ctx(), account.InviteInput{Email: "new@ken.example", Role: app.RoleFocalPoint, State: "KEN"}); err != nil {
			t.Fatal(err)
		}
		// A check campaign with an answer, a bounce and a manual one.
		for _, ch := range []string{"email", "manual"} {
			if _, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Reachability " + ch, Scope: "all", Channel: ch, WindowHours: 24}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		commIn, _ := a11yComms(t, sys)
		// An OSCE list, matched to the fixture's PoCs.
		imp, err := sys.Regional.Import(sec.Ctx(), []byte("body,state,ref,agency,function,level,channels\n"+
			"OSCE,FRA,FR-1,Agence nationale,Duty officer,technical,email:cert@fra.example\n"+
			"OSCE,FRA,FR-2,Cybercrime unit,Head,incident-reporting,email:cc@fra.example;phone:+33 1 00 00 00 00\n"))
		if err != nil {
			t.Fatal(err)
		}
		exercise := a11yExercise(t, sys)
		proposals := a11yProposals(t, sys)
		b := &a11y{browser: newBrowser(t, srv.URL), axe: axe}
		b.signIn(sys, sec)
		for _, lang := range langs {
			b.open("/directory")
			b.switchLanguage(lang)
			b.wantPath("/directory")
			b.scan("directory")
			b.visit("/directory?"+url.Values{"q": {"France"}, "group": {"Western European and Others"}, "level": {"technical"}, "h247": {"1"}}.Encode(), 200)
			b.visit("/directory?q=nowhere", 200)
			b.visit("/states/FRA", 200)
			b.visit("/states/FRA/history", 200)
			b.visit("/states/KEN", 200)
			b.visit("/users", 200)
			// A later page of each list: both pagers, each named apart.
			b.visit("/users?q=example&before=4102444800000000000_1&inv_before=4102444800000000000_1", 200)
			b.visit("/states/FRA/history?before=4102444800000000000_1", 200)
			b.visit("/log?before=3", 200)
			b.visit("/invitations/new", 200)
			b.submit(`main form button[type=submit]`)
			b.scan("invitation form with errors")
			b.fill("#f-email", "fp-"+lang+"@bra.example")
			b.do("choose the State", chromedp.SetValue(chromedp.CSS("#f-state"), "BRA"))
			b.submit(`main form button[type=submit]`)
			b.scan("invitation created")
			b.visit("/account", 200)
			b.visit("/log", 200)
			b.visit("/admin/outbox", 200)
			b.visit("/states/XXX", 404)
			b.visit("/states/FRA/edit", 200)
			b.visit("/dashboard", 200)
			b.wantChartsReadable(4)
			b.visit("/nominations?status=all", 200)
			b.visit("/nominations/1", 200)
			b.visit("/checks", 200)
			b.wantChartsReadable(1)
			b.visit("/checks/new", 200)
			b.submit(`main form.stack p.actions button[type=submit]`)
			b.scan("check form with errors")
			b.visit("/checks/1", 200)
			b.visit("/checks/2", 200)
			b.visit("/templates", 200)
			b.visit("/templates/1", 200)
			b.visit("/templates/1/edit", 200)
			b.visit("/comms", 200)
			b.visit(fmt.Sprintf("/comms/%d", commIn), 200)
			b.visit("/inbox", 200)
			b.visit(fmt.Sprintf("/regional/imports/%d", imp.ID), 200)
			b.visit("/regional", 200)
			b.submit(`main form.stack button[type=submit]`)
			b.scan("regional import without a file")
			b.visit("/regional/bodies/OSCE", 200)
			b.visit("/states/FRA/regional", 200)
			b.visit("/cii", 200)
			b.visit("/exercises", 200)
			b.visit("/exercises/new", 200)
			b.submit(`main form.stack p.actions button[type=submit]`)
			b.scan("exercise form with errors")
			b.visit(exercise, 200)
			b.visit(exercise+"/report", 200)
			b.wantChartsReadable(1)
			for _, p := range proposals {
				b.visit(p, 200)
			}
			b.reflow("/inbox", "/users", "/invitations/new", "/admin/outbox", "/log", "/dashboard", "/nominations?status=all", "/checks/1", "/checks/new",
				exercise+"/report", "/regional", "/regional/bodies/OSCE")
		}
	})

	// The log and a receipt with every kind of object: a PoC, a
	// communication, a check, a routing preference. A run of its own, not
	// parallel: it runs before the parallel runs start, and leaves them
	// the machine (each browser has its time budget).
	t.Run("the accountability log and a receipt have no WCAG 2.2 AA violation in English and Arabic", func(t *testing.T) {
		f := newLogFixture(t)
		receipt := fmt.Sprintf("/log/receipts/%d", *f.comm.LogIndex)
		b := &a11y{browser: newBrowser(t, f.srv.URL), axe: axe}
		b.signIn(f.sys, f.fpFRA)
		for _, lang := range langs {
			b.open("/log")
			b.switchLanguage(lang)
			b.wantPath("/log")
			b.scan("log")
			b.visit(receipt, 200)
			b.reflow("/log", receipt)
		}
	})

	// Capacity-building, as the Secretariat and as a focal point: a run of
	// its own, before the parallel runs, as the log's is.
	t.Run("the capacity-building pages have no WCAG 2.2 AA violation in English and Arabic", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		capacityFixture(t, sys)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@irn.example", app.RoleFocalPoint, "IRN")
		for _, u := range []*testkit.User{sec, fp} {
			b := &a11y{browser: newBrowser(t, srv.URL), axe: axe}
			b.signIn(sys, u)
			for _, lang := range langs {
				b.open("/capacity")
				b.switchLanguage(lang)
				b.wantPath("/capacity")
				b.scan("capacity")
				// A later page of each of the four lists: four pagers,
				// each named apart.
				b.visit("/capacity?need_before=4102444800000000000_1&offer_before=4102444800000000000_1&match_before=4102444800000000000_1&activity_before=4102444800000000000_1", 200)
				b.visit("/capacity/activities/1", 200)
				b.visit("/capacity/offers/new", 200)
				b.submit(`main form.stack p.actions button[type=submit]`)
				b.scan("offer form with errors")
				if u == sec {
					b.visit("/capacity/progress", 200)
					b.wantChartsReadable(2)
					b.reflow("/capacity", "/capacity/progress")
				} else {
					b.visit("/capacity/needs/new", 200)
					b.submit(`main form.stack p.actions button[type=submit]`)
					b.scan("need form with errors")
					b.reflow("/capacity", "/capacity/needs/new")
				}
			}
		}
	})

	// An observer's few pages, and the Secretariat's page of observers
	// (with a grant in force and a proposal waiting): a run of its own,
	// before the parallel runs, as the log's is.
	t.Run("an observer's pages have no WCAG 2.2 AA violation in English and Arabic", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		a11yFixture(t, sys)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		obs := sys.Observer(t, "osce@osce.example", "OSCE Secretariat", sec, account.GrantInput{States: []string{"FRA"}, Offers: true})
		if _, err := sys.Accounts.ProposeGrant(sys.Approver(t).Ctx(), obs.ID, account.GrantInput{States: []string{"FRA", "KEN"}}); err != nil {
			t.Fatal(err)
		}
		bs := &a11y{browser: newBrowser(t, srv.URL), axe: axe}
		bs.signIn(sys, sec)
		for _, lang := range langs {
			bs.open("/observers")
			bs.switchLanguage(lang)
			bs.wantPath("/observers")
			bs.scan("observers")
			bs.reflow("/observers")
		}
		b := &a11y{browser: newBrowser(t, srv.URL), axe: axe}
		b.signIn(sys, obs)
		for _, lang := range langs {
			b.open("/directory")
			b.switchLanguage(lang)
			b.wantPath("/directory")
			b.scan("directory")
			b.visit("/states/FRA", 200)
			b.visit("/capacity", 200)
			b.visit("/account", 200)
			b.visit("/states/KEN", 403)
			b.visit("/comms", 403)
			b.reflow("/directory", "/states/FRA", "/capacity", "/account")
		}
	})

	t.Run("a focal point's pages have no WCAG 2.2 AA violation in English and Arabic", func(t *testing.T) {
		t.Parallel()
		sys := sqlite(t)
		srv := sys.Serve(t)
		poc := a11yFixture(t, sys)
		commIn, commOut := a11yComms(t, sys)
		byMail, ackOut := a11yMailAct(t, sys, commOut)
		exercise := a11yExercise(t, sys)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		// A draft France proposes for France and Kenya.
		start := sys.Clock.Now().Add(24 * time.Hour)
		draft, err := sys.Exercises.Propose(fp.Ctx(), exercises.Input{Name: "Francophone drill", StartsAt: start, EndsAt: start.Add(24 * time.Hour),
			TargetAckMinutes: 30, TargetAnswerMinutes: 120, Participants: []exercises.Participant{{State: "FRA"}, {State: "KEN"}}})
		if err != nil {
			t.Fatal(err)
		}
		// A communication that waits for the sender's confirmation.
		review, err := sys.Comms.Compose(fp.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical, Review: true,
			Fields: map[string]string{"subject": "Phishing of ministries", "urgency": "high", "tlp": comms.TLPAmber, "description": "Phishing.",
				"respond_by": sys.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339), "indicators": "198.51.100.9"}})
		if err != nil {
			t.Fatal(err)
		}
		// France's list of critical information infrastructure, with an
		// own sector in French.
		if _, err := sys.CII.Publish(fp.Ctx(), "FRA", cii.Input{Sectors: []cii.Sector{{Key: "energy", Note: directory.Text{Lang: "en", Text: "The grid"}},
			{Name: directory.Text{Lang: "fr", Text: "Vins et spiritueux", English: "Wines and spirits"}}},
			Criteria: directory.Text{Lang: "fr", Text: "Plus d'un million de personnes", English: "Over a million people"}}); err != nil {
			t.Fatal(err)
		}
		// Something in France's inbox: a critical notification to acknowledge.
		offKEN := sys.User(t, "a11y-off@ken.example", app.RoleOfficer, "KEN")
		if _, err := sys.Comms.Compose(offKEN.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"FRA"}, Level: comms.LevelTechnical,
			Fields: map[string]string{"subject": "Ransomware", "urgency": "critical", "tlp": comms.TLPGreen, "description": "Ransomware in our hospitals."}}); err != nil {
			t.Fatal(err)
		}
		// The account page with a key of the user's own, and the offline
		// copy page with the copy to it and the copies by e-mail turned on.
		if _, err := sys.Accounts.SetOpenPGPKey(fp.Ctx(), testkit.NewKeyPair(t, "Focal point", fp.Email).Public); err != nil {
			t.Fatal(err)
		}
		if err := sys.Offline.SetMailing(fp.Ctx(), "FRA", true); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Offline.MailCopies(context.Background()); err != nil {
			t.Fatal(err)
		}
		b := &a11y{browser: newBrowser(t, srv.URL), axe: axe}
		b.signIn(sys, fp)
		for _, lang := range langs {
			b.open("/directory")
			b.switchLanguage(lang)
			b.wantPath("/directory")
			b.scan("directory")
			b.visit("/directory?"+url.Values{"q": {"fra"}, "body": {"OSCE"}, "lang": {"fr"}}.Encode(), 200)
			b.visit("/inbox", 200)
			b.visit("/states/FRA", 200)
			b.visit("/states/FRA/history", 200)
			b.visit("/nominations", 200)
			b.visit("/nominations/1", 200)
			b.visit("/checks", 200)
			b.visit("/exercises", 200)
			b.visit(exercise, 200)
			b.visit(exercise+"/report", 200)
			b.visit("/capacity/needs/new?exercise="+strings.TrimPrefix(exercise, "/exercises/")+"&finding=note-1", 200)
			b.visit("/exercises/new", 200)
			b.visit(fmt.Sprintf("/exercises/%d", draft.ID), 200)
			b.visit("/check/notavalidlinknotavalidlinknotavalidlink", 404)
			b.visit("/templates/2", 200)
			b.visit("/comms", 200)
			b.visit("/comms?box=in&q=scan", 200)
			b.visit("/comms/new", 200)
			b.visit("/comms/new?template=notification", 200)
			b.submit(`main button[name=action][value=send]`)
			b.scan("compose form with errors")
			b.visit(fmt.Sprintf("/comms/%d/confirm", review.ID), 200)
			b.visit(fmt.Sprintf("/comms/%d", commIn), 200)
			b.visit(fmt.Sprintf("/comms/%d/ack", commOut+100), 404)
			b.visit(fmt.Sprintf("/comms/%d", byMail), 200)
			b.visit("/ack/"+ackOut, 200)
			b.visit("/ack/"+strings.Repeat("a", 32), 404)
			b.visit(fmt.Sprintf("/comms/%d", commOut), 200)
			b.visit(fmt.Sprintf("/comms/new?parent=%d", commIn), 200)
			b.visit("/comms/routing", 200)
			b.visit("/cii", 200)
			b.visit("/states/FRA/cii", 200)
			b.visit("/states/KEN/cii", 200)
			b.visit("/states/FRA/cii/edit", 200)
			// A French name without its English is refused.
			b.fill(`input[name="own_name_en.0"]`, "")
			b.submit(`main form.stack button[type=submit]`)
			b.scan("critical infrastructure form with errors")
			b.visit("/states/FRA/edit", 200)
			// Notes without their English translation are refused.
			b.fill("#f-notes_en", "")
			b.submit(`main form.stack p.actions button[type=submit]`)
			b.scan("entry form with errors")
			b.visit("/states/FRA/pocs/new", 200)
			b.submit(`main form.stack p.actions button[type=submit]`)
			b.scan("new PoC form with errors")
			b.visit(fmt.Sprintf("/pocs/%d/edit", poc.ID), 200)
			b.visit(fmt.Sprintf("/pocs/%d/remove", poc.ID), 200)
			b.visit("/users", 200)
			b.visit("/invitations/new", 200)
			b.visit("/account", 200)
			b.visit("/offline-copy", 200)
			b.visit("/log", 200)
			b.visit("/admin/outbox", 403)
			b.visit("/states/XXX", 404)
			b.reflow("/directory?q=fr", "/states/FRA", "/states/FRA/history", "/states/FRA/pocs/new", "/account", "/offline-copy", "/comms", fmt.Sprintf("/comms/%d", commIn), "/comms/new?template=notification", "/cii", "/states/FRA/cii/edit")
		}
	})
}

// dropSession forgets the session cookie (and keeps the language cookie).
func (b *browser) dropSession() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: "pocdir_session", URL: b.base}); err != nil {
		b.t.Fatal(err)
	}
}

// a11yExercise plans an exercise in which France and Kenya take part,
// with one inject released and one planned, and an after-action note; it
// returns the exercise's page.
// a11yProposals makes exercises France proposes for France and Kenya: a
// draft to agree to, one another Secretariat officer agreed to (to
// confirm), and one withdrawn; it returns their pages. The first two wait
// in the Secretariat's inbox.
func a11yProposals(t *testing.T, sys *testkit.System) []string {
	t.Helper()
	fp := sys.User(t, "a11y-fp@fra.example", app.RoleFocalPoint, "FRA")
	sec2 := sys.User(t, "a11y-sec2@un.example", app.RoleSecretariat, "")
	start := sys.Clock.Now().Add(24 * time.Hour)
	var out []string
	for i, step := range []string{"draft", "agreed once", "withdrawn"} {
		e, err := sys.Exercises.Propose(fp.Ctx(), exercises.Input{Name: fmt.Sprintf("Francophone drill %d", i+1), StartsAt: start, EndsAt: start.Add(24 * time.Hour),
			TargetAckMinutes: 30, TargetAnswerMinutes: 120, Participants: []exercises.Participant{{State: "FRA"}, {State: "KEN"}}})
		if err != nil {
			t.Fatal(err)
		}
		switch step {
		case "agreed once":
			_, err = sys.Exercises.Agree(sec2.Ctx(), e.ID)
		case "withdrawn":
			_, err = sys.Exercises.Withdraw(fp.Ctx(), e.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("/exercises/%d", e.ID))
	}
	return out
}

func a11yExercise(t *testing.T, sys *testkit.System) string {
	t.Helper()
	sec := sys.User(t, "a11y-sec@un.example", app.RoleSecretariat, "")
	now := sys.Clock.Now()
	e, err := sys.Exercises.Plan(sec.Ctx(), exercises.Input{Name: "Exercise Blue Harbour", Objectives: "Reach every PoC within the hour.",
		StartsAt: now, EndsAt: now.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
		Participants: []exercises.Participant{{State: "FRA", Level: "technical"}, {State: "KEN", Level: "technical"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := exercises.InjectInput{Template: "exercise", Fields: map[string]string{"subject": "Scenario: the port's cranes stopped", "urgency": "high",
		"tlp": comms.TLPGreen, "description": "Scenario text."}}
	first, err := sys.Exercises.AddInject(sec.Ctx(), e.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Exercises.AddInject(sec.Ctx(), e.ID, in); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Exercises.Release(sec.Ctx(), e.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Exercises.SetNote(sec.Ctx(), e.ID, "Kenya's alternate PoC was not reached."); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/exercises/%d", e.ID)
}
