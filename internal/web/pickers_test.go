package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
	list, err := sys.Directory.Nominations(fp.Ctx(), directory.NominationFilter{State: "KEN"})
	if err != nil || len(list) != 1 || list[0].PoC == nil {
		t.Fatalf("%d nominations, %v", len(list), err)
	}
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
