package web

import (
	"html/template"
	"net/http"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/i18n"
)

type usersData struct {
	Users       []*account.User
	Invitations []*account.Invitation
	// Older and Newer are the links to the pages of accounts around this
	// one; Invites the links of the invitations' pages.
	Older, Newer template.URL
	Invites      pages
	// The filter of the accounts: a State (Secretariat only: States lists
	// them), a status, a text.
	State, Status, Query string
	States               []stateOption
	Statuses             []string
	// Resets are the second-factor resets waiting for the reader's
	// decision.
	Resets []*account.FactorReset
	now    time.Time
	actor  *app.Actor
}

// CanApprove reports whether the reader may approve a pending invitation.
func (d *usersData) CanApprove(inv *account.Invitation) bool { return account.CanApprove(d.actor, inv) }

// Expired reports whether an invitation's link has lapsed.
func (d *usersData) Expired(inv *account.Invitation) bool { return !inv.ExpiresAt.After(d.now) }

// invitePrefix begins the parameters of the invitations' pages, which the
// page of accounts shows beside the accounts' own.
const invitePrefix = "inv_"

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k, err := pageCursor(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ik, err := pageCursorOf(q, invitePrefix)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := app.ActorFrom(r.Context())
	d := &usersData{State: q.Get("state"), Status: q.Get("status"), Query: q.Get("q"), Statuses: []string{account.UsersActive, account.UsersDisabled},
		now: s.Accounts.Now(), actor: a}
	users, err := s.Accounts.Users(r.Context(), account.UserFilter{State: d.State, Status: d.Status, Query: d.Query}, k, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	invs, err := s.Accounts.Invitations(r.Context(), ik, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resets, err := s.Accounts.FactorResets(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a.IsSecretariat() {
		if d.States, err = s.stateOptions(r); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d.Users, d.Older, d.Newer = users.List, pageLink(q, users.Older), pageLink(q, users.Newer)
	d.Invitations, d.Invites = invs.List, pagesOf(q, invitePrefix, invs.Older, invs.Newer)
	d.Resets = resets
	s.render(w, r, http.StatusOK, "users.html", s.page(r, "users.title", d))
}

func (s *Server) userDisable(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.DisableUser(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "users.disabled_done", "/users")
}

type stateOption struct{ Code, Name string }

type inviteData struct {
	Langs   []langOption
	Roles   []app.Role
	States  []stateOption
	Created *account.Invitation
	Link    string
	// Organisation shows the field of an observer's organisation.
	Organisation bool
}

func (s *Server) inviteData(r *http.Request) (*inviteData, error) {
	a := app.ActorFrom(r.Context())
	d := &inviteData{Langs: s.langs()}
	switch a.Role {
	case app.RoleSecretariat:
		d.Roles = []app.Role{app.RoleFocalPoint, app.RoleOfficer, app.RoleSecretariat, app.RoleObserver}
		d.Organisation = true
		var err error
		if d.States, err = s.stateOptions(r); err != nil {
			return nil, err
		}
	case app.RoleFocalPoint:
		d.Roles = []app.Role{app.RoleOfficer, app.RoleFocalPoint}
	default:
		return nil, app.ErrForbidden()
	}
	return d, nil
}

// stateOptions are the States to choose from, by their names in the
// reader's language.
func (s *Server) stateOptions(r *http.Request) ([]stateOption, error) {
	list, err := s.Directory.List(r.Context(), directoryFilterAll)
	if err != nil {
		return nil, err
	}
	sortByName(s.lang(r).Lang(), list)
	out := make([]stateOption, 0, len(list))
	for _, st := range list {
		out = append(out, stateOption{Code: st.Code, Name: i18n.StateName(s.lang(r).Lang(), st.ISO2, st.Name)})
	}
	return out, nil
}

func (s *Server) inviteForm(w http.ResponseWriter, r *http.Request) {
	d, err := s.inviteData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "invite.html", s.page(r, "invite.title", d))
}

func (s *Server) inviteSubmit(w http.ResponseWriter, r *http.Request) {
	d, err := s.inviteData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	inv, err := s.Accounts.Invite(r.Context(), account.InviteInput{Email: f.Get("email"), Name: f.Get("name"), Role: app.Role(f.Get("role")),
		State: f.Get("state"), Organisation: f.Get("organisation"), Language: f.Get("language")})
	p := s.page(r, "invite.title", d)
	if err != nil {
		p.withError(err)
		p.Form = f
		s.render(w, r, s.errorStatus(r, err), "invite.html", p)
		return
	}
	d.Created = inv
	d.Link = s.baseURL(r) + "/invite/" + inv.Token
	s.render(w, r, http.StatusOK, "invite.html", p)
}

// inviteApprove is the second person's approval of an invitation: the page
// shows its link, to pass on where email is not configured.
func (s *Server) inviteApprove(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "invitation")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inv, err := s.Accounts.ApproveInvitation(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.inviteData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Created, d.Link = inv, s.baseURL(r)+"/invite/"+inv.Token
	s.render(w, r, http.StatusOK, "invite.html", s.page(r, "invite.title", d))
}

func (s *Server) inviteRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "invitation")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.RevokeInvitation(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "users.invite_revoked_done", "/users")
}

// baseURL is the address in links that leave the browser (invitations):
// the configured one, or the one the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.BaseURL != "" {
		return s.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
