package i18n

import (
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// StateName returns a State's name in a language: the reference list's UN
// English name (english) in English, the CLDR name of its ISO 3166-1
// alpha-2 region (iso2) in the other languages, and the English name when
// CLDR has none.
func StateName(lang, iso2, english string) string {
	if lang == "en" {
		return english
	}
	r, err := language.ParseRegion(iso2)
	if err != nil {
		return english
	}
	if n := display.Regions(language.Make(lang)).Name(r); n != "" {
		return n
	}
	return english
}
