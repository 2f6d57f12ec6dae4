package comms_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/i18n"
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

// TestShippedTemplatesFollowTheRelease: a shipped template the Secretariat
// has not revised is brought to what pocdir ships, as a new version; one
// it revised is left alone.
func TestShippedTemplatesFollowTheRelease(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	ctx := context.Background()
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	// As an older release shipped them: onward_consent, no share_freely.
	for _, slug := range []string{"notification", "request-information"} {
		tpl, err := sys.Comms.TemplateBySlug(sec.Ctx(), slug)
		if err != nil {
			t.Fatal(err)
		}
		var fields []comms.Field
		for _, f := range tpl.Fields {
			if f.Key == "share_freely" {
				f = comms.Field{Key: "onward_consent", Kind: "boolean", Label: comms.Text{"en": "Onward sharing needs my consent"}}
			}
			fields = append(fields, f)
		}
		b, _ := json.Marshal(fields)
		if _, err := sys.DB.ExecContext(ctx, `UPDATE comm_template_versions SET fields = $1 WHERE template_id = $2`, string(b), tpl.ID); err != nil {
			t.Fatal(err)
		}
	}
	old := sys.Instance(t).Comms // reads the versions as stored now
	info, _ := old.TemplateBySlug(sec.Ctx(), "request-information")
	in := comms.TemplateInput{Name: info.Name, Description: info.Description, Fields: info.Fields, Version: info.Version}
	if _, err := old.ReviseTemplate(sec.Ctx(), info.ID, in); err != nil {
		t.Fatal(err)
	}
	if err := comms.SeedTemplates(ctx, sys.DB); err != nil {
		t.Fatal(err)
	}
	fresh := sys.Instance(t).Comms // no cached versions
	n, _ := fresh.TemplateBySlug(sec.Ctx(), "notification")
	if n.Version != 2 || !hasKey(n.Fields, "share_freely") || hasKey(n.Fields, "onward_consent") {
		t.Errorf("the unrevised shipped template: version %d, fields %+v", n.Version, n.Fields)
	}
	r, _ := fresh.TemplateBySlug(sec.Ctx(), "request-information")
	if r.Version != 2 || hasKey(r.Fields, "share_freely") {
		t.Errorf("the Secretariat's revision was changed: version %d", r.Version)
	}
}

func hasKey(fs []comms.Field, key string) bool {
	for _, f := range fs {
		if f.Key == key {
			return true
		}
	}
	return false
}

// TestShippedTemplatesSpeakSixLanguages: every shipped template, and each
// of its fields' labels and help, is in the six languages; a choice field
// offers a reference list whose every answer is in the six catalogs.
func TestShippedTemplatesSpeakSixLanguages(t *testing.T) {
	cat := i18n.MustLoad()
	six := func(where string, tx comms.Text, optional bool) {
		if optional && len(tx) == 0 {
			return
		}
		for _, l := range comms.Languages {
			if strings.TrimSpace(tx[l]) == "" {
				t.Errorf("%s: no %s", where, l)
			}
		}
	}
	if len(comms.Shipped) != 6 {
		t.Fatalf("%d shipped templates", len(comms.Shipped))
	}
	for _, tp := range comms.Shipped {
		six(tp.Slug+" name", tp.Name, false)
		six(tp.Slug+" description", tp.Description, false)
		for _, f := range tp.Fields {
			six(tp.Slug+" "+f.Key, f.Label, false)
			six(tp.Slug+" "+f.Key+" help", f.Help, true)
			if f.Kind == "choice" {
				if comms.Lists[f.List] == nil {
					t.Errorf("%s %s: unknown list %q", tp.Slug, f.Key, f.List)
				}
				for _, l := range cat.Languages() {
					for _, o := range comms.Lists[f.List] {
						if !cat.Keys(l)["list."+f.List+"."+o] {
							t.Errorf("%s: list.%s.%s untranslated", l, f.List, o)
						}
					}
				}
			}
		}
	}
	// The notification asks for the basic information needed to study
	// an incident and determine its source (seeds 000/001).
	var notif comms.TemplateInput
	for _, tp := range comms.Shipped {
		if tp.Slug == "notification" {
			notif = tp
		}
	}
	for _, k := range []string{"detected_at", "activity_from", "activity_to", "sector", "affected_systems", "vector", "description", "impact", "indicators", "action_requested"} {
		if !hasKey(notif.Fields, k) {
			t.Errorf("the notification lacks %s", k)
		}
	}
}

