package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

type pocFormData struct {
	State        string
	ISO2         string
	StateName    string
	In           directory.PoCInput
	Channels     []directory.Channel
	Refs         []directory.RegionalRef
	NotesLang    string
	Levels       []directory.Level
	ChannelKinds []directory.ChannelKind
	Bodies       []string
	UNLanguages  []string
	// Nomination is set when the form revises an open nomination.
	Nomination *directory.Nomination
	// The pickers: languages to tick (named in the reader's language by
	// the template), the State's time zones, and rows of working hours.
	LangChoices []string
	LangOther   string
	Zones       []string
	ZoneOther   string
	HourRows    []hourRow
	Days        []string
}

// hourRow is a row of the working-hours picker: days and a time range.
type hourRow struct {
	Days     [7]bool
	From, To string
}

var dayKeys = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// looseRows reads back the rows of hours the form wrote, even when they
// do not parse ("mon,tue 09:00-", " 09:00-17:00"), to show them again.
func looseRows(hours string) []hourRow {
	var out []hourRow
	for _, part := range strings.Split(hours, ";") {
		days, times, _ := strings.Cut(strings.TrimLeft(part, " "), " ")
		if !strings.Contains(days, ",") && !slices.Contains(dayKeys, days) && times == "" {
			days, times = "", days
		}
		var row hourRow
		for _, d := range strings.Split(days, ",") {
			if i := slices.Index(dayKeys, d); i >= 0 {
				row.Days[i] = true
			}
		}
		row.From, row.To, _ = strings.Cut(times, "-")
		out = append(out, row)
	}
	return out
}

// pickers fills the form's language, time-zone and hours pickers from the
// input: what it holds is always offered, ticked or chosen.
func (d *pocFormData) pickers(in directory.PoCInput) {
	d.LangChoices = append([]string{}, directory.PickLanguages...)
	var other []string
	for _, l := range in.Languages {
		switch _, ok := directory.CanonicalLanguage(l); {
		case !ok: // as typed, to be corrected
			other = append(other, l)
		case !slices.Contains(d.LangChoices, l):
			d.LangChoices = append(d.LangChoices, l)
		}
	}
	d.LangOther = strings.Join(other, ", ")
	d.Zones = append([]string{}, directory.StateZones(d.State)...)
	if in.TimeZone != "" && !slices.Contains(d.Zones, in.TimeZone) {
		if directory.ValidTimeZone(in.TimeZone) {
			d.Zones = append(d.Zones, in.TimeZone)
		} else {
			d.ZoneOther = in.TimeZone // as typed, with its error
		}
	}
	if d.In.TimeZone == "" && len(d.Zones) > 0 {
		d.In.TimeZone = d.Zones[0]
	}
	h, err := directory.ParseHours(in.Hours)
	switch {
	case err != nil: // as typed, to be corrected
		d.HourRows = looseRows(in.Hours)
	default:
		for _, sp := range h {
			d.HourRows = append(d.HourRows, hourRow{Days: sp.Days, From: directory.Clock(sp.From), To: directory.Clock(sp.To)})
		}
	}
	d.HourRows = append(d.HourRows, hourRow{})
	if len(d.HourRows) == 1 && in.Hours == "" && in.WorkingHours == "" && !in.Available247 {
		// A new PoC: Monday to Friday ticked, and a row for other days.
		d.HourRows = []hourRow{{Days: [7]bool{true, true, true, true, true}}, {}}
	}
	d.Days = dayKeys
}

func newPoCFormData(e *directory.Entry, in directory.PoCInput) *pocFormData {
	d := &pocFormData{State: e.Code, ISO2: e.ISO2, StateName: e.Name, In: in, Levels: directory.Levels, ChannelKinds: directory.ChannelKinds,
		Bodies: directory.Bodies, UNLanguages: directory.UNLanguages, NotesLang: in.Notes.Lang}
	if d.NotesLang == "" {
		d.NotesLang = "en"
	}
	// Blank rows let a focal point add channels and references without
	// JavaScript.
	d.Channels = append(append([]directory.Channel{}, in.Channels...), make([]directory.Channel, 2)...)
	for len(d.Channels) < 4 {
		d.Channels = append(d.Channels, directory.Channel{})
	}
	for i := len(in.Channels); i < len(d.Channels); i++ {
		if i == 0 {
			d.Channels[i].Kind = directory.ChannelEmail
		} else if i == 1 {
			d.Channels[i].Kind = directory.ChannelPhone
		}
	}
	d.Refs = append(append([]directory.RegionalRef{}, in.RegionalRefs...), directory.RegionalRef{})
	for len(d.Refs) < 2 {
		d.Refs = append(d.Refs, directory.RegionalRef{})
	}
	d.pickers(in)
	return d
}

