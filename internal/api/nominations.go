package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// Nominations: proposed changes to a State's entry, and the Secretariat's
// validation or return of them. The service decides who sees and does what.

func (a *API) listNominations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := directory.NominationFilter{State: q.Get("state"), Status: directory.NominationStatus(q.Get("status")), Open: q.Get("open") == "true"}
	if f.Status != "" {
		known := false
		for _, s := range directory.NominationStatuses {
			known = known || s == f.Status
		}
		if !known {
			a.fail(w, r, app.FieldError("status", "error.status", "unknown status", nil))
			return
		}
	}
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Directory.Nominations(r.Context(), f, k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "nominations", page.List, page.Older)
}

func (a *API) getNomination(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Directory.Nomination(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, n)
}

func (a *API) reviseNomination(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := app.RequireWrite(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	var rev directory.Revision
	if err := decode(w, r, &rev); err != nil {
		a.fail(w, r, err)
		return
	}
	if rev.Version, err = version(r, rev.Version); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Directory.ReviseNomination(r.Context(), id, rev)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, n)
}

// stepBody is the body of submit and withdraw: the nomination's version.
type stepBody struct {
	Version int `json:"version"`
}

func (a *API) nominationStep(step func(ctx context.Context, id int64, version int) (*directory.Nomination, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if _, err := app.RequireWrite(r.Context()); err != nil {
			a.fail(w, r, err)
			return
		}
		var b stepBody
		if err := decodeOptional(w, r, &b); err != nil {
			a.fail(w, r, err)
			return
		}
		if b.Version, err = version(r, b.Version); err != nil {
			a.fail(w, r, err)
			return
		}
		n, err := step(r.Context(), id, b.Version)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, n)
	}
}

func (a *API) decide(decide func(ctx context.Context, id int64, d directory.Decision) (*directory.Nomination, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if _, err := app.RequireWrite(r.Context()); err != nil {
			a.fail(w, r, err)
			return
		}
		var d directory.Decision
		if err := decode(w, r, &d); err != nil {
			a.fail(w, r, err)
			return
		}
		if d.Version, err = version(r, d.Version); err != nil {
			a.fail(w, r, err)
			return
		}
		n, err := decide(r.Context(), id, d)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, n)
	}
}

// decodeOptional decodes a JSON body when there is one.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 && strings.TrimSpace(r.Header.Get("Content-Type")) == "" {
		return nil
	}
	return decode(w, r, v)
}
