package web

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
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
	loc, err := zoneLoc(zone)
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
	loc, err := zoneLoc(zone)
	if !ok || err != nil {
		return ""
	}
	t = t.In(loc)
	return "\u2068" + p.T("format.date", "Day", t.Day(), "Month", p.T("month."+strconv.Itoa(int(t.Month()))), "Year", t.Year()) +
		" " + t.Format("15:04 (MST, UTC-07:00)") + "\u2069"
}

// SortLangs sorts language tags by their names in the page's language.
func (p *Page) SortLangs(tags []string) []string {
	out := slices.Clone(tags)
	col := collate.New(language.Make(p.Lang()))
	slices.SortFunc(out, func(a, b string) int { return col.CompareString(p.LangName(a), p.LangName(b)) })
	return out
}

// ZoneOffset is a zone's offset from UTC now ("UTC+01:00").
func (p *Page) ZoneOffset(zone string) string { return directory.ZoneOffset(zone, p.now) }

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, true
	case string: // as stored in a communication's fields
		u, err := time.Parse(time.RFC3339, t)
		return u, err == nil
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
	return p.dateOf(t.UTC())
}

// dateOf formats the date of t as it is in t's zone.
func (p *Page) dateOf(t time.Time) string {
	return p.T("format.date", "Day", t.Day(), "Month", p.T("month."+strconv.Itoa(int(t.Month()))), "Year", t.Year())
}

// zones keeps the time zones loaded: time.LoadLocation reads and parses
// the zone's data at each call (14 µs), and a page shows up to hundreds of
// times.
var zones sync.Map

// zoneLoc is time.LoadLocation, remembered.
func zoneLoc(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// Zone is the time zone the reader reads times in: the one they chose,
// else their State's seat of government's; UTC for the Secretariat and
// visitors.
func (p *Page) Zone() string {
	if a := p.Actor; a != nil {
		if a.TimeZone != "" {
			return a.TimeZone
		}
		if a.State != "" {
			return directory.DefaultZone(a.State)
		}
	}
	return "UTC"
}

// DateTime formats an instant in the page's language and the reader's
// time zone, with UTC beside it ("5 December 2026, 14:00 CET · 13:00
// UTC"), so that PoCs in every zone can quote the same time; in UTC alone
// for a reader who reads UTC.
func (p *Page) DateTime(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	u := t.UTC()
	zone := p.Zone()
	loc, err := zoneLoc(zone)
	if zone == "UTC" || err != nil {
		return p.T("format.datetime", "Date", p.dateOf(u), "Time", u.Format("15:04")+" UTC")
	}
	l := t.In(loc)
	utc := u.Format("15:04") + " UTC"
	if u.YearDay() != l.YearDay() {
		utc = p.dateOf(u) + " " + utc
	}
	// First-strong isolation keeps each time whole inside right-to-left text.
	return p.T("format.datetime", "Date", p.dateOf(l), "Time", "\u2068"+l.Format("15:04")+" "+zoneName(l)+"\u2069 · \u2068"+utc+"\u2069")
}

// zoneName is a time's zone abbreviation where the database has a real
// one (CET, EST), else its offset (UTC+03:00).
func zoneName(t time.Time) string {
	if n := t.Format("MST"); n != "" && n[0] != '+' && n[0] != '-' {
		return n
	}
	return "UTC" + t.Format("-07:00")
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
	if code == comms.SecretariatSender {
		return p.T("role.secretariat") // the sender of exercise injects
	}
	st, ok := directory.ReferenceState(code)
	if !ok {
		return code
	}
	return i18n.StateName(p.Lang(), st.ISO2, st.Name)
}

// Choice shows a choice field's answer: a reference list's entry in the
// page's language or, for a recipient's own sector, the name the sender's
// form gave (own) and whose list it is from.
func (p *Page) Choice(list, v, own string) string {
	if ref, ok := cii.ParseRef(v); ok && ref.State != "" && own != "" {
		return own + " (" + p.T("cii.own_sector_of", "State", p.NameOf(ref.State)) + ")"
	}
	return p.T("list." + list + "." + v)
}

// NamesOf names States by their codes, in the page's language, joined.
func (p *Page) NamesOf(codes []string) string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = p.NameOf(c)
	}
	return strings.Join(names, ", ")
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

// hoursView is a PoC's working hours as a reader sees them: in the PoC's
// zone, whether it is open now, and the same hours in the reader's zone
// when it differs.
type hoursView struct {
	Text, Yours string
	Open        bool
}

// HoursOf shows a PoC's structured working hours; nil when it has none.
func (p *Page) HoursOf(poc *directory.PoC) *hoursView {
	h, err := directory.ParseHours(poc.Hours)
	if err != nil || len(h) == 0 {
		return nil
	}
	v := &hoursView{Text: p.hoursText(h), Open: h.Open(poc.TimeZone, p.now)}
	from, err1 := zoneLoc(poc.TimeZone)
	to, err2 := zoneLoc(p.Zone())
	if err1 != nil || err2 != nil {
		return v
	}
	// The same hours this week in the reader's zone: the days move with
	// the start of each range when it falls on another day there.
	_, offFrom := p.now.In(from).Zone()
	_, offTo := p.now.In(to).Zone()
	if offFrom == offTo {
		return v
	}
	base := p.now.In(from)
	midnight := time.Date(base.Year(), base.Month(), base.Day(), 0, 0, 0, 0, from)
	var yours directory.Hours
	for _, sp := range h {
		start := midnight.Add(time.Duration(sp.From) * time.Minute).In(to)
		end := midnight.Add(time.Duration(sp.To) * time.Minute).In(to)
		// The start's day there, against the day here: -1, 0 or +1 (as 6, 0, 1).
		days := int(civil(start).Sub(civil(base)).Hours() / 24)
		shift := (days%7 + 7) % 7
		var ns directory.Span
		for d, on := range sp.Days {
			if on {
				ns.Days[(d+shift)%7] = true
			}
		}
		ns.From, ns.To = start.Hour()*60+start.Minute(), end.Hour()*60+end.Minute()
		yours = append(yours, ns)
	}
	v.Yours = p.hoursText(yours) + " (" + p.Zone() + ")"
	return v
}

// civil is t's calendar day, as midnight UTC, to count days between dates
// of different zones.
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// hoursText writes hours in the page's language: "Mon–Fri 09:00–17:00".
func (p *Page) hoursText(h directory.Hours) string {
	parts := make([]string, 0, len(h))
	for _, sp := range h {
		var runs []string
		for _, r := range sp.Runs() {
			name := p.T("day." + dayKeys[r[0]])
			if r[1] != r[0] {
				name += "–" + p.T("day."+dayKeys[r[1]])
			}
			runs = append(runs, name)
		}
		parts = append(parts, strings.Join(runs, ", ")+" \u2068"+directory.Clock(sp.From)+"–"+directory.Clock(sp.To)+"\u2069")
	}
	return strings.Join(parts, "; ")
}
