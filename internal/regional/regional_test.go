package regional_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/regional"
	"github.com/pocdir/pocdir/internal/testkit"
)

type world struct {
	sys                *testkit.System
	sec, fpFRA, offFRA *testkit.User
	fpDEU              *testkit.User
	certFRA, mfaFRA    *directory.PoC
	certDEU            *directory.PoC
}

func newWorld(t *testing.T, e testkit.Engine) *world {
	sys := testkit.New(t, e)
	w := &world{sys: sys,
		sec:    sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
		fpFRA:  sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		offFRA: sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		fpDEU:  sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU"),
	}
	poc := func(u *testkit.User, agency, email string, level directory.Level, refs ...directory.RegionalRef) *directory.PoC {
		in := testkit.ValidPoC()
		in.Agency, in.Level, in.RegionalRefs = agency, level, refs
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: email, Preferred: true}}
		return sys.AddPoC(t, u.Ctx(), u.State, in)
	}
	w.certFRA = poc(w.fpFRA, "ANSSI", "cert@fra.example", directory.LevelTechnical)
	w.mfaFRA = poc(w.fpFRA, "Ministry of Europe and Foreign Affairs", "cyber@diplo.fra.example", directory.LevelDiplomatic, directory.RegionalRef{Body: "OSCE", Ref: "FR-7"})
	w.certDEU = poc(w.fpDEU, "BSI", "cert@deu.example", directory.LevelTechnical)
	return w
}

// osce is the OSCE's list: France's CERT under another address but the
// same agency, France's diplomat by the reference it gives, Germany's CERT
// by its address, and Germany's police whom pocdir does not know.
const osce = "\ufeffbody,state,ref,agency,function,level,channels\r\n" +
	"OSCE,FRA,FR-1,A.N.S.S.I.,Duty officer,technical,email:soc@fra.example;phone:+33 1 71 75 84 68\r\n" +
	"OSCE,FRA,FR-7,MEAE,Cyber ambassador,diplomatic,email:amb@fra.example\r\n" +
	"OSCE,DEU,DE-1,BSI,CERT-Bund,technical,email:CERT@deu.example\r\n" +
	"OSCE,DEU,DE-2,Bundeskriminalamt,Cybercrime,technical,email:cc@bka.deu.example\r\n"

