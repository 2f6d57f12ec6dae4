package web

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
)

// The Secretariat proposes a match; each side accepts or declines it.

func (s *Server) matchPropose(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Capacity.Propose(r.Context(), atoi64(r.PostForm.Get("need_id")), atoi64(r.PostForm.Get("offer_id"))); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "capacity.flash_proposed", "/capacity#h-matches")
}

func (s *Server) matchAnswer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "match")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	answer := map[string]string{"accept": capacity.Accept, "decline": capacity.Decline}[r.PathValue("answer")]
	if answer == "" {
		s.fail(w, r, app.ErrNotFound("page"))
		return
	}
	m, err := s.Capacity.Answer(r.Context(), id, answer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m.ActivityID != 0 {
		s.done(w, r, "capacity.flash_activity", "/capacity/activities/"+strconv.FormatInt(m.ActivityID, 10))
		return
	}
	s.done(w, r, "capacity.flash_answered", "/capacity#h-matches")
}
