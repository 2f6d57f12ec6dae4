// Package comms owns communications between States (capabilities C3 and
// C4): the templates, kept as data and versioned by the Secretariat; the
// communications composed from them, routed to the recipient States' PoCs,
// sealed at rest, notified by email (with the content under OpenPGP where
// the PoC has a key and the TLP label allows); each recipient's progress
// from notified to acknowledged and answered; escalation, onward sharing
// with consent, indicators and their STIX 2.1 form. The Secretariat sees
// who sent what to whom and when, never what it says.
package comms

import (
	"context"
	"database/sql"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/seal"
)

// Languages are the six UN languages in which templates are labelled;
// English is required, the others may wait for their translation.
var Languages = []string{"en", "fr", "es", "ru", "zh", "ar"}

// Text is a label in the UN languages, by language code.
type Text map[string]string

// In returns the text in lang, or in English when it has none.
func (t Text) In(lang string) string {
	if v := t[lang]; v != "" {
		return v
	}
	return t["en"]
}

// Kinds are the kinds of template field.
var Kinds = []string{"text", "textarea", "datetime", "indicators", "tlp", "urgency", "boolean"}

// Field is one field of a template.
type Field struct {
	Key      string `json:"key"`
	Kind     string `json:"kind"`
	Required bool   `json:"required"`
	Label    Text   `json:"label"`
	Help     Text   `json:"help,omitempty"`
}

