package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
)

// Forms carry a per-session anti-forgery token, beside the cross-origin
// check (Origin, Sec-Fetch-Site) and SameSite cookies: a browser that sends
// neither header is still protected. The token is derived from the session
// cookie (account.FormToken); before sign-in, from a form cookie set with
// the first page. Every form's first field is the token.

// formTokenField is the name of the hidden field that holds the token.
const formTokenField = "csrf"

// formTokenWindow is how much of a posted body is read to find the token:
// it is the first field of every form, so it is in the first bytes.
const formTokenWindow = 4096

type formTokenKey struct{}

// formTokenFrom returns the token that the request's forms must carry.
func formTokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(formTokenKey{}).(string)
	return t
}

// formCookie names the cookie that holds a browser's form secret before
// sign-in.
func (s *Server) formCookie() string {
	if s.SecureCookies {
		return "__Host-pocdir_form"
	}
	return "pocdir_form"
}

// forgeryProtection refuses a posted form that does not carry the token of
// the browser's session, and gives a browser without a session its form
// secret. It runs after authenticate, which puts the token of a valid
// session in the context.
func (s *Server) forgeryProtection(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPage(r) {
			h.ServeHTTP(w, r)
			return
		}
		want := formTokenFrom(r.Context())
		if want == "" {
			if c, err := r.Cookie(s.formCookie()); err == nil && strings.HasPrefix(c.Value, "pocdir_form_") && len(c.Value) < 100 {
				want = account.FormToken(c.Value)
			}
		}
		if want == "" {
			secret := account.NewFormSecret()
			http.SetCookie(w, &http.Cookie{Name: s.formCookie(), Value: secret, Path: "/", HttpOnly: true, Secure: s.SecureCookies,
				SameSite: http.SameSiteLaxMode})
			want = account.FormToken(secret)
		}
		r = r.WithContext(context.WithValue(r.Context(), formTokenKey{}, want))
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if got, err := postedFormToken(r); err != nil || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				s.Log.Warn("form refused: no valid anti-forgery token", "path", r.URL.Path, "err", err)
				s.fail(w, r, app.Errorf(app.Forbidden, "error.form_token",
					"this form has expired or was not sent from pocdir's own page: go back, reload the page and send the form again"))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// postedFormToken reads the token field from the first bytes of a posted
// form (URL-encoded or multipart), and puts those bytes back, so that the
// handler reads the whole body under its own size limit.
func postedFormToken(r *http.Request) (string, error) {
	if r.Body == nil {
		return "", errors.New("no body")
	}
	buf := make([]byte, formTokenWindow)
	n, err := io.ReadFull(r.Body, buf)
	complete := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !complete {
		return "", err
	}
	head := buf[:n]
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}

	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		pairs := strings.Split(string(head), "&")
		if !complete {
			pairs = pairs[:len(pairs)-1] // the last may be cut
		}
		for _, p := range pairs {
			k, v, _ := strings.Cut(p, "=")
			if k == formTokenField {
				return url.QueryUnescape(v)
			}
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(head), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() != formTokenField {
				continue
			}
			v, err := io.ReadAll(io.LimitReader(p, 200))
			if err != nil {
				return "", err
			}
			return string(v), nil
		}
	}
	return "", errors.New("no token in the form's first bytes")
}
