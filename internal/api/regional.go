package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/regional"
)

// The regional directories: the Secretariat imports a body's list and
// follows its matching; the contacts and their review; a body's PoCs in
// the form of an import.

func (a *API) listRegional(w http.ResponseWriter, r *http.Request) {
	bodies, err := a.Regional.Bodies(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if bodies == nil {
		bodies = []*regional.BodySummary{}
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"bodies": bodies})
}

// importRegional takes the file as the body: text/csv or application/json.
func (a *API) importRegional(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/csv" && mt != "application/json") {
		a.fail(w, r, app.Errorf(app.Invalid, "error.regional_type", "send the file as text/csv or application/json"))
		return
	}
	if err := app.CheckCharset(params); err != nil {
		a.fail(w, r, err)
		return
	}
	limitBody(w, r, regional.MaxFile)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = &app.Error{Code: app.Invalid, Key: "error.regional_too_large", Message: "the file is larger than " + strconv.Itoa(regional.MaxFile) + " bytes",
				Args: map[string]any{"Max": regional.MaxFile}}
		}
		a.fail(w, r, err)
		return
	}
	imp, err := a.Regional.Import(r.Context(), data)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/regional/imports/"+strconv.FormatInt(imp.ID, 10))
	a.writeJSON(w, r, http.StatusAccepted, imp)
}

func (a *API) getRegionalImport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	imp, err := a.Regional.ImportProgress(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, imp)
}

func (a *API) listRegionalContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := a.Regional.Contacts(r.Context(), q.Get("body"), q.Get("state"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if list == nil {
		list = []*regional.Contact{}
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"contacts": list})
}

func (a *API) reviewRegional(confirm bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		c, err := a.Regional.Review(r.Context(), id, confirm)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, c)
	}
}

// exportRegional returns a body's PoCs as an importable JSON array.
func (a *API) exportRegional(w http.ResponseWriter, r *http.Request) {
	rows, err := a.Regional.Export(r.Context(), r.PathValue("body"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rows == nil {
		rows = []regional.Row{}
	}
	a.writeJSON(w, r, http.StatusOK, rows)
}
