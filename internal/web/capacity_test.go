package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCapacityPages drives capacity-building through its pages: a need
// seen by the Secretariat only, an offer, the suggested match, both sides
// accepting, the activity and the progress with its CSV; and checks that a
// third State sees none of the need.
func TestCapacityPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		sec := sys.Login(t, srv, sys.User(t, "sec@un.example", app.RoleSecretariat, ""))
		irn := sys.Login(t, srv, sys.User(t, "fp@irn.example", app.RoleFocalPoint, "IRN"))
		fra := sys.Login(t, srv, sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"))
		ken := sys.Login(t, srv, sys.User(t, "off@ken.example", app.RoleOfficer, "KEN"))
		post := func(c *http.Client, path string, v url.Values) (*http.Response, string) {
			t.Helper()
			resp := testkit.PostForm(t, c, srv.URL+path, v)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		need := url.Values{"kind": {"training_course"}, "topics": {"poc_setup"}, "level": {"technical"}, "languages": {"fa"},
			"languages_other": {"English"}, "needed_by": {"2026-09-30"}, "visibility": {"secretariat"},
			"details_lang": {"fr"}, "details": {"Former l'équipe de garde."}, "details_en": {"Train the duty team of the national CERT."}}

		t.Run("a need without a kind comes back with the error, and the form keeps what was typed", func(t *testing.T) {
			bad := url.Values{}
			for k, v := range need {
				bad[k] = v
			}
			bad.Del("kind")
			resp, body := post(irn, "/capacity/needs/new", bad)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-kind"`) || !strings.Contains(body, "Train the duty team") {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
		if resp, _ := post(irn, "/capacity/needs/new", need); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("recording a need: %d", resp.StatusCode)
		}
		offer := url.Values{"kind": {"training_course"}, "topics": {"poc_setup"}, "level": {""}, "languages": {"en", "fr"}, "format": {"online"},
			"capacity": {"20"}, "period_from": {"2026-04-01"}, "period_to": {"2026-12-31"}, "details_lang": {"en"}}
		if resp, _ := post(fra, "/capacity/offers/new", offer); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("recording an offer: %d", resp.StatusCode)
		}
		t.Run("an officer of a third State sees neither the need nor a way to record one", func(t *testing.T) {
			_, body := get(t, ken, srv.URL+"/capacity")
			if strings.Contains(body, "Train the duty team") || strings.Contains(body, "/capacity/needs/new") {
				t.Error("Kenya's officer sees Iran's need or the form")
			}
			if resp, _ := get(t, ken, srv.URL+"/capacity/needs/new"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("the form: %d", resp.StatusCode)
			}
		})
		t.Run("the offering State does not see the need yet", func(t *testing.T) {
			if _, body := get(t, fra, srv.URL+"/capacity"); strings.Contains(body, "Train the duty team") {
				t.Error("France sees Iran's need")
			}
		})
		t.Run("the Secretariat sees the need and the suggested match with its reasons", func(t *testing.T) {
			_, body := get(t, sec, srv.URL+"/capacity")
			for _, want := range []string{"Train the duty team", "Shared topics: Setting up a technical PoC", "Offered at every level", `name="need_id" value="1"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
		})
		if resp, _ := post(sec, "/capacity/matches", url.Values{"need_id": {"1"}, "offer_id": {"1"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("proposing: %d", resp.StatusCode)
		}
		if resp, _ := post(fra, "/capacity/matches/1/accept", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("France accepting first: %d", resp.StatusCode)
		}
		if resp, _ := post(irn, "/capacity/matches/1/accept", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("Iran accepting: %d", resp.StatusCode)
		}
		resp, _ := post(fra, "/capacity/matches/1/accept", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/capacity/activities/1" {
			t.Fatalf("France accepting: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		t.Run("the two States see the activity, the third does not", func(t *testing.T) {
			if resp, body := get(t, fra, srv.URL+"/capacity/activities/1"); resp.StatusCode != 200 || !strings.Contains(body, "Train the duty team") {
				t.Errorf("France: %d", resp.StatusCode)
			}
			if resp, _ := get(t, ken, srv.URL+"/capacity/activities/1"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("Kenya: %d", resp.StatusCode)
			}
		})
		if resp, _ := post(sec, "/capacity/plan", url.Values{"title": {"Action Plan on PoCs"}, "period_from": {"2026-01-01"}, "period_to": {"2027-12-31"},
			"measure_title": {"Trainings"}, "measure_kind": {"training_course"}, "measure_target": {"5"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the plan: %d", resp.StatusCode)
		}
		if resp, body := post(fra, "/capacity/activities/1", url.Values{"status": {"done"}, "starts_on": {"2026-05-04"}, "ends_on": {"2026-05-08"},
			"participants": {"12"}, "measure_id": {"1"}, "outcome_lang": {"en"}, "outcome": {"Duty roster in place."}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the activity done: %d\n%s", resp.StatusCode, body)
		}
		t.Run("the Secretariat reads the progress as pictures and CSV; a State does not", func(t *testing.T) {
			resp, body := get(t, sec, srv.URL+"/capacity/progress")
			if resp.StatusCode != 200 || strings.Count(body, "<svg") != 2 || !strings.Contains(body, "Trainings: 1 done, target 5") {
				t.Errorf("progress: %d", resp.StatusCode)
			}
			resp, body = get(t, sec, srv.URL+"/capacity/progress/needs-by-region.csv")
			if resp.StatusCode != 200 || !strings.HasPrefix(body, export.BOM+"un_group,needs_open,needs_matched,needs_met\r\n") || !strings.Contains(body, "Asia-Pacific,0,0,1") {
				t.Errorf("CSV: %d\n%s", resp.StatusCode, body)
			}
			if resp, _ := get(t, irn, srv.URL+"/capacity/progress"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("Iran reads the progress: %d", resp.StatusCode)
			}
			if resp, _ := get(t, irn, srv.URL+"/capacity/progress/activities.csv"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("Iran takes the CSV: %d", resp.StatusCode)
			}
		})
	})
}

// capacityFixture fills capacity-building for the pages' scans: Iran's
// need shown to all, matched with France's offer and become activity 1
// under a measure of the plan; a second need with a partner's offer that
// fits it, for the Secretariat's suggestions.
func capacityFixture(t *testing.T, sys *testkit.System) {
	t.Helper()
	sec := sys.User(t, "cap-sec@un.example", app.RoleSecretariat, "")
	irn := sys.User(t, "cap-fp@irn.example", app.RoleFocalPoint, "IRN")
	fra := sys.User(t, "cap-fp@fra.example", app.RoleFocalPoint, "FRA")
	s := sys.Capacity
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.RecordNeed(irn.Ctx(), capacity.NeedInput{Kind: "training_course", Topics: []string{"poc_setup", "incident_handling"}, Level: directory.LevelTechnical,
		Languages: []string{"fa", "en"}, NeededBy: "2026-09-30", Visibility: capacity.VisibleAll,
		Details: directory.Text{Lang: "fr", Text: "Former l'équipe de garde.", English: "Train the duty team."}})
	fail(err)
	o, err := s.RecordOffer(fra.Ctx(), capacity.OfferInput{Kind: "training_course", Topics: []string{"poc_setup"}, Languages: []string{"en", "fr"},
		Format: "both", Capacity: 20, PeriodFrom: "2026-04-01", PeriodTo: "2026-12-31"})
	fail(err)
	_, err = s.RecordNeed(irn.Ctx(), capacity.NeedInput{Kind: "technology_transfer", Topics: []string{"forensics"}, TopicOther: "Malware laboratory",
		Level: directory.LevelTechnical, Languages: []string{"en"}})
	fail(err)
	_, err = s.RecordOffer(sec.Ctx(), capacity.OfferInput{Partner: "Forensics Foundation", Kind: "workshop", Topics: []string{"forensics"}, Languages: []string{"en", "ar"},
		Format: "in-person", PeriodFrom: "2026-10-01"})
	fail(err)
	p, err := s.CreatePlan(sec.Ctx(), capacity.PlanInput{Title: "Capacity-Building Action Plan on PoCs 2026–2027", PeriodFrom: "2026-01-01", PeriodTo: "2027-12-31"},
		[]capacity.MeasureInput{{Title: "Trainings for technical PoCs", Kind: "training_course", Target: 8}, {Title: "Guidelines on PoC set-up", Kind: "guidelines", Target: 1}})
	fail(err)
	m, err := s.Propose(sec.Ctx(), n.ID, o.ID)
	fail(err)
	_, err = s.Answer(irn.Ctx(), m.ID, capacity.Accept)
	fail(err)
	m, err = s.Answer(fra.Ctx(), m.ID, capacity.Accept)
	fail(err)
	_, err = s.UpdateActivity(fra.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityUnderWay, StartsOn: "2026-05-04", EndsOn: "2026-05-08",
		Participants: 12, MeasureID: p.Measures[0].ID})
	fail(err)
}
