package offline

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
)

//go:embed page.html
var pageSource string

// pageTemplate is the copy's HTML page. It is parsed once; its words come
// from the catalog through the localizer .L, the names through the
// functions each render binds.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"state":   func(string, string) string { return "" },
	"level":   func(directory.Level) string { return "" },
	"channel": func(directory.ChannelKind) string { return "" },
	"date":    func(time.Time) string { return "" },
}).Parse(pageSource))

// page renders the holder's page: every State in the holder's language
// (Arabic right to left), with its PoCs and their channels, dated.
func (s *Service) page(lang string, at time.Time, cp *auditlog.Checkpoint, entries []*directory.Entry) ([]byte, error) {
	l := s.Catalog.For(lang)
	t, err := pageTemplate.Clone()
	if err != nil {
		return nil, err
	}
	t.Funcs(template.FuncMap{
		"state":   func(iso2, english string) string { return i18n.StateName(lang, iso2, english) },
		"level":   func(v directory.Level) string { return l.T("level." + string(v)) },
		"channel": func(k directory.ChannelKind) string { return l.T("channel." + string(k)) },
		// A date inside a sentence is isolated (FSI … PDI), so that it
		// reads left to right in an Arabic sentence.
		"date": func(t time.Time) string { return "\u2068" + t.UTC().Format("2006-01-02 15:04 UTC") + "\u2069" },
	})
	// States without a PoC are named at the end, so that the page is the
	// PoCs, as the directory page shows them.
	var with, without []*directory.Entry
	for _, e := range entries {
		if len(e.PoCs) > 0 {
			with = append(with, e)
		} else {
			without = append(without, e)
		}
	}
	var b bytes.Buffer
	err = t.Execute(&b, map[string]any{
		"L":       l,
		"Lang":    lang,
		"Dir":     l.Dir(),
		"At":      at,
		"Size":    strconv.FormatInt(cp.Size, 10),
		"Root":    base64.StdEncoding.EncodeToString(cp.Root[:]),
		"Entries": with,
		"Without": without,
	})
	if err != nil {
		return nil, fmt.Errorf("offline: rendering the page: %w", err)
	}
	return b.Bytes(), nil
}
