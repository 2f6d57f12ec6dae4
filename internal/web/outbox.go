package web

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/mailin"
	"github.com/pocdir/pocdir/internal/notify"
)

// outboxPage shows the Secretariat what email is queued, sent or failed,
// with the last error of each: never the bodies.
func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request) {
	if s.Outbox == nil {
		s.fail(w, r, app.ErrNotFound("outbox"))
		return
	}
	st, err := s.Outbox.Status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := struct {
		*notify.Status
		Inbound  bool
		Received []mailin.Received
	}{Status: st}
	if s.Inbound != nil {
		data.Inbound = true
		if data.Received, err = s.Inbound.Received(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "outbox.html", s.page(r, "outbox.title", data))
}

// demoMailPage shows, in the demo only, the emails pocdir sent to the
// embedded mail catcher, so that a newcomer sees them without a mail server.
func (s *Server) demoMailPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "demomail.html", s.page(r, "demomail.title", struct{ Messages []notify.Caught }{s.Catcher.Messages()}))
}
