package directory

import (
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
)

// Field length limits. They are generous for real entries and stop abuse.
const (
	maxShort     = 200
	maxChannel   = 500
	maxNotes     = 4000
	maxChannels  = 20
	maxLanguages = 12
	maxRefs      = 12
	maxPGPKey    = notify.MaxPublicKey
	// futureHorizon is how far ahead a change may be dated (a planned change).
	futureHorizon = 90 * 24 * time.Hour
)

// TelURI returns the tel: URI (RFC 3966) of a valid phone number: the digits
// with their +, and the extension as ";ext=".
func TelURI(s string) string {
	num, ext := s, ""
	if i := strings.Index(strings.ToLower(s), "ext"); i >= 0 {
		num, ext = s[:i], strings.TrimLeft(s[i+3:], ". ")
	}
	var b strings.Builder
	b.WriteString("tel:")
	for _, r := range num {
		if r == '+' || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if ext != "" {
		b.WriteString(";ext=")
		for _, r := range ext {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// ValidPhone reports whether s is an international phone number: a leading +,
// then 7 to 15 digits, optionally grouped by spaces, hyphens, dots or
// parentheses, and an optional extension ("ext. 123").
func ValidPhone(s string) bool {
	if !strings.HasPrefix(s, "+") || len(s) > 40 {
		return false
	}
	num := s[1:]
	if i := strings.Index(strings.ToLower(num), "ext"); i >= 0 {
		ext := strings.TrimLeft(num[i+3:], ". ")
		if ext == "" || strings.Trim(ext, "0123456789") != "" {
			return false
		}
		num = num[:i]
	}
	digits := 0
	for _, r := range num {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

// CanonicalLanguage parses a BCP 47 tag and returns its canonical form.
func CanonicalLanguage(s string) (string, bool) {
	if s == "" || len(s) > 35 {
		return "", false
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	// Base guesses a language for "und" (undetermined), so the tag itself is
	// checked too.
	if b, conf := t.Base(); conf == language.No || b.String() == "und" || t.String() == "und" || strings.HasPrefix(t.String(), "und-") {
		return "", false
	}
	return t.String(), true
}

// ValidTimeZone reports whether s names an IANA time zone.
func ValidTimeZone(s string) bool {
	if s == "" || s == "Local" || len(s) > 64 {
		return false
	}
	_, err := time.LoadLocation(s)
	return err == nil
}

// ParseEffectiveDate parses a YYYY-MM-DD date; empty means today. A date
// further ahead than the horizon is refused.
func ParseEffectiveDate(s string, now time.Time) (string, error) {
	if s == "" {
		return now.Format(time.DateOnly), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", app.FieldError("effective_date", "error.date", "not a date (YYYY-MM-DD)", nil)
	}
	if d.After(now.Add(futureHorizon)) {
		return "", app.FieldError("effective_date", "error.date_future", "the date is too far in the future", map[string]any{"Days": int(futureHorizon.Hours() / 24)})
	}
	if d.Year() < 2000 {
		return "", app.FieldError("effective_date", "error.date_past", "the date is too far in the past", nil)
	}
	return d.Format(time.DateOnly), nil
}

// CheckLen validates one line or block of free text: required or not, valid
// UTF-8, no NUL, at most max characters.
func CheckLen(v *app.Validation, field, s string, max int, required bool) {
	checkLen(v, field, s, max, required)
}

func checkLen(v *app.Validation, field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "error.required", "this field is required", nil)
	case !utf8.ValidString(s):
		v.Add(field, "error.encoding", "the text is not valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "error.too_long", "too long", map[string]any{"Max": max})
	case strings.ContainsAny(s, "\x00"):
		v.Add(field, "error.encoding", "the text contains a NUL character", nil)
	}
}

// CheckLanguages validates a list of languages as the PoC form takes them
// (BCP 47 tags, at least one, at most 12) and returns their canonical tags
// without repeats: what another capability that asks for languages uses.
func CheckLanguages(v *app.Validation, field string, list []string) []string {
	var langs []string
	seen := map[string]bool{}
	for _, l := range list {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		c, ok := CanonicalLanguage(l)
		if !ok {
			v.Add(field, "error.language_tag", "not a BCP 47 language tag (e.g. en, fr, zh-Hans)", map[string]any{"Value": l})
			continue
		}
		if !seen[c] {
			seen[c] = true
			langs = append(langs, c)
		}
	}
	if len(langs) == 0 && !v.HasField(field) {
		v.Add(field, "error.language_required", "give at least one operational language", nil)
	}
	if len(langs) > maxLanguages {
		v.Add(field, "error.too_many", "too many entries", map[string]any{"Max": maxLanguages})
	}
	return langs
}

// CheckText validates free text in a UN language with its English
// translation, as an entry's notes are, with max characters each.
func CheckText(v *app.Validation, field string, t *Text, max int) {
	checkTextMax(v, field, t, max)
}

func checkText(v *app.Validation, field string, t *Text) { checkTextMax(v, field, t, maxNotes) }

func checkTextMax(v *app.Validation, field string, t *Text, max int) {
	t.Text = strings.TrimSpace(t.Text)
	t.English = strings.TrimSpace(t.English)
	checkLen(v, field, t.Text, max, false)
	checkLen(v, field+"_en", t.English, max, false)
	if t.Text == "" && t.English == "" {
		t.Lang = ""
		return
	}
	if t.Lang == "" {
		t.Lang = "en"
	}
	known := false
	for _, l := range UNLanguages {
		if l == t.Lang {
			known = true
		}
	}
	if !known {
		v.Add(field+"_lang", "error.un_language", "must be one of the six UN languages", nil)
		return
	}
	if t.Lang == "en" {
		if t.Text == "" {
			t.Text, t.English = t.English, ""
		}
		t.English = ""
		return
	}
	if t.English == "" {
		v.Add(field+"_en", "error.english_required", "an English translation is required", nil)
	}
}

// normalize trims the input and validates it, returning every field error.
func (in *PoCInput) normalize(now time.Time) (pgp *notify.KeyInfo, effective string, err error) {
	var v app.Validation
	in.Agency = strings.TrimSpace(in.Agency)
	in.FunctionTitle = strings.TrimSpace(in.FunctionTitle)
	in.PersonName = strings.TrimSpace(in.PersonName)
	in.WorkingHours = strings.TrimSpace(in.WorkingHours)
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if !in.Level.Valid() {
		v.Add("level", "error.level", "choose a level", nil)
	}
	checkLen(&v, "agency", in.Agency, maxShort, true)
	checkLen(&v, "function_title", in.FunctionTitle, maxShort, false)
	checkLen(&v, "person_name", in.PersonName, maxShort, false)
	checkLen(&v, "working_hours", in.WorkingHours, maxShort, false)
	if !ValidTimeZone(in.TimeZone) {
		v.Add("time_zone", "error.time_zone", "not an IANA time zone (e.g. Europe/Zurich)", nil)
	}
	if h, err := ParseHours(in.Hours); err != nil {
		v.Add("hours", "error.hours", "write days and times, e.g. mon-fri 09:00-17:00", nil)
	} else {
		in.Hours = h.String()
	}
	if !in.Available247 && in.WorkingHours == "" && in.Hours == "" {
		v.Add("hours", "error.hours_or_247", "give working hours or mark the PoC available 24/7", nil)
	}
	// Channels.
	var chans []Channel
	for _, c := range in.Channels {
		c.Value = strings.TrimSpace(c.Value)
		if c.Value == "" {
			continue
		}
		chans = append(chans, c)
	}
	in.Channels = chans
	if len(chans) == 0 {
		v.Add("channels", "error.channel_required", "give at least one channel", nil)
	}
	if len(chans) > maxChannels {
		v.Add("channels", "error.too_many", "too many entries", map[string]any{"Max": maxChannels})
	}
	for i, c := range chans {
		field := "channels." + itoa(i)
		switch c.Kind {
		case ChannelEmail:
			if !app.ValidEmail(c.Value) {
				v.Add(field, "error.email", "not a valid email address", nil)
			}
		case ChannelPhone, ChannelFax:
			if !ValidPhone(c.Value) {
				v.Add(field, "error.phone", "not an international phone number (e.g. +41 22 917 1234)", nil)
			}
		case ChannelSecure, ChannelDiplomatic, ChannelOther:
			checkLen(&v, field, c.Value, maxChannel, true)
		default:
			v.Add(field, "error.channel_kind", "unknown channel kind", nil)
		}
	}
	in.Languages = CheckLanguages(&v, "languages", in.Languages)
	checkText(&v, "notes", &in.Notes)
	// Regional references.
	var refs []RegionalRef
	for i, r := range in.RegionalRefs {
		r.Body = strings.TrimSpace(r.Body)
		r.Ref = strings.TrimSpace(r.Ref)
		if r.Body == "" && r.Ref == "" {
			continue
		}
		field := "regional_refs." + itoa(i)
		if !knownBody(r.Body) {
			v.Add(field, "error.body", "unknown regional body", nil)
		}
		checkLen(&v, field, r.Ref, maxShort, true)
		refs = append(refs, r)
	}
	if len(refs) > maxRefs {
		v.Add("regional_refs", "error.too_many", "too many entries", map[string]any{"Max": maxRefs})
	}
	in.RegionalRefs = refs
	// OpenPGP key.
	in.PGPKey = strings.TrimSpace(in.PGPKey)
	if in.PGPKey != "" {
		if len(in.PGPKey) > maxPGPKey {
			v.Add("openpgp_key", "error.too_long", "too long", map[string]any{"Max": maxPGPKey})
		} else if k, err := notify.ParsePublicKey(in.PGPKey, now); err != nil {
			ae := app.AsError(err)
			v.Add("openpgp_key", ae.Key, ae.Message, ae.Args)
		} else {
			pgp = k
		}
	}
	eff, err := ParseEffectiveDate(in.EffectiveDate, now)
	if err != nil {
		ae := app.AsError(err)
		v.Add(ae.Field, ae.Key, ae.Message, ae.Args)
	}
	return pgp, eff, v.Err()
}

func (in *EntryInput) normalize(now time.Time) (string, error) {
	var v app.Validation
	in.InitiateVia = strings.TrimSpace(in.InitiateVia)
	checkLen(&v, "initiate_via", in.InitiateVia, maxChannel, false)
	checkText(&v, "notes", &in.Notes)
	eff, err := ParseEffectiveDate(in.EffectiveDate, now)
	if err != nil {
		ae := app.AsError(err)
		v.Add(ae.Field, ae.Key, ae.Message, ae.Args)
	}
	return eff, v.Err()
}

func knownBody(b string) bool {
	for _, k := range Bodies {
		if k == b {
			return true
		}
	}
	return false
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
