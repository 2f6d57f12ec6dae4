package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// unLanguages are the six official languages of the United Nations, each of
// which the interface must speak.
var unLanguages = []string{"ar", "zh", "en", "fr", "ru", "es"}

var (
	htmlTag      = regexp.MustCompile(`(?is)<html\b[^>]*>`)
	attrLang     = regexp.MustCompile(`\slang="([^"]*)"`)
	attrDir      = regexp.MustCompile(`\sdir="([^"]*)"`)
	scriptStyle  = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	comment      = regexp.MustCompile(`(?s)<!--.*?-->`)
	spokenAttr   = regexp.MustCompile(`(?i)\s(?:alt|title|aria-label|placeholder)="([^"]*)"`)
	anyTag       = regexp.MustCompile(`(?s)<[^>]*>`)
	messageIDish = regexp.MustCompile(`\b[a-z][a-z0-9_]*(?:\.[a-z0-9_-]+)+\b`)
)

// visibleText returns what a reader sees or hears of a page: its text
// nodes, and the attributes that screen readers speak or browsers show.
func visibleText(page string) string {
	page = scriptStyle.ReplaceAllString(page, " ")
	page = comment.ReplaceAllString(page, " ")
	var sb strings.Builder
	for _, m := range spokenAttr.FindAllStringSubmatch(page, -1) {
		sb.WriteString(html.UnescapeString(m[1]))
		sb.WriteString("\n")
	}
	sb.WriteString(html.UnescapeString(anyTag.ReplaceAllString(page, " ")))
	return sb.String()
}

// leakedIDs returns the message ids of the catalog found in the text: a
// message that is missing shows as its id.
func leakedIDs(text string, ids map[string]bool) []string {
	found := map[string]bool{}
	for _, tok := range messageIDish.FindAllString(text, -1) {
		if ids[tok] {
			found[tok] = true
		}
	}
	// A few ids hold spaces or capitals (UN regional groups); look for
	// those whole.
	for id := range ids {
		if strings.Contains(id, ".") && !messageIDish.MatchString(id) && strings.Contains(text, id) {
			found[id] = true
		}
	}
	var out []string
	for id := range found {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func TestEveryMainPageInEveryLanguage(t *testing.T) {
	t.Run("the check finds an id left untranslated", func(t *testing.T) {
		page := `<html lang="fr" dir="ltr"><p>Annuaire</p><p>nav.directory</p><button aria-label="form.save">x</button><p>fp@fra.example</p><p>group.Western European and Others</p></html>`
		got := fmt.Sprint(leakedIDs(visibleText(page), map[string]bool{"nav.directory": true, "form.save": true, "fra.example": false, "group.Western European and Others": true}))
		if want := "[form.save group.Western European and Others nav.directory]"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	testkit.ForEachEngine(t, everyMainPageInEveryLanguage)
}

func everyMainPageInEveryLanguage(t *testing.T, e testkit.Engine) {
	sys := testkit.New(t, e)
	srv := sys.Serve(t)
	a11yFixture(t, sys)
	commIn, commOut := a11yComms(t, sys)
	capacityFixture(t, sys)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	c := sys.Login(t, srv, fp)
	ids := sys.Web.Catalog.Keys("en")
	if len(ids) == 0 {
		t.Fatal("the English catalog has no message")
	}
	pages := []string{"/directory", "/states/FRA", "/states/FRA/history", "/account", "/log", "/users", "/states/FRA/pocs/new", "/nominations", "/nominations/1", "/checks", "/templates", "/templates/1",
		"/comms", "/comms/new", "/comms/new?template=notification", fmt.Sprintf("/comms/%d", commIn), fmt.Sprintf("/comms/%d", commOut), fmt.Sprintf("/comms/%d/ack", commIn), "/comms/routing",
		"/capacity", "/capacity/needs/new", "/capacity/offers/new", "/capacity/activities/1"}

	for _, lang := range unLanguages {
		t.Run("the main pages are wholly in "+lang, func(t *testing.T) {
			if !sys.Web.Catalog.Has(lang) {
				t.Fatalf("no catalog for %s", lang)
			}
			resp := testkit.PostForm(t, c, srv.URL+"/language", url.Values{"lang": {lang}, "back": {"/directory"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST /language: status %d", resp.StatusCode)
			}
			wantDir := "ltr"
			if lang == "ar" {
				wantDir = "rtl"
			}
			check := func(what string, status int, body string, wantStatus int) {
				t.Helper()
				if status != wantStatus {
					t.Errorf("%s: status %d, want %d", what, status, wantStatus)
				}
				tag := htmlTag.FindString(body)
				gotLang, gotDir := "", ""
				if m := attrLang.FindStringSubmatch(tag); m != nil {
					gotLang = m[1]
				}
				if m := attrDir.FindStringSubmatch(tag); m != nil {
					gotDir = m[1]
				}
				if gotLang != lang || gotDir != wantDir {
					t.Errorf("%s: %s, want lang=%q dir=%q", what, tag, lang, wantDir)
				}
				if leaked := leakedIDs(visibleText(body), ids); len(leaked) > 0 {
					t.Errorf("%s: message ids shown untranslated: %s", what, strings.Join(leaked, ", "))
				}
			}
			for _, p := range pages {
				resp, body := get(t, c, srv.URL+p)
				check("GET "+p, resp.StatusCode, body, http.StatusOK)
			}
			// The error messages of a form, next to their fields and in the
			// summary.
			resp = testkit.PostForm(t, c, srv.URL+"/states/FRA/pocs/new", url.Values{"level": {"technical"}, "ch_rows": {"1"},
				"ch_kind_0": {"email"}, "ch_value_0": {"not-an-email"}, "languages": {"klingon!"}, "notes": {"Bonjour"}})
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			body := string(b)
			check("POST /states/FRA/pocs/new with errors", resp.StatusCode, body, http.StatusBadRequest)
			resp, body = get(t, c, srv.URL+"/states/XXX")
			check("GET /states/XXX", resp.StatusCode, body, http.StatusNotFound)
		})
	}
}
