package web

import (
	"html/template"
	"strconv"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/pocdir/pocdir/internal/directory"
)

func init() {
	funcs["dict"] = func(v ...any) []any { return v }
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
	return p.T("poc.local_time", "Time", p.now.In(loc).Format("15:04 (MST, UTC-07:00)"))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
