package web_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCriticalInfrastructureLists follows Kenya's focal point publishing
// its list on the form, France reading and comparing it, and a
// communication naming Kenya's own sector.
func TestCriticalInfrastructureLists(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
	fp := sys.Login(t, srv, fpKEN)
	fra := sys.Login(t, srv, offFRA)

	t.Run("the focal point's form refuses a list without a sector and keeps what was typed", func(t *testing.T) {
		resp := testkit.PostForm(t, fp, srv.URL+"/states/KEN/cii/edit", url.Values{"lang": {"fr"}, "version": {"0"},
			"own_name.0": {"Argent mobile"}, "criteria": {"Plus d'un million de personnes"}})
		b := readBody(t, resp)
		if resp.StatusCode == http.StatusSeeOther || !strings.Contains(b, "Argent mobile") {
			t.Fatalf("status %d", resp.StatusCode)
		}
		// The French name needs its English beside it, and the criteria too.
		for _, id := range []string{`id="f-own_name_en.0" name="own_name_en.0" lang="en" dir="ltr" maxlength="200" value="" aria-invalid="true"`, `id="f-criteria_en" name="criteria_en" rows="5" lang="en" dir="ltr" maxlength="4000" aria-invalid="true"`} {
			if !strings.Contains(b, id) {
				t.Errorf("no error marked on %s", id)
			}
		}
	})
	t.Run("the focal point publishes the list", func(t *testing.T) {
		resp := testkit.PostForm(t, fp, srv.URL+"/states/KEN/cii/edit", url.Values{"lang": {"fr"}, "version": {"0"},
			"sector": {"energy", "finance"}, "note.energy": {"Réseau national"}, "note_en.energy": {"National grid"},
			"own_name.0": {"Argent mobile"}, "own_name_en.0": {"Mobile money"}, "own_name.1": {""}, "own_name.2": {""},
			"criteria": {"Plus d'un million de personnes"}, "criteria_en": {"Over a million people"}, "effective_date": {"2026-01-15"}})
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/states/KEN/cii" {
			t.Fatalf("status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		l, err := sys.CII.Current(fpKEN.Ctx(), "KEN")
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Sectors) != 3 || l.Sectors[2].Key != "own-1" || l.Sectors[0].Note.English != "National grid" || l.EffectiveDate != "2026-01-15" {
			t.Errorf("published %+v", l)
		}
	})
	t.Run("France reads it without who published it, and compares it", func(t *testing.T) {
		resp, b := get(t, fra, srv.URL+"/states/KEN/cii")
		if resp.StatusCode != 200 || !strings.Contains(b, "Mobile money") || !strings.Contains(b, "Banking and finance") || !strings.Contains(b, "Over a million people") {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if strings.Contains(b, "fp@ken.example") || strings.Contains(b, "/states/KEN/cii/edit") {
			t.Error("France sees who published Kenya's list, or a way to publish it")
		}
		_, b = get(t, fra, srv.URL+"/cii")
		if !strings.Contains(b, `<a href="/states/KEN/cii">Kenya</a>`) || !strings.Contains(b, "<svg") {
			t.Errorf("the comparison lacks Kenya or its picture")
		}
		resp, b = get(t, fra, srv.URL+"/cii.csv")
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b, "\ufeff"))).ReadAll()
		if err != nil || resp.StatusCode != 200 || len(rows) != 2 {
			t.Fatalf("CSV %d: %v %q", resp.StatusCode, err, b)
		}
		head, ken := rows[0], rows[1]
		col := func(name string) string {
			for i, h := range head {
				if h == name {
					return ken[i]
				}
			}
			return "?"
		}
		if col("state") != "KEN" || col("energy") != "1" || col("water") != "0" || col("own_sectors") != "Argent mobile (Mobile money)" {
			t.Errorf("CSV row %v", ken)
		}
	})
	t.Run("nobody but the focal point reaches the form", func(t *testing.T) {
		for _, u := range []*testkit.User{offKEN, offFRA, sec} {
			c := sys.Login(t, srv, u)
			if resp, _ := get(t, c, srv.URL+"/states/KEN/cii/edit"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s opens the form: %d", u.Email, resp.StatusCode)
			}
			resp := testkit.PostForm(t, c, srv.URL+"/states/KEN/cii/edit", url.Values{"sector": {"water"}, "version": {"1"}})
			readBody(t, resp)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s posts the form: %d", u.Email, resp.StatusCode)
			}
		}
		if l, _ := sys.CII.Current(fpKEN.Ctx(), "KEN"); l.Version != 1 {
			t.Errorf("the list changed: version %d", l.Version)
		}
	})
	t.Run("writing to Kenya offers its own sectors, and the communication names one", func(t *testing.T) {
		_, b := get(t, fra, srv.URL+"/comms/new?template=notification&to=KEN")
		if !strings.Contains(b, `<optgroup label="Own sectors of Kenya">`) || !strings.Contains(b, `value="KEN:own-1"`) {
			t.Fatalf("the sector field does not offer Kenya's own sectors")
		}
		n, err := sys.Comms.Compose(offFRA.Ctx(), notification("KEN:own-1"))
		if err != nil {
			t.Fatal(err)
		}
		ken := sys.Login(t, srv, offKEN)
		_, b = get(t, ken, srv.URL+"/comms/"+strconv.FormatInt(n.ID, 10))
		if !strings.Contains(b, "Argent mobile / Mobile money (own sector in the list of Kenya)") {
			t.Errorf("the communication does not name Kenya's own sector")
		}
		e, err := sys.Comms.Compose(offFRA.Ctx(), notification("energy"))
		if err != nil {
			t.Fatal(err)
		}
		_, b = get(t, ken, srv.URL+"/comms/"+strconv.FormatInt(e.ID, 10))
		if !strings.Contains(b, "on your State&#39;s list of critical information infrastructure") {
			t.Errorf("a sector on Kenya's list is not marked as such for Kenya")
		}
		_, b = get(t, fra, srv.URL+"/comms/"+strconv.FormatInt(e.ID, 10))
		if strings.Contains(b, "on your State&#39;s list") {
			t.Errorf("France, which has no list, reads that the sector is on its list")
		}
	})
	t.Run("a sector of a State that is not a recipient, or that its list lacks, is refused", func(t *testing.T) {
		for _, v := range []string{"KEN:own-2", "FRA:own-1", "DEU:own-1"} {
			in := notification(v)
			if _, err := sys.Comms.Compose(offKEN.Ctx(), withTo(in, "DEU")); app.ErrorCode(err) != app.Invalid {
				t.Errorf("%s from Kenya to Germany: %v", v, err)
			}
		}
		if _, err := sys.Comms.Compose(offFRA.Ctx(), notification("KEN:own-2")); app.ErrorCode(err) != app.Invalid {
			t.Error("a sector Kenya's list lacks was accepted")
		}
	})
}

// notification is France's notification to Kenya naming the sector.
func notification(sector string) comms.CommInput {
	return comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Intrusion", "urgency": "high", "tlp": comms.TLPAmber, "description": "Seen.", "sector": sector}}
}

func withTo(in comms.CommInput, to ...string) comms.CommInput {
	in.ToStates = to
	return in
}
