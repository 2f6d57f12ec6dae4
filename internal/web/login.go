package web

import (
	"net/http"
	"net/url"

	"github.com/pocdir/pocdir/internal/app"
)

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if app.ActorFrom(r.Context()) != nil {
		seeOther(w, r, home)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", s.page(r, "login.title", nil))
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.Accounts.Login(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"), s.clientIP(r), r.UserAgent())
	if err != nil {
		p := s.page(r, "login.title", nil).withError(err)
		p.Form = url.Values{"email": {r.PostForm.Get("email")}}
		s.render(w, r, s.errorStatus(r, err), "login.html", p)
		return
	}
	s.setSession(w, sess)
	st, err := s.Accounts.Authenticate(r.Context(), sess.Token)
	if err == nil && !st.User.HasSecondFactor() {
		seeOther(w, r, "/enrol/totp")
		return
	}
	seeOther(w, r, "/login/totp")
}

// partialSession returns the cookie of a session that still needs its second
// factor, or sends the visitor where they belong.
func (s *Server) partialSession(w http.ResponseWriter, r *http.Request) (string, bool) {
	if app.ActorFrom(r.Context()) != nil {
		seeOther(w, r, home)
		return "", false
	}
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || partialFrom(r.Context()) == nil {
		seeOther(w, r, "/login")
		return "", false
	}
	return c.Value, true
}

func (s *Server) totpForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.partialSession(w, r); !ok {
		return
	}
	if !partialFrom(r.Context()).User.HasSecondFactor() {
		seeOther(w, r, "/enrol/totp")
		return
	}
	s.render(w, r, http.StatusOK, "totp.html", s.secondFactorPage(r))
}

func (s *Server) totpSubmit(w http.ResponseWriter, r *http.Request) {
	token, ok := s.partialSession(w, r)
	if !ok {
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.Accounts.VerifyTOTP(r.Context(), token, r.PostForm.Get("code"))
	if err != nil {
		s.render(w, r, s.errorStatus(r, err), "totp.html", s.secondFactorPage(r).withError(err))
		return
	}
	s.setSession(w, sess)
	seeOther(w, r, s.afterSignIn(w, r))
}

// secondFactorPage is the page of the second factor: a passkey, the
// authenticator's code (unless the account accepts passkeys only), and the
// way to ask for a reset when both are lost.
func (s *Server) secondFactorPage(r *http.Request) *Page {
	u := partialFrom(r.Context()).User
	p := s.page(r, "totp.title", u)
	if u.Passkeys > 0 {
		p.Script = s.static.js
	}
	return p
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		if err := s.Accounts.Logout(r.Context(), c.Value); err != nil {
			s.Log.Error("logout", "err", err)
		}
	}
	s.clearSession(w)
	s.done(w, r, "login.signed_out", "/login")
}
