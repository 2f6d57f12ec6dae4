package web_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestDashboard(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	late := testkit.ValidPoC()
	late.Level, late.EffectiveDate = directory.LevelDiplomatic, sys.Clock.Now().AddDate(0, 0, -40).Format("2006-01-02")
	sys.AddPoC(t, fpKEN.Ctx(), "KEN", late)
	// KEN's entry falls overdue; a new PoC for TUV (a dot on the map) waits.
	sys.Clock.Advance(200 * 24 * time.Hour)
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	if _, err := sys.Directory.Reconfirm(fp.Ctx(), "FRA"); err != nil {
		t.Fatal(err)
	}
	sys.Clock.Advance(200 * 24 * time.Hour)
	tuv := sys.User(t, "fp@tuv.example", app.RoleFocalPoint, "TUV")
	if _, err := sys.Directory.ProposePoC(tuv.Ctx(), "TUV", testkit.ValidPoC()); err != nil {
		t.Fatal(err)
	}

	t.Run("only the Secretariat sees the dashboard and its figures", func(t *testing.T) {
		for _, u := range []*testkit.User{fp, fpKEN} {
			c := sys.Login(t, srv, u)
			for _, p := range []string{"/dashboard", "/dashboard/states.csv", "/dashboard/summary.csv"} {
				if resp, _ := get(t, c, srv.URL+p); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s GET %s: status %d", u.Email, p, resp.StatusCode)
				}
			}
		}
	})
	c := sys.Login(t, srv, sec)
	resp, body := get(t, c, srv.URL+"/dashboard")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Run("the map has every State of the directory, each a link, coloured by freshness", func(t *testing.T) {
		m := regexp.MustCompile(`(?s)<svg class="map".*?</svg>`).FindString(body)
		if m == "" {
			t.Fatal("no map")
		}
		// The map is well-formed XML, readable without script.
		dec := xml.NewDecoder(strings.NewReader(m))
		for {
			if _, err := dec.Token(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("the map is not well-formed: %v", err)
			}
		}
		states, err := directory.ReferenceStates()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			link := regexp.MustCompile(`<a href="/states/` + s.Code + `" data-state="` + s.Code + `" tabindex="-1"><title>[^<]+</title><(path d="M[^"]+"|circle [^>]+)`).FindString(m)
			if link == "" {
				t.Errorf("%s (%s) is not on the map", s.Code, s.Name)
			}
		}
		want := map[string]string{"FRA": `fill="#1d6b3a"`, "KEN": `fill="url(#overdue)"`, "DEU": `fill="#ffffff"`, "TUV": `fill="#ffffff"`}
		for code, fill := range want {
			el := regexp.MustCompile(`data-state="` + code + `" tabindex="-1"><title>[^<]+</title><[^>]+>`).FindString(m)
			if !strings.Contains(el, fill) {
				t.Errorf("%s: %s, want %s", code, el, fill)
			}
		}
		if !strings.Contains(m, "<title>Kenya — Stale</title>") {
			t.Error("the State's title does not name it and its freshness")
		}
	})
	t.Run("the figures", func(t *testing.T) {
		for _, want := range []string{"2 of 195", "Not yet operational (50 States needed)", "notified late: 1 of 3 changes", `<a href="/nominations?status=submitted">1</a>`, `<svg class="chart"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the dashboard lacks %q", want)
			}
		}
	})
	t.Run("every figure downloads as CSV", func(t *testing.T) {
		read := func(p string) [][]string {
			resp, body := get(t, c, srv.URL+p)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("%s: status %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			return csvRows(t, body)
		}
		rows := read("/dashboard/states.csv")
		if len(rows) != 196 {
			t.Errorf("states.csv: %d rows", len(rows))
		}
		for _, r := range rows {
			switch r[0] {
			case "KEN":
				if r[6] != "overdue" || r[8] != "1" || r[9] != "1" {
					t.Errorf("KEN: %v", r)
				}
			case "TUV":
				if r[10] != "1" || r[5] != "0" {
					t.Errorf("TUV: %v", r)
				}
			}
		}
		groups := read("/dashboard/coverage-un-groups.csv")
		if len(groups) != 6 || groups[0][0] != "un_group" {
			t.Errorf("groups: %v", groups)
		}
		bodies := read("/dashboard/coverage-regional-bodies.csv")
		for _, r := range bodies {
			if r[0] == "AU" && r[2] != "1" {
				t.Errorf("AU: %v", r)
			}
		}
		if tl := read("/dashboard/nominations-over-time.csv"); len(tl) < 13 || tl[len(tl)-1][1] != "2" {
			t.Errorf("timeline: %v", tl)
		}
		if s := read("/dashboard/summary.csv"); len(s) < 8 {
			t.Errorf("summary: %v", s)
		}
		if resp, _ := get(t, c, srv.URL+"/dashboard/nothing.csv"); resp.StatusCode != 404 {
			t.Errorf("unknown CSV: %d", resp.StatusCode)
		}
		t.Run("every download is in the accountability log", func(t *testing.T) {
			entries, err := sys.Audit.Entries(app.WithActor(context.Background(), app.System), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			exports := map[string]bool{}
			for _, e := range entries {
				if e.Type == "directory.exported" {
					exports[e.Object] = true
				}
			}
			for _, f := range []string{"states.csv", "coverage-un-groups.csv", "coverage-regional-bodies.csv", "nominations-over-time.csv", "summary.csv"} {
				if !exports["export:dashboard/"+f] {
					t.Errorf("%s not logged (%v)", f, exports)
				}
			}
		})
	})
}
