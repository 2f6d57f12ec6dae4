package web

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
)

// Request helpers: what handlers read from a request (ids in the path,
// numbers in form values), read one way, so that no handler parses an id by
// hand.

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
