package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"
	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/regional"
	"github.com/pocdir/pocdir/internal/testkit"
)

// The tests act on the data of State A; State B is another State.
const (
	stateA = "FRA"
	stateB = "KEN"
)

// fixture is a running pocdir with the accounts the tests act as.
type fixture struct {
	sys *testkit.System
	srv *httptest.Server

	sec, fpA, fpB, offA, offB *testkit.User
	// obs is an observer granted stateA's entry and the capacity offers.
	obs *testkit.User

	// Write tokens of each account, and a read-only token of fpA.
	secTok, fpATok, fpBTok, offATok, offBTok, roATok, obsTok string

	mu  sync.Mutex
	seq int
}

func newFixture(t *testing.T, e testkit.Engine) *fixture {
	t.Helper()
	sys := testkit.New(t, e)
	f := &fixture{sys: sys, srv: sys.Serve(t)}
	f.sec = sys.User(t, "secretariat@un.test", app.RoleSecretariat, "")
	f.fpA = sys.User(t, "focal@fra.test", app.RoleFocalPoint, stateA)
	f.fpB = sys.User(t, "focal@ken.test", app.RoleFocalPoint, stateB)
	f.offA = sys.User(t, "officer@fra.test", app.RoleOfficer, stateA)
	f.offB = sys.User(t, "officer@ken.test", app.RoleOfficer, stateB)
	f.secTok = sys.Token(t, f.sec, "write")
	f.fpATok = sys.Token(t, f.fpA, "write")
	f.fpBTok = sys.Token(t, f.fpB, "write")
	f.offATok = sys.Token(t, f.offA, "write")
	f.offBTok = sys.Token(t, f.offB, "write")
	f.roATok = sys.Token(t, f.fpA, "read")
	f.obs = sys.Observer(t, "observer@osce.test", "OSCE Secretariat", f.sec, account.GrantInput{States: []string{stateA}, Offers: true})
	f.obsTok = sys.Token(t, f.obs, "write")
	return f
}

// next returns a number not returned before, for unique names.
func (f *fixture) next() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.seq
}

// newPoC adds a valid PoC to State A through the service.
func (f *fixture) newPoC(t *testing.T) int64 {
	t.Helper()
	in := testkit.ValidPoC()
	in.Agency = fmt.Sprintf("Agency %d", f.next())
	return f.sys.AddPoC(t, f.fpA.Ctx(), stateA, in).ID
}

