package api

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
)

// stateFilter reads the filters of GET /api/v1/states, which the directory
// export takes too.
func stateFilter(r *http.Request) (directory.Filter, error) {
	q := r.URL.Query()
	f := directory.Filter{Query: q.Get("q"), Group: q.Get("un_group"), Body: q.Get("regional_body"), Level: directory.Level(q.Get("level")),
		Language: q.Get("language"), Only247: q.Get("available_24_7") == "true"}
	if f.Level != "" && !f.Level.Valid() {
		return f, app.FieldError("level", "error.level", "unknown level", nil)
	}
	return f, nil
}

func (a *API) directoryExport(w http.ResponseWriter, r *http.Request) {
	f, err := stateFilter(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	format, err := export.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	file, err := a.Export.Directory(r.Context(), f, format)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	file.Serve(w)
}

func (a *API) stateExport(w http.ResponseWriter, r *http.Request) {
	format, err := export.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	file, err := a.Export.State(r.Context(), r.PathValue("code"), format)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	file.Serve(w)
}

func (a *API) pocVCard(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	file, err := a.Export.PoC(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	file.Serve(w)
}