func run(t *testing.T, w *world) {
	t.Helper()
	for {
		n, err := w.sys.Regional.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func TestImportMatchAndReview(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s := w.sys.Regional
		imp, err := s.Import(w.sec.Ctx(), []byte(osce))
		if err != nil {
			t.Fatal(err)
		}
		if imp.Body != "OSCE" || imp.Total != 4 || imp.Added != 4 || imp.Done != 0 || imp.FinishedAt != nil {
			t.Fatalf("import %+v", imp)
		}
		run(t, w)
		if imp, err = s.ImportProgress(w.sec.Ctx(), imp.ID); err != nil || imp.Done != 4 || imp.FinishedAt == nil {
			t.Fatalf("progress %+v %v", imp, err)
		}
		all, err := s.Contacts(w.sec.Ctx(), "OSCE", "")
		if err != nil || len(all) != 4 {
			t.Fatalf("%d contacts, %v", len(all), err)
		}
		got := map[string]string{}
		var ref1, ref2, police int64
		for _, c := range all {
			poc := int64(0)
			if c.PoCID != nil {
				poc = *c.PoCID
			}
			got[c.Ref] = c.Status + "/" + c.Reason + "/" + itoa(poc)
			switch c.Ref {
			case "FR-1":
				ref1 = c.ID
			case "DE-1":
				ref2 = c.ID
			case "DE-2":
				police = c.ID
			}
		}
		want := map[string]string{
			"FR-1": "suggested/agency/" + itoa(w.certFRA.ID),
			"FR-7": "suggested/reference/" + itoa(w.mfaFRA.ID),
			"DE-1": "suggested/email/" + itoa(w.certDEU.ID),
			"DE-2": "unmatched//0",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s, want %s", k, got[k], v)
			}
		}
		t.Run("a State's users see their State's contacts only", func(t *testing.T) {
			list, err := s.Contacts(w.offFRA.Ctx(), "", "")
			if err != nil || len(list) != 2 || list[0].State != "FRA" || list[1].State != "FRA" {
				t.Errorf("France sees %d contacts: %v", len(list), err)
			}
			if _, err := s.Contacts(w.offFRA.Ctx(), "", "DEU"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("France asked for Germany's: %v", err)
			}
			if _, err := s.Contact(w.fpFRA.Ctx(), ref2); app.ErrorCode(err) != app.NotFound {
				t.Errorf("France opened Germany's contact: %v", err)
			}
			if _, err := s.ImportProgress(w.fpFRA.Ctx(), imp.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("France followed the import: %v", err)
			}
		})
		t.Run("only the Secretariat and the State's focal point review a match", func(t *testing.T) {
			for _, u := range []*testkit.User{w.offFRA, w.fpDEU} {
				if _, err := s.Review(u.Ctx(), ref1, true); app.ErrorCode(err) != app.Forbidden && app.ErrorCode(err) != app.NotFound {
					t.Errorf("%s reviewed France's match: %v", u.Email, err)
				}
			}
			if c, err := s.Review(w.fpFRA.Ctx(), ref1, true); err != nil || c.Status != regional.StatusConfirmed {
				t.Fatalf("France's focal point: %v", err)
			}
			if _, err := s.Review(w.sec.Ctx(), ref2, true); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Review(w.sec.Ctx(), police, true); app.ErrorCode(err) != app.Conflict {
				t.Errorf("confirmed a contact that matches nothing: %v", err)
			}
			by, err := s.ForPoCs(w.offFRA.Ctx(), "FRA")
			if err != nil || len(by[w.certFRA.ID]) != 1 || by[w.certFRA.ID][0].Body != "OSCE" {
				t.Errorf("France's CERT stands in %v, %v", by, err)
			}
			// Germany sees where France's CERT stands, not the contact.
			by, err = s.ForPoCs(w.fpDEU.Ctx(), "FRA")
			if err != nil || len(by[w.certFRA.ID]) != 1 || by[w.certFRA.ID][0].Agency != "" || by[w.certFRA.ID][0].ID != 0 {
				t.Errorf("Germany sees %+v, %v", by[w.certFRA.ID], err)
			}
		})
		t.Run("a new file keeps reviewed matches, updates, and removes who left", func(t *testing.T) {
			next := strings.Replace(osce, "Duty officer", "Head of CERT-FR", 1)
			next = next[:strings.Index(next, "OSCE,DEU,DE-2")] + "OSCE,DEU,DE-3,BKA,Cybercrime,technical,email:cc2@bka.deu.example\r\n"
			imp2, err := s.Import(w.sec.Ctx(), []byte(next))
			if err != nil {
				t.Fatal(err)
			}
			if imp2.Added != 1 || imp2.Updated != 3 || imp2.Removed != 1 || imp2.Done != 2 {
				t.Errorf("second import %+v", imp2)
			}
			run(t, w)
			c, err := s.Contact(w.sec.Ctx(), ref1)
			if err != nil || c.Status != regional.StatusConfirmed || c.Function != "Head of CERT-FR" {
				t.Errorf("France's CERT after the new file: %+v %v", c, err)
			}
			if _, err := s.Contact(w.sec.Ctx(), police); app.ErrorCode(err) != app.NotFound {
				t.Errorf("the contact who left is still there: %v", err)
			}
		})
		t.Run("a focal point nominates from a contact, pre-filled", func(t *testing.T) {
			list, _ := s.Contacts(w.fpDEU.Ctx(), "", "DEU")
			var bka *regional.Contact
			for _, c := range list {
				if c.Ref == "DE-3" {
					bka = c
				}
			}
			in, err := s.Nomination(w.fpDEU.Ctx(), bka.ID)
			if err != nil || in.Agency != "BKA" || len(in.RegionalRefs) != 1 || in.RegionalRefs[0].Ref != "DE-3" || in.Channels[0].Value != "cc2@bka.deu.example" {
				t.Fatalf("%+v %v", in, err)
			}
			if _, err := s.Nomination(w.fpFRA.Ctx(), bka.ID); err == nil {
				t.Error("France's focal point nominated for Germany")
			}
			// Completed and validated as every nomination, the PoC is then
			// matched by its reference.
			in.TimeZone, in.Available247, in.Languages = "Europe/Berlin", true, []string{"de", "en"}
			w.sys.AddPoC(t, w.fpDEU.Ctx(), "DEU", in)
			if n, err := s.Rematch(w.sec.Ctx(), "OSCE"); err != nil || n != 1 {
				t.Fatalf("rematch %d %v", n, err)
			}
			run(t, w)
			c, _ := s.Contact(w.sec.Ctx(), bka.ID)
			if c.Status != regional.StatusSuggested || c.Reason != regional.ByEmail {
				t.Errorf("after the nomination: %s by %s", c.Status, c.Reason)
			}
		})
		t.Run("the body's PoCs go back in the same form", func(t *testing.T) {
			if _, err := s.Export(w.fpFRA.Ctx(), "OSCE"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("a focal point exported: %v", err)
			}
			rows, err := s.Export(w.sec.Ctx(), "OSCE")
			if err != nil {
				t.Fatal(err)
			}
			refs := map[string]string{}
			for _, r := range rows {
				refs[r.Agency] = r.Ref
			}
			if refs["ANSSI"] != "FR-1" || refs["Ministry of Europe and Foreign Affairs"] != "FR-7" || refs["BSI"] != "DE-1" {
				t.Errorf("exported refs %v", refs)
			}
		})
	})
}

