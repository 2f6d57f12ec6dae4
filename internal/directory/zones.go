package directory

import (
	_ "embed"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

//go:embed data/zones.tab
var zonesTab string

var (
	zonesOnce  sync.Once
	stateZones map[string][]string // by ISO 3166-1 alpha-2
	zoneCities map[string]string   // "sao paulo" → America/Sao_Paulo
	stateNames map[string]string   // "switzerland" → CHE
)

func loadZones() {
	stateZones, zoneCities, stateNames = map[string][]string{}, map[string]string{}, map[string]string{}
	if list, err := ReferenceStates(); err == nil {
		for _, st := range list {
			stateNames[foldName(st.Name)] = st.Code
		}
	}
	for _, line := range strings.Split(zonesTab, "\n") {
		iso2, zone, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		stateZones[iso2] = append(stateZones[iso2], zone)
		zoneCities[foldName(zone[strings.LastIndex(zone, "/")+1:])] = zone
	}
}

// StateZones are the time zones of a State (by its alpha-3 code), the one
// of its seat of government first; none for an unknown code.
func StateZones(code string) []string {
	zonesOnce.Do(loadZones)
	st, ok := ReferenceState(code)
	if !ok {
		return nil
	}
	return stateZones[st.ISO2]
}

// DefaultZone is the zone of a State's seat of government, or UTC (for
// the Secretariat, or an unknown code).
func DefaultZone(code string) string {
	if z := StateZones(code); len(z) > 0 {
		return z[0]
	}
	return "UTC"
}

// ResolveTimeZone takes what a person types for a time zone: an IANA name
// ("Europe/Paris", any case), a city the time zone database names
// ("Paris", "sao paulo", "São Paulo", "New York") or a State's English
// name ("Switzerland", for its seat of government's zone). It returns the
// IANA name.
func ResolveTimeZone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 64 || s == "" {
		return "", false
	}
	if ValidTimeZone(s) {
		return s, true
	}
	zonesOnce.Do(loadZones)
	if z, ok := zoneCities[foldName(s[strings.LastIndex(s, "/")+1:])]; ok {
		return z, true
	}
	// A State's name: its seat of government's zone.
	if code, ok := stateNames[foldName(s)]; ok {
		return DefaultZone(code), true
	}
	// "europe/paris": the database's names are case-sensitive.
	for _, zones := range stateZones {
		for _, z := range zones {
			if strings.EqualFold(z, s) {
				return z, true
			}
		}
	}
	return "", false
}

// foldName folds a name (a city, a State, a language) for matching: lower
// case, no accents, "_" and "-" as spaces.
func foldName(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.NewReplacer("_", " ", "-", " ").Replace(strings.ToLower(out))
	return strings.Join(strings.Fields(out), " ")
}

// ZoneOffset writes a zone's offset from UTC at t: "UTC+01:00".
func ZoneOffset(zone string, t time.Time) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return ""
	}
	_, off := t.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return "UTC" + sign + Clock(off/60)
}
