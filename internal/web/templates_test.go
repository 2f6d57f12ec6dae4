package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestTemplatePages(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	cf := sys.Login(t, srv, fp)
	_, page := get(t, cf, srv.URL+"/templates")
	for _, want := range []string{"Notification of malicious activity", "Request for assistance", "Exercise message"} {
		if !strings.Contains(page, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(page, "/templates/new") {
		t.Error("a focal point is offered to create templates")
	}
	for _, p := range []string{"/templates/new", "/templates/1/edit"} {
		if resp, _ := get(t, cf, srv.URL+p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a focal point GET %s: %d", p, resp.StatusCode)
		}
	}
	resp := testkit.PostForm(t, cf, srv.URL+"/templates/1/retire", url.Values{})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a focal point retiring: %d", resp.StatusCode)
	}

	cs := sys.Login(t, srv, sec)
	_, form := get(t, cs, srv.URL+"/templates/1/edit")
	if !strings.Contains(form, `value="Notification of malicious activity"`) || !strings.Contains(form, `name="label_0_fr"`) {
		t.Fatal("the revision form is not filled")
	}
	// The Secretariat adds the French name and a field.
	f := url.Values{"version": {"1"}, "rows": {"3"}, "name_en": {"Notification of malicious activity"}, "name_fr": {"Notification d'une activité malveillante"},
		"key_0": {"subject"}, "kind_0": {"text"}, "required_0": {"1"}, "label_0_en": {"Subject"}, "label_0_fr": {"Objet"},
		"key_1": {"tlp"}, "kind_1": {"tlp"}, "required_1": {"1"}, "label_1_en": {"TLP"},
		"key_2": {"sector"}, "kind_2": {"choice"}, "list_2": {"sector"}, "label_2_en": {"Sector"}, "help_2_en": {"The main one"}, "help_2_fr": {"Le principal"}}
	resp = testkit.PostForm(t, cs, srv.URL+"/templates/1/edit", f)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revise: %d", resp.StatusCode)
	}
	_, page = get(t, cs, srv.URL+"/templates/1")
	if !strings.Contains(page, "Version 2") || !strings.Contains(page, "Sector") || !strings.Contains(page, "Choice from a list · Sectors") {
		t.Errorf("after the revision:\n%s", page)
	}
	if _, form := get(t, cs, srv.URL+"/templates/1/edit"); !strings.Contains(form, `value="Le principal"`) {
		t.Error("the French help was not kept")
	}
	// The same form again, from version 1, is a conflict that keeps the form.
	resp = testkit.PostForm(t, cs, srv.URL+"/templates/1/edit", f)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), `value="Sector"`) {
		t.Errorf("a stale revision: %d", resp.StatusCode)
	}
	// A choice without its list is refused with the field named.
	f.Set("version", "2")
	f.Del("list_2")
	resp = testkit.PostForm(t, cs, srv.URL+"/templates/1/edit", f)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "A choice field needs one of the reference lists") {
		t.Errorf("a choice without a list: %d", resp.StatusCode)
	}
	f.Set("list_2", "sector")
	// A template without its TLP field is refused with the reason.
	f.Del("key_1")
	resp = testkit.PostForm(t, cs, srv.URL+"/templates/1/edit", f)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "subject (short text) and tlp (TLP label)") {
		t.Errorf("no tlp field: %d", resp.StatusCode)
	}
	// The French reader sees the French name.
	req := testkit.PostForm(t, cf, srv.URL+"/language", url.Values{"lang": {"fr"}, "back": {"/templates"}})
	req.Body.Close()
	if _, page := get(t, cf, srv.URL+"/templates"); !strings.Contains(page, "Notification d&#39;une activité malveillante") {
		t.Error("the French name is not shown in French")
	}
}

// TestEnglishFallbackIsMarked: a template's text that has no translation
// in the reader's language shows in English, marked lang="en" for screen
// readers.
func TestEnglishFallbackIsMarked(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	in := comms.TemplateInput{Slug: "drill", Name: comms.Text{"en": "Drill", "ar": "تدريب"}, Fields: []comms.Field{
		{Key: "subject", Kind: "text", Required: true, Label: comms.Text{"en": "Subject", "ar": "الموضوع"}},
		{Key: "tlp", Kind: "tlp", Required: true, Label: comms.Text{"en": "TLP label"}}}}
	if _, err := sys.Comms.CreateTemplate(sec.Ctx(), in); err != nil {
		t.Fatal(err)
	}
	c := sys.Login(t, srv, fp)
	resp := testkit.PostForm(t, c, srv.URL+"/language", url.Values{"lang": {"ar"}, "back": {"/"}})
	resp.Body.Close()
	_, page := get(t, c, srv.URL+"/comms/new?template=drill")
	if !strings.Contains(page, `<span lang="en">TLP label</span>`) || !strings.Contains(page, ">الموضوع") || strings.Contains(page, `<span lang="en">الموضوع`) {
		t.Error("the English fallback is not marked, or a translation is")
	}
}
