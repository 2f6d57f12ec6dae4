// Package api serves pocdir's JSON API under /api/v1 for national systems and
// scripts: bearer-token authentication, one error shape, and the OpenAPI
// document that describes it (openapi.yaml).
package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/inbox"
	"github.com/pocdir/pocdir/internal/metrics"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/regional"
	"github.com/pocdir/pocdir/internal/upload"
)

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns the OpenAPI document of the API.
func OpenAPI() []byte { return openapiYAML }

// API holds the services the handlers call.
type API struct {
	Directory *directory.Service
	// Export makes the directory's downloads (CSV, JSON, vCard).
	Export *export.Service
	// Offline makes the signed and encrypted offline copies.
	Offline  *offline.Service
	Accounts *account.Service
	Audit    *auditlog.Log
	Checks   *checks.Service
	// CII holds the States' lists of critical information infrastructure.
	CII *cii.Service
	// Regional holds the regional directories' contacts.
	Regional  *regional.Service
	Capacity  *capacity.Service
	Comms     *comms.Service
	Inbox     *inbox.Service
	Log       *slog.Logger
	Exercises *exercises.Service
	// DB holds the request counts of the rate limit, and Now its clock.
	DB  *db.DB
	Now func() time.Time
	// RateLimit is how many requests a token may make in a minute
	// (DefaultRateLimit when 0).
	RateLimit int
	// Uploads hands large bodies to the handlers a few at a time.
	Uploads *upload.Limiter

	limiter *rateLimiter
}

