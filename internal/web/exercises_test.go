package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestExercisePages plans an exercise with the form, adds and releases an
// inject, writes the note, and reads the report and its CSV: as the
// Secretariat, as a participant (its own figures only), and as a State
// that does not take part (nothing).
func TestExercisePages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, srv := testkit.NewServed(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		fpJPN := sys.User(t, "fp@jpn.example", app.RoleFocalPoint, "JPN")
		sys.AddPoC(t, fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
		c := sys.Login(t, srv, sec)
		now := sys.Clock.Now()

		t.Run("a plan without a name or participant shows the problems", func(t *testing.T) {
			resp := testkit.PostForm(t, c, srv.URL+"/exercises/new", url.Values{"target_ack_minutes": {"30"}, "target_answer_minutes": {"120"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
		resp := testkit.PostForm(t, c, srv.URL+"/exercises/new", url.Values{"name": {"Exercise Blue Harbour"}, "objectives": {"Reach every PoC."},
			"starts_at": {now.Format("2006-01-02T15:04")}, "ends_at": {now.Add(48 * time.Hour).Format("2006-01-02T15:04")},
			"target_ack_minutes": {"30"}, "target_answer_minutes": {"120"}, "technical": {"FRA, KEN"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/exercises/1" {
			t.Fatalf("plan: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp = testkit.PostForm(t, c, srv.URL+"/exercises/1/injects", url.Values{"template": {"exercise"}, "subject": {"Scenario: the port"},
			"description": {"The cranes stopped."}, "urgency": {"high"}, "tlp": {"TLP:GREEN"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("inject: %d", resp.StatusCode)
		}
		resp = testkit.PostForm(t, c, srv.URL+"/exercises/1/injects/1/release", url.Values{})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("release: %d", resp.StatusCode)
		}
		resp = testkit.PostForm(t, c, srv.URL+"/exercises/1/note", url.Values{"note": {"Every PoC acknowledged within the hour."}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("note: %d", resp.StatusCode)
		}
		if _, err := sys.Comms.Acknowledge(fpKEN.Ctx(), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Comms.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}

		t.Run("the Secretariat sees the scenario, the marking and every participant in the report", func(t *testing.T) {
			_, page := get(t, c, srv.URL+"/exercises/1")
			for _, want := range []string{"EXERCISE: everything on this page", "Scenario: the port", "Released", "Every PoC acknowledged within the hour."} {
				if !strings.Contains(page, want) {
					t.Errorf("the exercise page lacks %q", want)
				}
			}
			_, page = get(t, c, srv.URL+"/exercises/1/report")
			for _, want := range []string{"<svg", "France", "Kenya", "0:00:00"} {
				if !strings.Contains(page, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			_, csv := get(t, c, srv.URL+"/exercises/1/report.csv")
			if !strings.HasPrefix(csv, export.BOM+"exercise_id,exercise,inject,line,state") || !strings.Contains(csv, "\r\n") || !strings.Contains(csv, ",FRA,") || !strings.Contains(csv, ",KEN,") {
				t.Errorf("csv %s", csv)
			}
		})
		t.Run("a participant sees its own figures, no other State by name", func(t *testing.T) {
			k := sys.Login(t, srv, fpKEN)
			_, page := get(t, k, srv.URL+"/exercises/1/report")
			if !strings.Contains(page, "Kenya") || strings.Contains(page, "France") || !strings.Contains(page, "0:00:00") {
				t.Errorf("Kenya's report:\n%s", page)
			}
			_, csv := get(t, k, srv.URL+"/exercises/1/report.csv")
			if strings.Contains(csv, ",FRA,") || !strings.Contains(csv, ",KEN,") {
				t.Errorf("Kenya's csv %s", csv)
			}
			_, page = get(t, k, srv.URL+"/exercises/1")
			if strings.Contains(page, "Release now") || strings.Contains(page, "France") {
				t.Errorf("Kenya's exercise page shows the controls or France")
			}
			_, page = get(t, k, srv.URL+"/comms/1")
			if !strings.Contains(page, "Exercise: this message concerns no real incident.") || !strings.Contains(page, "Secretariat") ||
				strings.Contains(page, `action="/comms/1/share"`) {
				t.Errorf("the inject's page is not marked, names no Secretariat, or offers sharing:\n%s", page)
			}
		})
		t.Run("a participant's focal point turns a note's line into a need of its State in one step", func(t *testing.T) {
			k := sys.Login(t, srv, fpKEN)
			_, page := get(t, k, srv.URL+"/exercises/1/report")
			link := `/capacity/needs/new?exercise=1&amp;finding=note-1`
			if !strings.Contains(page, link) {
				t.Fatalf("the report offers no need from the note's line:\n%s", page)
			}
			_, form := get(t, k, srv.URL+"/capacity/needs/new?exercise=1&finding=note-1")
			for _, want := range []string{`name="exercise" value="1"`, "Learnt from the exercise “Exercise Blue Harbour”", "Every PoC acknowledged within the hour.",
				`value="exercises" checked`, `id="f-visibility-secretariat" name="visibility" value="secretariat" checked`} {
				if !strings.Contains(form, want) {
					t.Errorf("the need form lacks %q", want)
				}
			}
			resp := testkit.PostForm(t, k, srv.URL+"/capacity/needs/new?exercise=1&finding=note-1", url.Values{"exercise": {"1"}, "kind": {"training_course"},
				"topics": {"exercises"}, "level": {"technical"}, "languages": {"en"}, "visibility": {"secretariat"},
				"details_lang": {"en"}, "details": {"Learnt from the exercise: Every PoC acknowledged within the hour."}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("record: %d", resp.StatusCode)
			}
			needs, err := sys.Capacity.Needs(sec.Ctx(), app.Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if needs := needs.List; len(needs) != 1 || needs[0].ExerciseID != 1 || needs[0].State != "KEN" {
				t.Fatalf("needs %+v", needs)
			}
			if _, page := get(t, k, srv.URL+"/capacity"); !strings.Contains(page, `href="/exercises/1/report"`) {
				t.Error("Kenya's capacity page does not link the need to its exercise")
			}
			if _, page := get(t, k, srv.URL+"/exercises/1/report"); !strings.Contains(page, "Capacity needs learnt from this exercise") {
				t.Error("the report does not list the need learnt from it")
			}
			if _, page := get(t, c, srv.URL+"/exercises/1/report"); !strings.Contains(page, "Capacity needs learnt from this exercise") || strings.Contains(page, "Record as a capacity need") {
				t.Error("the Secretariat's report does not list the need, or offers to record one")
			}
			j := sys.Login(t, srv, fpJPN)
			resp = testkit.PostForm(t, j, srv.URL+"/capacity/needs/new", url.Values{"exercise": {"1"}, "kind": {"training_course"},
				"topics": {"exercises"}, "level": {"technical"}, "languages": {"en"}, "details_lang": {"en"}, "details": {"x"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("a State that did not take part records a need from the exercise: %d", resp.StatusCode)
			}
		})
		t.Run("a participant's report lists its own needs learnt, not another participant's shown to all", func(t *testing.T) {
			in := capacity.NeedInput{Kind: "training_course", Topics: []string{"exercises"}, Level: directory.LevelTechnical, Languages: []string{"fr"},
				Visibility: capacity.VisibleAll, Details: capacity.Text{Lang: "fr", Text: "Appris de l'exercice : joindre la France plus vite.", English: "Learnt: reach France faster."}}
			n, err := sys.Capacity.RecordNeedFromExercise(fpFRA.Ctx(), 1, in)
			if err != nil {
				t.Fatal(err)
			}
			link := fmt.Sprintf(`href="/capacity#need-%d"`, n.ID)
			k := sys.Login(t, srv, fpKEN)
			if _, page := get(t, k, srv.URL+"/exercises/1/report"); strings.Contains(page, "France") || strings.Contains(page, link) {
				t.Error("Kenya's report names France through France's need learnt from the exercise")
			}
			if _, page := get(t, c, srv.URL+"/exercises/1/report"); !strings.Contains(page, link) {
				t.Error("the Secretariat's report does not list France's need")
			}
		})
		t.Run("a State that does not take part sees nothing", func(t *testing.T) {
			j := sys.Login(t, srv, fpJPN)
			for _, p := range []string{"/exercises/1", "/exercises/1/report", "/exercises/1/report.csv"} {
				if r, _ := get(t, j, srv.URL+p); r.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %d", p, r.StatusCode)
				}
			}
			if _, page := get(t, j, srv.URL+"/exercises"); strings.Contains(page, "Blue Harbour") {
				t.Error("Japan lists the exercise")
			}
		})
	})
}

// TestExerciseProposalPages: France's focal point proposes an exercise for
// France and Kenya with the same form; Kenya sees nothing of the draft;
// it waits in the Secretariat's inbox; one officer agrees with a button
// and a second confirms (the first may not); France then releases its
// inject. A second proposal, withdrawn, leaves the inbox.
func TestExerciseProposalPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, srv := testkit.NewServed(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		sys.AddPoC(t, fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		f, k, c, c2 := sys.Login(t, srv, fpFRA), sys.Login(t, srv, fpKEN), sys.Login(t, srv, sec), sys.Login(t, srv, sec2)
		now := sys.Clock.Now()
		if _, page := get(t, f, srv.URL+"/exercises/new"); !strings.Contains(page, "Propose an exercise") {
			t.Fatal("the focal point is not offered to propose")
		}
		resp := testkit.PostForm(t, f, srv.URL+"/exercises/new", url.Values{"name": {"Francophone drill"},
			"starts_at": {now.Format("2006-01-02T15:04")}, "ends_at": {now.Add(48 * time.Hour).Format("2006-01-02T15:04")},
			"target_ack_minutes": {"30"}, "target_answer_minutes": {"120"}, "technical": {"FRA, KEN"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/exercises/1" {
			t.Fatalf("propose: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp = testkit.PostForm(t, f, srv.URL+"/exercises/1/injects", url.Values{"template": {"exercise"}, "subject": {"Scenario: the port"},
			"description": {"The cranes stopped."}, "urgency": {"high"}, "tlp": {"TLP:GREEN"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("inject: %d", resp.StatusCode)
		}
		t.Run("the draft is France's and the Secretariat's, without a release button", func(t *testing.T) {
			if r, _ := get(t, k, srv.URL+"/exercises/1"); r.StatusCode != http.StatusNotFound {
				t.Errorf("Kenya reads the draft: %d", r.StatusCode)
			}
			_, page := get(t, f, srv.URL+"/exercises/1")
			if !strings.Contains(page, "Draft proposed by France") || strings.Contains(page, "/injects/1/release") || strings.Contains(page, "/agree") {
				t.Error("France's page: no draft notice, or a release or agree button")
			}
			if _, page := get(t, c, srv.URL+"/exercises/1"); !strings.Contains(page, `action="/exercises/1/agree"`) {
				t.Error("the Secretariat is not offered to agree")
			}
		})
		t.Run("the proposal waits in the Secretariat's inbox, not in France's", func(t *testing.T) {
			if _, page := get(t, c, srv.URL+"/inbox"); !strings.Contains(page, "Exercise proposed by a group of States, to agree to") || !strings.Contains(page, `href="/exercises/1"`) {
				t.Error("the Secretariat's inbox does not list the proposal")
			}
			if _, page := get(t, f, srv.URL+"/inbox"); strings.Contains(page, `href="/exercises/1"`) {
				t.Error("France's inbox lists its own proposal")
			}
		})
		resp = testkit.PostForm(t, c, srv.URL+"/exercises/1/agree", url.Values{})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("agree: %d", resp.StatusCode)
		}
		t.Run("four eyes: the officer who agreed is not offered to confirm, nor may; a second officer confirms", func(t *testing.T) {
			_, page := get(t, c, srv.URL+"/exercises/1")
			if !strings.Contains(page, "until a second officer confirms the agreement") || strings.Contains(page, `action="/exercises/1/confirm"`) {
				t.Error("the first officer's page: no notice, or a confirm button")
			}
			resp := testkit.PostForm(t, c, srv.URL+"/exercises/1/confirm", url.Values{})
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("the first officer confirmed: %d", resp.StatusCode)
			}
			if r, _ := get(t, k, srv.URL+"/exercises/1"); r.StatusCode != http.StatusNotFound {
				t.Errorf("Kenya reads it on one officer's agreement: %d", r.StatusCode)
			}
			if _, page := get(t, c2, srv.URL+"/inbox"); !strings.Contains(page, "Agreement to an exercise to confirm (second officer)") {
				t.Error("the second officer's inbox does not list the agreement to confirm")
			}
			if _, page := get(t, c, srv.URL+"/inbox"); strings.Contains(page, `href="/exercises/1"`) {
				t.Error("the first officer's inbox still lists the proposal")
			}
			if _, page := get(t, c2, srv.URL+"/exercises/1"); !strings.Contains(page, `action="/exercises/1/confirm"`) {
				t.Error("the second officer is not offered to confirm")
			}
			resp = testkit.PostForm(t, c2, srv.URL+"/exercises/1/confirm", url.Values{})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("confirm: %d", resp.StatusCode)
			}
			if _, page := get(t, c2, srv.URL+"/inbox"); strings.Contains(page, `href="/exercises/1"`) {
				t.Error("the agreed exercise still waits in the inbox")
			}
		})
		t.Run("once agreed, France releases and Kenya takes part", func(t *testing.T) {
			if r, page := get(t, k, srv.URL+"/exercises/1"); r.StatusCode != http.StatusOK || strings.Contains(page, "/injects/1/release") || strings.Contains(page, "Proposed by France") {
				t.Errorf("Kenya's page: %d, or a release button, or names the proposer", r.StatusCode)
			}
			resp := testkit.PostForm(t, k, srv.URL+"/exercises/1/injects/1/release", url.Values{})
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("Kenya released: %d", resp.StatusCode)
			}
			resp = testkit.PostForm(t, f, srv.URL+"/exercises/1/injects/1/release", url.Values{})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("France's release: %d", resp.StatusCode)
			}
			if _, page := get(t, f, srv.URL+"/exercises/1/report"); !strings.Contains(page, "Kenya") || !strings.Contains(page, "France") {
				t.Error("France's report does not show every participant")
			}
		})
		t.Run("France withdraws a second proposal: it leaves the Secretariat's inbox", func(t *testing.T) {
			resp := testkit.PostForm(t, f, srv.URL+"/exercises/new", url.Values{"name": {"Second drill"},
				"starts_at": {now.Add(24 * time.Hour).Format("2006-01-02T15:04")}, "ends_at": {now.Add(48 * time.Hour).Format("2006-01-02T15:04")},
				"target_ack_minutes": {"30"}, "target_answer_minutes": {"120"}, "technical": {"FRA, KEN"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/exercises/2" {
				t.Fatalf("propose: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if _, page := get(t, c, srv.URL+"/inbox"); !strings.Contains(page, `href="/exercises/2"`) {
				t.Error("the second proposal is not in the Secretariat's inbox")
			}
			if _, page := get(t, c, srv.URL+"/exercises/2"); strings.Contains(page, `action="/exercises/2/withdraw"`) {
				t.Error("the Secretariat is offered to withdraw France's proposal")
			}
			if _, page := get(t, f, srv.URL+"/exercises/2"); !strings.Contains(page, `action="/exercises/2/withdraw"`) {
				t.Fatal("France is not offered to withdraw")
			}
			resp = testkit.PostForm(t, f, srv.URL+"/exercises/2/withdraw", url.Values{})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("withdraw: %d", resp.StatusCode)
			}
			if _, page := get(t, c, srv.URL+"/inbox"); strings.Contains(page, `href="/exercises/2"`) {
				t.Error("the withdrawn proposal still waits in the Secretariat's inbox")
			}
			if _, page := get(t, c, srv.URL+"/exercises/2"); !strings.Contains(page, "Proposal withdrawn by France") || strings.Contains(page, `action="/exercises/2/agree"`) {
				t.Error("the withdrawn proposal's page: no notice, or an agree button")
			}
		})
		t.Run("an officer declines a third proposal with a reason France reads; no one else may", func(t *testing.T) {
			resp := testkit.PostForm(t, f, srv.URL+"/exercises/new", url.Values{"name": {"Third drill"},
				"starts_at": {now.Add(24 * time.Hour).Format("2006-01-02T15:04")}, "ends_at": {now.Add(48 * time.Hour).Format("2006-01-02T15:04")},
				"target_ack_minutes": {"30"}, "target_answer_minutes": {"120"}, "technical": {"FRA, KEN"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/exercises/3" {
				t.Fatalf("propose: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if _, page := get(t, c, srv.URL+"/exercises/3"); !strings.Contains(page, `action="/exercises/3/decline" class="stack" novalidate><input type="hidden" name="csrf"`) ||
				!strings.Contains(page, `name="reason" rows="3" dir="auto" maxlength="2000" required`) {
				t.Fatal("the Secretariat is not offered to decline, with the csrf field first and a bounded reason")
			}
			if _, page := get(t, f, srv.URL+"/exercises/3"); strings.Contains(page, "/decline") {
				t.Error("France is offered to decline its own proposal")
			}
			for name, who := range map[string]*http.Client{"France": f, "Kenya": k} {
				resp := testkit.PostForm(t, who, srv.URL+"/exercises/3/decline", url.Values{"reason": {"No."}})
				resp.Body.Close()
				if resp.StatusCode == http.StatusSeeOther {
					t.Errorf("%s declined France's proposal", name)
				}
			}
			for name, reason := range map[string]string{"empty": " ", "too long": strings.Repeat("x", 2001)} {
				resp := testkit.PostForm(t, c, srv.URL+"/exercises/3/decline", url.Values{"reason": {reason}})
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusSeeOther || !strings.Contains(string(body), `id="f-reason"`) || !strings.Contains(string(body), `aria-invalid="true"`) {
					t.Errorf("%s reason: %d, or not the page again with the field in error", name, resp.StatusCode)
				}
			}
			resp = testkit.PostForm(t, c, srv.URL+"/exercises/3/decline", url.Values{"reason": {"The dates clash <b>with</b> another drill."}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("decline: %d", resp.StatusCode)
			}
			for _, who := range []*http.Client{c, c2} {
				if _, page := get(t, who, srv.URL+"/inbox"); strings.Contains(page, `href="/exercises/3"`) {
					t.Error("the declined proposal still waits in an officer's inbox")
				}
			}
			_, page := get(t, f, srv.URL+"/exercises/3")
			if !strings.Contains(page, "Proposal by France declined by the Secretariat") || !strings.Contains(page, "The dates clash &lt;b&gt;with&lt;/b&gt; another drill.") ||
				strings.Contains(page, `action="/exercises/3/withdraw"`) || strings.Contains(page, `action="/exercises/3/injects"`) {
				t.Error("France's page of the declined proposal: no notice or reason, or a withdraw or inject form")
			}
			if _, page := get(t, c2, srv.URL+"/exercises/3"); strings.Contains(page, "/agree") || strings.Contains(page, "/decline") {
				t.Error("the declined proposal's page offers to agree or decline")
			}
			resp = testkit.PostForm(t, c2, srv.URL+"/exercises/3/agree", url.Values{})
			resp.Body.Close()
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("agreed to a declined proposal: %d", resp.StatusCode)
			}
		})
	})
}
