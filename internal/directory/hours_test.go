package directory_test

import (
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestHours(t *testing.T) {
	for in, want := range map[string]string{
		"mon-fri 09:00-17:00":                  "mon-fri 09:00-17:00",
		"Mon–Fri 09:00–17:00":                  "mon-fri 09:00-17:00",
		"sun-thu 08:00-16:00; fri 08:00-12:00": "mon-thu,sun 08:00-16:00; fri 08:00-12:00",
		"mon,wed,fri 10:00-24:00":              "mon,wed,fri 10:00-24:00",
		"sat-mon 22:00-06:00":                  "mon,sat-sun 22:00-06:00",
		"  mon-sun   00:00-24:00 ":             "mon-sun 00:00-24:00",
		"mon 09:00-12:00;mon 14:00-18:00":      "mon 09:00-12:00; mon 14:00-18:00",
		"":                                     "",
	} {
		h, err := directory.ParseHours(in)
		if err != nil || h.String() != want {
			t.Errorf("%q: %q, %v (want %q)", in, h.String(), err, want)
		}
	}
	for _, bad := range []string{"9 to 5", "mon-fri", "mon-fri 9:00-17:00", "mon-fri 09:00-09:00", "xyz 09:00-10:00",
		"mon-fri 24:00-06:00", "mon-fri 09:60-10:00", "mon 09:00-10:00 extra", "Monday to Friday, 08:00–18:00",
		"mon 01:00-02:00;mon 01:00-02:00;mon 01:00-02:00;mon 01:00-02:00;mon 01:00-02:00;mon 01:00-02:00;mon 01:00-02:00;mon 01:00-02:00"} {
		if _, err := directory.ParseHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHoursOpen(t *testing.T) {
	office, _ := directory.ParseHours("mon-fri 09:00-17:00")
	night, _ := directory.ParseHours("fri 22:00-06:00")
	// Friday 4 December 2026.
	at := func(zone, clock string) time.Time {
		loc, _ := time.LoadLocation(zone)
		t, _ := time.ParseInLocation("2006-01-02 15:04", clock, loc)
		return t
	}
	cases := []struct {
		h    directory.Hours
		zone string
		t    time.Time
		want bool
	}{
		{office, "Europe/Paris", at("Europe/Paris", "2026-12-04 09:00"), true},
		{office, "Europe/Paris", at("Europe/Paris", "2026-12-04 17:00"), false},
		{office, "Europe/Paris", at("Europe/Paris", "2026-12-05 10:00"), false}, // Saturday
		// 08:30 in Paris is 10:30 in Nairobi: Kenya's office is open.
		{office, "Africa/Nairobi", at("Europe/Paris", "2026-12-04 08:30"), true},
		{office, "America/New_York", at("Europe/Paris", "2026-12-04 08:30"), false},
		{night, "Asia/Tokyo", at("Asia/Tokyo", "2026-12-04 23:00"), true},
		{night, "Asia/Tokyo", at("Asia/Tokyo", "2026-12-05 05:59"), true},
		{night, "Asia/Tokyo", at("Asia/Tokyo", "2026-12-05 06:00"), false},
		{night, "Asia/Tokyo", at("Asia/Tokyo", "2026-12-04 05:00"), false}, // Thursday night was not listed
		{office, "Not/AZone", at("Europe/Paris", "2026-12-04 10:00"), false},
	}
	for i, c := range cases {
		if got := c.h.Open(c.zone, c.t); got != c.want {
			t.Errorf("case %d: %v", i, got)
		}
	}
}

func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"mon-fri 09:00-17:00", "sun-thu 08:00-16:00; fri 08:00-12:00", "sat-mon 22:00-06:00", "mon,wed 00:00-24:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := directory.ParseHours(s)
		if err != nil {
			return
		}
		again, err := directory.ParseHours(h.String())
		if err != nil || again.String() != h.String() {
			t.Fatalf("%q → %q → %q, %v", s, h.String(), again.String(), err)
		}
		_ = h.Open("Europe/Paris", time.Now())
	})
}

