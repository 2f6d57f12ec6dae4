package cii_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

type world struct {
	sys                  *testkit.System
	sec, fpKEN, offKEN   *testkit.User
	fpFRA, offFRA, fpDEU *testkit.User
}

func newWorld(t *testing.T, e testkit.Engine) *world {
	sys := testkit.New(t, e)
	return &world{sys: sys,
		sec:    sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
		fpKEN:  sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		offKEN: sys.User(t, "off@ken.example", app.RoleOfficer, "KEN"),
		fpFRA:  sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		offFRA: sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		fpDEU:  sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU"),
	}
}

func en(s string) directory.Text { return directory.Text{Lang: "en", Text: s} }

// kenya is Kenya's first list: two reference sectors and one of its own,
// in Kiswahili's place French with English (a UN language with English).
func kenya() cii.Input {
	return cii.Input{
		Sectors: []cii.Sector{
			{Key: "energy", Note: en("Generation and the national grid")},
			{Key: "finance"},
			{Name: directory.Text{Lang: "fr", Text: "Argent mobile", English: "Mobile money"}},
		},
		Criteria: directory.Text{Lang: "fr", Text: "Services dont l'arrêt toucherait plus d'un million de personnes.", English: "Services whose loss would affect over a million people."},
	}
}

func TestPublishAndRead(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s := w.sys.CII
		l, err := s.Publish(w.fpKEN.Ctx(), "KEN", kenya())
		if err != nil {
			t.Fatal(err)
		}
		if l.Version != 1 || l.EffectiveDate != w.sys.Clock.Now().Format(time.DateOnly) || l.LogIndex == nil {
			t.Fatalf("published %+v", l)
		}
		if got := l.Sectors[2].Key; got != "own-1" {
			t.Errorf("the own sector's key is %q, want own-1", got)
		}
		t.Run("every user of every State reads it, without who published it", func(t *testing.T) {
			for _, u := range []*testkit.User{w.offFRA, w.fpDEU, w.sec, w.offKEN} {
				got, err := s.Current(u.Ctx(), "KEN")
				if err != nil {
					t.Fatalf("%s: %v", u.Email, err)
				}
				if len(got.Sectors) != 3 || got.Criteria.English == "" {
					t.Errorf("%s reads %+v", u.Email, got)
				}
				wantBy := u.State == "KEN" || u.Role == app.RoleSecretariat
				if (got.PublishedBy != "") != wantBy {
					t.Errorf("%s sees the publisher %q", u.Email, got.PublishedBy)
				}
			}
		})
		t.Run("nobody signed in reads nothing", func(t *testing.T) {
			if _, err := s.Current(context.Background(), "KEN"); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a State without a list has none", func(t *testing.T) {
			if _, err := s.Current(w.fpKEN.Ctx(), "FRA"); app.ErrorCode(err) != app.NotFound {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a new version keeps the own sector's key and numbers a new one after it", func(t *testing.T) {
			in := kenya()
			in.Version = 1
			in.Sectors = []cii.Sector{{Key: "own-1", Name: en("Mobile money")}, {Key: "health"}, {Name: en("Tea auctions")}}
			in.EffectiveDate = "2026-01-01"
			l2, err := s.Publish(w.fpKEN.Ctx(), "KEN", in)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, sec := range l2.Sectors {
				keys = append(keys, sec.Key)
			}
			if got := strings.Join(keys, ","); got != "own-1,health,own-2" || l2.Version != 2 || l2.EffectiveDate != "2026-01-01" {
				t.Errorf("version %d of %s has %s", l2.Version, l2.EffectiveDate, got)
			}
			h, err := s.History(w.fpFRA.Ctx(), "KEN")
			if err != nil || len(h) != 2 || h[0].Version != 2 || h[1].Version != 1 {
				t.Fatalf("history %v, %v", h, err)
			}
			// A key that left the list keeps its number: own-2 is not
			// given again after it is dropped.
			in.Version = 2
			in.Sectors = []cii.Sector{{Key: "own-1", Name: en("Mobile money")}, {Name: en("Ports")}}
			l3, err := s.Publish(w.fpKEN.Ctx(), "KEN", in)
			if err != nil {
				t.Fatal(err)
			}
			if l3.Sectors[1].Key != "own-3" {
				t.Errorf("a new own sector after own-2 left got %q", l3.Sectors[1].Key)
			}
		})
		t.Run("publishing over a newer version is a conflict", func(t *testing.T) {
			in := kenya()
			in.Version = 1
			if _, err := s.Publish(w.fpKEN.Ctx(), "KEN", in); app.ErrorCode(err) != app.Conflict {
				t.Errorf("got %v", err)
			}
		})
		t.Run("the comparison has every State's list in force", func(t *testing.T) {
			if _, err := s.Publish(w.fpFRA.Ctx(), "FRA", cii.Input{Sectors: []cii.Sector{{Key: "energy"}, {Key: "space"}}}); err != nil {
				t.Fatal(err)
			}
			all, err := s.All(w.fpDEU.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 || all[0].State != "FRA" || all[1].State != "KEN" || all[1].Version != 3 {
				t.Errorf("all: %v", all)
			}
		})
		t.Run("the log commits to every version, and audit check finds an edited one", func(t *testing.T) {
			ctx := context.Background()
			rep, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, cii.CheckCommitments)
			if err != nil || !rep.OK() {
				t.Fatalf("check: %v %+v", err, rep)
			}
			if _, err := w.sys.DB.ExecContext(ctx, `UPDATE cii_lists SET body = REPLACE(body, 'energy', 'water') WHERE state_code = 'FRA'`); err != nil {
				t.Fatal(err)
			}
			rep, err = auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, cii.CheckCommitments)
			if err != nil || rep.OK() {
				t.Fatalf("an edited list passed the check: %v", err)
			}
		})
	})
}

