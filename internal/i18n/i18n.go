// Package i18n owns the translation catalogs of the interface (one JSON file
// per language, embedded) and language negotiation. TLP labels, indicators
// and proper names of regional bodies are never put through it.
package i18n

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var locales embed.FS

// Catalog holds every language's messages. Most are plain text, kept as
// strings; go-i18n holds only those with plural forms or template actions,
// since its form of a message (a struct of eleven strings, a map of
// templates) took 6 MB for six languages, half of a serving process's live
// heap, and a map lookup answers a plain one faster than Localize.
type Catalog struct {
	plain   map[string]map[string]string // language → message id → text
	bundle  *goi18n.Bundle
	tags    []language.Tag
	codes   []string
	matcher language.Matcher
	mu      sync.Mutex
	locs    map[string]*Localizer
	keys    map[string]map[string]bool // language → message ids
}

// Load reads the embedded catalogs. English comes first and is the fallback.
func Load() (*Catalog, error) {
	b := goi18n.NewBundle(language.English)
	c := &Catalog{bundle: b, plain: map[string]map[string]string{}, locs: map[string]*Localizer{}, keys: map[string]map[string]bool{}}
	files, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool {
		return strings.HasSuffix(files[i], "/en.json") && !strings.HasSuffix(files[j], "/en.json")
	})
	for _, f := range files {
		data, err := locales.ReadFile(f)
		if err != nil {
			return nil, err
		}
		mf, err := goi18n.ParseMessageFileBytes(data, path.Base(f), map[string]goi18n.UnmarshalFunc{"json": json.Unmarshal})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		code := strings.TrimSuffix(path.Base(f), ".json")
		c.tags = append(c.tags, mf.Tag)
		c.codes = append(c.codes, code)
		ids := map[string]bool{}
		plain := map[string]string{}
		var templated []*goi18n.Message
		for _, m := range mf.Messages {
			ids[m.ID] = true
			if isPlain(m) {
				plain[m.ID] = m.Other
			} else {
				templated = append(templated, m)
			}
		}
		// Every language is added, with no message if it has none
		// templated, so that go-i18n knows its tag.
		if err := b.AddMessages(mf.Tag, templated...); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		c.keys[code] = ids
		c.plain[code] = plain
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

// isPlain reports whether a message reads the same whatever its arguments:
// one form, with no template action in it.
func isPlain(m *goi18n.Message) bool {
	return m.Zero == "" && m.One == "" && m.Two == "" && m.Few == "" && m.Many == "" &&
		m.Other != "" && !strings.Contains(m.Other, cmp.Or(m.LeftDelim, "{{"))
}

// MustLoad is Load for program start-up, where a broken catalog is a bug.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Languages returns the codes of the languages that have a catalog.
func (c *Catalog) Languages() []string { return c.codes }

// Keys returns the message ids of a language (for completeness tests).
func (c *Catalog) Keys(lang string) map[string]bool { return c.keys[lang] }

// Has reports whether lang has a catalog.
func (c *Catalog) Has(lang string) bool {
	_, ok := c.keys[lang]
	return ok
}

// Match picks the supported language for the first of the preferences that
// is set: a user's saved choice, then an Accept-Language header.
func (c *Catalog) Match(preferred string, acceptLanguage string) string {
	if c.Has(preferred) {
		return preferred
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.codes[0]
	}
	// The tag returned by Match may carry extensions; the index names the
	// supported tag itself.
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.codes[0]
	}
	return c.codes[idx]
}

// For returns the localizer of a supported language (English otherwise).
func (c *Catalog) For(lang string) *Localizer {
	if !c.Has(lang) {
		lang = c.codes[0]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.locs[lang]
	if l == nil {
		l = &Localizer{lang: lang, l: goi18n.NewLocalizer(c.bundle, lang), plain: c.plain[lang], fallback: c.plain[c.codes[0]]}
		c.locs[lang] = l
	}
	return l
}

// Localizer translates messages into one language.
type Localizer struct {
	lang string
	l    *goi18n.Localizer
	// plain holds the language's plain messages, fallback English's.
	plain, fallback map[string]string
}

// Lang returns the language code.
func (l *Localizer) Lang() string { return l.lang }

// Dir returns "rtl" for right-to-left languages and "ltr" otherwise.
func (l *Localizer) Dir() string { return Dir(l.lang) }

// Dir returns the writing direction of a language.
func Dir(lang string) string {
	switch lang {
	case "ar", "fa", "he", "ur":
		return "rtl"
	}
	return "ltr"
}

// T returns the message with the id, filled with args given as name/value
// pairs; a "Count" argument selects the plural form. A missing message
// returns its id, which the catalog tests catch.
func (l *Localizer) T(id string, args ...any) string {
	if s, ok := l.plain[id]; ok {
		return s
	}
	var data map[string]any
	var count any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
			if k == "Count" {
				count = args[i+1]
			}
		}
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil && count != nil {
		// A message without plural forms that takes a Count (as in "{{.Count}}
		// of {{.Total}}") has only "other": without the plural count it reads.
		s, err = l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	}
	if err != nil || s == "" {
		// Missing here and in English's templated messages: English's
		// plain text, as go-i18n falls back to English for the others.
		if s, ok := l.fallback[id]; ok {
			return s
		}
		return id
	}
	return s
}

// TMap is T with the arguments in a map, as carried by application errors.
func (l *Localizer) TMap(id string, args map[string]any) string {
	var list []any
	for k, v := range args {
		list = append(list, k, v)
	}
	return l.T(id, list...)
}
