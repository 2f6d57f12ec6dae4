package comms_test

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestTemplates(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		s := sys.Comms
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		ctx := context.Background()
		if err := comms.SeedTemplates(ctx, sys.DB); err != nil {
			t.Fatal(err)
		}
		list, err := s.Templates(fp.Ctx(), false)
		if err != nil || len(list) != 6 {
			t.Fatalf("%d templates: %v", len(list), err)
		}
		var notif *comms.Template
		for _, tp := range list {
			if tp.Slug == "notification" {
				notif = tp
			}
		}
		if notif == nil || notif.Version != 1 || notif.Name["en"] != "Notification of malicious activity" {
			t.Fatalf("%+v", notif)
		}
		t.Run("a revision is a new version; the old one is kept", func(t *testing.T) {
			in := comms.TemplateInput{Name: notif.Name, Description: notif.Description, Fields: notif.Fields, Version: 1}
			in.Name = comms.Text{"en": "Notification of malicious ICT activity", "fr": "Notification d'une activité malveillante"}
			got, err := s.ReviseTemplate(sec.Ctx(), notif.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || got.Name.In("fr") != "Notification d'une activité malveillante" || len(got.Versions) != 2 {
				t.Errorf("%+v", got)
			}
			v1, err := s.Template(fp.Ctx(), notif.ID, 1)
			if err != nil || v1.Name["en"] != "Notification of malicious activity" {
				t.Errorf("version 1: %+v %v", v1, err)
			}
			_, err = s.ReviseTemplate(sec.Ctx(), notif.ID, in)
			if app.ErrorCode(err) != app.Conflict {
				t.Errorf("a revision from version 1 again: %v", err)
			}
			if err := comms.SeedTemplates(ctx, sys.DB); err != nil {
				t.Fatal(err)
			}
			if again, _ := s.Template(fp.Ctx(), notif.ID, 0); again.Version != 2 {
				t.Error("seeding again undid the revision")
			}
		})
		t.Run("only the Secretariat manages templates", func(t *testing.T) {
			in := comms.TemplateInput{Slug: "other", Name: comms.Text{"en": "Other"}, Fields: notif.Fields}
			for _, ctx := range []context.Context{fp.Ctx(), context.Background()} {
				if _, err := s.CreateTemplate(ctx, in); app.ErrorCode(err) != app.Forbidden && app.ErrorCode(err) != app.Unauthorized {
					t.Errorf("create: %v", err)
				}
				if _, err := s.SetTemplateStatus(ctx, notif.ID, false); app.ErrorCode(err) != app.Forbidden && app.ErrorCode(err) != app.Unauthorized {
					t.Errorf("retire: %v", err)
				}
			}
		})
		t.Run("bad templates are refused with the field named", func(t *testing.T) {
			base := func() comms.TemplateInput {
				return comms.TemplateInput{Slug: "drill", Name: comms.Text{"en": "Drill"}, Fields: append([]comms.Field(nil), notif.Fields...)}
			}
			cases := map[string]func(in *comms.TemplateInput){
				"slug":              func(in *comms.TemplateInput) { in.Slug = "Drill Two" },
				"name.en":           func(in *comms.TemplateInput) { in.Name = comms.Text{"fr": "Exercice"} },
				"name":              func(in *comms.TemplateInput) { in.Name = comms.Text{"en": "Drill", "de": "Übung"} },
				"fields":            func(in *comms.TemplateInput) { in.Fields = in.Fields[1:] },
				"fields.0.kind":     func(in *comms.TemplateInput) { in.Fields[0].Kind = "pigeon" },
				"fields.1.key":      func(in *comms.TemplateInput) { in.Fields[1].Key = in.Fields[0].Key },
				"fields.0.label.en": func(in *comms.TemplateInput) { in.Fields[0].Label = comms.Text{"fr": "Objet"} },
			}
			for field, edit := range cases {
				in := base()
				edit(&in)
				_, err := s.CreateTemplate(sec.Ctx(), in)
				e := app.AsError(err)
				found := e.Field == field
				for _, f := range e.Fields {
					found = found || f.Field == field
				}
				if e.Code != app.Invalid || !found {
					t.Errorf("%s: got %v", field, err)
				}
			}
			if _, err := s.CreateTemplate(sec.Ctx(), base()); err != nil {
				t.Errorf("the valid one: %v", err)
			}
			if _, err := s.CreateTemplate(sec.Ctx(), base()); app.ErrorCode(err) != app.Invalid {
				t.Errorf("a second drill: %v", err)
			}
		})
		t.Run("a retired template leaves the list and stays readable", func(t *testing.T) {
			if _, err := s.SetTemplateStatus(sec.Ctx(), notif.ID, false); err != nil {
				t.Fatal(err)
			}
			list, _ := s.Templates(fp.Ctx(), false)
			for _, tp := range list {
				if tp.ID == notif.ID {
					t.Error("still listed")
				}
			}
			if got, err := s.Template(fp.Ctx(), notif.ID, 0); err != nil || got.Status != "retired" {
				t.Errorf("%+v %v", got, err)
			}
			if got, err := s.SetTemplateStatus(sec.Ctx(), notif.ID, true); err != nil || got.Status != "active" {
				t.Errorf("reinstated: %+v %v", got, err)
			}
		})
	})
}
