package web

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/upload"
)

// Request helpers: what handlers read from a request (ids in the path,
// forms within their size limit, numbers in form values), read one way, so
// that no handler parses an id or limits a body by hand.

// pathID returns the integer id named name in the request's path. An id that
// is not an integer names nothing: the error is the not-found error of what
// ("campaign", "poc" ...), the same as for an id that names no such thing.
func pathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, app.ErrNotFound(what)
	}
	return id, nil
}

// pathIDExt is pathID for a path segment that may end in an extension
// (/log/receipts/12.json): it returns the id and whether the extension was
// there.
func pathIDExt(r *http.Request, name, ext, what string) (int64, bool, error) {
	v, found := strings.CutSuffix(r.PathValue(name), ext)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, app.ErrNotFound(what)
	}
	return id, found, nil
}

// parseForm reads a posted form of at most maxBytes (each form has its own
// limit, from what its fields can hold). A body over the limit, or one that
// does not decode, is the one "form could not be read" error. Past the
// limit the server stops reading and closes the connection.
//
// Text that is not UTF-8 or holds a control character is refused, naming
// the field, as every edge refuses it (app.CheckText); so is a form that
// says it is in another character set.
func parseForm(w http.ResponseWriter, r *http.Request, maxBytes int64) error {
	if err := formCharset(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	if err := r.ParseForm(); err != nil {
		return app.Errorf(app.Invalid, "error.form", "the form could not be read")
	}
	if e := app.CheckValues(r.Form); e != nil {
		return e
	}
	return nil
}

// textProblem reports whether err is parseForm's or parseUpload's refusal
// of a field's text: the form was read, and can come back with the
// message next to the field and everything else as typed.
func textProblem(err error) bool {
	e := app.AsError(err)
	return e.Field != "" && (e.Key == "error.text_utf8" || e.Key == "error.text_control")
}

// formCharset refuses a form whose Content-Type names another character
// set than UTF-8 (pocdir's pages are UTF-8, and so are the forms browsers
// send from them).
func formCharset(r *http.Request) error {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil // ParseForm says what is wrong
	}
	if e := app.CheckCharset(params); e != nil {
		return e
	}
	return nil
}

// parseUpload reads a multipart form with its files, of at most maxBytes in
// all (a form already read reads as it was).
func parseUpload(w http.ResponseWriter, r *http.Request, maxBytes int64) error {
	if err := formCharset(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	// The whole form stays in memory, never in a readable temporary file:
	// the memory that large forms hold at once is bounded by boundUploads.
	if err := r.ParseMultipartForm(maxBytes); err != nil {
		return app.Errorf(app.Invalid, "error.comms_upload", "the form or its files could not be read: the files may be over the size limit")
	}
	if e := app.CheckValues(r.Form); e != nil {
		return e
	}
	for field, files := range r.MultipartForm.File {
		for _, f := range files {
			if e := app.CheckText(field, f.Filename); e != nil {
				return e
			}
		}
	}
	return nil
}

// atoi reads a number in a form or query value; anything else reads as 0,
// as an empty field does.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// atoi64 is atoi for ids in form and query values.
func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// isPage reports whether the request is for a page (or a form), which the
// session, forms' tokens and the pages' checks concern: not a static file,
// the API (which has its own), or a health probe.
func isPage(r *http.Request) bool {
	p := r.URL.Path
	return !strings.HasPrefix(p, "/static/") && !strings.HasPrefix(p, "/api/") && p != "/healthz" && p != "/readyz"
}

// checkQuery refuses a page's query string whose text is not UTF-8 or
// holds a control character, as forms are refused.
func (s *Server) checkQuery(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" && isPage(r) {
			if e := app.CheckValues(r.URL.Query()); e != nil {
				s.fail(w, r, e)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// boundUploads hands a large body (a communication's files) to its
// handler when the server has a place for it (package upload). Only a
// signed-in user sends one: anyone else's is refused unread.
func (s *Server) boundUploads(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPage(r) || !upload.IsLarge(r) {
			h.ServeHTTP(w, r)
			return
		}
		if app.ActorFrom(r.Context()) == nil {
			s.fail(w, r, app.Errorf(app.Invalid, "error.too_large", "the body is larger than %d bytes", upload.Large))
			return
		}
		release, err := s.Uploads.Take(r)
		if err != nil {
			if app.ErrorCode(err) == app.Unavailable {
				w.Header().Set("Retry-After", upload.RetryAfter)
			}
			s.fail(w, r, err)
			return
		}
		defer release()
		h.ServeHTTP(w, r)
	})
}
