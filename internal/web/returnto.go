package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// returnCookie keeps, while a visitor signs in, the page they asked for:
// someone following a link in an email to a communication lands on it once
// signed in, not on the inbox.
const returnCookie = "pocdir_return"

// rememberReturn keeps the page a signed-out visitor asked for (a GET of a
// page), for fifteen minutes.
func (s *Server) rememberReturn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		return
	}
	target := r.URL.RequestURI()
	if !safeReturn(target) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: url.QueryEscape(target), Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int((15 * time.Minute).Seconds())})
}

// afterSignIn is where a visitor goes once signed in: the page they asked
// for, or the inbox. The remembered page is used once.
func (s *Server) afterSignIn(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(returnCookie)
	if err != nil {
		return home
	}
	http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	target, err := url.QueryUnescape(c.Value)
	if err != nil || !safeReturn(target) {
		return home
	}
	return target
}

// safeReturn reports whether target is a page of this site to return to:
// a local path (never another host, "//host" or "/\host"), not the
// sign-in pages themselves, and of a sane length.
func safeReturn(target string) bool {
	if len(target) > 1000 || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.ContainsAny(target, "\\\r\n") {
		return false
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return false
	}
	for _, p := range []string{"/login", "/logout", "/enrol", "/invite/", "/static/", "/api/"} {
		if strings.HasPrefix(u.Path, p) {
			return false
		}
	}
	return u.Path != "/"
}
