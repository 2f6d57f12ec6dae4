package directory_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestReferenceStates(t *testing.T) {
	states, err := directory.ReferenceStates()
	if err != nil {
		t.Fatal(err)
	}
	members, observers := 0, 0
	codes := map[string]bool{}
	for _, s := range states {
		if codes[s.Code] {
			t.Errorf("duplicate code %s", s.Code)
		}
		codes[s.Code] = true
		if len(s.Code) != 3 || strings.ToUpper(s.Code) != s.Code || len(s.ISO2) != 2 || len(s.M49) != 3 {
			t.Errorf("bad codes in %+v", s)
		}
		switch s.Status {
		case "member":
			members++
		case "observer":
			observers++
		default:
			t.Errorf("%s: status %q", s.Code, s.Status)
		}
		known := false
		for _, g := range directory.Groups {
			known = known || g == s.Group
		}
		if !known {
			t.Errorf("%s: unknown group %q", s.Code, s.Group)
		}
		for _, b := range s.Bodies {
			found := false
			for _, k := range directory.Bodies {
				found = found || k == b
			}
			if !found {
				t.Errorf("%s: unknown body %q", s.Code, b)
			}
		}
	}
	if members != 193 || observers != 2 {
		t.Errorf("got %d members and %d observers, want 193 and 2", members, observers)
	}
	for _, c := range []string{"FRA", "CHN", "RUS", "USA", "GBR", "IRN", "PSE", "VAT"} {
		if !codes[c] {
			t.Errorf("missing %s", c)
		}
	}
}

type fixture struct {
	sys                       *testkit.System
	fpFRA, fpKEN, offFRA, sec *testkit.User
}

func newFixture(t *testing.T, e testkit.Engine, opts ...testkit.Option) *fixture {
	s := testkit.New(t, e, opts...)
	return &fixture{sys: s,
		fpFRA:  s.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		fpKEN:  s.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		offFRA: s.User(t, "officer@fra.example", app.RoleOfficer, "FRA"),
		sec:    s.User(t, "sec@un.example", app.RoleSecretariat, ""),
	}
}

func TestPoCLifecycle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		ctx := f.fpFRA.Ctx()
		in := testkit.ValidPoC()
		in.Notes = directory.Text{Lang: "fr", Text: "Joignable en français", English: "Reachable in French"}
		in.RegionalRefs = []directory.RegionalRef{{Body: "OSCE", Ref: "OSCE-FR-01"}}
		p := f.sys.AddPoC(t, ctx, "fra", in)
		if p.ID == 0 || p.State != "FRA" || p.Version != 1 {
			t.Fatalf("created %+v", p)
		}
		t.Run("the new PoC shows in the State's entry for every user", func(t *testing.T) {
			for _, u := range []*testkit.User{f.fpKEN, f.offFRA, f.sec} {
				got, err := dir.Get(u.Ctx(), "FRA")
				if err != nil {
					t.Fatal(err)
				}
				if len(got.PoCs) != 1 || got.PoCs[0].Agency != "National CERT" || got.PoCs[0].Notes.English != "Reachable in French" {
					t.Errorf("as %s got %+v", u.Email, got.PoCs)
				}
			}
		})
		t.Run("languages are stored in canonical BCP 47 form", func(t *testing.T) {
			in2 := testkit.ValidPoC()
			in2.Languages = []string{"ZH-hans", "en-gb", "en-GB"}
			p2 := f.sys.AddPoC(t, ctx, "FRA", in2)
			if got := strings.Join(p2.Languages, ","); got != "zh-Hans,en-GB" {
				t.Errorf("got %s", got)
			}
			f.sys.RemovePoC(t, ctx, p2.ID, "")
		})
		f.sys.Clock.Advance(time.Hour)
		upd := in
		upd.Agency = "ANSSI"
		upd.EffectiveDate = "2026-02-20"
		upd.Version = 1
		p2 := f.sys.ChangePoC(t, ctx, p.ID, upd)
		if p2.Version != 2 || p2.Agency != "ANSSI" {
			t.Errorf("updated %+v", p2)
		}
		t.Run("an edit from a stale version is refused and loses nothing", func(t *testing.T) {
			stale := in
			stale.Agency = "Stale edit"
			stale.Version = 1
			_, err := dir.ProposePoCUpdate(ctx, p.ID, stale)
			if app.ErrorCode(err) != app.Conflict {
				t.Fatalf("got %v, want conflict", err)
			}
			got, _ := dir.GetPoC(ctx, p.ID)
			if got.Agency != "ANSSI" {
				t.Errorf("agency %q", got.Agency)
			}
		})
		t.Run("the history says who changed what, when, and when it took effect", func(t *testing.T) {
			h, err := dir.History(f.offFRA.Ctx(), "FRA")
			if err != nil {
				t.Fatal(err)
			}
			if len(h) < 2 {
				t.Fatalf("history %+v", h)
			}
			last := h[0]
			if last.Action != "poc.update" || last.ActorEmail != "fp@fra.example" || last.EffectiveDate != "2026-02-20" || !last.ChangedAt.Equal(f.sys.Clock.Now()) {
				t.Errorf("last change %+v", last)
			}
			if len(last.Diff) != 1 || last.Diff[0] != (directory.FieldChange{Field: "agency", Old: "National CERT", New: "ANSSI"}) {
				t.Errorf("diff %+v", last.Diff)
			}
		})
		t.Run("removing keeps the PoC in the history but not in the entry", func(t *testing.T) {
			f.sys.RemovePoC(t, ctx, p.ID, "")
			got, _ := dir.Get(ctx, "FRA")
			if len(got.PoCs) != 0 {
				t.Errorf("still listed: %+v", got.PoCs)
			}
			if _, err := dir.GetPoC(ctx, p.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("get removed: %v", err)
			}
			h, _ := dir.History(ctx, "FRA")
			if h[0].Action != "poc.remove" || h[0].PoCID != p.ID {
				t.Errorf("history %+v", h[0])
			}
		})
	})
}

