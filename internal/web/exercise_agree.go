package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/exercises"
)

// The Secretariat's agreement to an exercise that a group of States
// proposed, under four eyes: a first officer agrees, a second confirms
// (then the participants see it, and its injects may be sent); until
// then the proposing State's focal point may withdraw it.

func (s *Server) exerciseAgree(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, s.Exercises.Agree, "exercise.flash_agreed")
}

func (s *Server) exerciseConfirm(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, s.Exercises.Confirm, "exercise.flash_confirmed")
}

func (s *Server) exerciseWithdraw(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, s.Exercises.Withdraw, "exercise.flash_withdrawn")
}

func (s *Server) exerciseStep(w http.ResponseWriter, r *http.Request, step func(context.Context, int64) (*exercises.Exercise, error), flash string) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := step(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, flash, "/exercises/"+strconv.FormatInt(id, 10))
}
