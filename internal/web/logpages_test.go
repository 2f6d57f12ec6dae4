package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestLogPages: the log's page shows its entries 100 at a time, newest
// first, with links to the older and the newer pages, each entry once
// however the reader goes, and a State's reader only their State's.
func TestLogPages(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	var evs []auditlog.Event
	for i := range 600 {
		evs = append(evs, auditlog.Event{Type: "directory.entry.reconfirm", ActorEmail: "x@example.org", Object: "state:" + []string{"FRA", "KEN"}[i%2],
			States: []string{[]string{"FRA", "KEN"}[i%2]}, At: time.Unix(1_700_000_000+int64(i), 0)})
	}
	ctx := context.Background()
	if err := sys.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := auditlog.AppendBatch(ctx, tx, evs)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	idx := regexp.MustCompile(`<td class="mono idx">(\d+)</td>`)
	link := func(page, rel string) string {
		m := regexp.MustCompile(`<nav class="pager"[^>]*>.*?<a href="([^"]*)" rel="` + rel + `">`).FindStringSubmatch(page)
		if m == nil {
			return ""
		}
		return m[1]
	}
	for _, u := range []*testkit.User{sec, fp} {
		c := sys.Login(t, srv, u)
		read := func(q string) (idxs []int64, older, newer string) {
			t.Helper()
			resp, page := get(t, c, srv.URL+"/log"+q)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: /log%s: %d", u.Email, q, resp.StatusCode)
			}
			for _, m := range idx.FindAllStringSubmatch(page, -1) {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				idxs = append(idxs, n)
			}
			if len(idxs) > 100 {
				t.Fatalf("%s: a page of %d entries", u.Email, len(idxs))
			}
			return idxs, link(page, "next"), link(page, "prev")
		}
		all, err := sys.Audit.Newest(u.Ctx(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, e := range all {
			want = append(want, e.Index)
		}
		var pages [][]int64
		var got []int64
		var newer string
		for q := ""; ; {
			list, older, nw := read(q)
			if q == "" && nw != "" {
				t.Errorf("%s: the newest page links to newer ones", u.Email)
			}
			pages, got, newer = append(pages, list), append(got, list...), nw
			if older == "" {
				break
			}
			q = older
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || len(pages) < 2 {
			t.Errorf("%s: older and older, %d pages: %v\nwant %v", u.Email, len(pages), got, want)
		}
		// Back, newer and newer, from the last page to the first, which
		// links to no newer one.
		for i := len(pages) - 2; i >= 0; i-- {
			if newer == "" {
				t.Fatalf("%s: no link back from page %d", u.Email, i+2)
			}
			list, _, nw := read(newer)
			if fmt.Sprint(list) != fmt.Sprint(pages[i]) {
				t.Errorf("%s: page %d, back: %v, want %v", u.Email, i+1, list, pages[i])
			}
			newer = nw
		}
		if newer != "" {
			t.Errorf("%s: the first page, reached back, links to a newer one: %s", u.Email, newer)
		}
	}
	c := sys.Login(t, srv, sec)
	for _, bad := range []string{"?before=x", "?after=-1", "?before=99999999999999999999"} {
		if resp, _ := get(t, c, srv.URL+"/log"+bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/log%s: %d", bad, resp.StatusCode)
		}
	}
}
