package web

import (
	"net/http"
	"strconv"
)

// exerciseAgree is a Secretariat officer's agreement to an exercise that a
// group of States proposed: the participants see it, and its injects may
// be sent.
func (s *Server) exerciseAgree(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Exercises.Agree(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "exercise.flash_agreed", "/exercises/"+strconv.FormatInt(id, 10))
}