// parsePoCForm reads the PoC form. Blank channel and reference rows are
// dropped here, as the service would, so that error indices match rows.
func parsePoCForm(f url.Values) directory.PoCInput {
	in := directory.PoCInput{
		Level: directory.Level(f.Get("level")), Alternate: f.Get("alternate") == "1", Agency: f.Get("agency"),
		FunctionTitle: f.Get("function_title"), PersonName: f.Get("person_name"), TimeZone: f.Get("time_zone"),
		Available247: f.Get("available_24_7") == "1", WorkingHours: f.Get("working_hours"), PGPKey: f.Get("openpgp_key"),
		Notes:         directory.Text{Lang: f.Get("notes_lang"), Text: f.Get("notes"), English: f.Get("notes_en")},
		EffectiveDate: f.Get("effective_date"), Version: atoi(f.Get("version")), Submission: parseSubmission(f),
	}
	// Languages: those ticked, and those typed as names or tags ("French",
	// "pt-BR"); what does not resolve goes on as typed, for the service to
	// name in its error.
	in.Languages = formLanguages(f)
	// The time zone: one of the State's, or typed (a city or a name).
	if other := strings.TrimSpace(f.Get("time_zone_other")); other != "" {
		in.TimeZone = other
		if z, ok := directory.ResolveTimeZone(other); ok {
			in.TimeZone = z
		}
	}
	// Working hours: rows of days and times, written as the service
	// reads them; a row half filled stays as typed, for the error.
	var spans []string
	rows := min(atoi(f.Get("h_rows")), 8)
	for i := 0; i < rows; i++ {
		n := strconv.Itoa(i)
		var days []string
		for _, d := range dayKeys {
			if slices.Contains(f["h_days_"+n], d) {
				days = append(days, d)
			}
		}
		from, to := strings.TrimSpace(f.Get("h_from_"+n)), strings.TrimSpace(f.Get("h_to_"+n))
		if from == "" && to == "" {
			continue // days alone, as the blank row offers them, are no hours
		}
		spans = append(spans, strings.Join(days, ",")+" "+from+"-"+to)
	}
	in.Hours = strings.Join(spans, "; ")
	rows = min(atoi(f.Get("ch_rows")), 40)
	for i := 0; i < rows; i++ {
		n := strconv.Itoa(i)
		c := directory.Channel{Kind: directory.ChannelKind(f.Get("ch_kind_" + n)), Value: strings.TrimSpace(f.Get("ch_value_" + n)), Preferred: f.Get("ch_pref_"+n) == "1"}
		if c.Value != "" {
			in.Channels = append(in.Channels, c)
		}
	}
	rows = min(atoi(f.Get("ref_rows")), 40)
	for i := 0; i < rows; i++ {
		n := strconv.Itoa(i)
		r := directory.RegionalRef{Body: f.Get("ref_body_" + n), Ref: strings.TrimSpace(f.Get("ref_value_" + n))}
		if r.Body != "" || r.Ref != "" {
			in.RegionalRefs = append(in.RegionalRefs, r)
		}
	}
	return in
}

// parseSubmission reads how the form puts a change forward: the button
// pressed and, for the Secretariat, the State's written request.
func parseSubmission(f url.Values) directory.Submission {
	return directory.Submission{Draft: f.Get("draft") == "1", RequestRef: f.Get("request_ref")}
}

// proposed takes the user to the nomination just made, saying what happens
// next.
func (s *Server) proposed(w http.ResponseWriter, r *http.Request, n *directory.Nomination) {
	flash := "nomination.flash_submitted"
	switch {
	case n.Status == directory.NomDraft:
		flash = "nomination.flash_draft"
	case n.Awaiting == directory.AwaitingFocalPoint:
		flash = "nomination.flash_awaits_state"
	case n.Awaiting == directory.AwaitingSecondOfficer:
		flash = "nomination.flash_awaits_officer"
	}
	s.done(w, r, flash, "/nominations/"+strconv.FormatInt(n.ID, 10))
}

func pocInputOf(p *directory.PoC) directory.PoCInput {
	return directory.PoCInput{Level: p.Level, Alternate: p.Alternate, Agency: p.Agency, FunctionTitle: p.FunctionTitle, PersonName: p.PersonName,
		Channels: p.Channels, Languages: p.Languages, TimeZone: p.TimeZone, Available247: p.Available247, WorkingHours: p.WorkingHours,
		Hours: p.Hours, PGPKey: p.PGPKey, Notes: p.Notes, RegionalRefs: p.RegionalRefs, Version: p.Version}
}

// editableEntry loads the State and refuses, before any form is shown, an
// actor who may not propose changes to it. The service checks again on
// submit.
func (s *Server) editableEntry(w http.ResponseWriter, r *http.Request, code string) (*directory.Entry, bool) {
	e, err := s.Directory.Get(r.Context(), code)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if !directory.CanPropose(app.ActorFrom(r.Context()), e.Code) {
		s.fail(w, r, app.ErrForbidden())
		return nil, false
	}
	return e, true
}

