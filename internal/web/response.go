package web

import (
	"net/http"
	"net/url"

	"github.com/pocdir/pocdir/internal/app"
)

// Response helpers: how a handler ends, other than with its own page (an
// error page, or the page to go to after a form), written once.

// fail renders an error page for errors that are not a form's.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := s.errorStatus(r, err)
	e := app.AsError(err)
	if e.Code == app.Unauthorized {
		seeOther(w, r, "/login")
		return
	}
	p := s.page(r, "error.title", nil).withError(e)
	if p.Error == "" && len(p.ErrorList) > 0 {
		p.Error = p.ErrorList[0].Message
	}
	s.render(w, r, status, "error.html", p)
}

// errorStatus is the status of a page that shows err. An internal error is
// logged here, whole, since the page says only that something went wrong.
func (s *Server) errorStatus(r *http.Request, err error) int {
	if app.ClientGone(r.Context(), err) {
		s.Log.Info("client closed the request", "method", r.Method, "path", loggedPath(r))
		return statusClientGone
	}
	code := app.ErrorCode(err)
	if code == app.Internal || code == app.Unavailable {
		s.logInternal(r, "request failed", err)
	}
	return app.HTTPStatus(code)
}

// statusClientGone is the status of a request whose client hung up (no one
// reads it; the access log shows it as nginx does).
const statusClientGone = 499

// flash sets a one-time message (a catalog key) shown on the next page.
func (s *Server) flash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: "pocdir_flash", Value: url.QueryEscape(key), Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// seeOther sends the browser to path with a GET (303 See Other): after a
// form, so that reloading the next page does not post the form again, and
// wherever a page sends the visitor elsewhere.
func seeOther(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// done ends an action that succeeded: a one-time message (a catalog key)
// shown on the page the browser is sent to.
func (s *Server) done(w http.ResponseWriter, r *http.Request, key, path string) {
	s.flash(w, key)
	seeOther(w, r, path)
}
