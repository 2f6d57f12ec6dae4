package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	actor := app.ActorFrom(r.Context())
	scope := "write"
	if actor.ReadOnly {
		scope = "read"
	}
	me := map[string]any{"email": actor.Email, "name": actor.Name, "role": actor.Role, "state": actor.State, "token_scope": scope}
	if actor.IsObserver() {
		me["organisation"] = actor.Organisation
		g := app.Grant{States: []string{}}
		if actor.Grant != nil {
			g = *actor.Grant
		}
		me["grant"] = map[string]any{"states": g.States, "offers": g.Offers}
	}
	a.writeJSON(w, r, http.StatusOK, me)
}

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	st, err := a.Directory.Status(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, st)
}

func (a *API) listStates(w http.ResponseWriter, r *http.Request) {
	f, err := stateFilter(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list, err := a.Directory.List(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"states": list, "count": len(list)})
}

func (a *API) getState(w http.ResponseWriter, r *http.Request) {
	enc, err := a.Directory.GetJSON(r.Context(), r.PathValue("code"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The headers by direct assignment of values made once: Header.Set
	// allocates for each, and this is the API's busiest route.
	h := w.Header()
	h["Content-Type"] = jsonContentType
	body, length := enc.JSON, enc.JSONLength
	if app.AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		h["Content-Encoding"] = gzipEncoding
		body, length = enc.Gzip, enc.GzipLength
	}
	h["Content-Length"] = length
	w.Write(body)
}

var (
	jsonContentType = []string{"application/json"}
	gzipEncoding    = []string{"gzip"}
)

// editableState checks, before any body is read, that the State exists and
// the caller may propose changes to its entry (its focal points, or the
// Secretariat on the State's written request), so that a caller without
// rights learns nothing from validation messages. The service checks again.
func (a *API) editableState(w http.ResponseWriter, r *http.Request) (string, bool) {
	actor, err := app.RequireWrite(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return "", false
	}
	code := strings.ToUpper(r.PathValue("code"))
	if _, err := a.Directory.Get(r.Context(), code); err != nil {
		a.fail(w, r, err)
		return "", false
	}
	if !directory.CanPropose(actor, code) {
		a.fail(w, r, app.ErrForbidden())
		return "", false
	}
	return code, true
}

// proposed answers a proposed change: 202 Accepted with the nomination,
// which changes the directory once the Secretariat validates it.
func (a *API) proposed(w http.ResponseWriter, r *http.Request, n *directory.Nomination, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/nominations/"+strconv.FormatInt(n.ID, 10))
	a.writeJSON(w, r, http.StatusAccepted, n)
}

func (a *API) updateEntry(w http.ResponseWriter, r *http.Request) {
	code, ok := a.editableState(w, r)
	if !ok {
		return
	}
	var in directory.EntryInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Directory.ProposeEntryUpdate(r.Context(), code, in)
	a.proposed(w, r, n, err)
}

// reconfirm records the annual reconfirmation of the entry: the caller
// states that the entry, as it stands, has been reviewed and is correct.
func (a *API) reconfirm(w http.ResponseWriter, r *http.Request) {
	code, ok := a.editableState(w, r)
	if !ok {
		return
	}
	st, err := a.Directory.Reconfirm(r.Context(), code)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, st)
}

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Directory.HistoryPage(r.Context(), r.PathValue("code"), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "changes", page.List, page.Older)
}

func (a *API) access(w http.ResponseWriter, r *http.Request) {
	acc, err := a.Accounts.StateAccess(r.Context(), r.PathValue("code"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, acc)
}

func (a *API) createPoC(w http.ResponseWriter, r *http.Request) {
	code, ok := a.editableState(w, r)
	if !ok {
		return
	}
	var in directory.PoCInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Directory.ProposePoC(r.Context(), code, in)
	a.proposed(w, r, n, err)
}

func (a *API) getPoC(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p, err := a.Directory.GetPoC(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(p.Version)))
	a.writeJSON(w, r, http.StatusOK, p)
}

// version reads the version the client edits from: the If-Match header
// (the ETag of GET) or the given one (body or query). It is required:
// without it a change could silently undo one the client never saw.
func version(r *http.Request, given int) (int, error) {
	if m := strings.TrimSpace(r.Header.Get("If-Match")); m != "" {
		v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(m, "W/"), `"`))
		if err != nil || v < 1 {
			return 0, app.FieldError("If-Match", "error.version", "If-Match must be the ETag of the PoC (its version number)", nil)
		}
		return v, nil
	}
	if given < 1 {
		return 0, app.FieldError("version", "error.version_required", "give the version you started from (If-Match or version)", nil)
	}
	return given, nil
}

func (a *API) checkPoCEdit(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return 0, false
	}
	actor, err := app.RequireWrite(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return 0, false
	}
	p, err := a.Directory.GetPoC(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return 0, false
	}
	if !directory.CanPropose(actor, p.State) {
		a.fail(w, r, app.ErrForbidden())
		return 0, false
	}
	return id, true
}

func (a *API) updatePoC(w http.ResponseWriter, r *http.Request) {
	id, ok := a.checkPoCEdit(w, r)
	if !ok {
		return
	}
	var in directory.PoCInput
	err := decode(w, r, &in)
	if err == nil {
		in.Version, err = version(r, in.Version)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Directory.ProposePoCUpdate(r.Context(), id, in)
	a.proposed(w, r, n, err)
}

func (a *API) deletePoC(w http.ResponseWriter, r *http.Request) {
	id, ok := a.checkPoCEdit(w, r)
	if !ok {
		return
	}
	v := 0
	if q := r.URL.Query().Get("version"); q != "" {
		var err error
		if v, err = strconv.Atoi(q); err != nil || v < 0 {
			a.fail(w, r, app.FieldError("version", "error.version", "version must be a number", nil))
			return
		}
	}
	v, err := version(r, v)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	n, err := a.Directory.ProposePoCRemoval(r.Context(), id, directory.RemovalInput{Version: v, EffectiveDate: q.Get("effective_date"),
		Submission: directory.Submission{Draft: q.Get("draft") == "true", RequestRef: q.Get("request_ref")}})
	a.proposed(w, r, n, err)
}

// Accounts are managed (invited, disabled) only in a signed-in session with
// the second factor, never through a long-lived token: the API lists them.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	page, err := a.Accounts.Users(r.Context(), account.UserFilter{State: q.Get("state"), Status: q.Get("status"), Query: q.Get("q")}, k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "users", page.List, page.Older)
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Accounts.Invitations(r.Context(), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "invitations", page.List, page.Older)
}

func (a *API) listObservers(w http.ResponseWriter, r *http.Request) {
	list, err := a.Accounts.Observers(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"observers": list})
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := a.Accounts.Tokens(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"tokens": list})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = a.Accounts.RevokeToken(r.Context(), id)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