func (s *Server) pocNewForm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.editableEntry(w, r, r.PathValue("code"))
	if !ok {
		return
	}
	in := directory.PoCInput{Level: directory.LevelTechnical}
	// From a regional directory's contact: the same person, nominated once
	// more here, with what the regional list knows of them.
	if id := r.URL.Query().Get("regional"); id != "" {
		var err error
		if in, err = s.Regional.Nomination(r.Context(), atoi64(id)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	in.EffectiveDate = s.Directory.Now().Format("2006-01-02")
	s.render(w, r, http.StatusOK, "poc_form.html", s.page(r, "poc.new_title", newPoCFormData(e, in)))
}

func (s *Server) pocNewSubmit(w http.ResponseWriter, r *http.Request) {
	e, ok := s.editableEntry(w, r, r.PathValue("code"))
	if !ok {
		return
	}
	perr := parseForm(w, r, 256<<10)
	if perr != nil && !textProblem(perr) {
		s.fail(w, r, perr)
		return
	}
	in := parsePoCForm(r.PostForm)
	n, err := (*directory.Nomination)(nil), perr
	if err == nil {
		n, err = s.Directory.ProposePoC(r.Context(), e.Code, in)
	}
	if err != nil {
		pg := s.page(r, "poc.new_title", newPoCFormData(e, in)).withError(err)
		pg.Form = r.PostForm
		s.render(w, r, s.errorStatus(r, err), "poc_form.html", pg)
		return
	}
	s.proposed(w, r, n)
}

func (s *Server) loadPoC(w http.ResponseWriter, r *http.Request) (*directory.Entry, *directory.PoC, bool) {
	id, err := pathID(r, "id", "poc")
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	p, err := s.Directory.GetPoC(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	e, ok := s.editableEntry(w, r, p.State)
	return e, p, ok
}

func (s *Server) pocEditForm(w http.ResponseWriter, r *http.Request) {
	e, p, ok := s.loadPoC(w, r)
	if !ok {
		return
	}
	in := pocInputOf(p)
	in.EffectiveDate = s.Directory.Now().Format("2006-01-02")
	s.render(w, r, http.StatusOK, "poc_form.html", s.page(r, "poc.edit_title", newPoCFormData(e, in)))
}

func (s *Server) pocEditSubmit(w http.ResponseWriter, r *http.Request) {
	e, p, ok := s.loadPoC(w, r)
	if !ok {
		return
	}
	perr := parseForm(w, r, 256<<10)
	if perr != nil && !textProblem(perr) {
		s.fail(w, r, perr)
		return
	}
	in := parsePoCForm(r.PostForm)
	n, err := (*directory.Nomination)(nil), perr
	if err == nil {
		n, err = s.Directory.ProposePoCUpdate(r.Context(), p.ID, in)
	}
	if err != nil {
		if app.ErrorCode(err) == app.Conflict && app.AsError(err).Key == "error.conflict" {
			// The form keeps what was typed and now carries the current
			// version: after comparing with the entry (the message says
			// so), saving again applies the typed values deliberately.
			if cur, gerr := s.Directory.GetPoC(r.Context(), p.ID); gerr == nil {
				in.Version = cur.Version
			}
			err = app.Errorf(app.Conflict, "error.conflict_form", "someone else changed this PoC in the meantime")
		}
		pg := s.page(r, "poc.edit_title", newPoCFormData(e, in)).withError(err)
		pg.Form = r.PostForm
		s.render(w, r, s.errorStatus(r, err), "poc_form.html", pg)
		return
	}
	s.proposed(w, r, n)
}

type pocRemoveData struct {
	PoC        *directory.PoC
	Nomination *directory.Nomination
}

func (s *Server) pocRemoveForm(w http.ResponseWriter, r *http.Request) {
	_, p, ok := s.loadPoC(w, r)
	if !ok {
		return
	}
	pg := s.page(r, "poc.remove_title", &pocRemoveData{PoC: p})
	pg.Form = url.Values{"effective_date": {s.Directory.Now().Format("2006-01-02")}}
	s.render(w, r, http.StatusOK, "poc_remove.html", pg)
}

func (s *Server) pocRemoveSubmit(w http.ResponseWriter, r *http.Request) {
	_, p, ok := s.loadPoC(w, r)
	if !ok {
		return
	}
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	n, err := s.Directory.ProposePoCRemoval(r.Context(), p.ID, directory.RemovalInput{Version: atoi(f.Get("version")),
		EffectiveDate: f.Get("effective_date"), Submission: parseSubmission(f)})
	if err != nil {
		pg := s.page(r, "poc.remove_title", &pocRemoveData{PoC: p}).withError(err)
		pg.Form = r.PostForm
		s.render(w, r, s.errorStatus(r, err), "poc_remove.html", pg)
		return
	}
	s.proposed(w, r, n)
}

// formLanguages reads a languages picker: the languages ticked, and those
// typed as names or tags ("French", "pt-BR"); what does not resolve goes
// on as typed, for the service to name in its error.
func formLanguages(f url.Values) []string {
	var out []string
	typed := append(slices.Clone(f["languages"]), f.Get("languages_other"))
	for _, l := range strings.FieldsFunc(strings.Join(typed, ","), func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		l = strings.TrimSpace(l)
		if tag, ok := directory.ResolveLanguage(l); ok {
			l = tag
		}
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
