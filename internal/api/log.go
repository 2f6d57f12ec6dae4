package api

import (
	"net/http"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
)

func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, app.FieldError(name, "error.log_size", name+" must be a non-negative integer", nil)
	}
	return n, nil
}

func (a *API) logKey(w http.ResponseWriter, r *http.Request) {
	a.writeJSON(w, r, http.StatusOK, map[string]string{"origin": a.Audit.Origin(), "key": a.Audit.VerifierKey})
}

func writeNote(w http.ResponseWriter, cp *auditlog.Checkpoint) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(cp.Note))
}

// logCheckpoint answers the latest checkpoint as a C2SP signed note, signing
// a new one when the log has grown.
func (a *API) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := a.Audit.Latest(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeNote(w, cp)
}

func (a *API) logCheckpointAt(w http.ResponseWriter, r *http.Request) {
	size, err := pathIndex(r, "size", "checkpoint")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cp, err := a.Audit.CheckpointAt(r.Context(), size)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "json" {
		a.writeJSON(w, r, http.StatusOK, cp)
		return
	}
	writeNote(w, cp)
}

type entryBody struct {
	Index int64          `json:"index"`
	Event auditlog.Event `json:"event"`
	Data  []byte         `json:"data"`
	Proof []tlog.Hash    `json:"proof,omitempty"`
}

// logEntries lists the entries the caller may see; with proof_size, each
// comes with its inclusion proof in the tree of that size.
func (a *API) logEntries(w http.ResponseWriter, r *http.Request) {
	from, err := queryInt(r, "from", 0)
	if err == nil {
		var limit, size int64
		if limit, err = queryInt(r, "limit", app.PageSize); err == nil {
			if size, err = queryInt(r, "proof_size", 0); err == nil {
				var list []*auditlog.Entry
				if list, err = a.Audit.Entries(r.Context(), from, int(limit)); err == nil {
					out := make([]entryBody, 0, len(list))
					for _, e := range list {
						b := entryBody{Index: e.Index, Event: e.Event, Data: e.Data}
						if size > 0 && e.Index < size {
							if b.Proof, err = a.Audit.ProveEntry(r.Context(), e.Index, size); err != nil {
								break
							}
						}
						out = append(out, b)
					}
					if err == nil {
						a.writeJSON(w, r, http.StatusOK, map[string]any{"entries": out})
						return
					}
				}
			}
		}
	}
	a.fail(w, r, err)
}

func (a *API) logEntry(w http.ResponseWriter, r *http.Request) {
	idx, err := pathIndex(r, "index", "log entry")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	e, err := a.Audit.Entry(r.Context(), idx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b := entryBody{Index: e.Index, Event: e.Event, Data: e.Data}
	size, err := queryInt(r, "size", 0)
	if err == nil && size > 0 {
		b.Proof, err = a.Audit.ProveEntry(r.Context(), idx, size)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, b)
}

func (a *API) logConsistency(w http.ResponseWriter, r *http.Request) {
	old, err := queryInt(r, "old", 0)
	var new int64
	if err == nil {
		new, err = queryInt(r, "new", 0)
	}
	var proof tlog.TreeProof
	if err == nil {
		proof, err = a.Audit.ProveConsistency(r.Context(), old, new)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if proof == nil {
		proof = tlog.TreeProof{}
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"old": old, "new": new, "proof": proof})
}

func (a *API) logReceipt(w http.ResponseWriter, r *http.Request) {
	idx, err := pathIndex(r, "index", "log entry")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rc, err := a.Audit.Receipt(r.Context(), idx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, rc)
}

type cosignBody struct {
	Size      int64  `json:"size"`
	Witness   string `json:"witness"`
	Signature string `json:"signature"`
}

func (a *API) logCosign(w http.ResponseWriter, r *http.Request) {
	if _, err := app.RequireWrite(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	var in cosignBody
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Audit.AddCosignature(r.Context(), in.Size, in.Witness, in.Signature); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