func TestAuthorization(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		p := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		readOnly := f.fpFRA.Actor()
		readOnly.ReadOnly = true
		cases := []struct {
			name string
			ctx  context.Context
			want app.Code
		}{
			{"nobody signed in", context.Background(), app.Unauthorized},
			{"a focal point of another State", f.fpKEN.Ctx(), app.Forbidden},
			{"an officer of the State", f.offFRA.Ctx(), app.Forbidden},
			{"the Secretariat without the State's written request", f.sec.Ctx(), app.Invalid},
			{"a read-only token of the State's focal point", app.WithActor(context.Background(), readOnly), app.Forbidden},
		}
		for _, c := range cases {
			t.Run(c.name+" cannot change the entry of FRA", func(t *testing.T) {
				if _, err := dir.ProposePoC(c.ctx, "FRA", testkit.ValidPoC()); app.ErrorCode(err) != c.want {
					t.Errorf("create: got %v, want %s", err, c.want)
				}
				in := testkit.ValidPoC()
				in.Agency, in.Version = "Hijacked", p.Version
				if _, err := dir.ProposePoCUpdate(c.ctx, p.ID, in); app.ErrorCode(err) != c.want {
					t.Errorf("update: got %v, want %s", err, c.want)
				}
				if _, err := dir.ProposePoCRemoval(c.ctx, p.ID, directory.RemovalInput{Version: p.Version}); app.ErrorCode(err) != c.want {
					t.Errorf("remove: got %v, want %s", err, c.want)
				}
				if _, err := dir.ProposeEntryUpdate(c.ctx, "FRA", directory.EntryInput{InitiateVia: "Hijacked", Version: 1}); app.ErrorCode(err) != c.want {
					t.Errorf("entry: got %v, want %s", err, c.want)
				}
			})
		}
		got, err := dir.Get(f.fpFRA.Ctx(), "FRA")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.PoCs) != 1 || got.PoCs[0].Agency != "National CERT" || got.InitiateVia != "" {
			t.Errorf("entry changed by a refused actor: %+v", got)
		}
		h, _ := dir.History(f.fpFRA.Ctx(), "FRA")
		if len(h) != 1 {
			t.Errorf("history has %d changes, want 1", len(h))
		}
		if n, err := dir.Nominations(f.sec.Ctx(), directory.NominationFilter{State: "FRA", Open: true}, app.Cursor{}, 0); err != nil || len(n.List) != 0 {
			t.Errorf("a refused actor left nominations: %+v %v", n, err)
		}
		t.Run("nobody signed in cannot read the directory", func(t *testing.T) {
			if _, err := dir.List(context.Background(), directory.Filter{}); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("list: %v", err)
			}
			if _, err := dir.Get(context.Background(), "FRA"); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("get: %v", err)
			}
		})
	})
}

