package api

import "net/http"

// inbox answers what waits for the token's user, most pressing first, as
// the portal's inbox shows it.
func (a *API) inbox(w http.ResponseWriter, r *http.Request) {
	in, err := a.Inbox.For(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, in)
}
