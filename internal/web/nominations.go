package web

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// Nominations: the State's proposed changes and the Secretariat's queue of
// changes to validate.

type nominationsData struct {
	List []*directory.Nomination
	// Older and Newer are the links to the pages around this one.
	Older, Newer template.URL
	Status       string
	Statuses     []directory.NominationStatus
	Names        map[string]*directory.Entry
}

func (s *Server) nominationsPage(w http.ResponseWriter, r *http.Request) {
	a := app.ActorFrom(r.Context())
	q := r.URL.Query()
	k, err := pageCursor(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := directory.NominationFilter{Status: directory.NominationStatus(q.Get("status"))}
	status := string(f.Status)
	switch {
	case status == "all":
		f.Status = ""
	case status == "open":
		f.Status, f.Open = "", true
	case status == "" && a.IsSecretariat():
		f.Status, status = directory.NomSubmitted, string(directory.NomSubmitted)
	case status == "":
		f.Open, status = true, "open"
	case !slices.Contains(directory.NominationStatuses, f.Status):
		s.fail(w, r, app.FieldError("status", "error.status", "unknown status", nil))
		return
	}
	page, err := s.Directory.Nominations(r.Context(), f, k, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &nominationsData{List: page.List, Older: pageLink(q, page.Older), Newer: pageLink(q, page.Newer),
		Status: status, Statuses: directory.NominationStatuses, Names: map[string]*directory.Entry{}}
	for _, n := range page.List {
		if e, err := s.Directory.Get(r.Context(), n.State); err == nil {
			d.Names[n.State] = e
		}
	}
	s.render(w, r, http.StatusOK, "nominations.html", s.page(r, "nomination.list_title", d))
}

type nominationData struct {
	N         *directory.Nomination
	Entry     *directory.Entry
	Subject   string // the PoC concerned, for poc.update and poc.remove
	CanAct    bool
	CanDecide bool
}

func (s *Server) loadNomination(w http.ResponseWriter, r *http.Request) (*directory.Nomination, *directory.Entry, bool) {
	id, err := pathID(r, "id", "nomination")
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	n, err := s.Directory.Nomination(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	e, err := s.Directory.Get(r.Context(), n.State)
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	return n, e, true
}

func (s *Server) nominationData(r *http.Request, n *directory.Nomination, e *directory.Entry) *nominationData {
	a := app.ActorFrom(r.Context())
	d := &nominationData{N: n, Entry: e, CanAct: directory.CanAct(a, n) && n.Status.Open(), CanDecide: directory.CanDecide(a, n)}
	if n.PoC != nil {
		d.Subject = n.PoC.Agency
	}
	for _, p := range e.PoCs {
		if p.ID == n.PoCID && d.Subject == "" {
			d.Subject = p.Agency
		}
	}
	return d
}

func (s *Server) nominationPage(w http.ResponseWriter, r *http.Request) {
	n, e, ok := s.loadNomination(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "nomination.html", s.page(r, "nomination.title", s.nominationData(r, n, e)))
}

// nominationStep runs submit, withdraw, validate or return from the
// nomination's page; on error the page shows again with the message and
// what was typed.
func (s *Server) nominationStep(w http.ResponseWriter, r *http.Request) {
	n, e, ok := s.loadNomination(w, r)
	if !ok {
		return
	}
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	ctx, v := r.Context(), atoi(f.Get("version"))
	var err error
	flash := ""
	switch r.PathValue("step") {
	case "submit":
		_, err = s.Directory.SubmitNomination(ctx, n.ID, v)
		flash = "nomination.flash_submitted"
	case "withdraw":
		_, err = s.Directory.WithdrawNomination(ctx, n.ID, v)
		flash = "nomination.flash_withdrawn"
	case "validate":
		_, err = s.Directory.ValidateNomination(ctx, n.ID, directory.Decision{Version: v, Reference: f.Get("reference")})
		flash = "nomination.flash_validated"
	case "return":
		_, err = s.Directory.ReturnNomination(ctx, n.ID, directory.Decision{Version: v, Reason: f.Get("reason")})
		flash = "nomination.flash_returned"
	default:
		s.fail(w, r, app.ErrNotFound("page"))
		return
	}
	if err != nil {
		pg := s.page(r, "nomination.title", s.nominationData(r, n, e)).withError(err)
		pg.Form = f
		s.render(w, r, s.errorStatus(r, err), "nomination.html", pg)
		return
	}
	s.done(w, r, flash, "/nominations/"+strconv.FormatInt(n.ID, 10))
}

// nominationEditForm shows the form that made the nomination, filled with
// what it proposes.
func (s *Server) nominationEditForm(w http.ResponseWriter, r *http.Request) {
	n, e, ok := s.loadNomination(w, r)
	if !ok {
		return
	}
	if !directory.CanAct(app.ActorFrom(r.Context()), n) || !n.Status.Open() {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	s.renderNominationForm(w, r, http.StatusOK, n, e, nil, nil)
}

func (s *Server) renderNominationForm(w http.ResponseWriter, r *http.Request, status int, n *directory.Nomination, e *directory.Entry, in any, err error) {
	var pg *Page
	switch n.Action {
	case "poc.create", "poc.update":
		pin := *n.PoC
		pin.EffectiveDate = n.EffectiveDate
		if in != nil {
			pin = in.(directory.PoCInput)
		}
		d := newPoCFormData(e, pin)
		d.Nomination = n
		pg = s.page(r, "nomination.edit_title", d)
	case "entry.update":
		ein := *n.Entry
		ein.EffectiveDate = n.EffectiveDate
		if in != nil {
			ein = in.(directory.EntryInput)
		}
		d := newEntryFormData(e, ein)
		d.Nomination = n
		pg = s.page(r, "nomination.edit_title", d)
	case "poc.remove":
		p := &directory.PoC{ID: n.PoCID, State: n.State, Version: n.BaseVersion}
		for _, q := range e.PoCs {
			if q.ID == n.PoCID {
				p = q
			}
		}
		pg = s.page(r, "nomination.edit_title", &pocRemoveData{PoC: p, Nomination: n})
	}
	if err != nil {
		pg.withError(err)
		pg.Form = r.PostForm
	} else if n.Action == "poc.remove" {
		pg.Form = map[string][]string{"effective_date": {n.EffectiveDate}, "request_ref": {n.RequestRef}}
	} else {
		pg.Form = map[string][]string{"request_ref": {n.RequestRef}}
	}
	tmpl := map[string]string{"poc.create": "poc_form.html", "poc.update": "poc_form.html", "entry.update": "entry_edit.html", "poc.remove": "poc_remove.html"}[n.Action]
	s.render(w, r, status, tmpl, pg)
}

func (s *Server) nominationEditSubmit(w http.ResponseWriter, r *http.Request) {
	n, e, ok := s.loadNomination(w, r)
	if !ok {
		return
	}
	if err := parseForm(w, r, 256<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	rev := directory.Revision{Version: atoi(f.Get("nomination_version")), Submit: f.Get("draft") != "1", EffectiveDate: f.Get("effective_date")}
	var in any
	switch n.Action {
	case "poc.create", "poc.update":
		pin := parsePoCForm(f)
		rev.PoC, in = &pin, pin
	case "entry.update":
		ein := directory.EntryInput{InitiateVia: f.Get("initiate_via"), Notes: directory.Text{Lang: f.Get("notes_lang"), Text: f.Get("notes"), English: f.Get("notes_en")},
			EffectiveDate: f.Get("effective_date")}
		rev.Entry, in = &ein, ein
	}
	out, err := s.Directory.ReviseNomination(r.Context(), n.ID, rev)
	if err != nil {
		s.renderNominationForm(w, r, s.errorStatus(r, err), n, e, in, err)
		return
	}
	s.proposed(w, r, out)
}