func TestValidation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		cases := []struct {
			name  string
			edit  func(in *directory.PoCInput)
			field string
		}{
			{"an unknown level", func(in *directory.PoCInput) { in.Level = "military" }, "level"},
			{"no agency", func(in *directory.PoCInput) { in.Agency = "  " }, "agency"},
			{"an agency over 200 characters", func(in *directory.PoCInput) { in.Agency = strings.Repeat("a", 201) }, "agency"},
			{"no channel", func(in *directory.PoCInput) { in.Channels = nil }, "channels"},
			{"an invalid email", func(in *directory.PoCInput) { in.Channels[0].Value = "cert at example.org" }, "channels.0"},
			{"an email with a display name", func(in *directory.PoCInput) { in.Channels[0].Value = "CERT <cert@example.org>" }, "channels.0"},
			{"a phone without country code", func(in *directory.PoCInput) { in.Channels[1].Value = "022 917 1234" }, "channels.1"},
			{"a phone with letters", func(in *directory.PoCInput) { in.Channels[1].Value = "+41 CALL CERT" }, "channels.1"},
			{"an unknown channel kind", func(in *directory.PoCInput) { in.Channels[0].Kind = "pigeon" }, "channels.0"},
			{"an invalid time zone", func(in *directory.PoCInput) { in.TimeZone = "Mars/Olympus" }, "time_zone"},
			{"the Local time zone", func(in *directory.PoCInput) { in.TimeZone = "Local" }, "time_zone"},
			{"an invalid language tag", func(in *directory.PoCInput) { in.Languages = []string{"english!"} }, "languages"},
			{"no language", func(in *directory.PoCInput) { in.Languages = nil }, "languages"},
			{"neither working hours nor 24/7", func(in *directory.PoCInput) { in.Available247 = false; in.WorkingHours = "" }, "hours"},
			{"hours that do not read", func(in *directory.PoCInput) { in.Available247 = false; in.Hours = "Monday to Friday, 9 to 5" }, "hours"},
			{"notes in French without English", func(in *directory.PoCInput) { in.Notes = directory.Text{Lang: "fr", Text: "Bonjour"} }, "notes_en"},
			{"notes in a language that is not a UN language", func(in *directory.PoCInput) { in.Notes = directory.Text{Lang: "de", Text: "Hallo", English: "Hello"} }, "notes_lang"},
			{"notes over 4000 characters", func(in *directory.PoCInput) { in.Notes = directory.Text{Lang: "en", Text: strings.Repeat("x", 4001)} }, "notes"},
			{"an unknown regional body", func(in *directory.PoCInput) { in.RegionalRefs = []directory.RegionalRef{{Body: "NATO", Ref: "1"}} }, "regional_refs.0"},
			{"garbage as an OpenPGP key", func(in *directory.PoCInput) { in.PGPKey = "not a key" }, "openpgp_key"},
			{"an armored block that is not a key", func(in *directory.PoCInput) {
				in.PGPKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----"
			}, "openpgp_key"},
			{"a private key", func(in *directory.PoCInput) {
				in.PGPKey = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----"
			}, "openpgp_key"},
			{"an effective date far in the future", func(in *directory.PoCInput) { in.EffectiveDate = "2030-01-01" }, "effective_date"},
			{"an effective date that is not a date", func(in *directory.PoCInput) { in.EffectiveDate = "yesterday" }, "effective_date"},
			{"a NUL character", func(in *directory.PoCInput) { in.FunctionTitle = "a\x00b" }, "function_title"},
		}
		for _, c := range cases {
			t.Run(c.name+" is refused with the field named", func(t *testing.T) {
				in := testkit.ValidPoC()
				c.edit(&in)
				_, err := f.sys.Directory.ProposePoC(f.fpFRA.Ctx(), "FRA", in)
				e := app.AsError(err)
				if e.Code != app.Invalid {
					t.Fatalf("got %v, want invalid", err)
				}
				found := false
				for _, fe := range e.Fields {
					found = found || fe.Field == c.field
				}
				if !found {
					t.Errorf("fields %+v do not name %s", e.Fields, c.field)
				}
			})
		}
		got, _ := f.sys.Directory.Get(f.fpFRA.Ctx(), "FRA")
		if len(got.PoCs) != 0 {
			t.Errorf("invalid input was stored: %+v", got.PoCs)
		}
		t.Run("an unknown State is not found", func(t *testing.T) {
			_, err := f.sys.Directory.ProposePoC(f.fpFRA.Ctx(), "XXX", testkit.ValidPoC())
			if app.ErrorCode(err) != app.NotFound {
				t.Errorf("got %v", err)
			}
		})
	})
}

