package api

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/checks"
)

// Communication checks. The service decides who sees and runs what.

func (a *API) listChecks(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Checks.Campaigns(r.Context(), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "campaigns", page.List, page.Older)
}

func (a *API) createCheck(w http.ResponseWriter, r *http.Request) {
	var in checks.Input
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Checks.Create(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/checks/"+strconv.FormatInt(c.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, c)
}

func (a *API) getCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := a.Checks.Results(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, res)
}

func (a *API) cancelCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Checks.Cancel(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, c)
}

func (a *API) pendingChecks(w http.ResponseWriter, r *http.Request) {
	list, err := a.Checks.Pending(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"targets": list})
}

func (a *API) answerCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Checks.AnswerInPortal(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// manualBody records a call's outcome on the manual channel.
type manualBody struct {
	Answered bool `json:"answered"`
}

func (a *API) recordCheck(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var b manualBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Checks.RecordManual(r.Context(), id, b.Answered); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
