package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/exercises"
)

// The Secretariat's agreement to an exercise that a group of States
// proposed, under four eyes: a first officer agrees, a second confirms
// (then the participants see it, and its injects may be sent); until
// then the proposing State's focal point may withdraw it, and any
// Secretariat officer may decline it, with a reason.

func (s *Server) exerciseAgree(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, s.Exercises.Agree, "exercise.flash_agreed")
}

func (s *Server) exerciseConfirm(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, s.Exercises.Confirm, "exercise.flash_confirmed")
}

func (s *Server) exerciseWithdraw(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, s.Exercises.Withdraw, "exercise.flash_withdrawn")
}

// exerciseDecline is a Secretariat officer's refusal of a proposal, with
// the reason its State reads.
func (s *Server) exerciseDecline(w http.ResponseWriter, r *http.Request) {
	s.exerciseStep(w, r, func(ctx context.Context, id int64) (*exercises.Exercise, error) {
		return s.Exercises.Decline(ctx, id, r.PostForm.Get("reason"))
	}, "exercise.flash_declined")
}

func (s *Server) exerciseStep(w http.ResponseWriter, r *http.Request, step func(context.Context, int64) (*exercises.Exercise, error), flash string) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Room for a decline's reason: 2,000 characters, up to four bytes
	// each, percent-encoded.
	if err := parseForm(w, r, 32<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := step(r.Context(), id); err != nil {
		if app.ErrorCode(err) == app.Invalid {
			// A field to correct (the reason): the page again, with
			// what was written.
			s.exerciseShow(w, r, s.errorStatus(r, err), r.PostForm, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.done(w, r, flash, "/exercises/"+strconv.FormatInt(id, 10))
}
