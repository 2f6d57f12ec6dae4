package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestObserversInThePages: the Secretariat invites an observer and grants
// it the OSCE's States through the pages, each step approved by a second
// officer; the observer then sees the directory of those States only, a
// navigation without communications, and is marked as an observer.
func TestObserversInThePages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		cs, cs2 := sys.Login(t, srv, sec), sys.Login(t, srv, sec2)

		resp := testkit.PostForm(t, cs, srv.URL+"/invitations/new", url.Values{"email": {"osce@osce.example"}, "role": {"observer"},
			"organisation": {"OSCE Secretariat"}, "language": {"en"}})
		if b := readAll(t, resp); resp.StatusCode != http.StatusOK || strings.Contains(b, "/invite/pdi_") {
			t.Fatalf("inviting an observer: %d", resp.StatusCode)
		}
		if _, page := get(t, cs, srv.URL+"/users"); !strings.Contains(page, "Observer — OSCE Secretariat") {
			t.Errorf("the users page does not mark the invited observer")
		}

		obs := sys.Observer(t, "observer@osce.example", "OSCE Secretariat", sec, account.GrantInput{})
		resp = testkit.PostForm(t, cs, srv.URL+"/observers/"+strconv.FormatInt(obs.ID, 10)+"/grant", url.Values{"states": {"KEN"}, "body": {"OSCE"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("proposing a grant: %d", resp.StatusCode)
		}
		list, err := sys.Accounts.Observers(sec.Ctx())
		if err != nil || len(list) != 1 || list[0].Pending == nil || list[0].Grant != nil {
			t.Fatalf("observers %+v, %v: want one proposal waiting", list, err)
		}
		p := list[0].Pending
		if !contains(p.States, "FRA") || !contains(p.States, "KEN") || contains(p.States, "BRA") {
			t.Errorf("proposed %v: want the OSCE's members (France among them) and Kenya, not Brazil", p.States)
		}
		approve := srv.URL + "/observers/grants/" + strconv.FormatInt(p.ID, 10) + "/approve"
		if _, page := get(t, cs, srv.URL+"/observers"); strings.Contains(page, `/approve"`) || !strings.Contains(page, `/withdraw"`) {
			t.Errorf("the proposer is offered to approve their own grant, or not to withdraw it")
		}
		resp = testkit.PostForm(t, cs, approve, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("the proposer approving: %d", resp.StatusCode)
		}
		resp = testkit.PostForm(t, cs2, approve, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a second officer approving: %d", resp.StatusCode)
		}

		next, err := sys.Accounts.ProposeGrant(sec.Ctx(), obs.ID, account.GrantInput{States: []string{"BRA"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, page := get(t, cs2, srv.URL+"/observers"); !strings.Contains(page, `action="/observers/grants/`+strconv.FormatInt(next.ID, 10)+`/approve"`) {
			t.Errorf("the second officer is not offered to approve")
		}
		resp = testkit.PostForm(t, cs2, srv.URL+"/observers/grants/"+strconv.FormatInt(next.ID, 10)+"/withdraw", nil)
		resp.Body.Close()
		if list, _ := sys.Accounts.Observers(sec.Ctx()); resp.StatusCode != http.StatusSeeOther || list[0].Pending != nil {
			t.Fatalf("a second officer refusing: %d", resp.StatusCode)
		}

		co := sys.Login(t, srv, obs)
		for _, c := range []struct {
			name, path string
			status     int
			has, lacks []string
		}{
			{"an observer's inbox is the directory", "/inbox", http.StatusSeeOther, nil, nil},
			{"an observer's directory lists the States granted", "/directory", http.StatusOK, []string{"Observer — OSCE Secretariat", `href="/states/FRA"`},
				[]string{`href="/states/BRA"`, `href="/comms"`, `href="/inbox"`, `href="/log"`, "/directory/export", `href="/cii"`, `href="/offline-copy"`, "Download:"}},
			{"an observer reads a State granted", "/states/FRA", http.StatusOK, []string{"Observer — OSCE Secretariat"}, []string{"/states/FRA/history", "/vcard", "Download:", "/states/FRA/cii"}},
			{"an observer cannot read a State not granted", "/states/BRA", http.StatusForbidden, nil, nil},
			{"an observer cannot read the communications", "/comms", http.StatusForbidden, nil, nil},
			{"an observer cannot read the log", "/log", http.StatusForbidden, nil, nil},
			{"an observer cannot read the checks", "/checks", http.StatusForbidden, nil, nil},
			{"an observer not granted the offers sees none, and no needs", "/capacity", http.StatusOK, nil, []string{`id="offer-`, `id="h-needs"`}},
			{"an observer manages its account", "/account", http.StatusOK, []string{"Observer — OSCE Secretariat"}, []string{"/offline-copy", "/account/notifications"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, page := get(t, co, srv.URL+c.path)
				if resp.StatusCode != c.status {
					t.Fatalf("GET %s: %d, want %d", c.path, resp.StatusCode, c.status)
				}
				if loc := resp.Header.Get("Location"); c.status == http.StatusSeeOther && loc != "/directory" {
					t.Errorf("GET %s leads to %q, want /directory", c.path, loc)
				}
				for _, s := range c.has {
					if !strings.Contains(page, s) {
						t.Errorf("the page lacks %q", s)
					}
				}
				for _, s := range c.lacks {
					if strings.Contains(page, s) {
						t.Errorf("the page has %q", s)
					}
				}
			})
		}
	})
}

// TestObserversReachOnlyTheirPages opens every page of the portal as an
// observer granted France and the offers: only the directory, France's
// entry, the offers and its own account answer.
func TestObserversReachOnlyTheirPages(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	poc := sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	obs := sys.Observer(t, "osce@osce.example", "OSCE Secretariat", sec, account.GrantInput{States: []string{"FRA"}, Offers: true})
	c := sys.Login(t, srv, obs)
	open := map[string]bool{"/directory": true, "/states/FRA": true, "/capacity": true, "/account": true}
	pocID := strconv.FormatInt(poc.ID, 10)
	for _, p := range []string{"/directory", "/states/FRA", "/capacity", "/account",
		"/directory/export?format=csv", "/states/FRA/export?format=json", "/pocs/" + pocID + "/vcard", "/offline-copy",
		"/states/FRA/history", "/states/FRA/cii", "/states/FRA/cii/edit", "/states/FRA/regional", "/regional", "/regional/imports/1",
		"/regional/bodies/OSCE", "/regional/bodies/OSCE/export.csv", "/cii", "/cii.csv", "/states/FRA/edit", "/states/FRA/pocs/new",
		"/pocs/" + pocID + "/edit", "/pocs/" + pocID + "/remove", "/nominations", "/nominations/1", "/nominations/1/edit",
		"/dashboard", "/dashboard/coverage.csv", "/checks", "/checks/new", "/checks/1", "/checks/1/results.csv",
		"/exercises", "/exercises/new", "/exercises/1", "/exercises/1/report", "/exercises/1/report.csv",
		"/capacity/needs/new", "/capacity/needs/1/edit", "/capacity/offers/new", "/capacity/activities/1", "/capacity/progress",
		"/capacity/progress/needs.csv", "/comms", "/comms/new", "/comms/routing", "/comms/1", "/comms/1/edit", "/comms/1/ack",
		"/comms/1/confirm", "/comms/1/stix.json", "/comms/1/attachments/1", "/templates", "/templates/new", "/templates/1",
		"/templates/1/edit", "/users", "/invitations/new", "/observers", "/states/FRA/access", "/log", "/log/receipts/0",
		"/admin/outbox", "/states/KEN", "/states/KEN/history"} {
		t.Run("an observer opens "+p, func(t *testing.T) {
			resp, _ := get(t, c, srv.URL+p)
			if got := resp.StatusCode == http.StatusOK; got != open[p] {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
			if !open[p] && resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s: %d, want 403 or 404", p, resp.StatusCode)
			}
		})
	}
}