// Template is a communication template at its current version.
type Template struct {
	ID          int64     `json:"id"`
	Slug        string    `json:"slug"`
	Status      string    `json:"status"` // active | retired
	Version     int       `json:"version"`
	Name        Text      `json:"name"`
	Description Text      `json:"description"`
	Fields      []Field   `json:"fields"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Versions lists every version, newest first (on Get only).
	Versions []Version `json:"versions,omitempty"`
}

// Version is a template's version in its history.
type Version struct {
	Version   int       `json:"version"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Input is a new template or a revision. Version is the version a revision
// started from.
type Input struct {
	Slug        string  `json:"slug,omitempty"`
	Name        Text    `json:"name"`
	Description Text    `json:"description"`
	Fields      []Field `json:"fields"`
	Version     int     `json:"version,omitempty"`
}

// Service is the rules and authorization of templates and communications.
type Service struct {
	DB  *db.DB
	Now app.Clock
	// Dir routes communications to PoCs; Seal keeps their content
	// encrypted at rest; PGP, when set, encrypts the content of
	// notifications to PoCs that have an OpenPGP key; BaseURL is the
	// portal's address, for links in emails. Set them with Wire.
	Dir     *directory.Service
	Seal    *seal.Keyring
	PGP     Encrypter
	BaseURL string

	statesMu sync.Mutex
	states   map[string]bool
	versions map[[2]int64]*Template
}

// NewService returns the communications service.
func NewService(d *db.DB, now app.Clock) *Service { return &Service{DB: d, Now: now} }

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

func (in *Input) validate(creating bool) error {
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

// List returns the templates, active ones first; retired ones only when
// asked. Every signed-in user may read them.
func (s *Service) List(ctx context.Context, withRetired bool) ([]*Template, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	q := `SELECT ` + templateColumns + ` FROM comm_templates t JOIN comm_template_versions v ON v.template_id = t.id AND v.version = t.current_version`
	if !withRetired {
		q += ` WHERE t.status = 'active'`
	}
	rows, err := s.DB.QueryContext(ctx, q+` ORDER BY t.status, t.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Get returns a template at a version (its current one when version is 0),
// with the list of its versions.
func (s *Service) Get(ctx context.Context, id int64, version int) (*Template, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	q := `SELECT ` + templateColumns + ` FROM comm_templates t JOIN comm_template_versions v ON v.template_id = t.id AND v.version = `
	args := []any{id}
	if version > 0 {
		q += `$2 WHERE t.id = $1`
		args = append(args, version)
	} else {
		q += `t.current_version WHERE t.id = $1`
	}
	t, err := scanTemplate(s.DB.QueryRowContext(ctx, q, args...))
	if err == sql.ErrNoRows {
		return nil, app.ErrNotFound("template")
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT version, created_by, created_at FROM comm_template_versions WHERE template_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Version, &v.CreatedBy, &v.CreatedAt); err != nil {
			return nil, err
		}
		v.CreatedAt = v.CreatedAt.UTC()
		t.Versions = append(t.Versions, v)
	}
	return t, rows.Err()
}

// Create adds a template (the Secretariat).
func (s *Service) Create(ctx context.Context, in Input) (*Template, error) {
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
		return logEvent(ctx, tx, a, "template_created", id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id, 0)
}

// Revise makes a new version of a template (the Secretariat). A revision
// from an older version than the current one is refused (Conflict).
func (s *Service) Revise(ctx context.Context, id int64, in Input) (*Template, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(false); err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE comm_templates SET current_version = current_version + 1, updated_at = $1 WHERE id = $2 AND current_version = $3`,
			now, id, in.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var exists int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM comm_templates WHERE id = $1`, id).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return app.ErrNotFound("template")
			}
			return app.Errorf(app.Conflict, "error.conflict", "someone else changed this in the meantime: reload and apply your change again")
		}
		if err := insertVersion(ctx, tx, id, in.Version+1, in, a.Email, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "template_revised", id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id, 0)
}

// SetStatus retires a template (no new communication uses it; past ones
// keep theirs) or puts it back in use.
func (s *Service) SetStatus(ctx context.Context, id int64, active bool) (*Template, error) {
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
		res, err := tx.ExecContext(ctx, `UPDATE comm_templates SET status = $1, updated_at = $2 WHERE id = $3`, status, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.ErrNotFound("template")
		}
		return logEvent(ctx, tx, a, event, id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id, 0)
}

func logEvent(ctx context.Context, tx *sql.Tx, a *app.Actor, typ string, id int64, at time.Time) error {
	_, err := auditlog.Append(ctx, tx, auditlog.Event{Type: "comms." + typ, ActorID: a.UserID, ActorEmail: a.Email, ActorState: a.State,
		Object: "template:" + strconv.FormatInt(id, 10), At: at})
	return err
}

const templateColumns = `t.id, t.slug, t.status, t.current_version, t.updated_at, v.version, v.name, v.description, v.fields, v.created_by`

func scanTemplate(sc interface{ Scan(...any) error }) (*Template, error) {
	var t Template
	var current int
	var name, desc, fields string
	if err := sc.Scan(&t.ID, &t.Slug, &t.Status, &current, &t.UpdatedAt, &t.Version, &name, &desc, &fields, &t.CreatedBy); err != nil {
		return nil, err
	}
	t.UpdatedAt = t.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(name), &t.Name); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(desc), &t.Description); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fields), &t.Fields); err != nil {
		return nil, err
	}
	return &t, nil
}

func insertTemplate(ctx context.Context, tx *sql.Tx, in Input, by string, now time.Time) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO comm_templates (slug, status, current_version, created_at, updated_at) VALUES ($1, 'active', 1, $2, $2) RETURNING id`,
		in.Slug, now).Scan(&id); err != nil {
		return 0, err
	}
	return id, insertVersion(ctx, tx, id, 1, in, by, now)
}

func insertVersion(ctx context.Context, tx *sql.Tx, id int64, version int, in Input, by string, now time.Time) error {
	name, _ := json.Marshal(clean(in.Name))
	desc, _ := json.Marshal(clean(in.Description))
	for i := range in.Fields {
		in.Fields[i].Label, in.Fields[i].Help = clean(in.Fields[i].Label), clean(in.Fields[i].Help)
	}
	fields, _ := json.Marshal(in.Fields)
	_, err := tx.ExecContext(ctx, `INSERT INTO comm_template_versions (template_id, version, name, description, fields, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, version, string(name), string(desc), string(fields), by, now)
	return err
}

// clean drops empty translations and trims the others.
func clean(t Text) Text {
	out := Text{}
	for k, v := range t {
		if v = strings.TrimSpace(v); v != "" {
			out[k] = v
		}
	}
	return out
}
