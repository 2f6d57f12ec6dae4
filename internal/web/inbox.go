package web

import (
	"net/http"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// inboxPage is the page after sign-in: what waits for the user.
func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	// An observer has no inbox (it never sees communications or checks):
	// its first page is the directory of the States granted to it.
	if app.ActorFrom(r.Context()).IsObserver() {
		seeOther(w, r, "/directory")
		return
	}
	in, err := s.Inbox.Page(r.Context(), r.URL.Query().Get("cursor"), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "inbox.title", in)
	p.inboxCount = &in.Count
	s.render(w, r, http.StatusOK, "inbox.html", p)
}

// Left says how long remains until t, coarsely (hours under two days,
// else days), or that it has passed.
func (p *Page) Left(t *time.Time) string {
	if t == nil {
		return ""
	}
	left := t.Sub(p.now)
	switch {
	case left <= 0:
		return p.T("inbox.overdue")
	case left < 48*time.Hour:
		return p.T("inbox.left_hours", "Count", p.Num(int((left+time.Hour-1)/time.Hour)))
	}
	return p.T("inbox.left_days", "Count", p.Num(int(left/(24*time.Hour))))
}
