package directory

import (
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// PickLanguages are the languages the PoC form offers to tick, beyond
// which any BCP 47 tag (or a language's name) may be typed: the six UN
// languages, then the most used working languages of the States.
var PickLanguages = []string{"ar", "zh", "en", "fr", "ru", "es",
	"am", "az", "bn", "bg", "cs", "da", "de", "el", "et", "fa", "fi", "fil", "ha", "he", "hi", "hr", "hu", "hy", "id", "it", "ja",
	"ka", "kk", "km", "ko", "ky", "lo", "lt", "lv", "mg", "mk", "mn", "ms", "my", "ne", "nl", "no", "pl", "ps", "pt", "ro", "rw",
	"si", "sk", "sl", "so", "sq", "sr", "sv", "sw", "ta", "tg", "th", "tk", "tr", "uk", "ur", "uz", "vi"}

var (
	langNamesOnce sync.Once
	langNames     map[string]string // folded name → tag
)

// ResolveLanguage takes what a person types for a language: a BCP 47 tag
// ("fr", "pt-BR") or a language's name in any of the six UN languages or
// in itself ("French", "français", "Kiswahili"). It returns the tag.
func ResolveLanguage(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if tag, ok := CanonicalLanguage(s); ok && !strings.ContainsAny(s, " ") {
		// A name such as "Dutch" is no tag, but "nl" and "pt-BR" are;
		// a long word that parses (a private or odd subtag) is tried as
		// a name first.
		if len(s) <= 3 || strings.Contains(s, "-") {
			return tag, true
		}
	}
	langNamesOnce.Do(func() {
		langNames = map[string]string{}
		for _, tag := range PickLanguages {
			t := language.MustParse(tag)
			langNames[foldName(display.Self.Name(t))] = tag
			for _, ui := range UNLanguages {
				if n := display.Tags(language.MustParse(ui)).Name(t); n != "" {
					langNames[foldName(n)] = tag
				}
			}
		}
	})
	if tag, ok := langNames[foldName(s)]; ok {
		return tag, true
	}
	return CanonicalLanguage(s)
}
