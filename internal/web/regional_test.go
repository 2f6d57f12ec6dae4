package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestRegionalDirectories follows the Secretariat importing the OSCE's
// list, its matching's progress, France's focal point confirming a match
// and nominating from an unmatched contact, and the list going back.
func TestRegionalDirectories(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	fpDEU := sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU")
	in := testkit.ValidPoC()
	in.Agency, in.Channels = "ANSSI", []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@fra.example", Preferred: true}}
	cert := sys.AddPoC(t, fpFRA.Ctx(), "FRA", in)
	secC, fp := sys.Login(t, srv, sec), sys.Login(t, srv, fpFRA)
	file := "body,state,ref,agency,function,level,channels\n" +
		"OSCE,FRA,FR-1,ANSSI,Duty officer,technical,email:cert@fra.example\n" +
		"OSCE,FRA,FR-2,Gendarmerie nationale,Cybercrime,incident-reporting,email:c3n@fra.example;phone:+33 1 00 00 00 00\n"

	t.Run("a broken file is refused with its rows, and nothing is imported", func(t *testing.T) {
		resp := postFiles(t, secC, srv.URL+"/regional/import", nil, "file", map[string][]byte{"osce.csv": []byte(strings.Replace(file, "FRA,FR-2", "XXX,FR-2", 1))})
		b := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "Line 3: &#34;XXX&#34; is not a State") {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if list, _ := sys.Regional.Contacts(sec.Ctx(), "", ""); len(list) != 0 {
			t.Errorf("%d contacts imported", len(list))
		}
	})
	var importPath string
	t.Run("the Secretariat imports the list and follows its matching", func(t *testing.T) {
		resp := postFiles(t, secC, srv.URL+"/regional/import", nil, "file", map[string][]byte{"osce.csv": []byte(file)})
		readBody(t, resp)
		importPath = resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(importPath, "/regional/imports/") {
			t.Fatalf("status %d to %q", resp.StatusCode, importPath)
		}
		_, b := get(t, secC, srv.URL+importPath)
		if !strings.Contains(b, "Matching: 0 of 2 contacts.") || !strings.Contains(b, `<progress max="2" value="0"`) {
			t.Errorf("the running import does not show its progress:\n%s", b)
		}
		if _, err := sys.Regional.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, b = get(t, secC, srv.URL+importPath)
		if strings.Contains(b, "Show the progress now") || !strings.Contains(b, "All 2 contacts are matched.") {
			t.Errorf("the finished import:\n%s", b)
		}
		if resp, _ := get(t, fp, srv.URL+importPath); resp.StatusCode != http.StatusNotFound {
			t.Errorf("France follows the import: %d", resp.StatusCode)
		}
		resp = postFiles(t, fp, srv.URL+"/regional/import", nil, "file", map[string][]byte{"osce.csv": []byte(file)})
		readBody(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("France imported: %d", resp.StatusCode)
		}
	})
	list, err := sys.Regional.Contacts(sec.Ctx(), "OSCE", "FRA")
	if err != nil || len(list) != 2 {
		t.Fatalf("%d contacts, %v", len(list), err)
	}
	anssi, gend := list[0], list[1]
	if anssi.Ref != "FR-1" {
		anssi, gend = gend, anssi
	}
	t.Run("France's focal point confirms the match, and the State page says where its PoC stands", func(t *testing.T) {
		_, b := get(t, fp, srv.URL+"/states/FRA/regional")
		if !strings.Contains(b, `action="/regional/contacts/`+strconv.FormatInt(anssi.ID, 10)+`/confirm"`) || !strings.Contains(b, "/states/FRA/pocs/new?regional="+strconv.FormatInt(gend.ID, 10)) {
			t.Fatalf("France's regional contacts lack the review or the nomination:\n%s", b)
		}
		for _, u := range []*testkit.User{offFRA, fpDEU} {
			c := sys.Login(t, srv, u)
			resp := testkit.PostForm(t, c, srv.URL+"/regional/contacts/"+strconv.FormatInt(anssi.ID, 10)+"/confirm", url.Values{})
			readBody(t, resp)
			if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s confirmed France's match: %d", u.Email, resp.StatusCode)
			}
		}
		resp := testkit.PostForm(t, fp, srv.URL+"/regional/contacts/"+strconv.FormatInt(anssi.ID, 10)+"/confirm", url.Values{"from": {"state"}})
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/states/FRA/regional#rc-") {
			t.Fatalf("status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, b = get(t, sys.Login(t, srv, fpDEU), srv.URL+"/states/FRA")
		if !strings.Contains(b, "Also in") || !strings.Contains(b, "OSCE <span dir=\"ltr\">(FR-1)</span>") || strings.Contains(b, "/states/FRA/regional") {
			t.Errorf("Germany does not read where France's PoC %d stands, or reads France's contacts", cert.ID)
		}
		if resp, _ := get(t, sys.Login(t, srv, fpDEU), srv.URL+"/states/FRA/regional"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("Germany opens France's regional contacts: %d", resp.StatusCode)
		}
	})
	t.Run("a focal point nominates from a regional contact, the form filled in", func(t *testing.T) {
		_, b := get(t, fp, srv.URL+"/states/FRA/pocs/new?regional="+strconv.FormatInt(gend.ID, 10))
		for _, want := range []string{`value="Gendarmerie nationale"`, `value="c3n@fra.example"`, `value="FR-2"`, `value="incident-reporting" selected`} {
			if !strings.Contains(b, want) {
				t.Errorf("the form lacks %s", want)
			}
		}
		if resp, _ := get(t, sys.Login(t, srv, fpDEU), srv.URL+"/states/DEU/pocs/new?regional="+strconv.FormatInt(gend.ID, 10)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Germany's focal point read France's contact: %d", resp.StatusCode)
		}
	})
	t.Run("the OSCE's PoCs go back in the same form", func(t *testing.T) {
		resp, b := get(t, secC, srv.URL+"/regional/bodies/OSCE/export.csv")
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b, "\ufeff"))).ReadAll()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		found := false
		for _, r := range rows[1:] {
			if r[1] == "FRA" && r[2] == "FR-1" && r[3] == "ANSSI" && r[6] == "email:cert@fra.example" {
				found = true
			}
		}
		if strings.Join(rows[0], ",") != "body,state,ref,agency,function,level,channels" || !found {
			t.Errorf("export %v", rows)
		}
		if resp, _ := get(t, fp, srv.URL+"/regional/bodies/OSCE/export.csv"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a focal point exported: %d", resp.StatusCode)
		}
	})
}
