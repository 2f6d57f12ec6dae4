package api

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/app"
)

// pageParams reads a list's position and size from the query: cursor (the
// "next" of the page before) and limit (app.PageSize when absent, at most
// app.MaxPageSize).
func pageParams(r *http.Request) (app.Cursor, int, error) {
	q := r.URL.Query()
	k, err := app.ParseCursor("cursor", q.Get("cursor"))
	if err != nil {
		return app.Cursor{}, 0, err
	}
	limit, err := app.PageLimit("limit", q.Get("limit"))
	return k, limit, err
}

// writePage answers a page of a list under its name, with "next", the
// cursor of the page after it, while there is one.
func (a *API) writePage(w http.ResponseWriter, r *http.Request, name string, list any, older *app.Cursor) {
	body := map[string]any{name: list}
	if older != nil {
		body["next"] = older.String()
	}
	a.writeJSON(w, r, http.StatusOK, body)
}
