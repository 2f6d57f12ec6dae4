package web

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
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

// parseForm reads a posted form of at most maxBytes (each form has its own
// limit, from what its fields can hold). A body over the limit, or one that
// does not decode, is the one "form could not be read" error. Past the
// limit the server stops reading and closes the connection.
func parseForm(w http.ResponseWriter, r *http.Request, maxBytes int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	if err := r.ParseForm(); err != nil {
		return app.Errorf(app.Invalid, "error.form", "the form could not be read")
	}
	return nil
}

// uploadMemory is how much of a multipart form is kept in memory; files
// beyond it go to temporary files.
const uploadMemory = 1 << 20

// parseUpload reads a multipart form with its files, of at most maxBytes in
// all (a form already read reads as it was).
func parseUpload(w http.ResponseWriter, r *http.Request, maxBytes int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
	if err := r.ParseMultipartForm(uploadMemory); err != nil {
		return app.Errorf(app.Invalid, "error.comms_upload", "the form or its files could not be read: the files may be over the size limit")
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