// Handler returns the handler of every /api/v1 route.
func (a *API) Handler() http.Handler {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	a.limiter = newRateLimiter(a.DB, a.Now, a.RateLimit)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openapiYAML)
	})
	mux.HandleFunc("GET /api/v1/me", a.me)
	mux.HandleFunc("GET /api/v1/status", a.status)
	mux.HandleFunc("GET /api/v1/inbox", a.inbox)
	mux.HandleFunc("GET /api/v1/states", a.listStates)
	mux.HandleFunc("GET /api/v1/states/{code}", a.getState)
	mux.HandleFunc("PUT /api/v1/states/{code}/entry", a.updateEntry)
	mux.HandleFunc("GET /api/v1/states/{code}/history", a.history)
	mux.HandleFunc("GET /api/v1/states/{code}/access", a.access)
	mux.HandleFunc("GET /api/v1/states/{code}/cii", a.getCII)
	mux.HandleFunc("PUT /api/v1/states/{code}/cii", a.publishCII)
	mux.HandleFunc("GET /api/v1/states/{code}/cii/versions", a.ciiVersions)
	mux.HandleFunc("GET /api/v1/cii", a.listCII)
	mux.HandleFunc("GET /api/v1/regional", a.listRegional)
	mux.HandleFunc("POST /api/v1/regional/imports", a.importRegional)
	mux.HandleFunc("GET /api/v1/regional/imports/{id}", a.getRegionalImport)
	mux.HandleFunc("GET /api/v1/regional/contacts", a.listRegionalContacts)
	mux.HandleFunc("POST /api/v1/regional/contacts/{id}/confirm", a.reviewRegional(true))
	mux.HandleFunc("POST /api/v1/regional/contacts/{id}/reject", a.reviewRegional(false))
	mux.HandleFunc("GET /api/v1/regional/bodies/{body}/export", a.exportRegional)
	mux.HandleFunc("POST /api/v1/states/{code}/reconfirm", a.reconfirm)
	mux.HandleFunc("POST /api/v1/states/{code}/pocs", a.createPoC)
	mux.HandleFunc("GET /api/v1/pocs/{id}", a.getPoC)
	mux.HandleFunc("GET /api/v1/pocs/{id}/vcard", a.pocVCard)
	mux.HandleFunc("GET /api/v1/states/{code}/export", a.stateExport)
	mux.HandleFunc("GET /api/v1/export/directory", a.directoryExport)
	mux.HandleFunc("GET /api/v1/offline-copy", a.offlineCopy)
	mux.HandleFunc("PUT /api/v1/pocs/{id}", a.updatePoC)
	mux.HandleFunc("DELETE /api/v1/pocs/{id}", a.deletePoC)
	mux.HandleFunc("GET /api/v1/nominations", a.listNominations)
	mux.HandleFunc("GET /api/v1/nominations/{id}", a.getNomination)
	mux.HandleFunc("PUT /api/v1/nominations/{id}", a.reviseNomination)
	mux.HandleFunc("POST /api/v1/nominations/{id}/submit", a.nominationStep(a.Directory.SubmitNomination))
	mux.HandleFunc("POST /api/v1/nominations/{id}/withdraw", a.nominationStep(a.Directory.WithdrawNomination))
	mux.HandleFunc("POST /api/v1/nominations/{id}/validate", a.decide(a.Directory.ValidateNomination))
	mux.HandleFunc("POST /api/v1/nominations/{id}/return", a.decide(a.Directory.ReturnNomination))
	mux.HandleFunc("GET /api/v1/checks", a.listChecks)
	mux.HandleFunc("POST /api/v1/checks", a.createCheck)
	mux.HandleFunc("GET /api/v1/checks/pending", a.pendingChecks)
	mux.HandleFunc("GET /api/v1/checks/{id}", a.getCheck)
	mux.HandleFunc("POST /api/v1/checks/{id}/cancel", a.cancelCheck)
	mux.HandleFunc("POST /api/v1/checks/targets/{id}/answer", a.answerCheck)
	mux.HandleFunc("POST /api/v1/checks/targets/{id}/manual", a.recordCheck)
	mux.HandleFunc("GET /api/v1/exercises", a.listExercises)
	mux.HandleFunc("POST /api/v1/exercises", a.planExercise)
	mux.HandleFunc("GET /api/v1/exercises/{id}", a.getExercise)
	mux.HandleFunc("POST /api/v1/exercises/{id}/agree", a.agreeExercise)
	mux.HandleFunc("POST /api/v1/exercises/{id}/confirm", a.confirmExercise)
	mux.HandleFunc("POST /api/v1/exercises/{id}/withdraw", a.withdrawExercise)
	mux.HandleFunc("POST /api/v1/exercises/{id}/decline", a.declineExercise)
	mux.HandleFunc("POST /api/v1/exercises/{id}/injects", a.addInject)
	mux.HandleFunc("POST /api/v1/exercises/{id}/injects/{inject}/release", a.releaseInject)
	mux.HandleFunc("PUT /api/v1/exercises/{id}/note", a.setExerciseNote)
	mux.HandleFunc("GET /api/v1/exercises/{id}/report", a.exerciseReport)
	mux.HandleFunc("GET /api/v1/capacity/needs", a.listNeeds)
	mux.HandleFunc("POST /api/v1/capacity/needs", a.createNeed)
	mux.HandleFunc("GET /api/v1/capacity/needs/{id}", a.getNeed)
	mux.HandleFunc("PUT /api/v1/capacity/needs/{id}", a.updateNeed)
	mux.HandleFunc("POST /api/v1/capacity/needs/{id}/withdraw", a.withdrawNeed)
	mux.HandleFunc("GET /api/v1/capacity/offers", a.listOffers)
	mux.HandleFunc("POST /api/v1/capacity/offers", a.createOffer)
	mux.HandleFunc("GET /api/v1/capacity/offers/{id}", a.getOffer)
	mux.HandleFunc("POST /api/v1/capacity/offers/{id}/withdraw", a.withdrawOffer)
	mux.HandleFunc("GET /api/v1/capacity/matches", a.listMatches)
	mux.HandleFunc("POST /api/v1/capacity/matches", a.proposeMatch)
	mux.HandleFunc("GET /api/v1/capacity/matches/suggestions", a.suggestMatches)
	mux.HandleFunc("GET /api/v1/capacity/matches/{id}", a.getMatch)
	mux.HandleFunc("POST /api/v1/capacity/matches/{id}/answer", a.answerMatch)
	mux.HandleFunc("GET /api/v1/capacity/activities", a.listActivities)
	mux.HandleFunc("GET /api/v1/capacity/activities/{id}", a.getActivity)
	mux.HandleFunc("PUT /api/v1/capacity/activities/{id}", a.updateActivity)
	mux.HandleFunc("GET /api/v1/capacity/plan", a.getPlan)
	mux.HandleFunc("POST /api/v1/capacity/plan", a.createPlan)
	mux.HandleFunc("GET /api/v1/capacity/progress", a.capacityProgress)
	mux.HandleFunc("GET /api/v1/templates", a.listTemplates)
	mux.HandleFunc("POST /api/v1/templates", a.createTemplate)
	mux.HandleFunc("GET /api/v1/templates/{id}", a.getTemplate)
	mux.HandleFunc("PUT /api/v1/templates/{id}", a.reviseTemplate)
	mux.HandleFunc("POST /api/v1/templates/{id}/retire", a.templateStatus(false))
	mux.HandleFunc("POST /api/v1/templates/{id}/reinstate", a.templateStatus(true))
	mux.HandleFunc("GET /api/v1/comms", a.listComms)
	mux.HandleFunc("POST /api/v1/comms", a.createComm)
	mux.HandleFunc("GET /api/v1/comms/{id}", a.getComm)
	mux.HandleFunc("PUT /api/v1/comms/{id}", a.updateComm)
	mux.HandleFunc("POST /api/v1/comms/{id}/send", a.commStep(a.Comms.Send))
	mux.HandleFunc("POST /api/v1/comms/{id}/acknowledge", a.commStep(a.Comms.Acknowledge))
	mux.HandleFunc("POST /api/v1/comms/{id}/escalate", a.commStep(a.Comms.Escalate))
	mux.HandleFunc("POST /api/v1/comms/{id}/reply", a.replyComm)
	mux.HandleFunc("POST /api/v1/comms/{id}/share", a.shareComm)
	mux.HandleFunc("POST /api/v1/comms/{id}/consents/{request}/grant", a.consentComm(true))
	mux.HandleFunc("POST /api/v1/comms/{id}/consents/{request}/refuse", a.consentComm(false))
	mux.HandleFunc("POST /api/v1/comms/{id}/events/{event}/confirm", a.reviewMailAct(true))
	mux.HandleFunc("POST /api/v1/comms/{id}/events/{event}/reject", a.reviewMailAct(false))
	mux.HandleFunc("GET /api/v1/comms/{id}/thread", a.commThread)
	mux.HandleFunc("GET /api/v1/comms/{id}/stix", a.commSTIX)
	mux.HandleFunc("GET /api/v1/comms/{id}/attachments/{aid}", a.commAttachment)
	mux.HandleFunc("POST /api/v1/indicators/parse", a.parseIndicators)
	mux.HandleFunc("GET /api/v1/routing/tensions", a.listTensions)
	mux.HandleFunc("PUT /api/v1/routing/tensions/{state}", a.setTension(true))
	mux.HandleFunc("DELETE /api/v1/routing/tensions/{state}", a.setTension(false))
	mux.HandleFunc("GET /api/v1/users", a.listUsers)
	mux.HandleFunc("GET /api/v1/invitations", a.listInvitations)
	mux.HandleFunc("GET /api/v1/observers", a.listObservers)
	mux.HandleFunc("GET /api/v1/tokens", a.listTokens)
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", a.revokeToken)
	mux.HandleFunc("GET /api/v1/log/key", a.logKey)
	mux.HandleFunc("GET /api/v1/log/checkpoint", a.logCheckpoint)
	mux.HandleFunc("GET /api/v1/log/checkpoints/{size}", a.logCheckpointAt)
	mux.HandleFunc("GET /api/v1/log/entries", a.logEntries)
	mux.HandleFunc("GET /api/v1/log/entries/{index}", a.logEntry)
	mux.HandleFunc("GET /api/v1/log/consistency", a.logConsistency)
	mux.HandleFunc("GET /api/v1/log/receipts/{index}", a.logReceipt)
	mux.HandleFunc("POST /api/v1/log/cosignatures", a.logCosign)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, app.ErrNotFound("route"))
	})
	if a.Uploads == nil {
		a.Uploads = upload.New(0, 0)
	}
	return a.authenticate(a.rateLimit(a.boundUploads(a.checkQuery(metrics.Routes(mux)))))
}

