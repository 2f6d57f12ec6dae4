package web

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/comms"
)

// ackLink is the acknowledgement link of a notification email: a PoC
// acknowledges receipt without signing in. Opening the page records
// nothing (mail scanners open links); the button does. The page says
// that acknowledging is not agreeing, and shows nothing of the content.
func (s *Server) ackLink(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	var v *comms.AckView
	var err error
	if r.Method == http.MethodPost {
		v, err = s.Comms.AcknowledgeByLink(r.Context(), token, s.clientIP(r))
	} else {
		v, err = s.Comms.AckLink(r.Context(), token, s.clientIP(r))
	}
	status := http.StatusOK
	pg := s.page(r, "comm.ack_link_title", v)
	if err != nil {
		status = s.errorStatus(r, err)
		pg.withError(err)
		pg.Data = (*comms.AckView)(nil)
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, status, "ack_link.html", pg)
}