func TestZones(t *testing.T) {
	if z := directory.StateZones("BRA"); len(z) < 3 || z[0] != "America/Sao_Paulo" {
		t.Errorf("Brazil: %v", z)
	}
	for code, want := range map[string]string{"FRA": "Europe/Paris", "RUS": "Europe/Moscow", "USA": "America/New_York", "KEN": "Africa/Nairobi", "XXX": "UTC", "": "UTC"} {
		if got := directory.DefaultZone(code); got != want {
			t.Errorf("%s: %s", code, got)
		}
	}
	for in, want := range map[string]string{"Paris": "Europe/Paris", "europe/paris": "Europe/Paris", "São Paulo": "America/Sao_Paulo",
		"sao_paulo": "America/Sao_Paulo", "new york": "America/New_York", "UTC": "UTC", "Asia/Kolkata": "Asia/Kolkata", " Nairobi ": "Africa/Nairobi", "Switzerland": "Europe/Zurich", "brazil": "America/Sao_Paulo"} {
		if got, ok := directory.ResolveTimeZone(in); !ok || got != want {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "Local", "Atlantis", "CET+5", "../../etc/passwd"} {
		if got, ok := directory.ResolveTimeZone(bad); ok {
			t.Errorf("%q resolved to %q", bad, got)
		}
	}
}

func TestResolveLanguage(t *testing.T) {
	for in, want := range map[string]string{"fr": "fr", "French": "fr", "français": "fr", "Francais": "fr", "pt-BR": "pt-BR", "Swahili": "sw",
		"Kiswahili": "sw", "阿拉伯语": "ar", "русский": "ru", "Spanish": "es", "español": "es", "EN": "en", "Dutch": "nl", "Filipino": "fil"} {
		if got, ok := directory.ResolveLanguage(in); !ok || got != want {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "Klingonese", "und", "12"} {
		if got, ok := directory.ResolveLanguage(bad); ok {
			t.Errorf("%q resolved to %q", bad, got)
		}
	}
}

// TestPoCHours: hours are stored in their canonical form, through the
// four-eyes validation, and taken away when the PoC is available 24/7.
func TestPoCHours(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fp := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		in := testkit.ValidPoC()
		in.Available247, in.Hours, in.WorkingHours, in.TimeZone = false, "Mon–Fri 08:00–17:00; sat 09:00-12:00", "Closed on public holidays", "Africa/Nairobi"
		p := sys.AddPoC(t, fp.Ctx(), "KEN", in)
		if p.Hours != "mon-fri 08:00-17:00; sat 09:00-12:00" || p.WorkingHours != "Closed on public holidays" {
			t.Errorf("stored: %q, %q", p.Hours, p.WorkingHours)
		}
		in.Available247 = true
		p = sys.AddPoC(t, fp.Ctx(), "KEN", in)
		if p.Hours != "" || p.WorkingHours != "" {
			t.Errorf("24/7 with hours: %q, %q", p.Hours, p.WorkingHours)
		}
	})
}

// FuzzResolveTyped: what a person types for a time zone or a language
// resolves to a zone Go loads and a tag that parses, or to nothing.
func FuzzResolveTyped(f *testing.F) {
	for _, s := range []string{"Paris", "São Paulo", "europe/zurich", "Switzerland", "français", "Kiswahili", "pt-BR", "阿拉伯语", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if z, ok := directory.ResolveTimeZone(s); ok && !directory.ValidTimeZone(z) {
			t.Fatalf("%q resolved to the zone %q, which does not load", s, z)
		}
		if l, ok := directory.ResolveLanguage(s); ok {
			if _, ok := directory.CanonicalLanguage(l); !ok {
				t.Fatalf("%q resolved to the language %q, which does not parse", s, l)
			}
		}
	})
}