// TestOldCommunicationsKeepTheirTemplate: a communication written on the
// English-only notification of an older release keeps that version when
// the six-language one with the basic information arrives.
func TestOldCommunicationsKeepTheirTemplate(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		ctx := context.Background()
		n, err := w.s.TemplateBySlug(w.sec.Ctx(), "notification")
		if err != nil {
			t.Fatal(err)
		}
		// Make the stored version 1 what the older release shipped.
		var fields []comms.Field
		for _, f := range n.Fields {
			if f.Kind == "choice" || f.Key == "detected_at" || f.Key == "activity_from" || f.Key == "activity_to" || f.Key == "action_requested" {
				continue
			}
			fields = append(fields, comms.Field{Key: f.Key, Kind: f.Kind, Required: f.Required, Label: comms.Text{"en": f.Label["en"]}})
		}
		b, _ := json.Marshal(fields)
		if _, err := w.sys.DB.ExecContext(ctx, `UPDATE comm_template_versions SET fields = $1, name = '{"en":"Notification of malicious activity"}' WHERE template_id = $2`, string(b), n.ID); err != nil {
			t.Fatal(err)
		}
		old := w.sys.Instance(t).Comms
		c, err := old.Compose(w.offFRA.Ctx(), notification("KEN"))
		if err != nil {
			t.Fatal(err)
		}
		if err := comms.SeedTemplates(ctx, w.sys.DB); err != nil {
			t.Fatal(err)
		}
		fresh := w.sys.Instance(t).Comms
		cur, _ := fresh.TemplateBySlug(w.sec.Ctx(), "notification")
		if cur.Version != 2 || cur.Name["ar"] == "" || !hasKey(cur.Fields, "sector") {
			t.Errorf("the release's notification: version %d, %v", cur.Version, cur.Name)
		}
		got, err := fresh.Communication(w.offFRA.Ctx(), c.ID)
		if err != nil || got.TemplateVersion != 1 {
			t.Fatalf("the older communication: %+v %v", got, err)
		}
		v1, err := fresh.Template(w.offFRA.Ctx(), n.ID, 1)
		if err != nil || hasKey(v1.Fields, "sector") || v1.Name["fr"] != "" {
			t.Errorf("version 1 changed: %+v %v", v1, err)
		}
	})
}

// TestBasicInformation: the notification's structured fields take what a
// reader can rely on, and refuse the rest with the field named.
func TestBasicInformation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		now := w.sys.Clock.Now().UTC()
		at := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04") }
		good := notification("KEN")
		for k, v := range map[string]string{"detected_at": at(-2 * time.Hour), "activity_from": at(-30 * time.Hour), "activity_to": at(-3 * time.Hour),
			"sector": "health", "vector": "phishing", "impact": "disruption", "action_requested": "Please take the server down."} {
			good.Fields[k] = v
		}
		c, err := w.s.Compose(w.offFRA.Ctx(), good)
		if err != nil {
			t.Fatal(err)
		}
		if f := c.Content.Fields; f["sector"] != "health" || f["impact"] != "disruption" || f["detected_at"] != now.Add(-2*time.Hour).Truncate(time.Minute).Format(time.RFC3339) {
			t.Errorf("stored: %v", f)
		}
		cases := map[string]func(f map[string]string){
			"fields.sector":      func(f map[string]string) { f["sector"] = "Energy" },
			"fields.vector":      func(f map[string]string) { f["vector"] = "energy" },
			"fields.detected_at": func(f map[string]string) { f["detected_at"] = at(3 * time.Hour) },
			"fields.activity_to": func(f map[string]string) { f["activity_to"] = at(-40 * time.Hour) },
		}
		for field, change := range cases {
			in := notification("KEN")
			for k, v := range good.Fields {
				in.Fields[k] = v
			}
			change(in.Fields)
			_, err := w.s.Compose(w.offFRA.Ctx(), in)
			if !hasFieldError(err, field) {
				t.Errorf("%s: %v", field, err)
			}
		}
	})
}

func hasFieldError(err error, field string) bool {
	var ae *app.Error
	if !errors.As(err, &ae) {
		return false
	}
	if ae.Field == field {
		return true
	}
	for _, f := range ae.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
