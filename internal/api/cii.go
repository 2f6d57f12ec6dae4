package api

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/cii"
)

// The States' lists of critical information infrastructure: every list in
// force, a State's list and its versions, and its focal point's
// publication of a new version.

func (a *API) listCII(w http.ResponseWriter, r *http.Request) {
	lists, err := a.CII.All(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if lists == nil {
		lists = []*cii.List{}
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"lists": lists, "reference_sectors": cii.Sectors})
}

func (a *API) getCII(w http.ResponseWriter, r *http.Request) {
	l, err := a.CII.Current(r.Context(), r.PathValue("code"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, l)
}

func (a *API) ciiVersions(w http.ResponseWriter, r *http.Request) {
	lists, err := a.CII.History(r.Context(), r.PathValue("code"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if lists == nil {
		lists = []*cii.List{}
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"versions": lists})
}

func (a *API) publishCII(w http.ResponseWriter, r *http.Request) {
	var in cii.Input
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	l, err := a.CII.Publish(r.Context(), r.PathValue("code"), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusCreated, l)
}
