package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/exercises"
)

// An exercise's page: its plan, its scenario (with the form that adds an
// inject and the buttons that release them, for the Secretariat), and its
// after-action note.

type exerciseData struct {
	E         *exercises.Exercise
	Templates []*comms.Template
	TLPs      []string
	Urgencies []string
}

func (s *Server) exercisePage(w http.ResponseWriter, r *http.Request) {
	s.exerciseShow(w, r, http.StatusOK, nil, nil)
}

func (s *Server) exerciseShow(w http.ResponseWriter, r *http.Request, status int, f map[string][]string, ferr error) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.Exercises.Exercise(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &exerciseData{E: e, TLPs: comms.TLPs, Urgencies: comms.Urgencies}
	if e.Manage {
		if d.Templates, err = s.Comms.Templates(r.Context(), false); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	pg := s.page(r, "exercise.title", d)
	if f == nil {
		f = map[string][]string{}
	}
	// The other forms keep what they hold when one is sent back.
	for k, v := range map[string][]string{"note": {e.Note}, "tlp": {comms.TLPGreen}, "urgency": {"high"}} {
		if _, ok := f[k]; !ok {
			f[k] = v
		}
	}
	pg.Form = f
	if ferr != nil {
		pg.withError(ferr)
	}
	s.render(w, r, status, "exercise.html", pg)
}

// exerciseInject adds an inject to the scenario: a template, its subject
// and text, and a time (none: the controller releases it by hand).
func (s *Server) exerciseInject(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := exercises.InjectInput{Template: f.Get("template"), Fields: map[string]string{
		"subject": f.Get("subject"), "urgency": f.Get("urgency"), "tlp": f.Get("tlp"), "description": f.Get("description")}}
	if v := strings.TrimSpace(f.Get("send_at")); v != "" {
		t := formTime(v)
		in.SendAt = &t
	}
	if _, err := s.Exercises.AddInject(r.Context(), id, in); err != nil {
		s.exerciseShow(w, r, s.errorStatus(r, err), f, err)
		return
	}
	s.done(w, r, "exercise.flash_inject", "/exercises/"+strconv.FormatInt(id, 10))
}

// exerciseRelease releases an inject now (the controller).
func (s *Server) exerciseRelease(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inject, err := pathID(r, "inject", "inject")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Exercises.Release(r.Context(), id, inject); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "exercise.flash_released", "/exercises/"+strconv.FormatInt(id, 10))
}

// exerciseNote writes the after-action note.
func (s *Server) exerciseNote(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 128<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Exercises.SetNote(r.Context(), id, r.PostForm.Get("note")); err != nil {
		s.exerciseShow(w, r, s.errorStatus(r, err), r.PostForm, err)
		return
	}
	s.done(w, r, "exercise.flash_note", "/exercises/"+strconv.FormatInt(id, 10))
}
