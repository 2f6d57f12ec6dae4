package web

import (
	"net/http"
	"strconv"
	"strings"

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
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	st, err := s.Outbox.Status(r.Context(), before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := struct {
		*notify.Status
		Paged    bool
		Inbound  bool
		Received []mailin.Received
	}{Status: st, Paged: before > 0}
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
// embedded mail catcher, so that a newcomer sees them without a mail server:
// to each user the mail addressed to them and to their State's PoCs (the
// colleagues whose mailbox the demonstration plays), to the Secretariat all.
// An invitation link is for its addressee only, even in a demonstration.
func (s *Server) demoMailPage(w http.ResponseWriter, r *http.Request) {
	a, err := app.RequireActor(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := s.Catcher.Messages()
	if !a.IsSecretariat() {
		mine := map[string]bool{strings.ToLower(a.Email): true}
		if a.State != "" {
			e, err := s.Directory.Get(r.Context(), a.State)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, p := range e.PoCs {
				if addr := p.Email(); addr != "" {
					mine[strings.ToLower(addr)] = true
				}
			}
		}
		kept := msgs[:0]
		for _, m := range msgs {
			for _, to := range m.To {
				if mine[strings.ToLower(to)] {
					kept = append(kept, m)
					break
				}
			}
		}
		msgs = kept
	}
	s.render(w, r, http.StatusOK, "demomail.html", s.page(r, "demomail.title", struct{ Messages []notify.Caught }{msgs}))
}
