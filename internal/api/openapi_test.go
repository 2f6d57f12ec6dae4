package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/api"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

const apiBase = "/api/v1"

// loadDoc loads and validates the embedded OpenAPI document.
func loadDoc(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadDoc(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != apiBase {
		t.Errorf("servers %v, want one at %s", doc.Servers, apiBase)
	}
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" {
		t.Fatalf("bearerAuth is not an HTTP bearer scheme")
	}
	if len(doc.Security) != 1 || len(doc.Security[0]) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("the document's security is %v, want bearerAuth on everything", doc.Security)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Security != nil {
				t.Errorf("%s overrides the bearerAuth security", name)
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", name)
			}
			// Every route needs a token.
			if op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s does not document 401", name)
			}
			if op.RequestBody != nil && op.Responses.Status(http.StatusBadRequest) == nil {
				t.Errorf("%s takes a body but does not document 400", name)
			}
			if method != http.MethodGet && strings.Contains(path, "{") && op.Responses.Status(http.StatusNotFound) == nil {
				t.Errorf("%s acts on an object but does not document 404", name)
			}
			if method != http.MethodGet && op.Responses.Status(http.StatusForbidden) == nil {
				t.Errorf("%s writes but does not document 403", name)
			}
		}
	}
}

// docRoutes returns the document's operations as ServeMux patterns.
func docRoutes(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+apiBase+path)
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIDocumentCoversEveryRoute(t *testing.T) {
	doc := loadDoc(t)
	var mux []string
	for _, p := range muxRoutes(t) {
		if _, _, ok := strings.Cut(p, " "); !ok {
			// A pattern without a method is the catch-all that answers 404.
			if p != "/api/" {
				t.Errorf("unexpected route without a method: %q", p)
			}
			continue
		}
		mux = append(mux, p)
	}
	inDoc := map[string]bool{}
	for _, p := range docRoutes(doc) {
		inDoc[p] = true
	}
	inMux := map[string]bool{}
	for _, p := range mux {
		inMux[p] = true
		if !inDoc[p] {
			t.Errorf("the route %s is not in openapi.yaml", p)
		}
	}
	for p := range inDoc {
		if !inMux[p] {
			t.Errorf("openapi.yaml describes %s, which Handler does not serve", p)
		}
	}
}

// validator checks requests and responses against the document.
type validator struct {
	doc    *openapi3.T
	router routers.Router
}

func newValidator(t testing.TB) *validator {
	t.Helper()
	doc := loadDoc(t)
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{doc: doc, router: r}
}

// check validates a response, and the request when validRequest, against
// the document. The request is given as the server saw it.
func (v *validator) check(method, target string, header http.Header, reqBody []byte, validRequest bool, r *response) error {
	req := httptest.NewRequest(method, target, bytes.NewReader(reqBody))
	for k, vs := range header {
		req.Header[k] = vs
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no route in openapi.yaml: %w", method, target, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if validRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("request %s %s does not match openapi.yaml: %w", method, target, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("response %d to %s %s does not match openapi.yaml: %w\nbody: %s", r.Status, method, target, err, r.Body)
	}
	return nil
}

