package web_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestPagesAnswerWhileAWriterHolds: on SQLite one transaction writes at a
// time, and in a crisis the sends hold it most of the time. A page or an
// API read that opened a transaction to read would wait behind them: every
// page and read of every role answers while a write transaction is open.
func TestPagesAnswerWhileAWriterHolds(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpDEU := sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU")
		sys.AddPoC(t, fpDEU.Ctx(), "DEU", testkit.ValidPoC())
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		c, err := sys.Comms.Compose(off.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"DEU"}, Level: comms.LevelTechnical,
			Fields: map[string]string{"subject": "Scanning from AS64500", "urgency": "high", "tlp": comms.TLPAmber,
				"description": "Scanning of our networks from addresses announced in your space."}})
		if err != nil {
			t.Fatal(err)
		}
		campaign, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Q4", Scope: "all", Channel: "email", WindowHours: 72})
		if err != nil {
			t.Fatal(err)
		}
		srv := sys.Serve(t)
		web := map[*testkit.User]*http.Client{sec: sys.Login(t, srv, sec), fp: sys.Login(t, srv, fp), off: sys.Login(t, srv, off)}
		tokens := map[*testkit.User]string{sec: sys.Token(t, sec, "read"), fp: sys.Token(t, fp, "read"), off: sys.Token(t, off, "read")}
		id, cid := strconv.FormatInt(c.ID, 10), strconv.FormatInt(campaign.ID, 10)
		// Every role's pages, and the Secretariat's own. Not here, as they
		// write by design: /log and /api/v1/log/checkpoint sign the log as
		// it is now when it has grown, and a recipient's first view of a
		// communication records that it was opened.
		pages := []string{"/inbox", "/directory", "/states/FRA", "/states/FRA/history", "/comms", "/comms/" + id,
			"/checks", "/account", "/capacity", "/exercises", "/nominations"}
		rolePages := map[*testkit.User][]string{
			sec: {"/dashboard", "/users", "/checks/" + cid, "/admin/outbox"},
			fp:  {"/users"},
		}
		apis := []string{"/api/v1/status", "/api/v1/inbox", "/api/v1/states/FRA", "/api/v1/comms", "/api/v1/comms/" + id + "/thread",
			"/api/v1/checks", "/api/v1/log/entries", "/api/v1/tokens"}
		// A token's first request writes its count (then every twentieth
		// of its limit): made before the writer holds.
		for _, u := range []*testkit.User{sec, fp, off} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/status", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[u])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}

		release := sys.HoldWriter(t)
		released := false
		get := func(u *testkit.User, path string, api bool) {
			t.Helper()
			if released {
				return
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			client := web[u]
			if api {
				req.Header.Set("Authorization", "Bearer "+tokens[u])
				client = http.DefaultClient
			}
			answered := make(chan int, 1)
			go func() {
				resp, err := client.Do(req)
				if err != nil {
					answered <- -1
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered <- resp.StatusCode
			}()
			select {
			case code := <-answered:
				if code != http.StatusOK {
					t.Errorf("%s %s: status %d", u.Email, path, code)
				}
			case <-time.After(30 * time.Second):
				released = true
				release()
				t.Errorf("%s %s waited for the open write transaction", u.Email, path)
			}
		}
		for _, u := range []*testkit.User{sec, fp, off} {
			for _, p := range append(pages, rolePages[u]...) {
				get(u, p, false)
			}
			for _, p := range apis {
				get(u, p, true)
			}
		}
		release()
	})
}
