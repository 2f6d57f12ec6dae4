package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

type observersData struct {
	Observers []*account.Observer
	Bodies    []string
	actor     *app.Actor
}

// CanApprove reports whether the reader may approve a proposed grant.
func (d *observersData) CanApprove(g *account.ObserverGrant) bool {
	return account.CanApproveGrant(d.actor, g)
}

// Codes writes a grant's States as the form's text field takes them.
func (d *observersData) Codes(g *account.ObserverGrant) string {
	if g == nil {
		return ""
	}
	return strings.Join(g.States, " ")
}

// observersPage lists the observers with what they read, and lets the
// Secretariat propose and approve what they may read (four eyes).
func (s *Server) observersPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.Accounts.Observers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "observers.html", s.page(r, "observers.title",
		&observersData{Observers: list, Bodies: directory.Bodies, actor: app.ActorFrom(r.Context())}))
}

// observerGrant proposes a grant: the State codes typed in, and the
// members of a regional body when one is chosen.
func (s *Server) observerGrant(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "observer")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 16<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	states := strings.FieldsFunc(r.PostForm.Get("states"), func(c rune) bool { return c == ' ' || c == ',' || c == '\n' || c == '\r' || c == '\t' })
	if body := r.PostForm.Get("body"); body != "" {
		if !slices.Contains(directory.Bodies, body) {
			s.fail(w, r, app.FieldError("body", "error.body", "unknown regional body", nil))
			return
		}
		members, err := s.Directory.List(r.Context(), directory.Filter{Body: body})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, m := range members {
			states = append(states, m.Code)
		}
	}
	in := account.GrantInput{States: states, Offers: r.PostForm.Get("offers") == "1"}
	if _, err := s.Accounts.ProposeGrant(r.Context(), id, in); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "observers.proposed_done", "/observers")
}

// observerGrantApprove is the second officer's approval of a grant.
func (s *Server) observerGrantApprove(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "grant")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Accounts.ApproveGrant(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "observers.approved_done", "/observers")
}

// observerGrantWithdraw drops a proposed grant: its proposer withdraws it,
// another officer refuses it.
func (s *Server) observerGrantWithdraw(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "grant")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.WithdrawGrant(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "observers.withdrawn_done", "/observers")
}