// ciiList returns stateA's list of critical information infrastructure in
// force, publishing a first one when it has none.
func (f *fixture) ciiList(t *testing.T) *cii.List {
	t.Helper()
	if l, err := f.sys.CII.Current(f.fpA.Ctx(), stateA); err == nil {
		return l
	}
	l, err := f.sys.CII.Publish(f.fpA.Ctx(), stateA, cii.Input{Sectors: []cii.Sector{{Key: "energy"}, {Name: directory.Text{Lang: "en", Text: "Ports"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// regionalContact imports a regional contact of stateA that matches one
// of its PoCs, and returns its id and its import's.
func (f *fixture) regionalContact(t *testing.T) (id, imp int64) {
	t.Helper()
	poc := f.newPoC(t)
	p, err := f.sys.Directory.GetPoC(f.fpA.Ctx(), poc)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf("body,state,ref,agency,level,channels\nOSCE,%s,C-%d,%s,technical,email:%s\n", stateA, f.next(), p.Agency, p.Email())
	i, err := f.sys.Regional.Import(f.sec.Ctx(), []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sys.Regional.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	list, err := f.sys.Regional.Contacts(f.sec.Ctx(), "OSCE", stateA)
	if err != nil || len(list) != 1 || list[0].Status != regional.StatusSuggested {
		t.Fatalf("the regional contact: %v %v", list, err)
	}
	return list[0].ID, i.ID
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request to the running server. body is nil, a string or []byte
// sent as it is, or a value sent as JSON; header holds name, value pairs.
func (f *fixture) do(t testing.TB, method, path, token string, body any, header ...string) *response {
	t.Helper()
	r, err := f.send(method, path, token, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is do for goroutines other than the test's, which may not call
// t.Fatal.
func (f *fixture) send(method, path, token string, body any, header ...string) (*response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// decode decodes a JSON response body.
func decode[T any](t testing.TB, r *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T: %v in %s", v, err, r.Body)
	}
	return v
}

// errorBody is the API's error body.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
		Fields  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
}

// codeOf is the error code the API must send with each error status.
var codeOf = map[int]string{400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 429: "too_many_requests"}

// checkError checks that an error response has the error body with the code
// of its status, and returns the body.
func checkError(t testing.TB, r *response) errorBody {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	e := decode[errorBody](t, r)
	if want := codeOf[r.Status]; e.Error.Code != want {
		t.Errorf("error code = %q, want %q (status %d)", e.Error.Code, want, r.Status)
	}
	if e.Error.Message == "" {
		t.Errorf("the error has no message: %s", r.Body)
	}
	if r.Status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", r.Header.Get("WWW-Authenticate"))
	}
	return e
}

// snapshot captures everything a write through the API could change: the
// entries and histories of both States, the accounts, the invitations, and
// fpA's tokens. It reads through a fresh directory service so that no cache
// hides a write.
func (f *fixture) snapshot(t testing.TB) string {
	t.Helper()
	ctx := app.WithActor(context.Background(), app.System)
	// A directory service of its own, which reads the database at every
	// call (no staleness): what the handlers changed, not what a cache
	// holds. (A whole new instance per snapshot cost two thirds of the
	// table's time: templates and catalogs parsed again.)
	dir := directory.New(directory.Config{DB: f.sys.DB, Now: f.sys.Clock.Now, Staleness: time.Nanosecond})
	var out []any
	for _, code := range []string{stateA, stateB} {
		entry, err := dir.Get(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		hist, err := dir.History(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry, hist)
	}
	users, err := f.sys.Accounts.Users(ctx, account.UserFilter{}, app.Cursor{}, app.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	invs, err := f.sys.Accounts.Invitations(ctx, app.Cursor{}, app.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	observers, err := f.sys.Accounts.Observers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := f.sys.Accounts.Tokens(f.fpA.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		tk.LastUsedAt = nil // reading with a token records its use
	}
	var cosigs int
	if err := f.sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_cosignatures`).Scan(&cosigs); err != nil {
		t.Fatal(err)
	}
	var noms []string
	rows, err := f.sys.DB.QueryContext(ctx, `SELECT id, status, version, payload FROM nominations ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, version int
		var status, payload string
		if err := rows.Scan(&id, &status, &version, &payload); err != nil {
			t.Fatal(err)
		}
		noms = append(noms, fmt.Sprint(id, status, version, payload))
	}
	rows.Close()
	var checksState []string
	crows, err := f.sys.DB.QueryContext(ctx, `SELECT c.id, c.status, COUNT(t.id), COUNT(t.answered_at), COUNT(t.no_answer_at)
		FROM check_campaigns c LEFT JOIN check_targets t ON t.campaign_id = c.id GROUP BY c.id, c.status ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	for crows.Next() {
		var id, n, answered, none int
		var status string
		if err := crows.Scan(&id, &status, &n, &answered, &none); err != nil {
			t.Fatal(err)
		}
		checksState = append(checksState, fmt.Sprint(id, status, n, answered, none))
	}
	crows.Close()
	var tpls []string
	trows, err := f.sys.DB.QueryContext(ctx, `SELECT id, status, current_version FROM comm_templates ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for trows.Next() {
		var id, v int
		var st string
		if err := trows.Scan(&id, &st, &v); err != nil {
			t.Fatal(err)
		}
		tpls = append(tpls, fmt.Sprint(id, st, v))
	}
	trows.Close()
	var exs []string
	erows, err := f.sys.DB.QueryContext(ctx, `SELECT e.id, e.note || ' ' || e.status, COUNT(i.id), COUNT(i.released_at)
		FROM exercises e LEFT JOIN exercise_injects i ON i.exercise_id = e.id GROUP BY e.id, e.note, e.status ORDER BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	for erows.Next() {
		var id, n, released int
		var note string
		if err := erows.Scan(&id, &note, &n, &released); err != nil {
			t.Fatal(err)
		}
		exs = append(exs, fmt.Sprint(id, note, n, released))
	}
	erows.Close()
	lists, err := f.sys.CII.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := f.sys.Regional.Contacts(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		c.UpdatedAt = time.Time{}
	}
	out = append(out, users, invs, observers, toks, cosigs, noms, checksState, tpls, f.commsSnapshot(t), lists, contacts, exs, f.capacitySnapshot(t))
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// muxRoutes returns the patterns registered in Handler, read from api.go.
func muxRoutes(t testing.TB) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "api.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	ast.Inspect(file, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "Handler" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("a route is registered with a pattern that is not a literal: %v", call.Args[0])
				return true
			}
			p, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			routes = append(routes, p)
			return true
		})
		return false
	})
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in api.go: %v", len(routes), routes)
	}
	sort.Strings(routes)
	return routes
}

// The callers of the authorization table.
const (
	anonymous = iota
	badToken
	secretariat
	focalA
	focalB
	officerA
	officerB
	readOnlyA
	observerA
	nCallers
)

var callerNames = [nCallers]string{
	anonymous:   "an anonymous caller",
	badToken:    "a caller with a bad token",
	secretariat: "the Secretariat",
	focalA:      "a focal point of " + stateA,
	focalB:      "a focal point of " + stateB,
	officerA:    "an officer of " + stateA,
	officerB:    "an officer of " + stateB,
	readOnlyA:   "a read-only token of " + stateA + "'s focal point",
	observerA:   "an observer granted " + stateA,
}

func (f *fixture) token(caller int) string {
	switch caller {
	case badToken:
		return "pdt_thisTokenWasNeverIssuedByPocdirAtAll0000"
	case secretariat:
		return f.secTok
	case focalA:
		return f.fpATok
	case focalB:
		return f.fpBTok
	case officerA:
		return f.offATok
	case officerB:
		return f.offBTok
	case readOnlyA:
		return f.roATok
	case observerA:
		return f.obsTok
	}
	return ""
}

// authRoute is a row of the authorization table: a route, what the caller
// tries with it, and the status each caller must get.
type authRoute struct {
	// pattern is the route's pattern in Handler.
	pattern string
	// action completes "<caller> can/cannot …".
	action string
	// prepare creates what the request acts on and returns the request's
	// path and body.
	prepare func(t *testing.T, f *fixture) (path string, body any)
	want    [nCallers]int
}

// requestHeader, returned by a route's prepare as its body, is sent as the
// request's headers (name, value pairs) without a body.
type requestHeader []string

func path(p string) func(*testing.T, *fixture) (string, any) {
	return func(*testing.T, *fixture) (string, any) { return p, nil }
}

var authRoutes = []authRoute{
	// callers:                                                                  anon bad  sec  fpA  fpB  offA offB roA  obsA
	{"GET /api/v1/openapi.yaml", "read the OpenAPI document", path("/api/v1/openapi.yaml"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/me", "see whose token it is", path("/api/v1/me"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/status", "see how many States have nominated", path("/api/v1/status"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/states", "list the States", path("/api/v1/states"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/states/{code}", "read the entry of " + stateA, path("/api/v1/states/" + stateA), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	// An observer reads only the entries of the States granted to it.
	{"GET /api/v1/states/{code}", "read the entry of " + stateB, path("/api/v1/states/" + stateB), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	// Changes are proposed (202): by the State's focal point, or by the
	// Secretariat on the State's written request, which the bodies give.
	{"PUT /api/v1/states/{code}/entry", "propose a change to the entry of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			f.withdrawOpen(t)
			e, err := f.sys.Directory.Get(f.fpA.Ctx(), stateA)
			if err != nil {
				t.Fatal(err)
			}
			return "/api/v1/states/" + stateA + "/entry", directory.EntryInput{InitiateVia: fmt.Sprintf("Through the Embassy in Geneva (%d)", f.next()),
				Version: e.Version, Submission: directory.Submission{RequestRef: "Note verbale No. 9/2026 of " + stateA}}
		}, [nCallers]int{401, 401, 202, 202, 403, 403, 403, 403, 403}},
	{"POST /api/v1/states/{code}/reconfirm", "reconfirm the entry of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			f.newPoC(t)
			return "/api/v1/states/" + stateA + "/reconfirm", nil
		}, [nCallers]int{401, 401, 403, 200, 403, 403, 403, 403, 403}},
	{"GET /api/v1/states/{code}/history", "read the history of " + stateA, path("/api/v1/states/" + stateA + "/history"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/states/{code}/access", "see who can act for " + stateA, path("/api/v1/states/" + stateA + "/access"), [nCallers]int{401, 401, 200, 200, 403, 200, 403, 200, 403}},
	// Every State's list of critical information infrastructure is read
	// by every user; only the State's focal point publishes it.
	{"GET /api/v1/states/{code}/cii", "read the critical infrastructure list of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			f.ciiList(t)
			return "/api/v1/states/" + stateA + "/cii", nil
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"PUT /api/v1/states/{code}/cii", "publish the critical infrastructure list of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			l := f.ciiList(t)
			return "/api/v1/states/" + stateA + "/cii", cii.Input{Version: l.Version, Sectors: []cii.Sector{{Key: "energy"}, {Key: "water"}}}
		}, [nCallers]int{401, 401, 403, 201, 403, 403, 403, 403, 403}},
	{"GET /api/v1/states/{code}/cii/versions", "read the versions of the critical infrastructure list of " + stateA,
		path("/api/v1/states/" + stateA + "/cii/versions"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/cii", "compare the States' critical infrastructure lists", path("/api/v1/cii"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	// The Secretariat imports and exports regional directories; a State's
	// users see their State's contacts; the Secretariat and the State's
	// focal point review a match.
	{"GET /api/v1/regional", "count the regional contacts they may see", path("/api/v1/regional"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/regional/imports", "import a regional directory",
		func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/regional/imports", []regional.Row{{Body: "OSCE", State: stateA, Ref: fmt.Sprintf("R-%d", f.next()), Agency: "Agency", Level: directory.LevelTechnical,
				Channels: []directory.Channel{{Kind: directory.ChannelEmail, Value: "someone@example.org"}}}}
		}, [nCallers]int{401, 401, 202, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/regional/imports/{id}", "follow an import",
		func(t *testing.T, f *fixture) (string, any) {
			_, imp := f.regionalContact(t)
			return fmt.Sprintf("/api/v1/regional/imports/%d", imp), nil
		}, [nCallers]int{401, 401, 200, 404, 404, 404, 404, 404, 403}},
	{"GET /api/v1/regional/contacts", "list the regional contacts they may see", path("/api/v1/regional/contacts"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/regional/contacts/{id}/confirm", "confirm the match of a regional contact of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			id, _ := f.regionalContact(t)
			return fmt.Sprintf("/api/v1/regional/contacts/%d/confirm", id), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 403, 404, 403, 403}},
	{"POST /api/v1/regional/contacts/{id}/reject", "reject the match of a regional contact of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			id, _ := f.regionalContact(t)
			return fmt.Sprintf("/api/v1/regional/contacts/%d/reject", id), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 403, 404, 403, 403}},
	{"GET /api/v1/regional/bodies/{body}/export", "export the OSCE's PoCs", path("/api/v1/regional/bodies/OSCE/export"), [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"POST /api/v1/states/{code}/pocs", "propose a PoC for " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			in := testkit.ValidPoC()
			in.Agency, in.RequestRef = fmt.Sprintf("New agency %d", f.next()), "Note verbale No. 9/2026 of "+stateA
			return "/api/v1/states/" + stateA + "/pocs", in
		}, [nCallers]int{401, 401, 202, 202, 403, 403, 403, 403, 403}},
	{"GET /api/v1/pocs/{id}", "read a PoC of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/pocs/%d", f.newPoC(t)), nil
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/pocs/{id}", "read a PoC of " + stateB,
		func(t *testing.T, f *fixture) (string, any) {
			in := testkit.ValidPoC()
			in.Agency = fmt.Sprintf("Agency %d", f.next())
			return fmt.Sprintf("/api/v1/pocs/%d", f.sys.AddPoC(t, f.fpB.Ctx(), stateB, in).ID), nil
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 404}},
	// Exports hold what every signed-in caller may read: the validated
	// directory.
	{"GET /api/v1/pocs/{id}/vcard", "download the vCard of a PoC of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/pocs/%d/vcard", f.newPoC(t)), nil
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/states/{code}/export", "download the entry of " + stateA, path("/api/v1/states/" + stateA + "/export?format=vcard"),
		[nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/export/directory", "download the directory", path("/api/v1/export/directory?format=csv&level=technical"),
		[nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/states/{code}/export", "download the entry of " + stateA + " as a PDF", path("/api/v1/states/" + stateA + "/export?format=pdf"),
		[nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/export/directory", "download the directory as a PDF", path("/api/v1/export/directory?format=pdf&level=technical"),
		[nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/offline-copy", "download an offline copy under a passphrase",
		func(*testing.T, *fixture) (string, any) {
			return "/api/v1/offline-copy", requestHeader{"Offline-Copy-Passphrase", "correct horse battery staple"}
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"PUT /api/v1/pocs/{id}", "propose a change to a PoC of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			in := testkit.ValidPoC()
			in.Agency, in.Version, in.RequestRef = fmt.Sprintf("Changed agency %d", f.next()), 1, "Note verbale No. 9/2026 of "+stateA
			return fmt.Sprintf("/api/v1/pocs/%d", f.newPoC(t)), in
		}, [nCallers]int{401, 401, 202, 202, 403, 403, 403, 403, 403}},
	{"DELETE /api/v1/pocs/{id}", "propose removing a PoC of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/pocs/%d?version=1&request_ref=NV-9-2026", f.newPoC(t)), nil
		}, [nCallers]int{401, 401, 202, 202, 403, 403, 403, 403, 403}},
	{"GET /api/v1/nominations", "list the nominations they may see", path("/api/v1/nominations"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/nominations/{id}", "read a submitted nomination of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/nominations/%d", f.nomination(t, false).ID), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"PUT /api/v1/nominations/{id}", "revise a nomination of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			n := f.nomination(t, false)
			in := testkit.ValidPoC()
			in.Agency = fmt.Sprintf("Revised agency %d", f.next())
			return fmt.Sprintf("/api/v1/nominations/%d", n.ID), directory.Revision{Version: n.Version, PoC: &in, Submit: true}
		}, [nCallers]int{401, 401, 403, 200, 404, 403, 404, 403, 403}},
	{"POST /api/v1/nominations/{id}/submit", "submit a draft nomination of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			n := f.nomination(t, true)
			return fmt.Sprintf("/api/v1/nominations/%d/submit", n.ID), map[string]any{"version": n.Version}
		}, [nCallers]int{401, 401, 404, 200, 404, 403, 404, 403, 403}},
	{"POST /api/v1/nominations/{id}/withdraw", "withdraw a nomination of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			n := f.nomination(t, false)
			return fmt.Sprintf("/api/v1/nominations/%d/withdraw", n.ID), map[string]any{"version": n.Version}
		}, [nCallers]int{401, 401, 403, 200, 404, 403, 404, 403, 403}},
	{"POST /api/v1/nominations/{id}/validate", "validate a nomination of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			n := f.nomination(t, false)
			return fmt.Sprintf("/api/v1/nominations/%d/validate", n.ID), directory.Decision{Version: n.Version, Reference: "Note verbale No. 12/2026"}
		}, [nCallers]int{401, 401, 200, 403, 404, 403, 404, 403, 403}},
	{"POST /api/v1/nominations/{id}/return", "return a nomination of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			n := f.nomination(t, false)
			return fmt.Sprintf("/api/v1/nominations/%d/return", n.ID), directory.Decision{Version: n.Version, Reason: "Please confirm by note verbale"}
		}, [nCallers]int{401, 401, 200, 403, 404, 403, 404, 403, 403}},
	{"GET /api/v1/checks", "list the communication checks they may see", path("/api/v1/checks"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	// A focal point runs bilateral checks (with a counterpart); the
	// Secretariat's campaigns have none, and officers run none.
	{"POST /api/v1/checks", "run a bilateral check of " + stateB,
		func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/checks", checks.Input{Title: fmt.Sprintf("Bilateral %d", f.next()), Scope: "all", Channel: "email", WindowHours: 24, Counterpart: stateB}
		}, [nCallers]int{401, 401, 400, 201, 400, 403, 403, 403, 403}},
	{"GET /api/v1/inbox", "list what waits for them", path("/api/v1/inbox"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/checks/pending", "list the checks waiting for their State's answer", path("/api/v1/checks/pending"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/checks/{id}", "read the results of a bilateral check by " + stateA + " of " + stateB,
		func(t *testing.T, f *fixture) (string, any) {
			c, err := f.sys.Checks.Create(f.fpA.Ctx(), checks.Input{Title: fmt.Sprintf("Bilateral %d", f.next()), Scope: "all", Channel: "email", WindowHours: 24, Counterpart: stateB})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/checks/%d", c.ID), nil
		}, [nCallers]int{401, 401, 404, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/checks/{id}/cancel", "cancel a campaign of the Secretariat",
		func(t *testing.T, f *fixture) (string, any) {
			c, err := f.sys.Checks.Create(f.sec.Ctx(), checks.Input{Title: fmt.Sprintf("Check %d", f.next()), Scope: "all", Channel: "email", WindowHours: 24,
				StartAt: f.sys.Clock.Now().Add(time.Hour).Format(time.RFC3339)})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/checks/%d/cancel", c.ID), nil
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"POST /api/v1/checks/targets/{id}/answer", "answer a check for a PoC of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/checks/targets/%d/answer", f.checkTarget(t, "email")), nil
		}, [nCallers]int{401, 401, 404, 204, 404, 204, 404, 403, 403}},
	{"POST /api/v1/checks/targets/{id}/manual", "record a call's outcome for a PoC of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/checks/targets/%d/manual", f.checkTarget(t, "manual")), map[string]any{"answered": true}
		}, [nCallers]int{401, 401, 204, 404, 404, 404, 404, 403, 403}},
	{"GET /api/v1/exercises", "list the exercises they may see", path("/api/v1/exercises"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	// The Secretariat plans; a focal point proposes for a group with its
	// own State (stateB's focal point, without stateB, is refused).
	{"POST /api/v1/exercises", "plan or propose an exercise with " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/exercises", f.exerciseInput(fmt.Sprintf("Exercise %d", f.next()))
		}, [nCallers]int{401, 401, 201, 201, 400, 403, 403, 403, 403}},
	{"POST /api/v1/exercises/{id}/agree", "agree to an exercise " + stateA + " proposed",
		func(t *testing.T, f *fixture) (string, any) {
			e, err := f.sys.Exercises.Propose(f.fpA.Ctx(), f.exerciseInput(fmt.Sprintf("Exercise %d", f.next())))
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/exercises/%d/agree", e.ID), nil
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	// Four eyes: another Secretariat officer agreed first; the caller
	// confirms.
	{"POST /api/v1/exercises/{id}/confirm", "confirm another officer's agreement to an exercise " + stateA + " proposed",
		func(t *testing.T, f *fixture) (string, any) {
			e, err := f.sys.Exercises.Propose(f.fpA.Ctx(), f.exerciseInput(fmt.Sprintf("Exercise %d", f.next())))
			if err != nil {
				t.Fatal(err)
			}
			first := f.sys.User(t, fmt.Sprintf("first%d@un.test", f.next()), app.RoleSecretariat, "")
			if _, err := f.sys.Exercises.Agree(first.Ctx(), e.ID); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/exercises/%d/confirm", e.ID), nil
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"POST /api/v1/exercises/{id}/withdraw", "withdraw an exercise " + stateA + " proposed",
		func(t *testing.T, f *fixture) (string, any) {
			e, err := f.sys.Exercises.Propose(f.fpA.Ctx(), f.exerciseInput(fmt.Sprintf("Exercise %d", f.next())))
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/exercises/%d/withdraw", e.ID), nil
		}, [nCallers]int{401, 401, 403, 200, 404, 403, 404, 403, 403}},
	// One Secretariat officer declines, with a reason; no State may.
	{"POST /api/v1/exercises/{id}/decline", "decline an exercise " + stateA + " proposed",
		func(t *testing.T, f *fixture) (string, any) {
			e, err := f.sys.Exercises.Propose(f.fpA.Ctx(), f.exerciseInput(fmt.Sprintf("Exercise %d", f.next())))
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/exercises/%d/decline", e.ID), map[string]any{"reason": "The dates clash with another exercise."}
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/exercises/{id}", "read an exercise " + stateA + " takes part in",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/exercises/%d", f.exercise(t).ID), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"POST /api/v1/exercises/{id}/injects", "add an inject to an exercise",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/exercises/%d/injects", f.exercise(t).ID), exerciseInject()
		}, [nCallers]int{401, 401, 201, 403, 404, 403, 404, 403, 403}},
	{"POST /api/v1/exercises/{id}/injects/{inject}/release", "release an inject",
		func(t *testing.T, f *fixture) (string, any) {
			e := f.exercise(t)
			return fmt.Sprintf("/api/v1/exercises/%d/injects/%d/release", e.ID, e.Injects[0].ID), nil
		}, [nCallers]int{401, 401, 200, 403, 404, 403, 404, 403, 403}},
	{"PUT /api/v1/exercises/{id}/note", "write an exercise's after-action note",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/exercises/%d/note", f.exercise(t).ID), map[string]any{"note": fmt.Sprintf("Reached within the hour (%d).", f.next())}
		}, [nCallers]int{401, 401, 200, 403, 404, 403, 404, 403, 403}},
	{"GET /api/v1/exercises/{id}/report", "read an exercise's report",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/exercises/%d/report", f.exercise(t).ID), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"GET /api/v1/templates", "list the communication templates", path("/api/v1/templates"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/templates/{id}", "read a communication template", path("/api/v1/templates/1"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/templates", "create a communication template",
		func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/templates", f.templateInput(t, fmt.Sprintf("drill-%d", f.next()), 0)
		}, [nCallers]int{401, 401, 201, 403, 403, 403, 403, 403, 403}},
	{"PUT /api/v1/templates/{id}", "revise a communication template",
		func(t *testing.T, f *fixture) (string, any) {
			tp := f.template(t)
			return fmt.Sprintf("/api/v1/templates/%d", tp.ID), f.templateInput(t, "", tp.Version)
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"POST /api/v1/templates/{id}/retire", "retire a communication template",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/templates/%d/retire", f.template(t).ID), nil
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"POST /api/v1/templates/{id}/reinstate", "put a retired communication template back in use",
		func(t *testing.T, f *fixture) (string, any) {
			tp := f.template(t)
			if _, err := f.sys.Comms.SetTemplateStatus(f.sec.Ctx(), tp.ID, false); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/templates/%d/reinstate", tp.ID), nil
		}, [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/users", "list the users", path("/api/v1/users"), [nCallers]int{401, 401, 200, 200, 200, 403, 403, 200, 403}},
	{"GET /api/v1/invitations", "list the invitations", path("/api/v1/invitations"), [nCallers]int{401, 401, 200, 200, 200, 403, 403, 200, 403}},
	{"GET /api/v1/observers", "list the observers and their grants", path("/api/v1/observers"), [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/tokens", "list their own API tokens", path("/api/v1/tokens"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"DELETE /api/v1/tokens/{id}", "revoke an API token of " + stateA + "'s focal point",
		func(t *testing.T, f *fixture) (string, any) {
			tok, err := f.sys.Accounts.CreateToken(app.WithActor(context.Background(), app.System), f.fpA.ID, "spare", "write", 0)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil
		}, [nCallers]int{401, 401, 404, 204, 404, 404, 404, 403, 404}},
	{"GET /api/v1/log/key", "read the log's public key", path("/api/v1/log/key"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/log/checkpoint", "read the latest checkpoint", path("/api/v1/log/checkpoint"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/log/checkpoints/{size}", "read a published checkpoint",
		func(t *testing.T, f *fixture) (string, any) {
			cp, err := f.sys.Audit.Latest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/log/checkpoints/%d", cp.Size), nil
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /api/v1/log/entries", "list the log entries they may see", path("/api/v1/log/entries"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/log/entries/{index}", "read a log entry of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/log/entries/%d", f.logIndexOfA(t)), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"GET /api/v1/log/consistency", "read a consistency proof", path("/api/v1/log/consistency?old=1&new=2"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/log/receipts/{index}", "download the receipt of a log entry of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/log/receipts/%d", f.logIndexOfA(t)), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"POST /api/v1/log/cosignatures", "cosign a checkpoint as a witness",
		func(t *testing.T, f *fixture) (string, any) {
			cp, err := f.sys.Audit.Latest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			keys, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "w.key"), fmt.Sprintf("witness%d.example/log", f.next()))
			if err != nil {
				t.Fatal(err)
			}
			signed, err := note.Sign(&note.Note{Text: auditlog.CheckpointBodyOf(cp.Note)}, keys.Signer)
			if err != nil {
				t.Fatal(err)
			}
			return "/api/v1/log/cosignatures", map[string]any{"size": cp.Size, "witness": keys.VerifierKey, "signature": string(signed)}
		}, [nCallers]int{401, 401, 204, 204, 204, 204, 204, 403, 403}},
	{"/api/", "reach a route that does not exist", path("/api/v1/nowhere"), [nCallers]int{401, 401, 404, 404, 404, 404, 404, 404, 404}},
}

// logIndexOfA makes a change to State A's entry and returns its log entry.
func (f *fixture) logIndexOfA(t *testing.T) int64 {
	t.Helper()
	f.newPoC(t)
	h, err := f.sys.Directory.History(f.fpA.Ctx(), stateA)
	if err != nil || len(h) == 0 || h[0].LogIndex == nil {
		t.Fatalf("history of %s: %v", stateA, err)
	}
	return *h[0].LogIndex
}

// readOnlyPOST are POST routes that compute an answer and store nothing.
var readOnlyPOST = map[string]bool{"POST /api/v1/indicators/parse": true}

func TestAuthorizationTableCoversEveryRoute(t *testing.T) {
	// A route may have several rows (an export's formats): each is listed
	// once.
	var inTable []string
	seen := map[string]bool{}
	for _, r := range authRoutes {
		if !seen[r.pattern] {
			seen[r.pattern] = true
			inTable = append(inTable, r.pattern)
		}
	}
	sort.Strings(inTable)
	inTable = slices.Compact(inTable) // a route may have several rows
	if got, want := strings.Join(inTable, "\n"), strings.Join(muxRoutes(t), "\n"); got != want {
		t.Errorf("the authorization table has routes\n%s\nbut Handler registers\n%s", got, want)
	}
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		for _, rt := range authRoutes {
			method, _, ok := strings.Cut(rt.pattern, " ")
			if !ok {
				method = http.MethodGet
			}
			write := method != http.MethodGet && !readOnlyPOST[rt.pattern]
			for caller := range nCallers {
				want := rt.want[caller]
				verb := "cannot"
				if want < 300 {
					verb = "can"
				}
				t.Run(fmt.Sprintf("%s %s %s", callerNames[caller], verb, rt.action), func(t *testing.T) {
					p, body := rt.prepare(t, f)
					var header requestHeader
					if h, ok := body.(requestHeader); ok {
						body, header = nil, h
					}
					before := f.snapshot(t)
					r := f.do(t, method, p, f.token(caller), body, header...)
					if r.Status != want {
						t.Fatalf("%s %s: status %d, want %d; body %s", method, p, r.Status, want, r.Body)
					}
					if want >= 400 {
						checkError(t, r)
					}
					after := f.snapshot(t)
					switch {
					case write && want < 300 && after == before:
						t.Errorf("the %s succeeded but changed nothing", method)
					case !(write && want < 300) && after != before:
						t.Errorf("something changed although it must not:\nbefore: %s\nafter: %s", before, after)
					}
				})
			}
		}
	})
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		sysCtx := app.WithActor(context.Background(), app.System)

		revoked := f.sys.Token(t, f.offA, "write")
		tokID := func(secret string) int64 {
			r := f.do(t, "GET", "/api/v1/tokens", secret, nil)
			list := decode[struct{ Tokens []account.Token }](t, r).Tokens
			if len(list) == 0 {
				t.Fatal("no token listed")
			}
			return list[0].ID
		}
		if r := f.do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tokID(revoked)), revoked, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke: status %d: %s", r.Status, r.Body)
		}

		expiring, err := f.sys.Accounts.CreateToken(sysCtx, f.offB.ID, "short", "write", time.Hour)
		if err != nil {
			t.Fatal(err)
		}

		leaver := f.sys.User(t, "leaver@fra.test", app.RoleOfficer, stateA)
		leaverTok := f.sys.Token(t, leaver, "write")
		if r := f.do(t, "GET", "/api/v1/me", leaverTok, nil); r.Status != http.StatusOK {
			t.Fatalf("before disabling: status %d", r.Status)
		}
		if err := f.sys.Accounts.DisableUser(f.fpA.Ctx(), leaver.ID); err != nil {
			t.Fatalf("disable: %v", err)
		}

		browser := f.sys.Login(t, f.srv, f.fpA)

		cases := []struct {
			name   string
			header []string
			client *http.Client
		}{
			{"a request without Authorization is refused", nil, nil},
			{"an empty bearer token is refused", []string{"Authorization", "Bearer "}, nil},
			{"a Basic credential is refused", []string{"Authorization", "Basic Zm9jYWxAZnJhLnRlc3Q6cGFzc3dvcmQ="}, nil},
			{"a token that pocdir never issued is refused", []string{"Authorization", "Bearer pdt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, nil},
			{"a token without the pdt_ prefix is refused", []string{"Authorization", "Bearer " + strings.TrimPrefix(f.fpATok, "pdt_")}, nil},
			{"a revoked token is refused at once", []string{"Authorization", "Bearer " + revoked}, nil},
			{"an expired token is refused", []string{"Authorization", "Bearer " + expiring.Secret}, nil},
			{"the token of a disabled account is refused", []string{"Authorization", "Bearer " + leaverTok}, nil},
			{"a browser session cookie is not accepted by the API", nil, browser},
		}
		f.sys.Clock.Advance(2 * time.Hour) // past the expiring token's end
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req, err := http.NewRequest("GET", f.srv.URL+"/api/v1/states/"+stateA, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i+1 < len(c.header); i += 2 {
					req.Header.Set(c.header[i], c.header[i+1])
				}
				cl := c.client
				if cl == nil {
					cl = f.srv.Client()
				}
				resp, err := cl.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
				if r.Status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401; body %s", r.Status, r.Body)
				}
				checkError(t, r)
			})
		}
		t.Run("a valid token is still accepted", func(t *testing.T) {
			if r := f.do(t, "GET", "/api/v1/states/"+stateA, f.fpATok, nil); r.Status != http.StatusOK {
				t.Fatalf("status %d, want 200", r.Status)
			}
		})
	})
}

func TestMe(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		type me struct {
			Email      string `json:"email"`
			Role       string `json:"role"`
			State      string `json:"state"`
			TokenScope string `json:"token_scope"`
		}
		cases := []struct {
			name  string
			token string
			want  me
		}{
			{"the Secretariat's token says it belongs to the Secretariat", f.secTok, me{"secretariat@un.test", "secretariat", "", "write"}},
			{"a focal point's token names their State", f.fpATok, me{"focal@fra.test", "focal-point", stateA, "write"}},
			{"an officer's token names their State", f.offBTok, me{"officer@ken.test", "officer", stateB, "write"}},
			{"a read-only token says its scope is read", f.roATok, me{"focal@fra.test", "focal-point", stateA, "read"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := f.do(t, "GET", "/api/v1/me", c.token, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("status %d", r.Status)
				}
				if got := decode[me](t, r); got != c.want {
					t.Errorf("got %+v, want %+v", got, c.want)
				}
			})
		}
	})
}

// pocBody returns a valid PoC input as a JSON object, changed by edits.
// validated validates, as the Secretariat through the API, the nomination
// that a proposing request answered with 202, and returns the validation's
// response.
func (f *fixture) validated(t testing.TB, r *response) *response {
	t.Helper()
	if r.Status != http.StatusAccepted {
		t.Fatalf("proposal: status %d, want 202: %s", r.Status, r.Body)
	}
	n := decode[directory.Nomination](t, r)
	v := f.do(t, "POST", fmt.Sprintf("/api/v1/nominations/%d/validate", n.ID), f.secTok, map[string]any{"version": n.Version, "reference": "Note verbale No. 5/2026"})
	if v.Status != http.StatusOK {
		t.Fatalf("validate: status %d: %s", v.Status, v.Body)
	}
	return v
}

// withdrawOpen withdraws, in the database, the open nominations of the
// State, so that a table row can propose again what the previous one did.
func (f *fixture) withdrawOpen(t testing.TB) {
	t.Helper()
	if _, err := f.sys.DB.ExecContext(context.Background(), `UPDATE nominations SET status = 'withdrawn' WHERE status IN ('draft', 'submitted', 'returned')`); err != nil {
		t.Fatal(err)
	}
}

// checkTarget makes a Secretariat campaign over State A's PoCs on the
// channel, dispatches it and returns one of its targets.
func (f *fixture) checkTarget(t *testing.T, channel string) int64 {
	t.Helper()
	f.newPoC(t)
	c, err := f.sys.Checks.Create(f.sec.Ctx(), checks.Input{Title: fmt.Sprintf("Check %d", f.next()), Scope: "states", Value: stateA, Channel: channel, WindowHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sys.Checks.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := f.sys.Checks.Results(f.sec.Ctx(), c.ID)
	if err != nil || len(r.Targets) == 0 {
		t.Fatalf("no target: %v", err)
	}
	return r.Targets[0].ID
}

// templateInput is a valid template, from the shipped notification.
func (f *fixture) templateInput(t testing.TB, slug string, version int) comms.TemplateInput {
	t.Helper()
	n := comms.Shipped[0]
	return comms.TemplateInput{Slug: slug, Name: comms.Text{"en": fmt.Sprintf("Drill %d", f.next())}, Description: n.Description,
		Fields: append([]comms.Field(nil), n.Fields...), Version: version}
}

// template creates a template as the Secretariat.
func (f *fixture) template(t testing.TB) *comms.Template {
	t.Helper()
	tp, err := f.sys.Comms.CreateTemplate(f.sec.Ctx(), f.templateInput(t, fmt.Sprintf("tpl-%d", f.next()), 0))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// nomination proposes a new PoC for State A as its focal point, submitted
// or as a draft.
func (f *fixture) nomination(t testing.TB, draft bool) *directory.Nomination {
	t.Helper()
	in := testkit.ValidPoC()
	in.Agency, in.Draft = fmt.Sprintf("Proposed agency %d", f.next()), draft
	n, err := f.sys.Directory.ProposePoC(f.fpA.Ctx(), stateA, in)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pocBody(edits ...func(m map[string]any)) map[string]any {
	b, err := json.Marshal(testkit.ValidPoC())
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	for _, e := range edits {
		e(m)
	}
	return m
}

func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

func channel(i int, kind, value string) func(map[string]any) {
	return func(m map[string]any) {
		m["channels"].([]any)[i] = map[string]any{"kind": kind, "value": value, "preferred": false}
	}
}

// agencyJSON is the JSON of a valid PoC whose agency is written as given
// (a JSON string, with its quotes).
func agencyJSON(value string) string {
	return strings.Replace(raw(pocBody(set("agency", "AGENCY")), ""), `"AGENCY"`, value, 1)
}

// raw returns the JSON of v followed by tail.
func raw(v any, tail string) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b) + tail
}

// pgpKey generates an OpenPGP key created at the given time; a zero
// lifetime means that it does not expire.
func pgpKey(t testing.TB, created time.Time, lifetime time.Duration) *crypto.Key {
	t.Helper()
	k, err := crypto.PGP().KeyGeneration().AddUserId("CERT-FR duty officer", "cert@example.org").
		GenerationTime(created.Unix()).Lifetime(int32(lifetime / time.Second)).New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func armoredPublic(t testing.TB, k *crypto.Key) string {
	t.Helper()
	s, err := k.GetArmoredPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// badCase is a row of the bad input table.
type badCase struct {
	name         string
	method, path string // "{poc}" in path stands for an existing PoC of State A
	token        func(f *fixture) string
	body         any
	header       []string
	status       int
	field        string // the field the error must name; "" when none
	msg          string // a part of the message
	check        func(t *testing.T, r *response)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	start := testkit.NewClock().Now()
	validKey := pgpKey(t, start.Add(-24*time.Hour), 365*24*time.Hour)
	eternalKey := pgpKey(t, start.Add(-24*time.Hour), 0)
	expiredKey := pgpKey(t, start.Add(-400*24*time.Hour), 30*24*time.Hour)
	validArmor := armoredPublic(t, validKey)
	privateArmor, err := validKey.Armor()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(privateArmor, "PRIVATE KEY BLOCK") {
		t.Fatalf("the private key is not armored as one:\n%s", privateArmor)
	}
	lines := strings.Split(validArmor, "\n")
	corruptArmor := strings.Join(append(lines[:3:3], "AAAA"+lines[3][4:]), "\n") + "\n-----END PGP PUBLIC KEY BLOCK-----\n"

	const pocs = "/api/v1/states/" + stateA + "/pocs"
	const entry = "/api/v1/states/" + stateA + "/entry"
	secretariatToken := func(f *fixture) string { return f.secTok }
	long := func(n int) string { return strings.Repeat("é", n) }
	wantKey := func(k *crypto.Key, expires *time.Time) func(t *testing.T, r *response) {
		return func(t *testing.T, r *response) {
			n := decode[directory.Nomination](t, r)
			p := directory.PoC{PGPKey: n.PoC.PGPKey}
			for _, d := range n.Diff {
				switch d.Field {
				case "openpgp_fingerprint":
					p.PGPFingerprint = d.New
				case "openpgp_expires_at":
					e, _ := time.Parse(time.DateOnly, d.New)
					p.PGPExpiresAt = &e
				}
			}
			if want := strings.ToUpper(k.GetFingerprint()); p.PGPFingerprint != want {
				t.Errorf("fingerprint %q, want %q", p.PGPFingerprint, want)
			}
			switch {
			case expires == nil && p.PGPExpiresAt != nil:
				t.Errorf("expires at %v, want no expiry", p.PGPExpiresAt)
			case expires != nil && (p.PGPExpiresAt == nil || !p.PGPExpiresAt.Equal(*expires)):
				t.Errorf("expires at %v, want %v", p.PGPExpiresAt, expires)
			}
			if !strings.Contains(p.PGPKey, "BEGIN PGP PUBLIC KEY BLOCK") {
				t.Errorf("the key is not kept: %q", p.PGPKey)
			}
		}
	}
	validExpiry := start.Add(-24 * time.Hour).Add(365 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)

	cases := []badCase{
		// The body as JSON.
		{name: "malformed JSON is refused", method: "POST", path: pocs, body: `{"level": "technical" "agency": "CERT"}`, status: 400, msg: "malformed JSON"},
		{name: "a truncated body is refused", method: "POST", path: pocs, body: `{"level": "technical",`, status: 400, msg: "malformed JSON"},
		{name: "an empty body is refused", method: "POST", path: pocs, body: "", status: 400, msg: "empty"},
		{name: "a second object after the first is refused", method: "POST", path: pocs, body: raw(pocBody(), `{}`), status: 400, msg: "single JSON object"},
		{name: "a stray closing brace after the object is refused", method: "POST", path: pocs, body: raw(pocBody(), `}`), status: 400, msg: "single JSON object"},
		{name: "text after the object is refused", method: "POST", path: pocs, body: raw(pocBody(), ` and more`), status: 400, msg: "single JSON object"},
		{name: "an array instead of an object is refused", method: "POST", path: pocs, body: raw([]any{pocBody()}, ""), status: 400, msg: "must be a JSON object"},
		{name: "a string instead of an object is refused", method: "POST", path: pocs, body: `"technical"`, status: 400, msg: "must be a JSON object"},
		{name: "a body that is not JSON is refused", method: "POST", path: pocs, body: raw(pocBody(), ""), header: []string{"Content-Type", "text/plain"}, status: 400, msg: "must be JSON"},
		{name: "a body over 256 KiB is refused", method: "POST", path: pocs, body: pocBody(set("openpgp_key", strings.Repeat("A", 300<<10))), status: 400, msg: "larger than"},
		{name: "an unknown field is refused and named", method: "POST", path: pocs, body: pocBody(set("agencyy", "CERT")), status: 400, field: "agencyy", msg: "unknown field"},
		// Text that encoding/json would take silently (replacing it, or
		// keeping the last of two values) is refused.
		{name: "a string that is not UTF-8 is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT` + "\xff" + `"`), status: 400, msg: "not valid UTF-8"},
		{name: "a UTF-8 surrogate (CESU) is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT` + "\xed\xa0\x80" + `"`), status: 400, msg: "not valid UTF-8"},
		{name: "a lone high surrogate escape is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT\ud800"`), status: 400, msg: "lone surrogate"},
		{name: "a lone low surrogate escape is refused", method: "POST", path: pocs, body: agencyJSON(`"\udc00CERT"`), status: 400, msg: "lone surrogate"},
		{name: "a high surrogate before another escape is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT\ud800\u0041"`), status: 400, msg: "lone surrogate"},
		{name: "a high surrogate before a letter is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT\ud800é"`), status: 400, msg: "lone surrogate"},
		{name: "a surrogate pair is a character", method: "POST", path: pocs, body: agencyJSON(`"CERT \ud83d\udee1"`), status: 202},
		{name: "a NUL in a string is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT\u0000FR"`), status: 400, msg: "control character (U+0000)"},
		{name: "a bell in a string is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT\u0007"`), status: 400, msg: "control character (U+0007)"},
		{name: "a C1 control in a string is refused", method: "POST", path: pocs, body: agencyJSON(`"CERT` + "\u0085" + `"`), status: 400, msg: "control character (U+0085)"},
		{name: "a key given twice is refused", method: "POST", path: pocs, body: `{"agency":"A",` + raw(pocBody(), "")[1:], status: 400, msg: `key "agency" appears twice`},
		{name: "a key given twice in another case is refused", method: "POST", path: pocs, body: `{"AGENCY":"A",` + raw(pocBody(), "")[1:], status: 400, msg: "appears twice"},
		{name: "a key given twice in a nested object is refused", method: "POST", path: pocs,
			body: strings.Replace(raw(pocBody(), ""), `"kind":"email"`, `"kind":"email","kind":"phone"`, 1), status: 400, msg: `key "kind" appears twice`},
		{name: "a key of a megabyte is refused", method: "POST", path: pocs, body: `{"` + strings.Repeat("k", 1<<20) + `":1}`, status: 400, msg: "longer than 256"},
		{name: "arrays nested 100 deep are refused", method: "POST", path: pocs, body: `{"languages":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}", status: 400, msg: "nested more than"},
		{name: "a body in ISO-8859-1 is refused", method: "POST", path: pocs, body: raw(pocBody(), ""), header: []string{"Content-Type", "application/json; charset=iso-8859-1"}, status: 400, msg: "must be UTF-8, not iso-8859-1"},
		{name: "a body that says it is UTF-8 is read", method: "POST", path: pocs, body: raw(pocBody(), ""), header: []string{"Content-Type", "application/json; charset=UTF-8"}, status: 202},
		{name: "a number for the level is refused", method: "POST", path: pocs, body: pocBody(set("level", 5)), status: 400, field: "level", msg: "wrong type for field level: want a string"},
		{name: "a string for a boolean is refused", method: "POST", path: pocs, body: pocBody(set("alternate", "yes")), status: 400, field: "alternate", msg: "want true or false"},
		{name: "a string for the channel list is refused", method: "POST", path: pocs, body: pocBody(set("channels", "cert@example.org")), status: 400, field: "channels", msg: "want an array"},
		{name: "a number for the notes' text is refused", method: "POST", path: pocs, body: pocBody(set("notes", map[string]any{"text": 5})), status: 400, field: "notes.text", msg: "want a string"},
		{name: "a string for the version is refused", method: "POST", path: pocs, body: pocBody(set("version", "1")), status: 400, field: "version", msg: "want an integer"},

		// The PoC's fields.
		{name: "an unknown level is refused", method: "POST", path: pocs, body: pocBody(set("level", "boss")), status: 400, field: "level"},
		{name: "a PoC without level is refused", method: "POST", path: pocs, body: pocBody(set("level", "")), status: 400, field: "level"},
		{name: "a PoC without agency is refused", method: "POST", path: pocs, body: pocBody(set("agency", "   ")), status: 400, field: "agency", msg: "required"},
		{name: "an agency of 201 characters is refused", method: "POST", path: pocs, body: pocBody(set("agency", long(201))), status: 400, field: "agency", msg: "too long"},
		{name: "an agency of 200 characters is accepted", method: "POST", path: pocs, body: pocBody(set("agency", long(200))), status: 202},
		{name: "a function title of 201 characters is refused", method: "POST", path: pocs, body: pocBody(set("function_title", long(201))), status: 400, field: "function_title", msg: "too long"},
		{name: "a person name of 201 characters is refused", method: "POST", path: pocs, body: pocBody(set("person_name", long(201))), status: 400, field: "person_name", msg: "too long"},
		{name: "notes of 4001 characters are refused", method: "POST", path: pocs, body: pocBody(set("notes", map[string]any{"lang": "en", "text": long(4001)})), status: 400, field: "notes", msg: "too long"},
		{name: "notes of 4000 characters are accepted", method: "POST", path: pocs, body: pocBody(set("notes", map[string]any{"lang": "en", "text": long(4000)})), status: 202},
		{name: "notes in French without English are refused", method: "POST", path: pocs, body: pocBody(set("notes", map[string]any{"lang": "fr", "text": "Joignable par téléphone"})), status: 400, field: "notes_en"},
		{name: "notes in German are refused", method: "POST", path: pocs, body: pocBody(set("notes", map[string]any{"lang": "de", "text": "Telefonisch erreichbar", "english": "Reachable by phone"})), status: 400, field: "notes_lang"},
		{name: "a PoC without working hours nor 24/7 is refused", method: "POST", path: pocs, body: pocBody(set("available_24_7", false)), status: 400, field: "hours"},
		{name: "working hours that do not read are refused", method: "POST", path: pocs, body: pocBody(set("available_24_7", false), set("hours", "Monday to Friday")), status: 400, field: "hours"},
		{name: "a PoC without channel is refused", method: "POST", path: pocs, body: pocBody(set("channels", []any{})), status: 400, field: "channels"},
		{name: "an unknown channel kind is refused", method: "POST", path: pocs, body: pocBody(channel(0, "pigeon", "loft 3")), status: 400, field: "channels.0"},
		{name: "an unknown regional body is refused", method: "POST", path: pocs, body: pocBody(set("regional_refs", []any{map[string]any{"body": "NATO", "ref": "x"}})), status: 400, field: "regional_refs.0"},

		// Email addresses.
		{name: "an email address without @ is refused", method: "POST", path: pocs, body: pocBody(channel(0, "email", "cert.example.org")), status: 400, field: "channels.0", msg: "email"},
		{name: "an email address with a display name is refused", method: "POST", path: pocs, body: pocBody(channel(0, "email", "CERT <cert@example.org>")), status: 400, field: "channels.0", msg: "email"},
		{name: "an email address without a domain dot is refused", method: "POST", path: pocs, body: pocBody(channel(0, "email", "cert@localhost")), status: 400, field: "channels.0", msg: "email"},
		{name: "an email address with a space is refused", method: "POST", path: pocs, body: pocBody(channel(0, "email", "cert@exa mple.org")), status: 400, field: "channels.0", msg: "email"},

		// Phone numbers.
		{name: "a phone number without + is refused", method: "POST", path: pocs, body: pocBody(channel(1, "phone", "022 917 1234")), status: 400, field: "channels.1", msg: "phone"},
		{name: "a phone number with letters is refused", method: "POST", path: pocs, body: pocBody(channel(1, "phone", "+41 22 CALL ME")), status: 400, field: "channels.1", msg: "phone"},
		{name: "a phone number of 6 digits is refused", method: "POST", path: pocs, body: pocBody(channel(1, "phone", "+41 229")), status: 400, field: "channels.1", msg: "phone"},
		{name: "a phone number of 16 digits is refused", method: "POST", path: pocs, body: pocBody(channel(1, "phone", "+4122917123456789")), status: 400, field: "channels.1", msg: "phone"},
		{name: "a fax number without + is refused", method: "POST", path: pocs, body: pocBody(channel(1, "fax", "0041229171234")), status: 400, field: "channels.1", msg: "phone"},
		{name: "a grouped phone number with an extension is accepted", method: "POST", path: pocs, body: pocBody(channel(1, "phone", "+41 (22) 917-12.34 ext. 56")), status: 202},

		// Time zones.
		{name: "an unknown time zone is refused", method: "POST", path: pocs, body: pocBody(set("time_zone", "Mars/Olympus_Mons")), status: 400, field: "time_zone"},
		{name: "a UTC offset is refused as a time zone", method: "POST", path: pocs, body: pocBody(set("time_zone", "UTC+2")), status: 400, field: "time_zone"},
		{name: "Local is refused as a time zone", method: "POST", path: pocs, body: pocBody(set("time_zone", "Local")), status: 400, field: "time_zone"},
		{name: "a PoC without time zone is refused", method: "POST", path: pocs, body: pocBody(set("time_zone", "")), status: 400, field: "time_zone"},
		{name: "a three-part IANA time zone is accepted", method: "POST", path: pocs, body: pocBody(set("time_zone", "America/Argentina/Buenos_Aires")), status: 202},

		// Language tags.
		{name: "a language name is refused as a tag", method: "POST", path: pocs, body: pocBody(set("languages", []any{"english"})), status: 400, field: "languages", msg: "BCP 47"},
		{name: "digits are refused as a language tag", method: "POST", path: pocs, body: pocBody(set("languages", []any{"12"})), status: 400, field: "languages", msg: "BCP 47"},
		{name: "a tag with an empty subtag is refused", method: "POST", path: pocs, body: pocBody(set("languages", []any{"fr-"})), status: 400, field: "languages", msg: "BCP 47"},
		{name: "the undetermined language is refused", method: "POST", path: pocs, body: pocBody(set("languages", []any{"und"})), status: 400, field: "languages", msg: "BCP 47"},
		{name: "a PoC without language is refused", method: "POST", path: pocs, body: pocBody(set("languages", []any{})), status: 400, field: "languages"},
		{name: "language tags are accepted in canonical form", method: "POST", path: pocs, body: pocBody(set("languages", []any{"EN-gb", "zh-hans"})), status: 202,
			check: func(t *testing.T, r *response) {
				if got := strings.Join(decode[directory.Nomination](t, r).PoC.Languages, " "); got != "en-GB zh-Hans" {
					t.Errorf("languages %q, want canonical en-GB zh-Hans", got)
				}
			}},

		// OpenPGP keys.
		{name: "garbage is refused as an OpenPGP key", method: "POST", path: pocs, body: pocBody(set("openpgp_key", "my key is on the website")), status: 400, field: "openpgp_key", msg: "ASCII-armored"},
		{name: "a private key block is refused", method: "POST", path: pocs, body: pocBody(set("openpgp_key", privateArmor)), status: 400, field: "openpgp_key", msg: "private key"},
		{name: "a corrupted public key block is refused", method: "POST", path: pocs, body: pocBody(set("openpgp_key", corruptArmor)), status: 400, field: "openpgp_key", msg: "could not be read"},
		{name: "an expired key is refused", method: "POST", path: pocs, body: pocBody(set("openpgp_key", armoredPublic(t, expiredKey))), status: 400, field: "openpgp_key", msg: "expired"},
		{name: "a valid public key is accepted with its fingerprint and expiry", method: "POST", path: pocs, body: pocBody(set("openpgp_key", validArmor)), status: 202, check: wantKey(validKey, &validExpiry)},
		{name: "a public key that does not expire is accepted without expiry", method: "POST", path: pocs, body: pocBody(set("openpgp_key", armoredPublic(t, eternalKey))), status: 202, check: wantKey(eternalKey, nil)},

		// Effective dates.
		{name: "an impossible effective date is refused", method: "POST", path: pocs, body: pocBody(set("effective_date", "2026-02-30")), status: 400, field: "effective_date"},
		{name: "an effective date in another format is refused", method: "POST", path: pocs, body: pocBody(set("effective_date", "02/03/2026")), status: 400, field: "effective_date"},
		{name: "an effective date more than 90 days ahead is refused", method: "POST", path: pocs, body: pocBody(set("effective_date", "2026-12-31")), status: 400, field: "effective_date", msg: "future"},
		{name: "an effective date before 2000 is refused", method: "POST", path: pocs, body: pocBody(set("effective_date", "1999-12-31")), status: 400, field: "effective_date", msg: "past"},

		// Changing an existing PoC.
		{name: "a change with an invalid email address is refused", method: "PUT", path: "/api/v1/pocs/{poc}", body: pocBody(channel(0, "email", "nobody"), set("version", 1)), status: 400, field: "channels.0", msg: "email"},
		{name: "a change with a string version is refused", method: "PUT", path: "/api/v1/pocs/{poc}", body: pocBody(set("version", "one")), status: 400, field: "version", msg: "wrong type"},
		{name: "a change with an unknown field is refused", method: "PUT", path: "/api/v1/pocs/{poc}", body: pocBody(set("id", 1), set("version", 1)), status: 400, field: "id", msg: "unknown field"},
		{name: "a removal with an impossible effective date is refused", method: "DELETE", path: "/api/v1/pocs/{poc}?version=1&effective_date=yesterday", status: 400, field: "effective_date"},

		// Versions: a change says which version it starts from.
		{name: "a change without version is refused", method: "PUT", path: "/api/v1/pocs/{poc}", body: pocBody(set("agency", "Other")), status: 400, field: "version", msg: "version"},
		{name: "a removal without version is refused", method: "DELETE", path: "/api/v1/pocs/{poc}", status: 400, field: "version", msg: "version"},
		{name: "an entry change without version is refused", method: "PUT", path: entry, body: map[string]any{"initiate_via": "x"}, status: 400, field: "version", msg: "version"},

		// Nominations.
		{name: "a validation without reference is refused", method: "POST", path: "/api/v1/nominations/{nom}/validate", token: secretariatToken, body: map[string]any{"version": 1}, status: 400, field: "reference", msg: "reference"},
		{name: "a return without reason is refused", method: "POST", path: "/api/v1/nominations/{nom}/return", token: secretariatToken, body: map[string]any{"version": 1, "reason": " "}, status: 400, field: "reason"},
		{name: "a validation from an old version is refused", method: "POST", path: "/api/v1/nominations/{nom}/validate", token: secretariatToken, body: map[string]any{"version": 7, "reference": "NV 1"}, status: 409},
		{name: "an unknown status filter is refused", method: "GET", path: "/api/v1/nominations?status=approved", status: 400, field: "status"},
		{name: "an unknown nomination is not found", method: "GET", path: "/api/v1/nominations/999999", status: 404},
		{name: "a proposal by the Secretariat without the State's written request is refused", method: "POST", path: pocs, token: secretariatToken, body: pocBody(), status: 400, field: "request_ref", msg: "written request"},

		// The entry.
		{name: "an entry with an initiate-via of 501 characters is refused", method: "PUT", path: entry, body: map[string]any{"initiate_via": long(501), "version": 1}, status: 400, field: "initiate_via", msg: "too long"},
		{name: "entry notes in Klingon are refused", method: "PUT", path: entry, body: map[string]any{"notes": map[string]any{"lang": "tlh", "text": "x", "english": "y"}, "version": 1}, status: 400, field: "notes_lang"},
		{name: "entry notes of 4001 characters are refused", method: "PUT", path: entry, body: map[string]any{"notes": map[string]any{"text": long(4001)}, "version": 1}, status: 400, field: "notes", msg: "too long"},
		{name: "an entry with an unknown field is refused", method: "PUT", path: entry, body: map[string]any{"initiate": "x"}, status: 400, field: "initiate", msg: "unknown field"},

		// Filters of the list.
		{name: "an unknown level filter is refused", method: "GET", path: "/api/v1/states?level=boss", status: 400, field: "level"},

		// Invitations.

		// Unknown States and objects.
		{name: "adding a PoC to an unknown State is not found", method: "POST", path: "/api/v1/states/XXX/pocs", body: pocBody(), status: 404},
		{name: "an unknown State is not found", method: "GET", path: "/api/v1/states/XXX", status: 404},
		{name: "a name instead of a State code is not found", method: "GET", path: "/api/v1/states/France", status: 404},
		{name: "the history of an unknown State is not found", method: "GET", path: "/api/v1/states/XXX/history", status: 404},
		{name: "the entry of an unknown State is not found", method: "PUT", path: "/api/v1/states/XXX/entry", body: map[string]any{"initiate_via": "x"}, status: 404},
		{name: "a PoC id that is not a number is not found", method: "GET", path: "/api/v1/pocs/abc", status: 404},
		{name: "PoC id 0 is not found", method: "GET", path: "/api/v1/pocs/0", status: 404},
		{name: "an unknown PoC is not found", method: "GET", path: "/api/v1/pocs/999999", status: 404},
		{name: "changing an unknown PoC is not found", method: "PUT", path: "/api/v1/pocs/999999", body: pocBody(), status: 404},
		{name: "removing an unknown PoC is not found", method: "DELETE", path: "/api/v1/pocs/999999", status: 404},
		{name: "disabling an unknown user is not found", method: "POST", path: "/api/v1/users/999999/disable", token: secretariatToken, status: 404},
		{name: "revoking an unknown invitation is not found", method: "DELETE", path: "/api/v1/invitations/999999", token: secretariatToken, status: 404},
		{name: "revoking an unknown token is not found", method: "DELETE", path: "/api/v1/tokens/999999", status: 404},
	}

	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		poc := f.newPoC(t)
		nom := f.nomination(t, false)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tok := f.fpATok
				if c.token != nil {
					tok = c.token(f)
				}
				p := strings.ReplaceAll(c.path, "{poc}", strconv.FormatInt(poc, 10))
				p = strings.ReplaceAll(p, "{nom}", strconv.FormatInt(nom.ID, 10))
				before := f.snapshot(t)
				r := f.do(t, c.method, p, tok, c.body, c.header...)
				if r.Status != c.status {
					t.Fatalf("%s %s: status %d, want %d; body %s", c.method, p, r.Status, c.status, r.Body)
				}
				after := f.snapshot(t)
				if c.status >= 300 {
					e := checkError(t, r)
					if e.Error.Field != c.field {
						t.Errorf("field %q, want %q (%s)", e.Error.Field, c.field, e.Error.Message)
					}
					if !strings.Contains(e.Error.Message, c.msg) {
						t.Errorf("message %q does not say %q", e.Error.Message, c.msg)
					}
					if len(e.Error.Fields) > 0 && e.Error.Fields[0].Field != c.field {
						t.Errorf("fields[0] names %q, want %q", e.Error.Fields[0].Field, c.field)
					}
					if after != before {
						t.Errorf("something was written:\nbefore: %s\nafter: %s", before, after)
					}
				} else if after == before {
					t.Errorf("the request succeeded but nothing was written")
				}
				if c.check != nil {
					c.check(t, r)
				}
			})
		}
	})
}

func TestAllFieldErrorsAreReported(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		body := pocBody(set("agency", ""), channel(0, "email", "nobody"), set("time_zone", "Nowhere/Town"), set("languages", []any{"12"}))
		r := f.do(t, "POST", "/api/v1/states/"+stateA+"/pocs", f.fpATok, body)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
		}
		eb := checkError(t, r)
		var got []string
		for _, x := range eb.Error.Fields {
			got = append(got, x.Field)
			if x.Message == "" {
				t.Errorf("field %s has no message", x.Field)
			}
		}
		if want := "agency time_zone channels.0 languages"; strings.Join(got, " ") != want {
			t.Errorf("fields %q, want %q", strings.Join(got, " "), want)
		}
		if eb.Error.Field != "agency" {
			t.Errorf("field %q, want the first problem, agency", eb.Error.Field)
		}
	})
}

// poc is the part of a PoC's JSON the conflict and lifecycle tests read.
type poc struct {
	ID           int64     `json:"id"`
	State        string    `json:"state"`
	Agency       string    `json:"agency"`
	WorkingHours string    `json:"working_hours"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		get := func(t *testing.T, id int64) (poc, *response) {
			t.Helper()
			r := f.do(t, "GET", fmt.Sprintf("/api/v1/pocs/%d", id), f.fpATok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("GET: status %d: %s", r.Status, r.Body)
			}
			return decode[poc](t, r), r
		}
		put := func(t *testing.T, id int64, agency string, version int, header ...string) *response {
			t.Helper()
			return f.do(t, "PUT", fmt.Sprintf("/api/v1/pocs/%d", id), f.fpATok, pocBody(set("agency", agency), set("version", version)), header...)
		}

		t.Run("the second of two changes from the same version is refused", func(t *testing.T) {
			id := f.newPoC(t)
			p, r := get(t, id)
			if p.Version != 1 || r.Header.Get("ETag") != `"1"` {
				t.Fatalf("version %d, ETag %s; want 1", p.Version, r.Header.Get("ETag"))
			}
			f.validated(t, put(t, id, "First editor's agency", 1))
			before := f.snapshot(t)
			r = put(t, id, "Second editor's agency", 1)
			if r.Status != http.StatusConflict {
				t.Fatalf("second PUT: status %d, want 409: %s", r.Status, r.Body)
			}
			checkError(t, r)
			if after := f.snapshot(t); after != before {
				t.Errorf("the refused change wrote something:\nbefore: %s\nafter: %s", before, after)
			}
			if p, _ := get(t, id); p.Agency != "First editor's agency" || p.Version != 2 {
				t.Errorf("stored %q version %d, want the first editor's at version 2", p.Agency, p.Version)
			}
		})

		t.Run("If-Match with an old ETag is refused and with the current one accepted", func(t *testing.T) {
			id := f.newPoC(t)
			_, r := get(t, id)
			etag := r.Header.Get("ETag")
			f.validated(t, put(t, id, "First editor's agency", 0, "If-Match", etag))
			if _, r := get(t, id); r.Header.Get("ETag") != `"2"` {
				t.Errorf("ETag after the change %s, want \"2\"", r.Header.Get("ETag"))
			}
			before := f.snapshot(t)
			if r := put(t, id, "Second editor's agency", 0, "If-Match", etag); r.Status != http.StatusConflict {
				t.Fatalf("PUT with the old ETag: status %d, want 409: %s", r.Status, r.Body)
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("the refused change wrote something")
			}
			if p, _ := get(t, id); p.Agency != "First editor's agency" {
				t.Errorf("stored %q, want the first editor's", p.Agency)
			}
			f.validated(t, put(t, id, "Second editor's agency", 0, "If-Match", `"2"`))
			if p, _ := get(t, id); p.Agency != "Second editor's agency" || p.Version != 3 {
				t.Errorf("stored %q version %d, want the second editor's at version 3", p.Agency, p.Version)
			}
		})

		t.Run("If-Match wins over the body's version", func(t *testing.T) {
			id := f.newPoC(t)
			if r := put(t, id, "Changed", 1, "If-Match", `"7"`); r.Status != http.StatusConflict {
				t.Fatalf("status %d, want 409: %s", r.Status, r.Body)
			}
		})

		t.Run("a version that is not a number is refused, not taken as no check", func(t *testing.T) {
			id := f.newPoC(t)
			before := f.snapshot(t)
			for _, r := range []*response{
				f.do(t, "DELETE", fmt.Sprintf("/api/v1/pocs/%d?version=abc", id), f.fpATok, nil),
				f.do(t, "DELETE", fmt.Sprintf("/api/v1/pocs/%d", id), f.fpATok, nil, "If-Match", `"abc"`),
				put(t, id, "Changed", 0, "If-Match", `W/"x"`),
			} {
				if r.Status != http.StatusBadRequest {
					t.Errorf("status %d, want 400: %s", r.Status, r.Body)
				}
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("a refused request wrote something")
			}
		})

		t.Run("a removal from an old version is refused", func(t *testing.T) {
			id := f.newPoC(t)
			f.validated(t, put(t, id, "Changed", 1))
			before := f.snapshot(t)
			for _, r := range []*response{
				f.do(t, "DELETE", fmt.Sprintf("/api/v1/pocs/%d?version=1", id), f.fpATok, nil),
				f.do(t, "DELETE", fmt.Sprintf("/api/v1/pocs/%d", id), f.fpATok, nil, "If-Match", `"1"`),
			} {
				if r.Status != http.StatusConflict {
					t.Fatalf("DELETE: status %d, want 409: %s", r.Status, r.Body)
				}
				checkError(t, r)
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("the refused removal wrote something")
			}
			f.validated(t, f.do(t, "DELETE", fmt.Sprintf("/api/v1/pocs/%d?version=2", id), f.fpATok, nil))
		})

		t.Run("an entry change from an old version is refused", func(t *testing.T) {
			path := "/api/v1/states/" + stateA + "/entry"
			st := decode[directory.State](t, f.do(t, "GET", "/api/v1/states/"+stateA, f.fpATok, nil))
			f.validated(t, f.do(t, "PUT", path, f.fpATok, directory.EntryInput{InitiateVia: "Via the Mission in Geneva", Version: st.Version}))
			before := f.snapshot(t)
			r := f.do(t, "PUT", path, f.fpATok, directory.EntryInput{InitiateVia: "Via the Ministry", Version: st.Version})
			if r.Status != http.StatusConflict {
				t.Fatalf("second PUT: status %d, want 409: %s", r.Status, r.Body)
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("the refused change wrote something")
			}
		})

		t.Run("of two simultaneous changes from the same version exactly one is stored", func(t *testing.T) {
			id := f.newPoC(t)
			agencies := []string{"Agency of editor one", "Agency of editor two"}
			statuses := make([]int, len(agencies))
			responses := make([]*response, len(agencies))
			errs := make([]error, len(agencies))
			var wg sync.WaitGroup
			for i, a := range agencies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := f.send("PUT", fmt.Sprintf("/api/v1/pocs/%d", id), f.fpATok, pocBody(set("agency", a), set("version", 1)))
					if err != nil {
						errs[i] = err
						return
					}
					statuses[i], responses[i] = r.Status, r
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			won := -1
			for i, s := range statuses {
				switch s {
				case http.StatusAccepted:
					if won >= 0 {
						t.Fatalf("both changes were accepted: %v", statuses)
					}
					won = i
				case http.StatusConflict:
				default:
					t.Fatalf("statuses %v, want one 202 and one 409", statuses)
				}
			}
			if won < 0 {
				t.Fatalf("no change was accepted: %v", statuses)
			}
			f.validated(t, responses[won])
			if p, _ := get(t, id); p.Agency != agencies[won] || p.Version != 2 {
				t.Errorf("stored %q version %d, want %q at version 2", p.Agency, p.Version, agencies[won])
			}
			hist := decode[struct{ Changes []directory.Change }](t, f.do(t, "GET", "/api/v1/states/"+stateA+"/history", f.fpATok, nil)).Changes
			updates := 0
			for _, c := range hist {
				if c.PoCID == id && c.Action == "poc.update" {
					updates++
				}
			}
			if updates != 1 {
				t.Errorf("%d poc.update changes in the history, want 1", updates)
			}
		})
	})
}

func TestPoCLifecycle(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		clock := f.sys.Clock
		created := clock.Now()

		// Create.
		in := pocBody(set("agency", "Agence nationale de la sécurité des systèmes d'information"),
			set("person_name", "Claire Martin"), set("languages", []any{"fr", "en"}), set("effective_date", "2026-02-20"))
		r := f.do(t, "POST", "/api/v1/states/"+stateA+"/pocs", f.fpATok, in)
		if r.Status != http.StatusAccepted {
			t.Fatalf("create: status %d: %s", r.Status, r.Body)
		}
		t.Run("proposing a PoC answers 202 with the nomination's location", func(t *testing.T) {
			n := decode[directory.Nomination](t, r)
			if want := fmt.Sprintf("/api/v1/nominations/%d", n.ID); r.Header.Get("Location") != want || n.Status != directory.NomSubmitted {
				t.Errorf("Location %q, status %s; want %q, submitted", r.Header.Get("Location"), n.Status, want)
			}
			if g := f.do(t, "GET", "/api/v1/states/"+stateA, f.offBTok, nil); strings.Contains(string(g.Body), "Claire Martin") {
				t.Error("another State sees the PoC before validation")
			}
		})
		v := decode[directory.Nomination](t, f.validated(t, r))
		loc := fmt.Sprintf("/api/v1/pocs/%d", v.PoCID)
		r = f.do(t, "GET", loc, f.fpATok, nil)
		p := decode[directory.PoC](t, r)
		t.Run("once validated the PoC is at its location", func(t *testing.T) {
			if p.ID <= 0 || p.ID != v.PoCID {
				t.Errorf("id %d, want %d", p.ID, v.PoCID)
			}
			if p.State != stateA || p.Agency != in["agency"] || p.PersonName != "Claire Martin" || p.Version != 1 ||
				!p.CreatedAt.Equal(created) || !p.UpdatedAt.Equal(created) || strings.Join(p.Languages, ",") != "fr,en" ||
				len(p.Channels) != 2 || p.Channels[0].Value != "cert@example.org" || !p.Channels[0].Preferred {
				t.Errorf("created %+v", p)
			}
		})
		t.Run("the new PoC is read at its location", func(t *testing.T) {
			g := f.do(t, "GET", loc, f.offBTok, nil)
			if g.Status != http.StatusOK {
				t.Fatalf("status %d", g.Status)
			}
			if !bytes.Equal(g.Body, r.Body) {
				t.Errorf("GET gives\n%s\nPOST gave\n%s", g.Body, r.Body)
			}
			if g.Header.Get("ETag") != `"1"` {
				t.Errorf("ETag %s, want \"1\"", g.Header.Get("ETag"))
			}
		})
		t.Run("the new PoC is in the State's entry and the list", func(t *testing.T) {
			entry := decode[directory.Entry](t, f.do(t, "GET", "/api/v1/states/"+strings.ToLower(stateA), f.offBTok, nil))
			if entry.Code != stateA || len(entry.PoCs) != 1 || entry.PoCs[0].ID != p.ID {
				t.Errorf("entry %s has PoCs %+v, want just %d", entry.Code, entry.PoCs, p.ID)
			}
			list := decode[struct {
				States []directory.Summary
				Count  int
			}](t, f.do(t, "GET", "/api/v1/states?q=sécurité&level=technical", f.offBTok, nil))
			if list.Count != 1 || len(list.States) != 1 || list.States[0].Code != stateA || list.States[0].PoCCount != 1 {
				t.Errorf("the list finds %+v, want %s with one PoC", list.States, stateA)
			}
		})

		// Update.
		clock.Advance(time.Hour)
		updated := clock.Now()
		f.validated(t, f.do(t, "PUT", loc, f.fpATok, pocBody(set("agency", "ANSSI"), set("person_name", "Claire Martin"),
			set("languages", []any{"fr", "en"}), set("available_24_7", false), set("working_hours", "Mon–Fri 08:00–18:00"), set("version", 1))))
		r = f.do(t, "GET", loc, f.fpATok, nil)
		t.Run("a validated change gives the new version", func(t *testing.T) {
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			u := decode[poc](t, r)
			if u.ID != p.ID || u.Agency != "ANSSI" || u.WorkingHours != "Mon–Fri 08:00–18:00" || u.Version != 2 ||
				!u.UpdatedAt.Equal(updated) || !u.CreatedAt.Equal(created) {
				t.Errorf("updated %+v", u)
			}
			if r.Header.Get("ETag") != `"2"` {
				t.Errorf("ETag %s, want \"2\"", r.Header.Get("ETag"))
			}
			if g := decode[poc](t, f.do(t, "GET", loc, f.fpATok, nil)); g.Agency != "ANSSI" || g.Version != 2 {
				t.Errorf("GET after the change: %+v", g)
			}
		})
		t.Run("a change that changes nothing is refused and writes nothing", func(t *testing.T) {
			before := f.snapshot(t)
			r := f.do(t, "PUT", loc, f.fpATok, pocBody(set("agency", "ANSSI"), set("person_name", "Claire Martin"),
				set("languages", []any{"fr", "en"}), set("available_24_7", false), set("working_hours", "Mon–Fri 08:00–18:00"), set("version", 2)))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("an empty change wrote something")
			}
		})

		// Entry.
		clock.Advance(time.Hour)
		oldState := decode[directory.State](t, f.do(t, "GET", "/api/v1/states/"+stateA, f.fpATok, nil))
		f.validated(t, f.do(t, "PUT", "/api/v1/states/"+stateA+"/entry", f.fpATok, directory.EntryInput{InitiateVia: "Through the Permanent Mission in Geneva",
			Notes: directory.Text{Lang: "fr", Text: "Joindre d'abord la Mission.", English: "Contact the Mission first."}, Version: oldState.Version}))
		r = f.do(t, "GET", "/api/v1/states/"+stateA, f.fpATok, nil)
		t.Run("a validated entry change gives the new entry", func(t *testing.T) {
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			st := decode[directory.State](t, r)
			if st.InitiateVia != "Through the Permanent Mission in Geneva" || st.Notes.Lang != "fr" || st.Notes.English != "Contact the Mission first." ||
				st.Version != oldState.Version+1 || st.UpdatedAt == nil || !st.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("state %+v", st)
			}
		})

		// Delete.
		clock.Advance(time.Hour)
		removed := clock.Now()
		f.validated(t, f.do(t, "DELETE", loc+"?version=2&effective_date=2026-03-01", f.fpATok, nil))
		t.Run("a validated removal and the PoC is gone", func(t *testing.T) {
			if g := f.do(t, "GET", loc, f.fpATok, nil); g.Status != http.StatusNotFound {
				t.Errorf("GET after removal: status %d, want 404", g.Status)
			}
			entry := decode[directory.Entry](t, f.do(t, "GET", "/api/v1/states/"+stateA, f.fpATok, nil))
			if len(entry.PoCs) != 0 {
				t.Errorf("the entry still lists %+v", entry.PoCs)
			}
			if g := f.do(t, "DELETE", loc, f.fpATok, nil); g.Status != http.StatusNotFound {
				t.Errorf("a second removal: status %d, want 404", g.Status)
			}
		})

		t.Run("the history lists each change with who, when, the effective date and the diff", func(t *testing.T) {
			r := f.do(t, "GET", "/api/v1/states/"+stateA+"/history", f.offBTok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d", r.Status)
			}
			hist := decode[struct{ Changes []directory.Change }](t, r).Changes
			type want struct {
				action    string
				pocID     int64
				at        time.Time
				effective string
				diff      directory.FieldChange
			}
			wants := []want{
				{"poc.remove", p.ID, removed, "2026-03-01", directory.FieldChange{Field: "agency", Old: "ANSSI", New: ""}},
				{"entry.update", 0, removed.Add(-time.Hour), "2026-03-02", directory.FieldChange{Field: "initiate_via", Old: "", New: "Through the Permanent Mission in Geneva"}},
				{"poc.update", p.ID, updated, "2026-03-02", directory.FieldChange{Field: "agency", Old: in["agency"].(string), New: "ANSSI"}},
				{"poc.create", p.ID, created, "2026-02-20", directory.FieldChange{Field: "agency", Old: "", New: in["agency"].(string)}},
			}
			if len(hist) != len(wants) {
				t.Fatalf("%d changes, want %d: %s", len(hist), len(wants), r.Body)
			}
			for i, w := range wants {
				c := hist[i]
				if c.Action != w.action || c.PoCID != w.pocID || c.State != stateA || c.ActorEmail != "focal@fra.test" ||
					!c.ChangedAt.Equal(w.at) || c.EffectiveDate != w.effective {
					t.Errorf("change %d: %s poc %d by %s at %v effective %s; want %s poc %d by focal@fra.test at %v effective %s",
						i, c.Action, c.PoCID, c.ActorEmail, c.ChangedAt, c.EffectiveDate, w.action, w.pocID, w.at, w.effective)
				}
				found := false
				for _, d := range c.Diff {
					if d == w.diff {
						found = true
					}
				}
				if !found {
					t.Errorf("change %d (%s) diff %+v lacks %+v", i, c.Action, c.Diff, w.diff)
				}
			}
			var fields []string
			for _, d := range hist[2].Diff {
				fields = append(fields, d.Field)
			}
			if got := strings.Join(fields, " "); got != "agency available_24_7 working_hours" {
				t.Errorf("the update's diff names %q, want only agency available_24_7 working_hours", got)
			}
		})
	})
}

// TestFourEyesThroughTheAPI: a Secretariat officer who proposes a change
// on a State's written request cannot apply it alone through the API, nor
// can a second officer while the State has a focal point; the State's
// focal point confirms it (or refuses it, which changes nothing).
func TestFourEyesThroughTheAPI(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		sec2 := f.sys.User(t, "second@un.test", app.RoleSecretariat, "")
		sec2Tok := f.sys.Token(t, sec2, "write")
		in := map[string]any{"level": "technical", "agency": "Agency on request", "function_title": "Duty officer",
			"channels":  []map[string]any{{"kind": "email", "value": "attacker@example.net", "preferred": true}},
			"languages": []string{"en"}, "time_zone": "UTC", "available_24_7": true, "request_ref": "Letter of the Permanent Mission, ref. 9/2026"}
		propose := func() directory.Nomination {
			t.Helper()
			r := f.do(t, "POST", "/api/v1/states/"+stateA+"/pocs", f.secTok, in)
			var n directory.Nomination
			if r.Status != 202 || json.Unmarshal(r.Body, &n) != nil || n.Awaiting != directory.AwaitingFocalPoint {
				t.Fatalf("proposing: %d %s", r.Status, r.Body)
			}
			return n
		}
		pocs := func() int {
			st, _ := f.sys.Directory.Get(f.fpA.Ctx(), stateA)
			return len(st.PoCs)
		}
		before := pocs()
		n := propose()
		path := fmt.Sprintf("/api/v1/nominations/%d", n.ID)
		decision := map[string]any{"version": n.Version, "reference": "NV 9/2026"}
		for _, c := range []struct {
			who, tok string
		}{{"the officer who proposed it", f.secTok}, {"a second officer", sec2Tok}, {"an officer of the State", f.offATok}, {"the State's read-only token", f.roATok}} {
			if r := f.do(t, "POST", path+"/validate", c.tok, decision); r.Status != 403 {
				t.Errorf("%s validating: %d %s", c.who, r.Status, r.Body)
			}
		}
		if r := f.do(t, "POST", path+"/validate", f.fpBTok, decision); r.Status != 404 {
			t.Errorf("another State's focal point: %d %s", r.Status, r.Body)
		}
		if pocs() != before {
			t.Fatal("the PoC was added without the State")
		}
		if r := f.do(t, "POST", path+"/return", f.fpATok, map[string]any{"version": n.Version, "reason": "Not ours."}); r.Status != 200 || pocs() != before {
			t.Fatalf("the State refusing: %d %s", r.Status, r.Body)
		}
		n = propose() // the refused one stays on record; a new proposal
		path = fmt.Sprintf("/api/v1/nominations/%d", n.ID)
		r := f.do(t, "POST", path+"/validate", f.fpATok, map[string]any{"version": n.Version})
		if r.Status != 200 || pocs() != before+1 {
			t.Fatalf("the State confirming: %d %s", r.Status, r.Body)
		}
	})
}

