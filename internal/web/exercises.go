package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
)

// Exercises: the list and the form that plans one. The service decides
// who sees what: the Secretariat every exercise, a State's users those
// their State takes part in.

type exercisesData struct {
	Exercises []*exercises.Exercise
	CanPlan   bool
}

// canPlanExercise: the Secretariat plans an exercise; a State's focal
// point proposes one for a group of States, which the Secretariat agrees
// to.
func canPlanExercise(a *app.Actor) bool {
	return a != nil && !a.ReadOnly && (a.IsSecretariat() || (a.State != "" && a.IsFocalPointOf(a.State)))
}

func (s *Server) exercisesPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.Exercises.Exercises(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &exercisesData{Exercises: list, CanPlan: canPlanExercise(app.ActorFrom(r.Context()))}
	s.render(w, r, http.StatusOK, "exercises.html", s.page(r, "exercise.list_title", d))
}

type exerciseFormData struct {
	States []*directory.Summary
}

func (s *Server) exerciseForm(w http.ResponseWriter, r *http.Request, status int, f map[string][]string, err error) {
	if !canPlanExercise(app.ActorFrom(r.Context())) {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	states, lerr := s.Directory.List(r.Context(), directory.Filter{})
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	title := "exercise.new_title"
	if !app.ActorFrom(r.Context()).IsSecretariat() {
		title = "exercise.propose_title"
	}
	pg := s.page(r, title, &exerciseFormData{States: states})
	pg.Form = f
	if err != nil {
		pg.withError(err)
	}
	s.render(w, r, status, "exercise_new.html", pg)
}

func (s *Server) exerciseNewForm(w http.ResponseWriter, r *http.Request) {
	s.exerciseForm(w, r, http.StatusOK, map[string][]string{"target_ack_minutes": {"30"}, "target_answer_minutes": {"120"}}, nil)
}

// formTime reads a datetime-local field as UTC; a value that does not
// parse is the zero time, which the service refuses with the field.
func formTime(v string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// participants reads the participating States: the technical and the
// diplomatic lists of codes (a State in both takes part at the first).
func participants(technical, diplomatic string) []exercises.Participant {
	var out []exercises.Participant
	for level, list := range map[string]string{"technical": technical, "diplomatic": diplomatic} {
		for _, c := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' }) {
			out = append(out, exercises.Participant{State: c, Level: level})
		}
	}
	return out
}

func (s *Server) exerciseNewSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 32<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := exercises.Input{Name: f.Get("name"), Objectives: f.Get("objectives"), StartsAt: formTime(f.Get("starts_at")), EndsAt: formTime(f.Get("ends_at")),
		TargetAckMinutes: atoi(f.Get("target_ack_minutes")), TargetAnswerMinutes: atoi(f.Get("target_answer_minutes")),
		Participants: participants(f.Get("technical"), f.Get("diplomatic"))}
	plan, flash := s.Exercises.Plan, "exercise.flash_planned"
	if !app.ActorFrom(r.Context()).IsSecretariat() {
		plan, flash = s.Exercises.Propose, "exercise.flash_proposed"
	}
	e, err := plan(r.Context(), in)
	if err != nil {
		s.exerciseForm(w, r, s.errorStatus(r, err), f, err)
		return
	}
	s.done(w, r, flash, "/exercises/"+strconv.FormatInt(e.ID, 10))
}
