package web_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestUsersPageFiltersAndPages: the page of accounts is searched by State,
// status and text, shows them 50 at a time with links to the pages around,
// keeps the invitations' page apart, and a focal point reaches only their
// own State's accounts.
func TestUsersPageFiltersAndPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		for i := range 51 {
			sys.User(t, fmt.Sprintf("officer%02d@fra.example", i), app.RoleOfficer, "FRA")
		}
		cs, cf := sys.Login(t, srv, sec), sys.Login(t, srv, fp)
		rows := regexp.MustCompile(`<tr><td><span dir="ltr">([^<]+)</span>`)
		accounts := func(page string) []string {
			// The accounts' table ends where the invitations' begins.
			page, _, _ = strings.Cut(page, `id="t-invitations"`)
			var out []string
			for _, m := range rows.FindAllStringSubmatch(page, -1) {
				out = append(out, m[1])
			}
			return out
		}
		link := regexp.MustCompile(`<nav class="pager" aria-label="Pages of the accounts">.*?<a href="([^"]+)" rel="next">`)

		resp, page := get(t, cs, srv.URL+"/users")
		first := accounts(page)
		if resp.StatusCode != http.StatusOK || len(first) != 50 {
			t.Fatalf("the first page: %d, %d accounts", resp.StatusCode, len(first))
		}
		m := link.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no link to the older accounts")
		}
		_, page = get(t, cs, srv.URL+"/users"+html.UnescapeString(m[1]))
		second := accounts(page)
		if len(second) != 4 || second[3] != "sec@un.example" || strings.Contains(page, `rel="next"`) {
			t.Errorf("the second page: %v", second)
		}
		if !strings.Contains(page, `aria-label="Pages of the accounts"`) || !strings.Contains(page, `rel="prev"`) {
			t.Error("the second page has no link back")
		}

		_, page = get(t, cs, srv.URL+"/users?state=KEN")
		if got := accounts(page); len(got) != 1 || got[0] != "fp@ken.example" || !strings.Contains(page, `<option value="KEN" selected>`) {
			t.Errorf("Kenya's accounts: %v", got)
		}
		_, page = get(t, cs, srv.URL+"/users?state=-")
		if got := accounts(page); len(got) != 1 || got[0] != "sec@un.example" {
			t.Errorf("the accounts of no State: %v", got)
		}
		_, page = get(t, cs, srv.URL+"/users?q=OFFICER5")
		if got := accounts(page); len(got) != 1 || got[0] != "officer50@fra.example" || !strings.Contains(page, `value="OFFICER5"`) {
			t.Errorf("searched: %v", got)
		}
		if resp, _ := get(t, cs, srv.URL+"/users?status=gone"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("an unknown status: %d", resp.StatusCode)
		}
		if resp, _ := get(t, cs, srv.URL+"/users?before=x"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a cursor that is not one: %d", resp.StatusCode)
		}

		_, page = get(t, cf, srv.URL+"/users?status=active")
		got := accounts(page)
		for _, a := range got {
			if !strings.HasSuffix(a, "@fra.example") {
				t.Errorf("France's focal point sees %s", a)
			}
		}
		if len(got) != 50 || strings.Contains(page, `name="state"`) {
			t.Errorf("France's focal point: %d accounts, a choice of State: %v", len(got), strings.Contains(page, `name="state"`))
		}
		if resp, _ := get(t, cf, srv.URL+"/users?state=KEN"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("France's focal point asks for Kenya's accounts: %d", resp.StatusCode)
		}
	})
}