func TestBrokenFilesChangeNothing(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	for _, c := range []struct {
		name, file string
		lines      []string
	}{
		{"rows with a bad State, level, address and a missing agency", "body,state,ref,agency,function,level,channels\n" +
			"OSCE,FRA,1,ANSSI,,technical,email:a@fra.example\n" +
			"OSCE,XXX,2,Agency,,technical,email:b@fra.example\n" +
			"OSCE,FRA,3,Agency,,general,email:c@fra.example\n" +
			"OSCE,FRA,4,Agency,,technical,email:not-an-address\n" +
			"OSCE,FRA,5,,,technical,email:d@fra.example\n",
			[]string{"line 3", "line 4", "line 5", "line 6"}},
		{"two bodies in one file", "body,state,ref,agency,function,level,channels\nOSCE,FRA,1,A,,technical,email:a@fra.example\nARF,FRA,2,B,,technical,email:b@fra.example\n", []string{"line 3"}},
		{"the same contact twice", "body,state,ref,agency,function,level,channels\nOSCE,FRA,1,A,,technical,email:a@fra.example\nOSCE,FRA,1,B,,technical,email:b@fra.example\n", []string{"line 3"}},
		{"a header without channels", "body,state,agency,level\nOSCE,FRA,A,technical\n", []string{"line 1"}},
		{"a channel without its kind", "body,state,ref,agency,function,level,channels\nOSCE,FRA,1,A,,technical,a@fra.example\n", []string{"line 2", "line 2"}},
		{"a JSON row with an unknown field", `[{"body":"OSCE","state":"FRA","agency":"A","level":"technical","channels":[],"x":1}]`, []string{""}},
		{"an empty file", "", []string{"line 1"}},
	} {
		t.Run(c.name+" is refused, row by row", func(t *testing.T) {
			_, err := w.sys.Regional.Import(w.sec.Ctx(), []byte(c.file))
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Code != app.Invalid {
				t.Fatalf("got %v", err)
			}
			var msgs []string
			for _, f := range ae.Fields {
				msgs = append(msgs, f.Message)
			}
			if len(ae.Fields) == 0 {
				msgs = append(msgs, ae.Message)
			}
			if len(msgs) != len(c.lines) {
				t.Errorf("problems %q, want %d", msgs, len(c.lines))
			}
			for i, l := range c.lines {
				if i < len(msgs) && (l == "" && strings.HasPrefix(msgs[i], "line") || l != "" && !strings.HasPrefix(msgs[i], l+":")) {
					t.Errorf("problem %d is %q, want one on %s", i, msgs[i], l)
				}
			}
		})
	}
	if list, err := w.sys.Regional.Contacts(w.sec.Ctx(), "", ""); err != nil || len(list) != 0 {
		t.Errorf("a refused file left %d contacts: %v", len(list), err)
	}
	t.Run("only the Secretariat imports", func(t *testing.T) {
		if _, err := w.sys.Regional.Import(w.fpFRA.Ctx(), []byte(osce)); app.ErrorCode(err) != app.Forbidden {
			t.Errorf("a focal point imported: %v", err)
		}
	})
	t.Run("a JSON file is read as the CSV is", func(t *testing.T) {
		imp, err := w.sys.Regional.Import(w.sec.Ctx(), []byte(`[{"body":"ARF","state":"FRA","ref":"9","agency":"ANSSI","level":"technical","channels":[{"kind":"email","value":"cert@fra.example","preferred":true}]}]`))
		if err != nil || imp.Total != 1 {
			t.Fatalf("%+v %v", imp, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(osce))
	f.Add([]byte(`[{"body":"ARF","state":"FRA","agency":"A","level":"technical","channels":[{"kind":"email","value":"a@b.example"}]}]`))
	f.Add([]byte("body,state,agency,level,channels\n\"OSCE,FRA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, problems := regional.Parse(data)
		if len(rows) > 0 && len(problems) > 0 {
			t.Fatal("rows and problems at once")
		}
		for _, r := range rows {
			if !directory.KnownState(r.State) || !r.Level.Valid() || len(r.Channels) == 0 {
				t.Fatalf("a row that should have been refused: %+v", r)
			}
			// What pocdir writes back, it reads again.
			if _, bad := regional.ParseChannels(regional.FormatChannels(r.Channels)); bad != "" {
				t.Fatalf("channels %v do not read back: %s", r.Channels, bad)
			}
		}
	})
}

func itoa(n int64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