// authenticate resolves the bearer token. Everything under /api/v1 needs one;
// cookies are not accepted here, so the API has no CSRF surface.
func (a *API) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pocdir"`)
			a.fail(w, r, app.ErrUnauthenticated())
			return
		}
		actor, err := a.Accounts.AuthenticateToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pocdir", error="invalid_token"`)
			a.fail(w, r, err)
			return
		}
		h.ServeHTTP(w, r.WithContext(app.WithActor(r.Context(), actor)))
	})
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    app.Code      `json:"code"`
	Message string        `json:"message"`
	Field   string        `json:"field,omitempty"`
	Fields  []fieldDetail `json:"fields,omitempty"`
}

type fieldDetail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if app.ClientGone(r.Context(), err) {
		a.Log.Info("client closed the request", "method", r.Method, "path", r.URL.Path)
		w.WriteHeader(499) // no one reads it; the access log shows it as nginx does
		return
	}
	e := app.AsError(err)
	switch e.Code {
	case app.Internal, app.Unavailable:
		a.Log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Code == app.Unavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "30")
	}
	body := errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}}
	for _, f := range e.Fields {
		body.Error.Fields = append(body.Error.Fields, fieldDetail{Field: f.Field, Message: f.Message})
	}
	b, _ := json.Marshal(body) // strings only: it cannot fail
	writeRaw(w, app.HTTPStatus(e.Code), b)
}

// writeJSON answers v as JSON. A value that does not encode (a NaN, say) is
// an internal error, answered and logged as every other.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: unable to encode the response: %w", err))
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