func TestFilters(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0])
	dir := f.sys.Directory
	fra := testkit.ValidPoC()
	f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", fra)
	ken := testkit.ValidPoC()
	ken.Level = directory.LevelDiplomatic
	ken.Available247 = false
	ken.WorkingHours = "Mon-Fri 8-17"
	ken.Languages = []string{"sw", "en"}
	ken.Agency = "Ministry of Foreign Affairs"
	f.sys.AddPoC(t, f.fpKEN.Ctx(), "KEN", ken)
	codes := func(fl directory.Filter) string {
		list, err := dir.List(f.offFRA.Ctx(), fl)
		if err != nil {
			t.Fatal(err)
		}
		var c []string
		for _, s := range list {
			if s.PoCCount > 0 || fl.Query != "" || fl.Group != "" || fl.Body != "" {
				c = append(c, s.Code)
			}
		}
		if len(c) > 5 {
			return "many"
		}
		return strings.Join(c, ",")
	}
	cases := []struct {
		name string
		f    directory.Filter
		want string
	}{
		{"search by name", directory.Filter{Query: "kenya"}, "KEN"},
		{"search by code", directory.Filter{Query: "fra"}, "FRA"},
		{"search by agency", directory.Filter{Query: "ministry of foreign"}, "KEN"},
		{"by technical level", directory.Filter{Level: directory.LevelTechnical}, "FRA"},
		{"by diplomatic level", directory.Filter{Level: directory.LevelDiplomatic}, "KEN"},
		{"by language", directory.Filter{Language: "sw"}, "KEN"},
		{"by 24/7", directory.Filter{Only247: true}, "FRA"},
		{"by language and 24/7 on the same PoC", directory.Filter{Only247: true, Language: "sw"}, ""},
		{"by regional body and search", directory.Filter{Body: "AU", Query: "ken"}, "KEN"},
		{"by UN group", directory.Filter{Group: "African", Query: "kenya"}, "KEN"},
		{"by another UN group", directory.Filter{Group: "Asia-Pacific", Query: "kenya"}, ""},
	}
	for _, c := range cases {
		t.Run("filtering "+c.name, func(t *testing.T) {
			if got := codes(c.f); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	t.Run("the unfiltered list has all 195 States", func(t *testing.T) {
		list, _ := dir.List(f.offFRA.Ctx(), directory.Filter{})
		if len(list) != 195 {
			t.Errorf("got %d", len(list))
		}
	})
}

func TestEntryUpdate(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		st := f.sys.ChangeEntry(t, f.fpFRA.Ctx(), "FRA", directory.EntryInput{InitiateVia: "Through the technical PoC", Version: 1,
			Notes: directory.Text{Lang: "ar", Text: "ملاحظة", English: "A note"}})
		if st.Version != 2 || st.InitiateVia != "Through the technical PoC" || st.Notes.Lang != "ar" {
			t.Errorf("got %+v", st)
		}
		if _, err := dir.ProposeEntryUpdate(f.fpFRA.Ctx(), "FRA", directory.EntryInput{InitiateVia: "x", Version: 1}); app.ErrorCode(err) != app.Conflict {
			t.Errorf("stale entry edit: %v", err)
		}
		got, _ := dir.Get(f.fpKEN.Ctx(), "FRA")
		if got.InitiateVia != "Through the technical PoC" {
			t.Errorf("other State sees %q", got.InitiateVia)
		}
	})
}

