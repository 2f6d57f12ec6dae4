package web

import (
	"html/template"
	"net/http"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/regional"
)

type stateData struct {
	Entry *directory.Entry
	// Regional are, by PoC, the regional directories in which it also
	// stands (confirmed matches of imported regional contacts).
	Regional   map[int64][]*regional.Contact
	CanEdit    bool
	Freshness  directory.Freshness
	Compliance *directory.Compliance
	// CanPropose: the State's focal points, and the Secretariat on the
	// State's written request. Pending lists the open nominations the
	// reader may see (the State's own users and the Secretariat).
	CanPropose bool
	Pending    []*directory.Nomination
	// Deciding counts those of Pending that wait for a decision (submitted):
	// what the dashboard calls "waiting for a decision"; the others are
	// drafts or were returned to the State.
	Deciding int
	// Exports link to the downloads of the entry.
	Exports []exportLink
}

func (s *Server) statePage(w http.ResponseWriter, r *http.Request) {
	e, err := s.Directory.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := app.ActorFrom(r.Context())
	if a.IsObserver() {
		// An observer reads the entry and its PoCs, and nothing around
		// them: no compliance, nominations, regional links or exports.
		p := s.page(r, "state.title", &stateData{Entry: e, Freshness: e.FreshnessAt(s.Directory.Now()), Compliance: &directory.Compliance{}})
		p.Title = p.StateName(e.ISO2, e.Name)
		s.render(w, r, http.StatusOK, "state.html", p)
		return
	}
	comp, err := s.Directory.Compliance(r.Context(), e.Code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A State has at most one open nomination for each part of its entry.
	open, err := s.Directory.Nominations(r.Context(), directory.NominationFilter{State: e.Code, Open: true}, app.Cursor{}, app.MaxPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pending := open.List
	deciding := 0
	for _, n := range pending {
		if n.Status == directory.NomSubmitted {
			deciding++
		}
	}
	reg, err := s.Regional.ForPoCs(r.Context(), e.Code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "state.title", &stateData{Entry: e, CanEdit: directory.CanEdit(a, e.Code), CanPropose: directory.CanPropose(a, e.Code),
		Freshness: e.FreshnessAt(s.Directory.Now()), Compliance: comp, Pending: pending, Deciding: deciding, Regional: reg,
		Exports: exportLinks("/states/"+e.Code+"/export", "")})
	p.Title = p.StateName(e.ISO2, e.Name)
	s.render(w, r, http.StatusOK, "state.html", p)
}

type historyData struct {
	State   *directory.Entry
	Changes []*directory.Change
	// Older and Newer are the links to the pages around this one.
	Older, Newer template.URL
	// Receipts is set when the reader may download the log receipts of the
	// State's changes: its own users and the Secretariat.
	Receipts bool
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	e, err := s.Directory.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	k, err := pageCursor(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, err := s.Directory.HistoryPage(r.Context(), e.Code, k, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := app.ActorFrom(r.Context())
	p := s.page(r, "history.title", &historyData{State: e, Changes: changes.List, Older: pageLink(q, changes.Older), Newer: pageLink(q, changes.Newer),
		Receipts: a.IsSecretariat() || a.State == e.Code})
	s.render(w, r, http.StatusOK, "history.html", p)
}

type accessData struct {
	State  *directory.Entry
	Access *account.Access
}

// accessPage shows who can act for a State and what changed: its accounts
// with their tokens, the invitations still open, and the latest changes,
// to the State's own users and the Secretariat.
func (s *Server) accessPage(w http.ResponseWriter, r *http.Request) {
	e, err := s.Directory.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	acc, err := s.Accounts.StateAccess(r.Context(), e.Code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "access.title", &accessData{State: e, Access: acc})
	p.Title = p.T("access.title_of", "State", p.StateName(e.ISO2, e.Name))
	s.render(w, r, http.StatusOK, "state_access.html", p)
}
