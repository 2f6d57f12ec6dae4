package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

const langCookie = "pocdir_lang"

// languageChange switches the interface language from any page, signed in
// or not: the choice is remembered in a cookie and, for a signed-in user, in
// the account. The visitor returns to the page they were on.
func (s *Server) languageChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	lang := r.PostForm.Get("lang")
	if !s.Catalog.Has(lang) {
		s.fail(w, r, app.FieldError("lang", "error.language_unknown", "unknown language", nil))
		return
	}
	if app.ActorFrom(r.Context()) != nil {
		if err := s.Accounts.SetLanguage(r.Context(), lang); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: time.Now().AddDate(1, 0, 0)})
	seeOther(w, r, localPath(r.PostForm.Get("back")))
}

// localPath keeps a return address on this site: a path, never a scheme,
// another host ("//evil.example") or a backslash trick.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	return p
}
