package web

import (
	"html"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/i18n"
)

type langOption struct{ Code, Name string }

type directoryData struct {
	Status     *directory.Status
	Compliance *directory.Compliance
	Filter     directory.Filter
	States     []*directory.Summary
	Total      int
	Groups     []string
	Bodies     []string
	Levels     []directory.Level
	Languages  []langOption
	// Rows is the table body, rendered in Go: with 195 States it is the
	// largest piece of any page, and reflection in the template engine made
	// it twenty times slower.
	Rows template.HTML
	// EmptyRows are the States without a PoC yet, folded below the others
	// (most of the list while the network grows); OpenEmpty unfolds them
	// when the reader searched, or when no State has a PoC.
	EmptyRows  template.HTML
	EmptyCount int
	OpenEmpty  bool
	// Exports link to the downloads of the States listed, with the
	// page's filters.
	Exports []exportLink
}

// exportLink is a link to a download in one format.
type exportLink struct {
	Format export.Format
	Href   string
}

// exportLinks are the links to a download in each format; query holds the
// filters, if any.
func exportLinks(path, query string) []exportLink {
	var out []exportLink
	for _, f := range export.Formats {
		href := path + "?format=" + string(f)
		if query != "" {
			href += "&" + query
		}
		out = append(out, exportLink{Format: f, Href: href})
	}
	return out
}

func (s *Server) directoryPage(w http.ResponseWriter, r *http.Request) {
	f := directoryFilter(r)
	all, err := s.Directory.List(r.Context(), directory.Filter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Directory.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "directory.title", nil)
	d := &directoryData{Filter: f, States: list, Total: len(all), Groups: directory.Groups, Bodies: directory.Bodies, Levels: directory.Levels}
	// An observer reads the entries granted to it, and nothing about the
	// directory as a whole: no figures, no exports.
	if p.Actor.IsMember() {
		if d.Status, err = s.Directory.Status(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
		if d.Compliance, err = s.Directory.Compliance(r.Context(), ""); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Exports = exportLinks("/directory/export", export.FilterQuery(f))
	}
	seen := map[string]bool{}
	for _, st := range all {
		for _, l := range st.Languages {
			if !seen[l] {
				seen[l] = true
				d.Languages = append(d.Languages, langOption{Code: l, Name: p.LangName(l)})
			}
		}
	}
	sort.Slice(d.Languages, func(i, j int) bool { return d.Languages[i].Name < d.Languages[j].Name })
	sortByName(p.Lang(), list)
	var with, without []*directory.Summary
	for _, st := range list {
		if st.PoCCount > 0 {
			with = append(with, st)
		} else {
			without = append(without, st)
		}
	}
	d.EmptyCount, d.OpenEmpty = len(without), f.Query != "" || len(with) == 0
	if len(with) > 0 || len(without) == 0 {
		d.Rows = directoryRows(p, with)
	}
	d.EmptyRows = emptyRows(p, without)
	p.Data = d
	s.render(w, r, http.StatusOK, "directory.html", p)
}

func directoryRows(p *Page, list []*directory.Summary) template.HTML {
	if len(list) == 0 {
		return template.HTML(`<tr><td colspan="9">` + html.EscapeString(p.T("directory.none")) + `</td></tr>`)
	}
	groups := map[string]string{}
	for _, g := range directory.Groups {
		groups[g] = html.EscapeString(p.T("group." + g))
	}
	observer := ` <span class="badge alt">` + html.EscapeString(p.T("state.observer")) + `</span>`
	yes := html.EscapeString(p.T("yes"))
	stale := ` <span class="badge bad">` + html.EscapeString(p.T("freshness.overdue")) + `</span>`
	dueSoon := ` <span class="badge warn">` + html.EscapeString(p.T("freshness.due-soon")) + `</span>`
	var b strings.Builder
	b.Grow(len(list) * 400)
	// On a phone each row is a card, each cell under its column's name.
	labels := []string{p.T("field.un_group"), p.T("field.regional_bodies"), p.T("level.diplomatic"), p.T("level.technical"),
		p.T("directory.other_pocs"), "24/7", p.T("field.languages")}
	for i, l := range labels {
		labels[i] = `<td data-label="` + html.EscapeString(l) + `">`
	}
	n := 0
	cell := func(s string) {
		if s == "" {
			b.WriteString(`<td class="blank">`)
		} else {
			b.WriteString(labels[n])
			b.WriteString(s)
		}
		b.WriteString("</td>")
		n++
	}
	for _, st := range list {
		n = 0
		code := html.EscapeString(st.Code)
		b.WriteString(`<tr><th scope="row"><a href="/states/`)
		b.WriteString(code)
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(p.StateName(st.ISO2, st.Name)))
		b.WriteString("</a>")
		if st.Status == "observer" {
			b.WriteString(observer)
		}
		switch st.Freshness {
		case directory.FreshOverdue:
			b.WriteString(stale)
		case directory.FreshDueSoon:
			b.WriteString(dueSoon)
		}
		b.WriteString(`</th><td class="mono">`)
		b.WriteString(code)
		b.WriteString("</td>")
		cell(groups[st.Group])
		cell(html.EscapeString(strings.Join(st.Bodies, ", ")))
		cell(count(st.Diplomatic()))
		cell(count(st.Technical()))
		cell(count(st.Other()))
		if st.Has247 {
			cell(yes)
		} else {
			cell("")
		}
		cell(html.EscapeString(strings.Join(st.Languages, ", ")))
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String())
}

// emptyRows are the rows of the States without a PoC: their name, code,
// group and regional bodies.
func emptyRows(p *Page, list []*directory.Summary) template.HTML {
	var b strings.Builder
	b.Grow(len(list) * 160)
	for _, st := range list {
		code := html.EscapeString(st.Code)
		b.WriteString(`<tr><th scope="row"><a href="/states/`)
		b.WriteString(code)
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(p.StateName(st.ISO2, st.Name)))
		b.WriteString(`</a></th><td class="mono">`)
		b.WriteString(code)
		b.WriteString(`</td><td>`)
		b.WriteString(html.EscapeString(p.T("group." + st.Group)))
		b.WriteString(`</td><td>`)
		b.WriteString(html.EscapeString(strings.Join(st.Bodies, ", ")))
		b.WriteString("</td></tr>\n")
	}
	return template.HTML(b.String())
}

// count shows a number of PoCs, leaving zero blank so that the States that
// have nominated stand out.
func count(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// sortByName orders States by their name in the language, as a reader of
// that language expects (accents, scripts), not by the English name.
func sortByName(lang string, list []*directory.Summary) {
	if lang == "en" {
		return // the service already sorts by the English name
	}
	c := collate.New(language.Make(lang))
	names := make(map[string]string, len(list))
	for _, st := range list {
		names[st.Code] = i18n.StateName(lang, st.ISO2, st.Name)
	}
	sort.SliceStable(list, func(i, j int) bool { return c.CompareString(names[list[i].Code], names[list[j].Code]) < 0 })
}
