package api

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
)

// Communications between States. The service decides who sees what: the
// Secretariat gets metadata only.

// commBody is a communication as the API takes it: the input, with its
// files in base64.
type commBody struct {
	comms.CommInput
	Attachments []struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	} `json:"attachments,omitempty"`
	// Remove lists attachments to take off a draft.
	Remove []int64 `json:"remove_attachments,omitempty"`
}

// maxCommBody bounds a communication with its files in base64.
const maxCommBody = (comms.MaxTotalAttachment+comms.MaxAttachmentBytes)*4/3 + 1<<20

func (a *API) readComm(w http.ResponseWriter, r *http.Request) (*commBody, error) {
	var b commBody
	if err := decodeLimit(w, r, &b, maxCommBody); err != nil {
		return nil, err
	}
	for _, f := range b.Attachments {
		b.CommInput.Attachments = append(b.CommInput.Attachments, &comms.Attachment{Name: f.Name, Data: f.Data})
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		b.IdemKey = k
	}
	return &b, nil
}

func (a *API) listComms(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := comms.Filter{Query: q.Get("q"), Stage: q.Get("stage"), Box: q.Get("box")}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				a.fail(w, r, app.FieldError(name, "error.comms_datetime", "give a date and time in RFC 3339", nil))
				return
			}
			*dst = t
		}
	}
	var err error
	if f.Cursor, err = app.ParseCursor("cursor", q.Get("cursor")); err != nil {
		a.fail(w, r, err)
		return
	}
	if f.Limit, err = app.PageLimit("limit", q.Get("limit")); err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Comms.CommsPage(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body := map[string]any{"communications": page.List}
	if page.Older != nil {
		body["next"] = page.Older.String()
	}
	a.writeJSON(w, r, http.StatusOK, body)
}

func (a *API) createComm(w http.ResponseWriter, r *http.Request) {
	b, err := a.readComm(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Comms.Compose(r.Context(), b.CommInput)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/comms/"+strconv.FormatInt(c.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, c)
}

func (a *API) getComm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Comms.Communication(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, c)
}

func (a *API) updateComm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, err := a.readComm(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Comms.UpdateDraft(r.Context(), id, b.CommInput, b.Remove)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, c)
}

// commStep is an act on a communication that takes no body.
func (a *API) commStep(step func(ctx context.Context, id int64) (*comms.Communication, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		c, err := step(r.Context(), id)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, c)
	}
}

func (a *API) replyComm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in struct {
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
	}
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.Comms.Reply(r.Context(), id, in.Outcome, in.Note)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, c)
}

func (a *API) shareComm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in struct {
		State string `json:"state"`
		Note  string `json:"note"`
	}
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	forwarded, err := a.Comms.Share(r.Context(), id, in.State, in.Note)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusAccepted // waiting for the sender's consent
	if forwarded {
		status = http.StatusOK
	}
	a.writeJSON(w, r, status, map[string]bool{"forwarded": forwarded})
}

// reviewMailAct confirms or rejects an act that came by email without a
// verified signature, for the State it claims to come from.
func (a *API) reviewMailAct(confirm bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ev, err := pathInt(r, "event", "event")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		c, err := a.Comms.ReviewMailAct(r.Context(), id, ev, confirm)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, c)
	}
}

func (a *API) consentComm(grant bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		req, err := pathInt(r, "request", "consent request")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		c, err := a.Comms.Consent(r.Context(), id, req, grant)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, c)
	}
}

func (a *API) commThread(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.Comms.Thread(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, t)
}

func (a *API) commSTIX(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, name, err := a.Comms.STIX(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (a *API) commAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	aid, err := pathInt(r, "aid", "attachment")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.Comms.AttachmentFile(r.Context(), id, aid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.Type)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(f.Name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(f.Data)
}

// parseIndicators checks indicators before composing: a plain list or a
// STIX 2.1 bundle in the body; every line that does not parse comes back
// with its reason.
func (a *API) parseIndicators(w http.ResponseWriter, r *http.Request) {
	if _, err := app.RequireActor(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
		if err := app.CheckCharset(params); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	limitBody(w, r, 5<<20)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.fail(w, r, app.Errorf(app.Invalid, "error.json", "the body is larger than 5 MB"))
		return
	}
	// A list of lines is text; a STIX bundle is JSON, read as strictly as
	// every other JSON body.
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		err = checkJSONBytes(t)
	} else if e := app.CheckText("", string(body)); e != nil {
		err = e
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	inds, problems := comms.ImportIndicators(body)
	if inds == nil {
		inds = []comms.Indicator{}
	}
	if problems == nil {
		problems = []comms.Problem{}
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"indicators": inds, "problems": problems})
}

func (a *API) listTensions(w http.ResponseWriter, r *http.Request) {
	list, err := a.Comms.Tensions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"diplomatic_first_with": list})
}

func (a *API) setTension(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.Comms.SetTension(r.Context(), r.PathValue("state"), on); err != nil {
			a.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
