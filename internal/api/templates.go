package api

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
)

// Communication templates: every user reads them; the Secretariat manages
// them.

func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := a.Comms.Templates(r.Context(), r.URL.Query().Get("retired") == "true")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"templates": list})
}

func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			a.fail(w, r, app.FieldError("version", "error.version", "version must be a number", nil))
			return
		}
	}
	t, err := a.Comms.Template(r.Context(), id, version)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, t)
}

func (a *API) createTemplate(w http.ResponseWriter, r *http.Request) {
	var in comms.TemplateInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.Comms.CreateTemplate(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/templates/"+strconv.FormatInt(t.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, t)
}

func (a *API) reviseTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in comms.TemplateInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if in.Version, err = version(r, in.Version); err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.Comms.ReviseTemplate(r.Context(), id, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, t)
}

func (a *API) templateStatus(active bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		t, err := a.Comms.SetTemplateStatus(r.Context(), id, active)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, t)
	}
}