func TestReissuedKeyIsStored(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0])
	k, err := crypto.PGP().KeyGeneration().AddUserId("CERT", "cert@example.org").
		GenerationTime(f.sys.Clock.Now().Unix()).Lifetime(int32((400 * 24 * time.Hour) / time.Second)).New().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := k.GetArmoredPublicKey()
	again, _ := k.GetArmoredPublicKeyWithCustomHeaders("re-issued", "pocdir test")
	if first == again {
		t.Fatal("the test needs two armorings that differ")
	}
	in := testkit.ValidPoC()
	in.PGPKey = first
	p := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
	if p.PGPExpiresAt == nil || p.PGPFingerprint == "" {
		t.Fatalf("key not parsed: %+v", p)
	}
	in.PGPKey, in.Version = again, p.Version
	p2 := f.sys.ChangePoC(t, f.fpFRA.Ctx(), p.ID, in)
	if p2.Version != p.Version+1 || p2.PGPKey != strings.TrimSpace(again) {
		t.Errorf("the re-issued key with the same fingerprint was not stored: version %d", p2.Version)
	}
	h, _ := f.sys.Directory.History(f.fpFRA.Ctx(), "FRA")
	if len(h[0].Diff) != 1 || h[0].Diff[0].Field != "openpgp_key" {
		t.Errorf("history %+v", h[0].Diff)
	}
}

func TestLinksCannotCarryURLSyntax(t *testing.T) {
	for _, bad := range []string{"cert%40gov.fr?bcc=spy%40evil.org&a=@x.org", "a?b@x.org", "a/b@x.org", "a#b@x.org"} {
		if app.ValidEmail(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	for in, want := range map[string]string{"+41 22 917 1234": "tel:+41229171234", "+41 (22) 917-1234 ext. 12": "tel:+41229171234;ext=12"} {
		if got := directory.TelURI(in); got != want {
			t.Errorf("TelURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHistoryPages: a State's history comes a page at a time, every change
// once in either direction, newest first, and only that State's.
func TestHistoryPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		for i := range 5 {
			in := testkit.ValidPoC()
			in.Agency = fmt.Sprintf("Agency %d", i)
			f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
			if i%2 == 0 {
				f.sys.AddPoC(t, f.fpKEN.Ctx(), "KEN", testkit.ValidPoC())
			}
		}
		all, err := dir.History(f.offFRA.Ctx(), "FRA")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 5 {
			t.Fatalf("France's history holds %d changes", len(all))
		}
		ids := func(list []*directory.Change) []int64 {
			var out []int64
			for _, c := range list {
				if c.State != "FRA" {
					t.Errorf("change %d of %s in France's history", c.ID, c.State)
				}
				out = append(out, c.ID)
			}
			return out
		}
		for _, u := range []*testkit.User{f.offFRA, f.fpKEN, f.sec} {
			older, newer := testkit.WalkPages(t, 2, func(k app.Cursor) ([]*directory.Change, *app.Cursor, *app.Cursor, error) {
				p, err := dir.HistoryPage(u.Ctx(), "FRA", k, 2)
				if err != nil {
					return nil, nil, nil, err
				}
				return p.List, p.Older, p.Newer, nil
			})
			if want := ids(all); !slices.Equal(ids(older), want) || !slices.Equal(ids(newer), want) {
				t.Errorf("as %s: older %v, newer %v, want %v", u.Email, ids(older), ids(newer), want)
			}
		}
		if !slices.IsSortedFunc(ids(all), func(a, b int64) int { return cmp.Compare(b, a) }) {
			t.Errorf("not newest first: %v", ids(all))
		}
		if _, err := dir.HistoryPage(f.offFRA.Ctx(), "FRA", app.Cursor{}, app.MaxPageSize+1); app.ErrorCode(err) != app.Invalid {
			t.Errorf("a page too long: %v", err)
		}
		if _, err := dir.HistoryPage(f.offFRA.Ctx(), "ZZZ", app.Cursor{}, 0); app.ErrorCode(err) != app.NotFound {
			t.Errorf("an unknown State: %v", err)
		}
	})
}
