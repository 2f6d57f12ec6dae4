package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The States' lists of critical information infrastructure (C10): the
// comparison of every State's sectors, one State's list with its history,
// and the focal point's form that publishes a new version.

// ciiRow is a State's line of the comparison.
type ciiRow struct {
	List  *cii.List
	Name  string
	Has   []bool // by reference sector
	Own   []cii.Sector
	Total int
}

type ciiCompareData struct {
	Sectors []string
	Rows    []ciiRow
	Counts  []int // States listing each reference sector
	Chart   template.HTML
}

// ciiPage compares the States' lists in force: States × reference sectors,
// with each State's own sectors, a picture of how many States list each
// sector, and the figures as CSV.
func (s *Server) ciiPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "cii.title", nil)
	d, err := s.ciiCompare(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "cii.html", p)
}

func (s *Server) ciiCompare(r *http.Request, p *Page) (*ciiCompareData, error) {
	lists, err := s.CII.All(r.Context())
	if err != nil {
		return nil, err
	}
	d := &ciiCompareData{Sectors: cii.Sectors, Counts: make([]int, len(cii.Sectors))}
	for _, l := range lists {
		row := ciiRow{List: l, Name: p.NameOf(l.State), Has: make([]bool, len(cii.Sectors)), Total: len(l.Sectors)}
		for i, key := range cii.Sectors {
			if l.Has(key) {
				row.Has[i] = true
				d.Counts[i]++
			}
		}
		for _, sec := range l.Sectors {
			if sec.Own() {
				row.Own = append(row.Own, sec)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	c := collate.New(language.Make(p.Lang()))
	sort.SliceStable(d.Rows, func(i, j int) bool { return c.CompareString(d.Rows[i].Name, d.Rows[j].Name) < 0 })
	if len(d.Rows) > 0 {
		d.Chart = sectorChart(p, d.Counts, len(d.Rows))
	}
	return d, nil
}

// sectorChart draws how many States list each reference sector, a bar per
// sector, as the dashboard's pictures are drawn: text and colours from the
// stylesheet, the figures in the table beside it.
func sectorChart(p *Page, counts []int, states int) template.HTML {
	const rowH, labelW, barW = 22, 260, 300
	h := rowH*len(counts) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %d %d" role="img" aria-labelledby="cii-chart-t" xmlns="http://www.w3.org/2000/svg"><title id="cii-chart-t">%s</title>`,
		labelW+barW+60, h, template.HTMLEscapeString(p.T("cii.chart_title")))
	for i, n := range counts {
		y := 5 + i*rowH
		w := 0
		if states > 0 {
			w = n * barW / states
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+15, template.HTMLEscapeString(p.T("list.sector."+cii.Sectors[i])))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="s0"/>`, labelW, y+3, w, rowH-6)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, labelW+w+6, y+15, p.Num(n))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// ciiCSV is the comparison as a file: a line per State, a column per
// reference sector (1 when listed), then its own sectors' names.
func (s *Server) ciiCSV(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "cii.title", nil)
	d, err := s.ciiCompare(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.CII.Exported(r.Context(), "cii-comparison.csv"); err != nil {
		s.fail(w, r, err)
		return
	}
	head := []string{"state", "name", "version", "effective_date"}
	head = append(head, cii.Sectors...)
	head = append(head, "own_sectors")
	rows := [][]string{head}
	for _, row := range d.Rows {
		line := []string{row.List.State, row.Name, strconv.Itoa(row.List.Version), row.List.EffectiveDate}
		for _, has := range row.Has {
			line = append(line, map[bool]string{true: "1", false: "0"}[has])
		}
		var own []string
		for _, sec := range row.Own {
			name := sec.Name.Text
			if sec.Name.English != "" {
				name += " (" + sec.Name.English + ")"
			}
			own = append(own, name)
		}
		rows = append(rows, append(line, strings.Join(own, "; ")))
	}
	w.Header().Set("Content-Type", export.CSVType)
	w.Header().Set("Content-Disposition", `attachment; filename="pocdir-cii-comparison.csv"`)
	export.NewCSV(w).WriteAll(rows)
}

type ciiStateData struct {
	State      directory.State
	List       *cii.List // the version shown
	History    []*cii.List
	Latest     bool
	CanPublish bool
}

// ciiStatePage shows a State's list in force (or the version asked for)
// and its history.
func (s *Server) ciiStatePage(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	st, ok := directory.ReferenceState(code)
	if !ok {
		s.fail(w, r, app.ErrNotFound("state"))
		return
	}
	h, err := s.CII.History(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &ciiStateData{State: st, History: h, CanPublish: cii.CanPublish(app.ActorFrom(r.Context()), code)}
	if len(h) > 0 {
		d.List, d.Latest = h[0], true
	}
	if v := r.URL.Query().Get("version"); v != "" {
		if d.List, err = s.CII.Version(r.Context(), code, atoi(v)); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Latest = d.List.Version == h[0].Version
	}
	s.render(w, r, http.StatusOK, "cii_state.html", s.page(r, "cii.state_title", d))
}

// ciiOwnRows is how many empty rows for new own sectors the form offers.
const ciiOwnRows = 3

type ciiFormData struct {
	State   directory.State
	Sectors []string
	Lang    string
	UNLangs []string
	Version int
	Own     []int // the own rows' numbers
}

// ciiForm is the focal point's form for a new version of the list, filled
// with the one in force.
func (s *Server) ciiForm(w http.ResponseWriter, r *http.Request) {
	st, ok := s.ciiPublishable(w, r)
	if !ok {
		return
	}
	f := url.Values{"effective_date": {s.CII.Now().Format("2006-01-02")}, "lang": {"en"}}
	version := 0
	if l, err := s.CII.Current(r.Context(), st.Code); err == nil {
		version = l.Version
		f = ciiValues(l, f)
	} else if app.ErrorCode(err) != app.NotFound {
		s.fail(w, r, err)
		return
	}
	s.renderCIIForm(w, r, http.StatusOK, st, version, f, nil)
}

func (s *Server) renderCIIForm(w http.ResponseWriter, r *http.Request, status int, st directory.State, version int, f url.Values, err error) {
	own := 0
	for f.Get("own_key."+strconv.Itoa(own)) != "" || f.Get("own_name."+strconv.Itoa(own)) != "" {
		own++
	}
	d := &ciiFormData{State: st, Sectors: cii.Sectors, Lang: f.Get("lang"), UNLangs: directory.UNLanguages, Version: version}
	for i := 0; i < own+ciiOwnRows && i < cii.MaxSectors; i++ {
		d.Own = append(d.Own, i)
	}
	p := s.page(r, "cii.edit_title", d)
	p.Form = f
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "cii_form.html", p)
}

// ciiValues fills the form's values from a list: one language for the
// list's texts, the criteria's (the form writes them all in one).
func ciiValues(l *cii.List, f url.Values) url.Values {
	if l.Criteria.Lang != "" {
		f.Set("lang", l.Criteria.Lang)
	}
	j := 0
	for _, sec := range l.Sectors {
		if sec.Own() {
			n := strconv.Itoa(j)
			f.Set("own_key."+n, sec.Key)
			f.Set("own_name."+n, sec.Name.Text)
			f.Set("own_name_en."+n, sec.Name.English)
			f.Set("own_note."+n, sec.Note.Text)
			f.Set("own_note_en."+n, sec.Note.English)
			j++
			continue
		}
		f.Add("sector", sec.Key)
		f.Set("note."+sec.Key, sec.Note.Text)
		f.Set("note_en."+sec.Key, sec.Note.English)
	}
	f.Set("criteria", l.Criteria.Text)
	f.Set("criteria_en", l.Criteria.English)
	return f
}

func (s *Server) ciiSubmit(w http.ResponseWriter, r *http.Request) {
	st, ok := s.ciiPublishable(w, r)
	if !ok {
		return
	}
	if err := parseForm(w, r, 256<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	lang := f.Get("lang")
	text := func(name, en string) directory.Text {
		return directory.Text{Lang: lang, Text: f.Get(name), English: f.Get(en)}
	}
	in := cii.Input{Criteria: text("criteria", "criteria_en"), EffectiveDate: f.Get("effective_date"), Version: atoi(f.Get("version"))}
	// Where each of the input's sectors is on the form, to put the
	// service's errors beside the right field.
	var at []func(string) string
	for _, key := range cii.Sectors {
		if !has(f["sector"], key) {
			continue
		}
		in.Sectors = append(in.Sectors, cii.Sector{Key: key, Note: text("note."+key, "note_en."+key)})
		at = append(at, func(sub string) string {
			if sub == "" {
				return "sector-" + key
			}
			return sub + "." + key
		})
	}
	for j := 0; j < cii.MaxSectors+ciiOwnRows; j++ {
		n := strconv.Itoa(j)
		if _, ok := f["own_name."+n]; !ok {
			break
		}
		sec := cii.Sector{Key: f.Get("own_key." + n), Name: text("own_name."+n, "own_name_en."+n), Note: text("own_note."+n, "own_note_en."+n)}
		if sec.Key == "" && strings.TrimSpace(sec.Name.Text+sec.Name.English+sec.Note.Text+sec.Note.English) == "" {
			continue // an empty row
		}
		in.Sectors = append(in.Sectors, sec)
		at = append(at, func(sub string) string {
			if sub == "" {
				sub = "name"
			}
			return "own_" + sub + "." + n
		})
	}
	if _, err := s.CII.Publish(r.Context(), st.Code, in); err != nil {
		version := in.Version
		if app.ErrorCode(err) == app.Conflict {
			if cur, gerr := s.CII.Current(r.Context(), st.Code); gerr == nil {
				version = cur.Version
			}
			err = app.Errorf(app.Conflict, "error.conflict_form", "someone else changed this in the meantime")
		}
		s.renderCIIForm(w, r, s.errorStatus(r, err), st, version, f, ciiFields(err, at))
		return
	}
	s.done(w, r, "cii.published", "/states/"+st.Code+"/cii")
}

// ciiFields names the form's fields in the service's errors: sectors.3.note
// is the note of the fourth sector the form sent, wherever it is on the
// form; the criteria's language is the list's.
func ciiFields(err error, at []func(string) string) error {
	var e *app.Error
	if !errors.As(err, &e) {
		return err
	}
	rename := func(x *app.Error) {
		if x.Field == "criteria_lang" {
			x.Field = "lang"
		}
		rest, ok := strings.CutPrefix(x.Field, "sectors.")
		if !ok {
			return
		}
		i, sub, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(i); err == nil && n < len(at) {
			if strings.HasSuffix(sub, "_lang") {
				x.Field = "lang"
				return
			}
			x.Field = at[n](sub)
		}
	}
	rename(e)
	for _, x := range e.Fields {
		rename(x)
	}
	return e
}

// ciiPublishable returns the State whose list the actor may publish, or
// answers the request.
func (s *Server) ciiPublishable(w http.ResponseWriter, r *http.Request) (directory.State, bool) {
	code := r.PathValue("code")
	st, ok := directory.ReferenceState(code)
	if !ok {
		s.fail(w, r, app.ErrNotFound("state"))
		return st, false
	}
	if a := app.ActorFrom(r.Context()); !cii.CanPublish(a, code) || a.ReadOnly {
		s.fail(w, r, app.Errorf(app.Forbidden, "error.cii_forbidden", "only the State's focal point publishes its list"))
		return st, false
	}
	return st, true
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
