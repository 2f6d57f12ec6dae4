package web

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

type entryFormData struct {
	State       *directory.Entry
	In          directory.EntryInput
	NotesLang   string
	UNLanguages []string
	Nomination  *directory.Nomination
}

func newEntryFormData(e *directory.Entry, in directory.EntryInput) *entryFormData {
	d := &entryFormData{State: e, In: in, NotesLang: in.Notes.Lang, UNLanguages: directory.UNLanguages}
	if d.NotesLang == "" {
		d.NotesLang = "en"
	}
	return d
}

func (s *Server) entryEditForm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.editableEntry(w, r, r.PathValue("code"))
	if !ok {
		return
	}
	in := directory.EntryInput{InitiateVia: e.InitiateVia, Notes: e.Notes, Version: e.Version, EffectiveDate: s.Directory.Now().Format("2006-01-02")}
	s.render(w, r, http.StatusOK, "entry_edit.html", s.page(r, "entry.edit_title", newEntryFormData(e, in)))
}

func (s *Server) entryEditSubmit(w http.ResponseWriter, r *http.Request) {
	e, ok := s.editableEntry(w, r, r.PathValue("code"))
	if !ok {
		return
	}
	if err := parseForm(w, r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := directory.EntryInput{InitiateVia: f.Get("initiate_via"), Notes: directory.Text{Lang: f.Get("notes_lang"), Text: f.Get("notes"), English: f.Get("notes_en")},
		EffectiveDate: f.Get("effective_date"), Version: atoi(f.Get("version")), Submission: parseSubmission(f)}
	n, err := s.Directory.ProposeEntryUpdate(r.Context(), e.Code, in)
	if err != nil {
		if app.ErrorCode(err) == app.Conflict && app.AsError(err).Key == "error.conflict" {
			if cur, gerr := s.Directory.Get(r.Context(), e.Code); gerr == nil {
				in.Version = cur.Version
			}
			err = app.Errorf(app.Conflict, "error.conflict_form", "someone else changed this entry in the meantime")
		}
		pg := s.page(r, "entry.edit_title", newEntryFormData(e, in)).withError(err)
		pg.Form = r.PostForm
		s.render(w, r, s.errorStatus(r, err), "entry_edit.html", pg)
		return
	}
	s.proposed(w, r, n)
}

// reconfirm records the annual reconfirmation of the entry, after the focal
// point has ticked that they reviewed it.
func (s *Server) reconfirm(w http.ResponseWriter, r *http.Request) {
	e, ok := s.editableEntry(w, r, r.PathValue("code"))
	if !ok {
		return
	}
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if r.PostForm.Get("reviewed") != "1" {
		s.fail(w, r, app.FieldError("reviewed", "error.reconfirm_review", "confirm that you reviewed the entry", nil))
		return
	}
	if _, err := s.Directory.Reconfirm(r.Context(), e.Code); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "state.reconfirmed", "/states/"+e.Code)
}