// TestOnlyTheFocalPointPublishes tries every other role, of the State and
// of others.
func TestOnlyTheFocalPointPublishes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		for _, u := range []*testkit.User{w.offKEN, w.fpFRA, w.sec, w.fpDEU} {
			_, err := w.sys.CII.Publish(u.Ctx(), "KEN", kenya())
			if app.ErrorCode(err) != app.Forbidden {
				t.Errorf("%s (%s of %q) published Kenya's list: %v", u.Email, u.Role, u.State, err)
			}
		}
		if _, err := w.sys.CII.Publish(context.Background(), "KEN", kenya()); app.ErrorCode(err) != app.Unauthorized {
			t.Errorf("anonymous: %v", err)
		}
		ro := app.WithActor(context.Background(), &app.Actor{UserID: w.fpKEN.ID, Email: w.fpKEN.Email, Role: app.RoleFocalPoint, State: "KEN", ReadOnly: true})
		if _, err := w.sys.CII.Publish(ro, "KEN", kenya()); app.ErrorCode(err) != app.Forbidden {
			t.Errorf("a read-only token published: %v", err)
		}
		if _, err := w.sys.CII.Publish(w.fpKEN.Ctx(), "XXX", kenya()); app.ErrorCode(err) != app.NotFound {
			t.Errorf("an unknown State: %v", err)
		}
	})
}

func TestInvalidLists(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	long := strings.Repeat("x", cii.MaxName+1)
	many := make([]cii.Sector, cii.MaxSectors+1)
	for i := range many {
		many[i] = cii.Sector{Name: en("s")}
	}
	for _, c := range []struct {
		name, field string
		in          cii.Input
	}{
		{"no sector", "sectors", cii.Input{}},
		{"too many sectors", "sectors", cii.Input{Sectors: many}},
		{"an unknown reference sector", "sectors.0", cii.Input{Sectors: []cii.Sector{{Key: "casinos"}}}},
		{"an own key never given", "sectors.0", cii.Input{Sectors: []cii.Sector{{Key: "own-7", Name: en("x")}}}},
		{"a sector twice", "sectors.1", cii.Input{Sectors: []cii.Sector{{Key: "energy"}, {Key: "energy"}}}},
		{"an own sector without a name", "sectors.0.name", cii.Input{Sectors: []cii.Sector{{Note: en("x")}}}},
		{"a name too long", "sectors.0.name", cii.Input{Sectors: []cii.Sector{{Name: en(long)}}}},
		{"a name in French without English", "sectors.0.name_en", cii.Input{Sectors: []cii.Sector{{Name: directory.Text{Lang: "fr", Text: "Ports"}}}}},
		{"criteria in a language that is not a UN one", "criteria_lang", cii.Input{Sectors: []cii.Sector{{Key: "energy"}}, Criteria: directory.Text{Lang: "sw", Text: "x", English: "x"}}},
		{"an effective date that is not a date", "effective_date", cii.Input{Sectors: []cii.Sector{{Key: "energy"}}, EffectiveDate: "tomorrow"}},
	} {
		t.Run(c.name+" is refused on its field", func(t *testing.T) {
			_, err := w.sys.CII.Publish(w.fpKEN.Ctx(), "KEN", c.in)
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Code != app.Invalid {
				t.Fatalf("got %v", err)
			}
			if !onField(ae, c.field) {
				t.Errorf("no error on %s: %v", c.field, err)
			}
		})
	}
	if _, err := w.sys.CII.Current(w.fpKEN.Ctx(), "KEN"); app.ErrorCode(err) != app.NotFound {
		t.Errorf("a refused list was kept: %v", err)
	}
}

func onField(e *app.Error, field string) bool {
	if e.Field == field {
		return true
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestParseRef(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"energy", true}, {"casinos", false}, {"KEN:own-2", true}, {"KEN:own-02", false}, {"KEN:own-0", false},
		{"ken:own-2", false}, {"KEN:energy", false}, {"KENY:own-1", false}, {":own-1", false}, {"", false},
	} {
		r, ok := cii.ParseRef(c.in)
		if ok != c.ok || (ok && r.String() != c.in) {
			t.Errorf("ParseRef(%q) = %v, %v", c.in, r, ok)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"energy", "KEN:own-2", "KEN:own-", "A:B:C", "own-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := cii.ParseRef(s)
		if ok && r.String() != s {
			t.Errorf("ParseRef(%q) reads back as %q", s, r.String())
		}
	})
}
