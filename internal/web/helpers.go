package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
)

func init() {
	funcs["dict"] = func(v ...any) []any { return v }
	// duration shows seconds as h:mm:ss, the same in every language.
	funcs["duration"] = func(sec int64) string {
		if sec < 0 {
			sec = 0
		}
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	funcs["fingerprint"] = directory.FormatFingerprint
	funcs["tel"] = func(s string) template.URL { return template.URL(directory.TelURI(s)) }
}

// LangName returns the name of a language tag in the page's language, with
// the language's own name when they differ (so a reader finds their own).
func (p *Page) LangName(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	own := display.Self.Name(t)
	in := display.Tags(language.Make(p.Lang())).Name(t)
	switch {
	case in == "":
		return own
	case own == "" || own == in:
		return in
	}
	return in + " — " + own
}

// LocalTime returns the current time in a time zone, with the zone's
// abbreviation and UTC offset, so a caller knows whether it is office hours.
func (p *Page) LocalTime(zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return ""
	}
	// First-strong isolation keeps "(CET, UTC+01:00)" whole inside
	// right-to-left text.
	return p.T("poc.local_time", "Time", "\u2068"+p.now.In(loc).Format("15:04 (MST, UTC-07:00)")+"\u2069")
}

// TimeIn formats an instant in a time zone with its abbreviation and UTC
// offset, to show a deadline as each State reads it.
func (p *Page) TimeIn(v any, zone string) string {
	t, ok := asTime(v)
	loc, err := time.LoadLocation(zone)
	if !ok || err != nil {
		return ""
	}
	t = t.In(loc)
	return "\u2068" + p.T("format.date", "Day", t.Day(), "Month", p.T("month."+strconv.Itoa(int(t.Month()))), "Year", t.Year()) +
		" " + t.Format("15:04 (MST, UTC-07:00)") + "\u2069"
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, true
	}
	return time.Time{}, false
}

// Date formats a date in the page's language ("2 March 2026", "2 mars
// 2026", "2026年3月2日"), from the catalog's month names and pattern.
func (p *Page) Date(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	t = t.UTC()
	return p.T("format.date", "Day", t.Day(), "Month", p.T("month."+strconv.Itoa(int(t.Month()))), "Year", t.Year())
}

// DateTime formats an instant in the page's language, always in UTC and
// saying so: PoCs in every time zone read the same time.
func (p *Page) DateTime(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	t = t.UTC()
	return p.T("format.datetime", "Date", p.Date(t), "Time", t.Format("15:04")+" UTC")
}

// DateString formats a YYYY-MM-DD date.
func (p *Page) DateString(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return p.Date(t)
}

// Num formats a number with the digit grouping of the page's language, in
// the digits 0–9 that the text around it uses (Arabic pages too: their
// dates, references and addresses are written with them).
func (p *Page) Num(n any) string {
	return message.NewPrinter(language.Make(p.Lang() + "-u-nu-latn")).Sprint(number.Decimal(n))
}

// StateName returns a State's name in the page's language: the reference
// list's UN English name in English, the CLDR name in the other languages.
func (p *Page) StateName(iso2, english string) string {
	return i18n.StateName(p.Lang(), iso2, english)
}

// NameOf returns the name, in the page's language, of the State with the
// ISO 3166-1 alpha-3 code: what people read where a machine keeps a code.
func (p *Page) NameOf(code string) string {
	st, ok := directory.ReferenceState(code)
	if !ok {
		return code
	}
	return i18n.StateName(p.Lang(), st.ISO2, st.Name)
}

// DiffValue shows a value of the history in the page's language: the
// history stores levels, flags, channel kinds and language tags as data,
// which are translated here; what people typed is shown as typed.
func (p *Page) DiffValue(field, v string) string {
	switch field {
	case "level":
		return p.T("level." + v)
	case "alternate", "available_24_7":
		if v == "yes" {
			return p.T("yes")
		}
	case "notes_lang":
		return p.LangName(v)
	case "confirmed_at", "openpgp_expires_at":
		return p.DateString(v)
	case "languages":
		parts := strings.Split(v, ", ")
		for i, l := range parts {
			parts[i] = p.LangName(l)
		}
		return strings.Join(parts, p.T("list.separator"))
	case "channels":
		parts := strings.Split(v, "; ")
		for i, c := range parts {
			kind, value, ok := strings.Cut(c, ": ")
			if !ok {
				continue
			}
			pref := ""
			if strings.HasSuffix(value, " (preferred)") {
				value = strings.TrimSuffix(value, " (preferred)")
				pref = " (" + p.T("poc.preferred") + ")"
			}
			parts[i] = p.T("channel."+kind) + ": " + value + pref
		}
		return strings.Join(parts, "; ")
	}
	return v
}

// Now is the time of the page (the clock of the request), to date what it
// shows: a printed entry says as of when.
func (p *Page) Now() time.Time { return p.now }