func TestOpenAPIValidatorCatchesMismatches(t *testing.T) {
	v := newValidator(t)
	json200 := http.Header{"Content-Type": {"application/json"}, "Etag": {`"1"`}}
	goodPoC := `{"id":1,"state":"FRA","level":"technical","alternate":false,"agency":"CERT","function_title":"",` +
		`"channels":[{"kind":"email","value":"cert@example.org","preferred":true}],"languages":["en"],"time_zone":"Europe/Paris",` +
		`"available_24_7":true,"notes":{},"regional_refs":[],"version":1,"created_at":"2026-03-02T09:00:00Z","updated_at":"2026-03-02T09:00:00Z"}`
	if err := v.check("GET", "/api/v1/pocs/1", nil, nil, true, &response{Status: 200, Header: json200, Body: []byte(goodPoC)}); err != nil {
		t.Fatalf("a well-formed PoC is refused: %v", err)
	}
	bad := []struct {
		name string
		r    *response
	}{
		{"a PoC with a field the document does not know is refused", &response{200, json200, []byte(strings.Replace(goodPoC, `"id":1,`, `"id":1,"secret":"x",`, 1))}},
		{"a PoC without a required field is refused", &response{200, json200, []byte(strings.Replace(goodPoC, `"version":1,`, ``, 1))}},
		{"a PoC with a time that is not RFC 3339 is refused", &response{200, json200, []byte(strings.Replace(goodPoC, `"2026-03-02T09:00:00Z"`, `"2 March 2026"`, 1))}},
		{"a PoC with null channels is refused", &response{200, json200, []byte(strings.Replace(goodPoC, `[{"kind":"email","value":"cert@example.org","preferred":true}]`, `null`, 1))}},
		{"a PoC without its ETag is refused", &response{200, http.Header{"Content-Type": {"application/json"}}, []byte(goodPoC)}},
		{"a status the document does not list is refused", &response{418, json200, []byte(`{"error":{"code":"internal","message":"teapot"}}`)}},
		{"an error with an unknown code is refused", &response{404, json200, []byte(`{"error":{"code":"missing","message":"poc not found"}}`)}},
		{"an error without message is refused", &response{404, json200, []byte(`{"error":{"code":"not_found"}}`)}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if err := v.check("GET", "/api/v1/pocs/1", nil, nil, true, c.r); err == nil {
				t.Error("the validator accepted it")
			}
		})
	}
	t.Run("a request body with an unknown field is refused", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/json"}}
		body, _ := json.Marshal(map[string]any{"level": "technical", "agency": "CERT", "channels": []any{map[string]any{"kind": "email", "value": "a@b.org"}},
			"languages": []any{"en"}, "time_zone": "UTC", "colour": "blue"})
		if err := v.check("POST", "/api/v1/states/FRA/pocs", h, body, true, &response{Status: 400, Header: json200, Body: []byte(`{"error":{"code":"invalid","message":"x"}}`)}); err == nil {
			t.Error("the validator accepted it")
		}
	})
}

// apiCall is one request of the conformance run.
type apiCall struct {
	name   string
	method string
	path   func() string
	token  func() string
	body   any
	header []string
	status int
	// invalidRequest marks requests that break the document on purpose;
	// only their responses are checked.
	invalidRequest bool
	after          func(t *testing.T, r *response)
}

func TestResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	start := testkit.NewClock().Now()
	key := armoredPublic(t, pgpKey(t, start.Add(-time.Hour), 2*365*24*time.Hour))

	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		var pocID, tokenID, nomID, checkID, commID, exID, injID int64
		commPath := func(step string) func() string {
			return func() string { return fmt.Sprintf("/api/v1/comms/%d%s", commID, step) }
		}
		nomPath := func(step string) func() string {
			return func() string { return fmt.Sprintf("/api/v1/nominations/%d%s", nomID, step) }
		}
		// validate validates, as the Secretariat, the nomination a call
		// proposed.
		validate := func(t *testing.T, r *response) { f.validated(t, r) }
		fixed := func(p string) func() string { return func() string { return p } }
		// wantNext checks that a page of a longer list gives the cursor of
		// the next one.
		wantNext := func(t *testing.T, r *response) {
			if decode[struct{ Next string }](t, r).Next == "" {
				t.Errorf("no next page: %s", r.Body)
			}
		}
		pocPath := func() string { return fmt.Sprintf("/api/v1/pocs/%d", pocID) }
		sec := func() string { return f.secTok }
		fpA := func() string { return f.fpATok }
		fpB := func() string { return f.fpBTok }
		ro := func() string { return f.roATok }
		off := func() string { return f.offATok }
		none := func() string { return "" }
		fullPoC := map[string]any{
			"level": "technical", "alternate": true, "agency": "CERT-FR", "function_title": "Duty officer", "person_name": "Claire Martin",
			"channels": []any{
				map[string]any{"kind": "email", "value": "cert@example.org", "preferred": true},
				map[string]any{"kind": "phone", "value": "+33 1 23 45 67 89"},
				map[string]any{"kind": "secure", "value": "Via the EU secure network"},
			},
			"languages": []any{"fr", "en"}, "time_zone": "Europe/Paris", "available_24_7": false, "working_hours": "Mon–Fri 09:00–18:00",
			"openpgp_key": key, "notes": map[string]any{"lang": "fr", "text": "Joindre par courriel.", "english": "Reach by email."},
			"regional_refs": []any{map[string]any{"body": "OSCE", "ref": "FR-2"}}, "effective_date": "2026-03-01",
		}
		plainPoC := map[string]any{"level": "diplomatic", "agency": "Ministry of Foreign Affairs",
			"channels": []any{map[string]any{"kind": "email", "value": "cyber@example.org"}}, "languages": []any{"fr"}, "time_zone": "Europe/Paris",
			"available_24_7": true, "version": 1}

		calls := []apiCall{
			{name: "the OpenAPI document", method: "GET", path: fixed("/api/v1/openapi.yaml"), token: ro, status: 200,
				after: func(t *testing.T, r *response) {
					if !bytes.Equal(r.Body, api.OpenAPI()) {
						t.Error("the served document differs from the embedded one")
					}
				}},
			{name: "me as the Secretariat", method: "GET", path: fixed("/api/v1/me"), token: sec, status: 200},
			{name: "me with a read-only token", method: "GET", path: fixed("/api/v1/me"), token: ro, status: 200},
			{name: "an empty State", method: "GET", path: fixed("/api/v1/states/" + stateA), token: fpA, status: 200},
			{name: "a proposed PoC with every field", method: "POST", path: fixed("/api/v1/states/" + stateA + "/pocs"), token: fpA, body: fullPoC, status: 202,
				after: func(t *testing.T, r *response) { nomID = decode[directory.Nomination](t, r).ID }},
			{name: "the Secretariat's queue", method: "GET", path: fixed("/api/v1/nominations?status=submitted"), token: sec, status: 200},
			{name: "a nomination", method: "GET", path: nomPath(""), token: off, status: 200},
			{name: "a returned nomination", method: "POST", path: nomPath("/return"), token: sec, body: map[string]any{"version": 1, "reason": "Please send the note verbale"}, status: 200},
			{name: "a revised nomination", method: "PUT", path: nomPath(""), token: fpA, body: map[string]any{"version": 2, "poc": fullPoC}, status: 200},
			{name: "a submitted nomination", method: "POST", path: nomPath("/submit"), token: fpA, body: map[string]any{"version": 3}, status: 200},
			{name: "a validated nomination", method: "POST", path: nomPath("/validate"), token: sec, body: map[string]any{"version": 4, "reference": "Note verbale No. 3/2026"}, status: 200,
				after: func(t *testing.T, r *response) { pocID = decode[directory.Nomination](t, r).PoCID }},
			{name: "a second validation", method: "POST", path: nomPath("/validate"), token: sec, body: map[string]any{"version": 5, "reference": "NV"}, status: 409},
			{name: "a second PoC, as a draft", method: "POST", path: fixed("/api/v1/states/" + stateA + "/pocs"), token: fpA,
				body: map[string]any{"level": "diplomatic", "agency": "MFA", "channels": []any{map[string]any{"kind": "diplomatic", "value": "Note verbale via the Embassy"}},
					"languages": []any{"fr"}, "time_zone": "Europe/Paris", "available_24_7": true, "draft": true}, status: 202,
				after: func(t *testing.T, r *response) { nomID = decode[directory.Nomination](t, r).ID }},
			{name: "a withdrawn nomination", method: "POST", path: nomPath("/withdraw"), token: fpA, header: []string{"If-Match", `"1"`}, status: 200},
			{name: "the nominations of a State", method: "GET", path: fixed("/api/v1/nominations?open=false"), token: fpA, status: 200},
			{name: "a PoC", method: "GET", path: pocPath, token: off, status: 200},
			{name: "a proposed change to a PoC", method: "PUT", path: pocPath, token: fpA, body: plainPoC, status: 202, after: validate},
			{name: "a proposed entry change", method: "PUT", path: fixed("/api/v1/states/" + stateA + "/entry"), token: fpA,
				body: map[string]any{"initiate_via": "Through the Permanent Mission in Geneva", "notes": map[string]any{"lang": "en", "text": "Call first."},
					"effective_date": "2026-03-02", "version": 1}, status: 202, after: validate},
			{name: "a State with PoCs", method: "GET", path: fixed("/api/v1/states/" + stateA), token: fpB, status: 200},
			{name: "the directory list", method: "GET", path: fixed("/api/v1/states"), token: fpB, status: 200},
			{name: "a filtered directory list", method: "GET", path: fixed("/api/v1/states?level=technical&available_24_7=false&language=fr&un_group=Western+European+and+Others&regional_body=EU&q=fra"),
				token: fpB, status: 200},
			{name: "the directory as CSV", method: "GET", path: fixed("/api/v1/export/directory?format=csv&level=technical&available_24_7=false&language=fr&un_group=Western+European+and+Others&regional_body=EU&q=fra"),
				token: fpB, status: 200},
			{name: "the directory as JSON", method: "GET", path: fixed("/api/v1/export/directory?format=json"), token: ro, status: 200},
			{name: "the directory as vCards", method: "GET", path: fixed("/api/v1/export/directory?format=vcard"), token: ro, status: 200},
			{name: "the directory as a PDF", method: "GET", path: fixed("/api/v1/export/directory?format=pdf&level=technical"), token: ro, status: 200},
			{name: "a State as a PDF", method: "GET", path: fixed("/api/v1/states/" + stateA + "/export?format=pdf"), token: fpB, status: 200},
			{name: "a directory export in a format that does not exist", method: "GET", path: fixed("/api/v1/export/directory?format=xlsx"), token: ro, status: 400, invalidRequest: true},
			{name: "a State as JSON", method: "GET", path: fixed("/api/v1/states/" + stateA + "/export?format=json"), token: fpB, status: 200},
			{name: "a State as CSV", method: "GET", path: fixed("/api/v1/states/" + stateA + "/export"), token: fpB, status: 200},
			{name: "an unknown State's export", method: "GET", path: fixed("/api/v1/states/XXX/export?format=csv"), token: fpB, status: 404},
			{name: "a PoC's vCard", method: "GET", path: func() string { return pocPath() + "/vcard" }, token: off, status: 200},
			{name: "the history", method: "GET", path: fixed("/api/v1/states/" + stateA + "/history"), token: off, status: 200},
			{name: "the invitations", method: "GET", path: func() string {
				// Invitations are made in a signed-in session, not through the API.
				inv, err := f.sys.Accounts.Invite(f.fpA.Ctx(), account.InviteInput{Email: "new.officer@fra.test", Name: "New Officer", Role: app.RoleOfficer})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.sys.Accounts.Invite(f.sec.Ctx(), account.InviteInput{Email: "colleague@un.test", Role: app.RoleSecretariat}); err != nil {
					t.Fatal(err)
				}
				if err := f.sys.Accounts.RevokeInvitation(f.fpA.Ctx(), inv.ID); err != nil {
					t.Fatal(err)
				}
				return "/api/v1/invitations"
			}, token: sec, status: 200},
			{name: "the invitations of a State", method: "GET", path: fixed("/api/v1/invitations"), token: fpA, status: 200},
			{name: "the invitations, a page of one", method: "GET", path: fixed("/api/v1/invitations?limit=1"), token: sec, status: 200,
				after: wantNext},
			{name: "the history, a page of one", method: "GET", path: fixed("/api/v1/states/" + stateA + "/history?limit=1"), token: off, status: 200,
				after: wantNext},
			{name: "the enabled users of a State whose address holds a text, a page of one", method: "GET",
				path: fixed("/api/v1/users?state=" + strings.ToLower(stateA) + "&status=active&q=.TEST&limit=1"), token: sec, status: 200, after: wantNext},
			{name: "the users with a disabled one", method: "GET", path: func() string {
				if err := f.sys.Accounts.DisableUser(f.sec.Ctx(), f.offB.ID); err != nil {
					t.Fatal(err)
				}
				return "/api/v1/users"
			}, token: sec, status: 200},
			{name: "the tokens", method: "GET", path: fixed("/api/v1/tokens"), token: fpA, status: 200,
				after: func(t *testing.T, r *response) {
					for _, tk := range decode[struct {
						Tokens []struct {
							ID    int64
							Scope string
						}
					}](t, r).Tokens {
						if tk.Scope == "read" {
							tokenID = tk.ID
						}
					}
				}},
			{name: "a revoked token", method: "DELETE", path: func() string { return fmt.Sprintf("/api/v1/tokens/%d", tokenID) }, token: fpA, status: 204},
			{name: "a proposed removal", method: "DELETE", path: func() string { return pocPath() + "?effective_date=2026-03-02&version=2" }, token: fpA, status: 202, after: validate},
			{name: "the history after every kind of change", method: "GET", path: fixed("/api/v1/states/" + stateA + "/history"), token: fpA, status: 200},
			{name: "a bilateral check", method: "POST", path: fixed("/api/v1/checks"), token: fpB,
				body: map[string]any{"title": "KEN–FRA", "scope": "all", "channel": "email", "window_hours": 24, "counterpart": stateA}, status: 201,
				after: func(t *testing.T, r *response) {
					checkID = decode[directory.Nomination](t, r).ID
					if _, err := f.sys.Checks.RunOnce(context.Background()); err != nil {
						t.Fatal(err)
					}
				}},
			{name: "the checks", method: "GET", path: fixed("/api/v1/checks"), token: fpA, status: 200},
			{name: "a page of the checks", method: "GET", path: fixed("/api/v1/checks?limit=1"), token: fpA, status: 200},
			{name: "a sent communication with every field", method: "POST", path: func() string { f.commsReady(t); return "/api/v1/comms" }, token: off,
				header: []string{"Idempotency-Key", "openapi-1"}, status: 201,
				body: map[string]any{"template": "notification", "to_states": []any{stateB, stateC}, "level": "technical",
					"fields": map[string]any{"subject": "Scanning", "urgency": "high", "tlp": "TLP:AMBER", "respond_by": "2026-03-05T09:00", "description": "Scanning.",
						"affected_systems": "Mail", "indicators": "203.0.113.7\nmalware: Emotet"},
					"indicators":  []any{map[string]any{"type": "domain-name", "value": "evil.example"}},
					"attachments": []any{map[string]any{"name": "notes.txt", "data": "c2VlbiBvbiAyMCBOb3ZlbWJlcg=="}}},
				after: func(t *testing.T, r *response) { commID = decode[struct{ ID int64 }](t, r).ID }},
			{name: "a draft", method: "POST", path: fixed("/api/v1/comms"), token: off, status: 201,
				body: map[string]any{"template": "request-information", "to_states": []any{stateB}, "level": "diplomatic", "draft": true, "fields": map[string]any{"subject": "Draft"}}},
			{name: "a communication read by its recipient", method: "GET", path: commPath(""), token: fpB, status: 200},
			{name: "a communication's metadata for the Secretariat", method: "GET", path: commPath(""), token: sec, status: 200},
			{name: "an acknowledgement", method: "POST", path: commPath("/acknowledge"), token: fpB, status: 200},
			{name: "a request to share", method: "POST", path: commPath("/share"), token: fpB, body: map[string]any{"state": "BRA", "note": "They host it."}, status: 202},
			{name: "a dispute", method: "POST", path: commPath("/reply"), token: fpB, body: map[string]any{"outcome": "disputed", "note": "Not from our space."}, status: 200},
			{name: "an escalation", method: "POST", path: commPath("/escalate"), token: off, status: 200},
			{name: "the exchange", method: "GET", path: commPath("/thread"), token: off, status: 200},
			{name: "the exchange for the Secretariat", method: "GET", path: commPath("/thread"), token: sec, status: 200},
			{name: "the communications", method: "GET", path: fixed("/api/v1/comms?box=out&q=scan&from=2026-01-01T00:00:00Z"), token: off, status: 200},
			{name: "the communications for the Secretariat", method: "GET", path: fixed("/api/v1/comms"), token: sec, status: 200},
			{name: "parsed indicators", method: "POST", path: fixed("/api/v1/indicators/parse"), token: off, body: "203.0.113.7\nwhat", status: 200, invalidRequest: true},
			{name: "the routing preferences", method: "GET", path: fixed("/api/v1/routing/tensions"), token: fpA, status: 200},
			{name: "400 for indicators that do not parse", method: "POST", path: fixed("/api/v1/comms"), token: off, status: 400,
				body: map[string]any{"template": "notification", "to_states": []any{stateB}, "level": "technical",
					"fields": map[string]any{"subject": "x", "urgency": "high", "tlp": "TLP:AMBER", "description": "x", "indicators": "999.1.1.1"}}},
			{name: "the templates", method: "GET", path: fixed("/api/v1/templates"), token: off, status: 200},
			{name: "a template's first version", method: "GET", path: fixed("/api/v1/templates/1?version=1"), token: off, status: 200},
			{name: "a revised template", method: "PUT", path: fixed("/api/v1/templates/1"), token: sec,
				body: map[string]any{"version": 1, "name": map[string]any{"en": "Notification", "fr": "Notification"}, "fields": []any{
					map[string]any{"key": "subject", "kind": "text", "required": true, "label": map[string]any{"en": "Subject"}},
					map[string]any{"key": "tlp", "kind": "tlp", "required": true, "label": map[string]any{"en": "TLP"}}}}, status: 200},
			{name: "a retired template", method: "POST", path: fixed("/api/v1/templates/1/retire"), token: sec, status: 200},
			{name: "a check's results", method: "GET", path: func() string { return fmt.Sprintf("/api/v1/checks/%d", checkID) }, token: fpA, status: 200},
			{name: "the checks waiting for an answer", method: "GET", path: fixed("/api/v1/checks/pending"), token: off, status: 200},
			{name: "a planned exercise", method: "POST", path: fixed("/api/v1/exercises"), token: sec,
				body: map[string]any{"name": "Exercise Blue Harbour", "objectives": "Reach every PoC.", "starts_at": start.Format(time.RFC3339),
					"ends_at": start.Add(48 * time.Hour).Format(time.RFC3339), "target_ack_minutes": 30, "target_answer_minutes": 120,
					"participants": []any{map[string]any{"state": stateA, "level": "technical"}, map[string]any{"state": stateB, "level": "diplomatic"}}},
				status: 201, after: func(t *testing.T, r *response) { exID = decode[struct{ ID int64 }](t, r).ID }},
			{name: "an inject", method: "POST", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/injects", exID) }, token: sec,
				body:   map[string]any{"template": "exercise", "fields": map[string]any{"subject": "Scenario", "urgency": "high", "tlp": "TLP:GREEN", "description": "Scenario text."}},
				status: 201, after: func(t *testing.T, r *response) { injID = decode[struct{ ID int64 }](t, r).ID }},
			{name: "a released inject", method: "POST", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/injects/%d/release", exID, injID) }, token: sec, status: 200},
			{name: "409 for an inject released twice", method: "POST", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/injects/%d/release", exID, injID) }, token: sec, status: 409},
			{name: "an after-action note", method: "PUT", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/note", exID) }, token: sec,
				body: map[string]any{"note": "Reached within the hour."}, status: 200},
			{name: "the exercises of a participant", method: "GET", path: fixed("/api/v1/exercises"), token: fpA, status: 200},
			{name: "an exercise as a participant sees it", method: "GET", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d", exID) }, token: fpA, status: 200},
			{name: "the Secretariat's report", method: "GET", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/report", exID) }, token: sec, status: 200},
			{name: "a participant's report", method: "GET", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/report", exID) }, token: fpA, status: 200},
			{name: "a participant's report as CSV", method: "GET", path: func() string { return fmt.Sprintf("/api/v1/exercises/%d/report?format=csv", exID) }, token: fpA, status: 200},
			{name: "400 for an exercise that ends before it starts", method: "POST", path: fixed("/api/v1/exercises"), token: sec,
				body: map[string]any{"name": "x", "starts_at": start.Format(time.RFC3339), "ends_at": start.Add(-time.Hour).Format(time.RFC3339),
					"target_ack_minutes": 30, "target_answer_minutes": 120, "participants": []any{map[string]any{"state": stateA, "level": "technical"}}},
				status: 400},
			{name: "400 for a check whose window ends before it starts", method: "POST", path: fixed("/api/v1/checks"), token: sec,
				body: map[string]any{"title": "x", "scope": "all", "channel": "email", "window_hours": 0}, status: 400, invalidRequest: true},

			// Errors.
			{name: "400 for an invalid PoC, with every field", method: "POST", path: fixed("/api/v1/states/" + stateA + "/pocs"), token: fpA,
				body:   map[string]any{"level": "boss", "agency": "", "channels": []any{map[string]any{"kind": "email", "value": "nobody"}}, "languages": []any{"12"}, "time_zone": "Mars"},
				status: 400, invalidRequest: true},
			{name: "400 for malformed JSON", method: "POST", path: fixed("/api/v1/states/" + stateA + "/pocs"), token: fpA, body: `{"level":`, status: 400, invalidRequest: true},
			{name: "400 for an unknown filter level", method: "GET", path: fixed("/api/v1/states?level=boss"), token: fpA, status: 400, invalidRequest: true},
			{name: "401 without a token", method: "GET", path: fixed("/api/v1/states/" + stateA), token: none, status: 401},
			{name: "401 with a bad token", method: "GET", path: fixed("/api/v1/me"), token: func() string { return "pdt_nothing" }, status: 401},
			{name: "403 for another State's focal point", method: "POST", path: fixed("/api/v1/states/" + stateA + "/pocs"), token: fpB, body: plainPoC, status: 403},
			{name: "403 for a read-only token", method: "PUT", path: fixed("/api/v1/states/" + stateA + "/entry"), token: func() string { return f.sys.Token(t, f.fpA, "read") },
				body: map[string]any{"initiate_via": "x", "version": 2}, status: 403},
			{name: "403 for a focal point validating", method: "POST", path: nomPath("/validate"), token: fpA, body: map[string]any{"version": 2, "reference": "NV"}, status: 403},
			{name: "404 for another State's nomination", method: "GET", path: nomPath(""), token: fpB, status: 404},
			{name: "403 for an officer listing users", method: "GET", path: fixed("/api/v1/users"), token: off, status: 403},
			{name: "403 for a focal point listing another State's users", method: "GET", path: fixed("/api/v1/users?state=" + stateB), token: fpA, status: 403},
			{name: "400 for a page of users too long", method: "GET", path: fixed("/api/v1/users?limit=201"), token: sec, status: 400, invalidRequest: true},
			{name: "400 for an unknown status of users", method: "GET", path: fixed("/api/v1/users?status=gone"), token: sec, status: 400, invalidRequest: true},
			{name: "400 for a cursor that is not one", method: "GET", path: fixed("/api/v1/states/" + stateA + "/history?cursor=x"), token: off, status: 400},
			{name: "404 for an unknown State", method: "GET", path: fixed("/api/v1/states/XXX"), token: fpA, status: 404},
			{name: "404 for a removed PoC", method: "GET", path: pocPath, token: fpA, status: 404},
			{name: "409 for a change from an old version", method: "PUT", path: fixed("/api/v1/states/" + stateA + "/entry"), token: fpA,
				body: map[string]any{"initiate_via": "Elsewhere", "version": 1}, status: 409},
			// Capacity-building, from a need to its activity (the first of
			// each, in a fresh system: number 1).
			{name: "a need with every field", method: "POST", path: fixed("/api/v1/capacity/needs"), token: fpA, status: 201,
				body: map[string]any{"kind": "training_course", "topics": []any{"poc_setup", "incident_handling"}, "topic_other": "A duty roster", "level": "technical",
					"languages": []any{"fr", "en"}, "needed_by": "2026-09-30", "visibility": "all",
					"details": map[string]any{"lang": "fr", "text": "Former l'équipe de garde.", "english": "Train the duty team."}}},
			{name: "an offer", method: "POST", path: fixed("/api/v1/capacity/offers"), token: fpB, status: 201,
				body: map[string]any{"kind": "training_course", "topics": []any{"poc_setup"}, "level": "", "languages": []any{"en"}, "format": "both", "capacity": 20,
					"period_from": "2026-04-01", "period_to": "2026-12-31"}},
			{name: "a partner's offer", method: "POST", path: fixed("/api/v1/capacity/offers"), token: sec, status: 201,
				body: map[string]any{"partner": "Forensics Foundation", "kind": "workshop", "topics": []any{"forensics"}, "level": "technical", "languages": []any{"en"}, "format": "online"}},
			{name: "400 for a need without a language", method: "POST", path: fixed("/api/v1/capacity/needs"), token: fpA, status: 400, invalidRequest: true,
				body: map[string]any{"kind": "webinar", "topics": []any{"norms"}, "level": "diplomatic", "languages": []any{}}},
			{name: "the suggested matches", method: "GET", path: fixed("/api/v1/capacity/matches/suggestions"), token: sec, status: 200},
			{name: "403 for a State reading the suggestions", method: "GET", path: fixed("/api/v1/capacity/matches/suggestions"), token: fpA, status: 403},
			{name: "a proposed match", method: "POST", path: fixed("/api/v1/capacity/matches"), token: sec, body: map[string]any{"need_id": 1, "offer_id": 1}, status: 201},
			{name: "409 for the same match again", method: "POST", path: fixed("/api/v1/capacity/matches"), token: sec, body: map[string]any{"need_id": 1, "offer_id": 1}, status: 409},
			{name: "a match accepted by the State in need", method: "POST", path: fixed("/api/v1/capacity/matches/1/answer"), token: fpA, body: map[string]any{"answer": "accepted"}, status: 200},
			{name: "a match accepted by both sides", method: "POST", path: fixed("/api/v1/capacity/matches/1/answer"), token: fpB, body: map[string]any{"answer": "accepted"}, status: 200},
			{name: "the matches", method: "GET", path: fixed("/api/v1/capacity/matches"), token: off, status: 200},
			{name: "a match", method: "GET", path: fixed("/api/v1/capacity/matches/1"), token: fpB, status: 200},
			{name: "an action plan", method: "POST", path: fixed("/api/v1/capacity/plan"), token: sec, status: 201,
				body: map[string]any{"title": "Action Plan on PoCs 2026–2027", "period_from": "2026-01-01", "period_to": "2027-12-31",
					"measures": []any{map[string]any{"title": "Trainings", "kind": "training_course", "target": 5}, map[string]any{"title": "Guidelines", "target": 1}}}},
			{name: "an activity done", method: "PUT", path: fixed("/api/v1/capacity/activities/1"), token: fpB, status: 200,
				body: map[string]any{"status": "done", "starts_on": "2026-05-04", "ends_on": "2026-05-08", "participants": 12, "measure_id": 1,
					"outcome": map[string]any{"lang": "en", "text": "Duty roster in place."}}},
			{name: "the activities", method: "GET", path: fixed("/api/v1/capacity/activities"), token: off, status: 200},
			{name: "an activity", method: "GET", path: fixed("/api/v1/capacity/activities/1"), token: fpA, status: 200},
			{name: "the needs", method: "GET", path: fixed("/api/v1/capacity/needs"), token: fpB, status: 200},
			{name: "a need", method: "GET", path: fixed("/api/v1/capacity/needs/1"), token: off, status: 200},
			{name: "409 for withdrawing a met need", method: "POST", path: fixed("/api/v1/capacity/needs/1/withdraw"), token: fpA, status: 409},
			{name: "the offers", method: "GET", path: fixed("/api/v1/capacity/offers"), token: off, status: 200},
			{name: "the offers, a page of one", method: "GET", path: fixed("/api/v1/capacity/offers?limit=1"), token: sec, status: 200, after: wantNext},
			{name: "the needs, a page of one", method: "GET", path: fixed("/api/v1/capacity/needs?limit=1"), token: sec, status: 200},
			{name: "the matches, a page of one", method: "GET", path: fixed("/api/v1/capacity/matches?limit=1"), token: sec, status: 200},
			{name: "the activities, a page of one", method: "GET", path: fixed("/api/v1/capacity/activities?limit=1"), token: sec, status: 200},
			{name: "400 for a page of needs too long", method: "GET", path: fixed("/api/v1/capacity/needs?limit=201"), token: sec, status: 400, invalidRequest: true},
			{name: "400 for a cursor of offers that is not one", method: "GET", path: fixed("/api/v1/capacity/offers?cursor=1_"), token: sec, status: 400},
			{name: "an offer withdrawn", method: "POST", path: fixed("/api/v1/capacity/offers/2/withdraw"), token: sec, status: 200},
			{name: "an offer", method: "GET", path: fixed("/api/v1/capacity/offers/2"), token: sec, status: 200},
			{name: "the plan", method: "GET", path: fixed("/api/v1/capacity/plan"), token: fpB, status: 200},
			{name: "the progress", method: "GET", path: fixed("/api/v1/capacity/progress"), token: sec, status: 200},
		}

		// Every documented status of the main routes is exercised, so that
		// the document's error bodies are checked too.
		for _, c := range calls {
			t.Run(c.name, func(t *testing.T) {
				var body []byte
				switch b := c.body.(type) {
				case nil:
				case string:
					body = []byte(b)
				default:
					var err error
					if body, err = json.Marshal(b); err != nil {
						t.Fatal(err)
					}
				}
				p, tok := c.path(), c.token()
				header := append([]string{}, c.header...)
				var send any
				if body != nil {
					send = body
				}
				r := f.do(t, c.method, p, tok, send, header...)
				if r.Status != c.status {
					t.Fatalf("%s %s: status %d, want %d: %s", c.method, p, r.Status, c.status, r.Body)
				}
				h := http.Header{}
				if c.body != nil {
					h.Set("Content-Type", "application/json")
				}
				if tok != "" {
					h.Set("Authorization", "Bearer "+tok)
				}
				if err := v.check(c.method, p, h, body, !c.invalidRequest, r); err != nil {
					t.Error(err)
				}
				if c.after != nil {
					c.after(t, r)
				}
			})
		}
	})
}

// TestEveryInputHasALimit: every string a caller sends (in a body or a
// parameter) has a maxLength, unless an enum or a format bounds it, and
// every list a maxItems: pocdir refuses what is over, and says so here.
func TestEveryInputHasALimit(t *testing.T) {
	doc := loadDoc(t)
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, s *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		for _, sub := range append(append(append([]*openapi3.SchemaRef{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
			walk(where, sub)
		}
		switch {
		case s.Type.Is("string"):
			bounded := s.MaxLength != nil || len(s.Enum) > 0 || s.Format == "date" || s.Format == "date-time" || s.Format == "int64" || s.Pattern != ""
			if !bounded {
				t.Errorf("%s: a string without maxLength", where)
			}
		case s.Type.Is("array"):
			if s.MaxItems == nil {
				t.Errorf("%s: a list without maxItems", where)
			}
			walk(where+"[]", s.Items)
		case s.Type.Is("object"):
			for name, p := range s.Properties {
				walk(where+"."+name, p)
			}
			if s.AdditionalProperties.Schema != nil {
				if s.MaxProps == nil {
					t.Errorf("%s: a map without maxProperties", where)
				}
				walk(where+"{}", s.AdditionalProperties.Schema)
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil {
					walk(name+" "+p.Value.In+" "+p.Value.Name, p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt, c := range op.RequestBody.Value.Content {
					walk(name+" "+mt, c.Schema)
				}
			}
		}
	}
}
