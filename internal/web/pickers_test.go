package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestPoCFormPickers: the PoC form offers languages by name, the State's
// time zones and working hours as days and times, without JavaScript; what
// a focal point types ("Paris", "Kiswahili") is understood; a half-filled
// row of hours is refused and kept.
func TestPoCFormPickers(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	c := sys.Login(t, srv, fp)

	_, form := get(t, c, srv.URL+"/states/KEN/pocs/new")
	for _, want := range []string{`<option value="Africa/Nairobi" selected>Africa/Nairobi (UTC&#43;03:00)</option>`,
		`name="languages" value="fr"`, `>French — français</span>`, `>Swahili — Kiswahili</span>`,
		`name="h_days_0" value="mon" checked`, `name="h_days_0" value="fri" checked`, `name="h_days_0" value="sat">`, `name="h_from_0" type="time"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	post := func(f url.Values) (*http.Response, string) {
		resp := testkit.PostForm(t, c, srv.URL+"/states/KEN/pocs/new", f)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	f := url.Values{"level": {"technical"}, "agency": {"KE-CIRT/CC"}, "ch_rows": {"1"}, "ch_kind_0": {"email"}, "ch_value_0": {"incidents@ke.example"},
		"languages": {"en"}, "languages_other": {"Kiswahili, français"}, "time_zone": {"Africa/Nairobi"}, "time_zone_other": {"Paris"},
		"h_rows": {"3"}, "h_days_0": {"mon", "tue", "wed", "thu", "fri"}, "h_from_0": {"08:00"}, "h_to_0": {"17:00"},
		"h_days_1": {"sat"}, "h_from_1": {"09:00"}, "h_to_1": {""}, "h_days_2": {"mon"}, "notes_lang": {"en"}}
	resp, page := post(f)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Tick the days and give both times of each row.") ||
		!strings.Contains(page, `name="h_from_1" type="time" value="09:00"`) || !strings.Contains(page, `name="h_days_1" value="sat" checked`) {
		t.Fatalf("a half-filled row: %d\n%s", resp.StatusCode, page)
	}
	f.Set("h_to_1", "12:00")
	resp, _ = post(f)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the corrected form: %d", resp.StatusCode)
	}
	noms, err := sys.Directory.Nominations(fp.Ctx(), directory.NominationFilter{State: "KEN"}, app.Cursor{}, 0)
	if err != nil || len(noms.List) != 1 || noms.List[0].PoC == nil {
		t.Fatalf("%+v, %v", noms, err)
	}
	list := noms.List
	p := list[0].PoC
	if p.TimeZone != "Europe/Paris" || p.Hours != "mon-fri 08:00-17:00; sat 09:00-12:00" || strings.Join(p.Languages, ",") != "en,sw,fr" {
		t.Errorf("stored: %q %q %v", p.TimeZone, p.Hours, p.Languages)
	}
}

// TestHoursInTheReadersZone: a State page shows a PoC's hours in its zone,
// whether it is open now, and the same hours in the reader's zone; a user
// may choose the zone they read times in.
func TestHoursInTheReadersZone(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	off := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	in := testkit.ValidPoC()
	in.Available247, in.Hours, in.TimeZone = false, "mon-fri 09:00-17:00", "Europe/Paris"
	sys.AddPoC(t, fpFRA.Ctx(), "FRA", in)
	c := sys.Login(t, srv, off)
	// The clock: Monday 2 March 2026, 09:00 UTC, 10:00 in Paris, 12:00 in Nairobi.
	_, page := get(t, c, srv.URL+"/states/FRA")
	for _, want := range []string{"Mon–Fri \u206809:00–17:00\u2069", "Available now", "In your time zone: Mon–Fri \u206811:00–19:00\u2069 (Africa/Nairobi)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the State page lacks %q", want)
		}
	}
	_, inbox := get(t, c, srv.URL+"/account")
	if !strings.Contains(inbox, `My State&#39;s time (Africa/Nairobi)`) {
		t.Error("the account page does not offer the State's time")
	}
	// Tokyo: the hours move to the next day.
	resp := testkit.PostForm(t, c, srv.URL+"/account/time-zone", url.Values{"time_zone_other": {"tokyo"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting Tokyo: %d", resp.StatusCode)
	}
	_, page = get(t, c, srv.URL+"/states/FRA")
	if !strings.Contains(page, "In your time zone: Mon–Fri \u206817:00–01:00\u2069 (Asia/Tokyo)") {
		t.Error("the hours are not shown in Tokyo's time")
	}
	if !strings.Contains(page, "2 March 2026, \u206818:00 JST\u2069 · \u206809:00 UTC\u2069") && !strings.Contains(page, "\u206818:00 JST\u2069") {
		t.Error("times are not shown in the reader's zone with UTC beside")
	}
	resp = testkit.PostForm(t, c, srv.URL+"/account/time-zone", url.Values{"time_zone_other": {"Atlantis"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "This is not a time zone pocdir knows") {
		t.Errorf("an unknown zone: %d", resp.StatusCode)
	}
}

// TestBrowserPhonePickers: on a 375 px phone, in Arabic and without
// JavaScript help, a focal point fills the PoC form with its pickers (a
// language ticked, another typed by name, a city for the time zone, rows of
// hours); the directory's rows are cards that fit the screen, and the
// States without a PoC are folded.
func TestBrowserPhonePickers(t *testing.T) {
	sys := sqlite(t)
	srv := sys.Serve(t)
	a11yFixture(t, sys)
	fp := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	b := newBrowser(t, srv.URL)
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 375, Height: 800, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	b.signIn(sys, fp)
	b.do("choose Arabic", chromedp.SetValue(chromedp.CSS("#f-lang-switch"), "ar"))
	b.submit(`footer form.lang-switch button[type=submit]`)

	b.open("/directory")
	b.wantNoHorizontalScroll()
	if n := b.count("details.empty-states[open]"); n != 0 {
		t.Error("the States without a PoC are unfolded")
	}
	if got := b.text("table.cards tbody tr td[data-label]"); got == "" {
		t.Error("no card shows a figure")
	}
	b.screenshot("directory-phone-ar.png", false)

	b.open("/states/KEN/pocs/new")
	b.wantNoHorizontalScroll()
	b.fill("#f-agency", "KE-CIRT/CC")
	b.fill("#f-channels\\.0", "incidents@ke.example")
	b.do("tick English", chromedp.Click(chromedp.CSS(`input[name=languages][value=en]`)))
	b.fill("#f-languages_other", "السواحلية")
	b.fill("#f-time_zone_other", "Nairobi")
	b.do("untick Friday", chromedp.Click(chromedp.CSS(`input[name=h_days_0][value=fri]`)))
	b.do("from", chromedp.SetValue(chromedp.CSS("#f-h_from_0"), "08:00"), chromedp.SetValue(chromedp.CSS("#f-h_to_0"), "17:00"))
	b.do("Friday", chromedp.Click(chromedp.CSS(`input[name=h_days_1][value=fri]`)),
		chromedp.SetValue(chromedp.CSS("#f-h_from_1"), "08:00"), chromedp.SetValue(chromedp.CSS("#f-h_to_1"), "12:30"))
	b.screenshot("poc-form-phone-ar.png", true)
	b.submit(`form.stack button[name=submit]`)
	if !strings.HasPrefix(b.path(), "/nominations/") {
		t.Fatalf("after submitting: %s\n%s", b.path(), b.text("main"))
	}
	noms, err := sys.Directory.Nominations(fp.Ctx(), directory.NominationFilter{State: "KEN"}, app.Cursor{}, 0)
	if err != nil || len(noms.List) != 1 {
		t.Fatalf("%+v, %v", noms, err)
	}
	list := noms.List
	p := list[0].PoC
	if p.Hours != "mon-thu 08:00-17:00; fri 08:00-12:30" || p.TimeZone != "Africa/Nairobi" || strings.Join(p.Languages, ",") != "en,sw" {
		t.Errorf("stored: %q %q %v", p.Hours, p.TimeZone, p.Languages)
	}
}

// TestNotificationChoices: the account page sets how the user hears of new
// work and who stands in while they are away; a delegate of another State
// is refused with the field named.
func TestNotificationChoices(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	off := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	sys.User(t, "duty@ken.example", app.RoleOfficer, "KEN")
	sys.User(t, "off@bra.example", app.RoleOfficer, "BRA")
	c := sys.Login(t, srv, off)
	_, page := get(t, c, srv.URL+"/account")
	if !strings.Contains(page, `<option value="duty@ken.example">`) || strings.Contains(page, "off@bra.example") {
		t.Error("the delegates offered are not Kenya's other users")
	}
	resp := testkit.PostForm(t, c, srv.URL+"/account/notifications", url.Values{"notify_new": {"digest"}, "away_until": {"2026-03-20"}, "delegate": {"off@bra.example"}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "Choose another user of your State.") {
		t.Errorf("a delegate of Brazil: %d", resp.StatusCode)
	}
	resp = testkit.PostForm(t, c, srv.URL+"/account/notifications", url.Values{"notify_new": {"digest"}, "away_until": {"2026-03-20"}, "delegate": {"duty@ken.example"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving: %d", resp.StatusCode)
	}
	_, page = get(t, c, srv.URL+"/account")
	for _, want := range []string{`value="digest" checked`, `name="away_until" type="date" value="2026-03-20"`, `<option value="duty@ken.example" selected>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the account page lacks %q", want)
		}
	}
	p, _ := sys.Accounts.Prefs(off.Ctx())
	// The last day is included: the absence ends at midnight in Nairobi.
	if p.AwayUntil == nil || !p.AwayUntil.Equal(time.Date(2026, 3, 20, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("away until %v", p.AwayUntil)
	}
}

// TestRemovalNamesThePoC: a proposed removal names the PoC it removes in
// the nominations list, the State's page and the inbox, not only "PoC
// removed".
func TestRemovalNamesThePoC(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	in := testkit.ValidPoC()
	in.Agency = "KE-CIRT/CC"
	p := sys.AddPoC(t, fp.Ctx(), "KEN", in)
	if _, err := sys.Directory.ProposePoCRemoval(fp.Ctx(), p.ID, directory.RemovalInput{Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*testkit.User{fp, sec} {
		c := sys.Login(t, srv, u)
		for _, path := range []string{"/nominations", "/states/KEN", "/inbox"} {
			if u == fp && path == "/inbox" {
				continue // a focal point does not decide their own change
			}
			if _, page := get(t, c, srv.URL+path); !strings.Contains(page, `PoC removed</a> · <span dir="auto">KE-CIRT/CC</span>`) &&
				!strings.Contains(page, `PoC removed · <span dir="auto">KE-CIRT/CC</span>`) {
				t.Errorf("%s as %s does not name the PoC removed", path, u.Email)
			}
		}
	}
}

// TestHoursMoveToThePreviousDay: Tokyo's morning is the evening before in
// Paris, so the days move back one.
func TestHoursMoveToThePreviousDay(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fpJPN := sys.User(t, "fp@jpn.example", app.RoleFocalPoint, "JPN")
	off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	in := testkit.ValidPoC()
	in.Available247, in.Hours, in.TimeZone = false, "mon-fri 07:00-16:00", "Asia/Tokyo"
	sys.AddPoC(t, fpJPN.Ctx(), "JPN", in)
	_, page := get(t, sys.Login(t, srv, off), srv.URL+"/states/JPN")
	if want := "In your time zone: Mon–Thu, Sun \u206823:00–08:00\u2069 (Europe/Paris)"; !strings.Contains(page, want) {
		t.Errorf("the State page lacks %q", want)
	}
}