const maxBody = 256 << 10

// limitBody caps the request body at maxBytes: reading past the cap fails
// with *http.MaxBytesError, and the server closes the connection rather
// than read the rest.
func limitBody(w http.ResponseWriter, r *http.Request, maxBytes int64) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
}

// boundUploads hands a large body to its handler when the server has a
// place for it (package upload). Only a token's holder gets this far.
func (a *API) boundUploads(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := a.Uploads.Take(r)
		if err != nil {
			if app.ErrorCode(err) == app.Unavailable {
				w.Header().Set("Retry-After", upload.RetryAfter)
			}
			a.fail(w, r, err)
			return
		}
		defer release()
		h.ServeHTTP(w, r)
	})
}

// checkQuery refuses a query string whose text is not UTF-8 or holds a
// control character, as bodies are refused.
func (a *API) checkQuery(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				a.fail(w, r, app.Errorf(app.Invalid, "error.query", "the query string could not be read: %v", err))
				return
			}
			if e := app.CheckValues(q); e != nil {
				a.fail(w, r, e)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// checkJSONBytes applies the checks of strictReader to a JSON document
// already in memory (a STIX bundle read as indicators).
func checkJSONBytes(b []byte) error {
	_, err := io.Copy(io.Discard, newStrictReader(bytes.NewReader(b)))
	return err
}

// decode reads exactly one JSON object into v, refusing unknown fields,
// trailing data and bodies over the limit, each with a clear message.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, maxBody)
}

// decodeLimit is decode with its own size limit, for bodies that carry
// files.
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, maxBody int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return app.Errorf(app.Invalid, "error.json", "the body must be JSON (Content-Type: application/json)")
		}
		if err := app.CheckCharset(params); err != nil {
			return err
		}
	}
	limitBody(w, r, maxBody)
	dec := json.NewDecoder(newStrictReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var strict *app.Error
		if errors.As(err, &strict) {
			return strict
		}
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return app.Errorf(app.Invalid, "error.json", "the body is larger than %d bytes", maxBody)
		case errors.As(err, &syn):
			return app.Errorf(app.Invalid, "error.json", "malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ) && typ.Field == "":
			return app.Errorf(app.Invalid, "error.json", "the body must be a JSON object")
		case errors.As(err, &typ):
			return &app.Error{Code: app.Invalid, Field: typ.Field, Key: "error.json", Message: "wrong type for field " + typ.Field + ": want " + jsonType(typ.Type)}
		case errors.Is(err, io.EOF):
			return app.Errorf(app.Invalid, "error.json", "the body is empty")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &app.Error{Code: app.Invalid, Field: f, Key: "error.json", Message: "unknown field " + f}
		}
		return app.Errorf(app.Invalid, "error.json", "malformed JSON: %s", err.Error())
	}
	// dec.More would miss a stray "}" or "]": only the end of the body may
	// follow the object.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var strict *app.Error
		if errors.As(err, &strict) {
			return strict
		}
		return app.Errorf(app.Invalid, "error.json", "the body must hold a single JSON object")
	}
	return nil
}

// jsonType names the JSON type a Go type decodes from, for error messages
// that speak the client's language rather than Go's.
func jsonType(t reflect.Type) string {
	switch k := t.Kind(); {
	case k == reflect.String:
		return "a string"
	case k == reflect.Bool:
		return "true or false"
	case k >= reflect.Int && k <= reflect.Uintptr:
		return "an integer"
	case k == reflect.Float32 || k == reflect.Float64:
		return "a number"
	case k == reflect.Slice || k == reflect.Array:
		return "an array"
	case k == reflect.Struct || k == reflect.Map:
		return "an object"
	}
	return "another type"
}

// pathInt reads the integer named name in the request's path. One that is
// not an integer names nothing: the error says what was not found. Any
// integer is passed on: whether it names, say, an attachment of the
// communication is for the service to say, once it has said whether the
// caller may see the communication.
func pathInt(r *http.Request, name, what string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, app.ErrNotFound(what)
	}
	return n, nil
}

// pathID reads the {id} of the path: ids start at 1.
func pathID(r *http.Request) (int64, error) {
	id, err := pathInt(r, "id", "object")
	if err != nil || id <= 0 {
		return 0, app.ErrNotFound("object")
	}
	return id, nil
}

// pathIndex reads a log index or tree size in the path: 0 or more.
func pathIndex(r *http.Request, name, what string) (int64, error) {
	n, err := pathInt(r, name, what)
	if err != nil || n < 0 {
		return 0, app.ErrNotFound(what)
	}
	return n, nil
}