// exerciseInput is an exercise in which only stateA takes part.
func (f *fixture) exerciseInput(name string) exercises.Input {
	now := f.sys.Clock.Now()
	return exercises.Input{Name: name, StartsAt: now, EndsAt: now.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
		Participants: []exercises.Participant{{State: stateA, Level: "technical"}}}
}

func exerciseInject() exercises.InjectInput {
	return exercises.InjectInput{Template: "exercise", Fields: map[string]string{"subject": "Scenario", "urgency": "high", "tlp": "TLP:GREEN",
		"description": "Scenario text."}}
}

// exercise plans an exercise of stateA with one planned inject.
func (f *fixture) exercise(t *testing.T) *exercises.Exercise {
	t.Helper()
	e, err := f.sys.Exercises.Plan(f.sec.Ctx(), f.exerciseInput(fmt.Sprintf("Exercise %d", f.next())))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sys.Exercises.AddInject(f.sec.Ctx(), e.ID, exerciseInject()); err != nil {
		t.Fatal(err)
	}
	if e, err = f.sys.Exercises.Exercise(f.sec.Ctx(), e.ID); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDeclineThroughTheAPI: a Secretariat officer declines a proposal
// with a reason; an empty, blank, too long or missing reason is a 400, an
// agreed, withdrawn or declined proposal a 409; the proposing State's
// focal point reads the reason.
func TestDeclineThroughTheAPI(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		sec2 := f.sys.User(t, "second@un.test", app.RoleSecretariat, "")
		propose := func() *exercises.Exercise {
			t.Helper()
			x, err := f.sys.Exercises.Propose(f.fpA.Ctx(), f.exerciseInput(fmt.Sprintf("Exercise %d", f.next())))
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		x := propose()
		path := fmt.Sprintf("/api/v1/exercises/%d/decline", x.ID)
		for name, body := range map[string]any{"no body": nil, "no reason": map[string]any{}, "an empty reason": map[string]any{"reason": ""},
			"a blank reason": map[string]any{"reason": "   "}, "a reason too long": map[string]any{"reason": strings.Repeat("x", exercises.MaxReasonRunes+1)},
			"an unknown field": map[string]any{"reason": "No.", "by": "fpA"}} {
			if r := f.do(t, "POST", path, f.secTok, body); r.Status != 400 {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		r := f.do(t, "POST", path, f.secTok, map[string]any{"reason": "The dates clash."})
		if r.Status != 200 {
			t.Fatalf("decline: %d %s", r.Status, r.Body)
		}
		r = f.do(t, "GET", fmt.Sprintf("/api/v1/exercises/%d", x.ID), f.fpATok, nil)
		var got exercises.Exercise
		if r.Status != 200 || json.Unmarshal(r.Body, &got) != nil || got.Status != exercises.Declined || got.DeclineReason != "The dates clash." {
			t.Errorf("the proposing State reads: %d %s", r.Status, r.Body)
		}
		if r := f.do(t, "POST", path, f.secTok, map[string]any{"reason": "Again."}); r.Status != 409 {
			t.Errorf("declined twice: %d %s", r.Status, r.Body)
		}
		agreed := propose()
		if _, err := f.sys.Exercises.Agree(f.sec.Ctx(), agreed.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sys.Exercises.Confirm(sec2.Ctx(), agreed.ID); err != nil {
			t.Fatal(err)
		}
		withdrawn := propose()
		if _, err := f.sys.Exercises.Withdraw(f.fpA.Ctx(), withdrawn.ID); err != nil {
			t.Fatal(err)
		}
		for name, id := range map[string]int64{"agreed": agreed.ID, "withdrawn": withdrawn.ID} {
			if r := f.do(t, "POST", fmt.Sprintf("/api/v1/exercises/%d/decline", id), f.secTok, map[string]any{"reason": "No."}); r.Status != 409 {
				t.Errorf("declined an %s exercise: %d %s", name, r.Status, r.Body)
			}
		}
	})
}
