package api

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/app"
)

// inbox answers a page of what waits for the token's user, most pressing
// first, as the portal's inbox shows it.
func (a *API) inbox(w http.ResponseWriter, r *http.Request) {
	limit, err := app.PageLimit("limit", r.URL.Query().Get("limit"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	in, err := a.Inbox.Page(r.Context(), r.URL.Query().Get("cursor"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, in)
}
