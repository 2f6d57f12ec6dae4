package comms

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
)

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,49}$`)
var fieldKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

func validText(v *app.Validation, field string, t Text, max int, required bool) {
	for lang, s := range t {
		ok := false
		for _, l := range Languages {
			ok = ok || l == lang
		}
		if !ok {
			v.Add(field, "error.template_language", "not a UN language", nil)
			return
		}
		if utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
			v.Add(field+"."+lang, "error.too_long", "too long", map[string]any{"Max": max})
		}
	}
	if required && strings.TrimSpace(t["en"]) == "" {
		v.Add(field+".en", "error.required", "the English text is required", nil)
	}
}

func (in *TemplateInput) validate(creating bool) error {
	var v app.Validation
	if creating && !slugRE.MatchString(in.Slug) {
		v.Add("slug", "error.template_slug", "lower-case letters, digits and hyphens, starting with a letter", nil)
	}
	validText(&v, "name", in.Name, 200, true)
	validText(&v, "description", in.Description, 2000, false)
	if len(in.Fields) == 0 || len(in.Fields) > 40 {
		v.Add("fields", "error.template_fields", "a template has 1 to 40 fields", nil)
	}
	seen := map[string]bool{}
	for i, f := range in.Fields {
		n := "fields." + strconv.Itoa(i)
		if !fieldKeyRE.MatchString(f.Key) || seen[f.Key] {
			v.Add(n+".key", "error.template_field_key", "a field needs its own key: lower-case letters, digits and _", nil)
		}
		seen[f.Key] = true
		ok := false
		for _, k := range Kinds {
			ok = ok || k == f.Kind
		}
		if !ok {
			v.Add(n+".kind", "error.template_field_kind", "unknown kind of field", nil)
		}
		if f.Kind == "choice" && Lists[f.List] == nil {
			v.Add(n+".list", "error.template_field_list", "a choice field needs one of the reference lists", nil)
		}
		if f.Kind != "choice" && f.List != "" {
			v.Add(n+".list", "error.template_field_list_kind", "only a choice field offers a list", nil)
		}
		validText(&v, n+".label", f.Label, 200, true)
		validText(&v, n+".help", f.Help, 1000, false)
	}
	// Every communication has a subject and a TLP label.
	if len(in.Fields) > 0 && (!hasField(in.Fields, "subject", "text") || !hasField(in.Fields, "tlp", "tlp")) {
		v.Add("fields", "error.template_core", "a template needs the fields subject (text) and tlp (tlp)", nil)
	}
	return v.Err()
}

func hasField(fs []Field, key, kind string) bool {
	for _, f := range fs {
		if f.Key == key && f.Kind == kind && f.Required {
			return true
		}
	}
	return false
}

func requireSecretariat(ctx context.Context) (*app.Actor, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	return a, nil
}

// Templates returns the templates, active ones first; retired ones only
// when asked. Every signed-in user may read them.
func (s *Service) Templates(ctx context.Context, withRetired bool) ([]*Template, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	return listTemplates(ctx, s.DB, withRetired)
}

// Template returns a template at a version (its current one when version
// is 0), with the list of its versions.
func (s *Service) Template(ctx context.Context, id int64, version int) (*Template, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	t, err := getTemplate(ctx, s.DB, id, version)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, app.ErrNotFound("template")
	}
	if t.Versions, err = templateVersions(ctx, s.DB, id); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateTemplate adds a template (the Secretariat).
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (*Template, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	in.Slug = strings.TrimSpace(in.Slug)
	if err := in.validate(true); err != nil {
		return nil, err
	}
	var id int64
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if id, err = insertTemplate(ctx, tx, in, a.Email, now); err != nil {
			if db.IsUniqueViolation(err) {
				return app.FieldError("slug", "error.template_slug_taken", "another template has this short name", nil)
			}
			return err
		}
		return logTemplate(ctx, tx, a, "template_created", id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Template(ctx, id, 0)
}

// ReviseTemplate makes a new version of a template (the Secretariat). A
// revision from an older version than the current one is refused
// (Conflict).
func (s *Service) ReviseTemplate(ctx context.Context, id int64, in TemplateInput) (*Template, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(false); err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := bumpTemplate(ctx, tx, id, in.Version, now)
		if err != nil {
			return err
		}
		if !ok {
			t, err := getTemplate(ctx, tx, id, 0)
			if err != nil {
				return err
			}
			if t == nil {
				return app.ErrNotFound("template")
			}
			return app.Errorf(app.Conflict, "error.conflict", "someone else changed this in the meantime: reload and apply your change again")
		}
		if err := insertVersion(ctx, tx, id, in.Version+1, in, a.Email, now); err != nil {
			return err
		}
		return logTemplate(ctx, tx, a, "template_revised", id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Template(ctx, id, 0)
}

// SetTemplateStatus retires a template (no new communication uses it; past
// ones keep theirs) or puts it back in use.
func (s *Service) SetTemplateStatus(ctx context.Context, id int64, active bool) (*Template, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	status, event := "retired", "template_retired"
	if active {
		status, event = "active", "template_reinstated"
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := setTemplateStatus(ctx, tx, id, status, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.ErrNotFound("template")
		}
		return logTemplate(ctx, tx, a, event, id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Template(ctx, id, 0)
}

// logTemplate records a step of a template in the log. Templates are the
// Secretariat's work, not communications between States: the entry names
// the officer, as other Secretariat acts do.
func logTemplate(ctx context.Context, tx *sql.Tx, a *app.Actor, typ string, id int64, at time.Time) error {
	err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms." + typ, Object: "template:" + strconv.FormatInt(id, 10), At: at}.By(a))
	return err
}

// TemplateBySlug returns a template at its current version by its short
// name, with its status (without its history).
func (s *Service) TemplateBySlug(ctx context.Context, slug string) (*Template, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	id, version, status, err := templateBySlug(ctx, s.DB, slug)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, app.FieldError("template", "error.comms_template", "choose a template", nil)
	}
	t, err := s.templateAt(ctx, id, version)
	if err != nil {
		return nil, err
	}
	cp := *t
	cp.Status = status
	return &cp, nil
}

// templateAt returns a template at a version, without its history. A
// version never changes once written, so it is kept in memory: a crisis
// burst reads the same few templates hundreds of times.
func (s *Service) templateAt(ctx context.Context, id int64, version int) (*Template, error) {
	key := [2]int64{id, int64(version)}
	s.versionsMu.Lock()
	t := s.versions[key]
	s.versionsMu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := getTemplate(ctx, s.DB, id, version)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, app.ErrNotFound("template")
	}
	s.versionsMu.Lock()
	s.versions[key] = t
	s.versionsMu.Unlock()
	return t, nil
}
