package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
)

// Passkeys: registering, naming and removing them on the account page, and
// signing in with one after the password (static/passkey.js drives the
// browser's side of each ceremony). Losing every second factor is recovered
// through a reset that a second person approves.

// origin is the portal's address as the browser sees it: the configured
// base URL, or else the address the request came to.
func (s *Server) origin(r *http.Request) string {
	if s.BaseURL != "" {
		if u, err := url.Parse(s.BaseURL); err == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	scheme := "http"
	if r.TLS != nil || s.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// wantsJSON reports whether the request is passkey.js's (which asks for
// JSON), rather than a form sent without the script.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// ceremonyAnswer ends a step of a ceremony: JSON for the script (where to
// go, or the error in the user's language), a page otherwise.
func (s *Server) ceremonyAnswer(w http.ResponseWriter, r *http.Request, err error, redirect string) {
	if !wantsJSON(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		seeOther(w, r, redirect)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		p := s.page(r, "", nil).withError(err)
		msg := p.Error
		if msg == "" && len(p.ErrorList) > 0 {
			msg = p.ErrorList[0].Message
		}
		w.WriteHeader(s.errorStatus(r, err))
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"redirect": redirect})
}

// ceremonyOptions answers the options of a ceremony's first step.
func (s *Server) ceremonyOptions(w http.ResponseWriter, r *http.Request, opts []byte, err error) {
	if err != nil {
		s.ceremonyAnswer(w, r, err, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(opts)
}

// ceremonyCredential reads the browser's answer to a ceremony from the
// form passkey.js sends, or answers the error and returns false.
func (s *Server) ceremonyCredential(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := parseForm(w, r, 32<<10); err != nil {
		s.ceremonyAnswer(w, r, err, "")
		return "", false
	}
	cred := r.PostForm.Get("credential")
	if cred == "" {
		s.ceremonyAnswer(w, r, app.Errorf(app.Invalid, "error.passkey_script", "passkeys need JavaScript in the browser"), "")
		return "", false
	}
	return cred, true
}

func (s *Server) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	opts, err := s.Accounts.BeginPasskey(r.Context(), s.origin(r))
	s.ceremonyOptions(w, r, opts, err)
}

func (s *Server) passkeyAdd(w http.ResponseWriter, r *http.Request) {
	cred, ok := s.ceremonyCredential(w, r)
	if !ok {
		return
	}
	_, err := s.Accounts.AddPasskey(r.Context(), s.origin(r), r.PostForm.Get("name"), []byte(cred))
	if err == nil {
		s.flash(w, "account.passkey_added")
	}
	s.ceremonyAnswer(w, r, err, "/account#passkeys")
}

func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "passkey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.RemovePasskey(r.Context(), id); err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	s.done(w, r, "account.passkey_removed", "/account#passkeys")
}

func (s *Server) passkeysOnly(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	on := r.PostForm.Get("on") == "1"
	if err := s.Accounts.SetPasskeysOnly(r.Context(), on); err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	key := "account.passkeys_only_off"
	if on {
		key = "account.passkeys_only_on"
	}
	s.done(w, r, key, "/account#passkeys")
}

func (s *Server) passkeyLoginOptions(w http.ResponseWriter, r *http.Request) {
	token, ok := s.partialSession(w, r)
	if !ok {
		return
	}
	opts, err := s.Accounts.BeginPasskeyLogin(r.Context(), token, s.origin(r))
	s.ceremonyOptions(w, r, opts, err)
}

func (s *Server) passkeyLogin(w http.ResponseWriter, r *http.Request) {
	token, ok := s.partialSession(w, r)
	if !ok {
		return
	}
	cred, ok := s.ceremonyCredential(w, r)
	if !ok {
		return
	}
	sess, err := s.Accounts.FinishPasskeyLogin(r.Context(), token, s.origin(r), []byte(cred))
	next := home
	if err == nil {
		s.setSession(w, sess)
		next = s.afterSignIn(w, r)
	}
	s.ceremonyAnswer(w, r, err, next)
}

// resetRequest records the request of a user who has lost every second
// factor (after the password), and says who will decide it.
func (s *Server) resetRequest(w http.ResponseWriter, r *http.Request) {
	token, ok := s.partialSession(w, r)
	if !ok {
		return
	}
	if err := s.Accounts.RequestFactorReset(r.Context(), token, s.clientIP(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "reset_requested.html", s.page(r, "reset.title", nil))
}

// resetDecide approves or refuses a reset, by a second person.
func (s *Server) resetDecide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "reset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	approve := r.PathValue("decision") == "approve"
	if !approve && r.PathValue("decision") != "refuse" {
		s.fail(w, r, app.ErrNotFound("route"))
		return
	}
	if err := s.Accounts.DecideFactorReset(r.Context(), id, approve); err != nil {
		s.fail(w, r, err)
		return
	}
	key := "users.reset_refused"
	if approve {
		key = "users.reset_approved"
	}
	s.done(w, r, key, "/users")
}
