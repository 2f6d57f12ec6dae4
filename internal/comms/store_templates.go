package comms

// The SQL of the templates and their versions.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

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

func insertTemplate(ctx context.Context, tx *sql.Tx, in TemplateInput, by string, now time.Time) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO comm_templates (slug, status, current_version, created_at, updated_at) VALUES ($1, 'active', 1, $2, $2) RETURNING id`,
		in.Slug, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("comms store: saving a template: %w", err)
	}
	return id, insertVersion(ctx, tx, id, 1, in, by, now)
}

func insertVersion(ctx context.Context, tx *sql.Tx, id int64, version int, in TemplateInput, by string, now time.Time) error {
	name, _ := json.Marshal(clean(in.Name))
	desc, _ := json.Marshal(clean(in.Description))
	for i := range in.Fields {
		in.Fields[i].Label, in.Fields[i].Help = clean(in.Fields[i].Label), clean(in.Fields[i].Help)
	}
	fields, _ := json.Marshal(in.Fields)
	return exec(ctx, tx, "saving a template version", `INSERT INTO comm_template_versions (template_id, version, name, description, fields, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, version, string(name), string(desc), string(fields), by, now)
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

func listTemplates(ctx context.Context, q db.Queryer, withRetired bool) ([]*Template, error) {
	query := `SELECT ` + templateColumns + ` FROM comm_templates t JOIN comm_template_versions v ON v.template_id = t.id AND v.version = t.current_version`
	if !withRetired {
		query += ` WHERE t.status = 'active'`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY t.status, t.id`)
	if err != nil {
		return nil, fmt.Errorf("comms store: listing templates: %w", err)
	}
	defer rows.Close()
	out := []*Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("comms store: listing templates: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: listing templates: %w", err)
	}
	return out, nil
}

// getTemplate reads a template at a version (its current one when version
// is 0), without its history; nil when there is none.
func getTemplate(ctx context.Context, q db.Queryer, id int64, version int) (*Template, error) {
	query := `SELECT ` + templateColumns + ` FROM comm_templates t JOIN comm_template_versions v ON v.template_id = t.id AND v.version = `
	args := []any{id}
	if version > 0 {
		query += `$2 WHERE t.id = $1`
		args = append(args, version)
	} else {
		query += `t.current_version WHERE t.id = $1`
	}
	t, err := scanTemplate(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("comms store: reading template %d: %w", id, err)
	}
	return t, nil
}

func templateVersions(ctx context.Context, q db.Queryer, id int64) ([]Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, created_by, created_at FROM comm_template_versions WHERE template_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("comms store: listing the versions of template %d: %w", id, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Version, &v.CreatedBy, &v.CreatedAt); err != nil {
			return nil, fmt.Errorf("comms store: listing the versions of template %d: %w", id, err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comms store: listing the versions of template %d: %w", id, err)
	}
	return out, nil
}

// templateBySlug returns a template's id, current version and status; id 0
// when there is no such template.
func templateBySlug(ctx context.Context, q db.Queryer, slug string) (id int64, version int, status string, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, current_version, status FROM comm_templates WHERE slug = $1`, slug).Scan(&id, &version, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, "", nil
	}
	if err != nil {
		return 0, 0, "", fmt.Errorf("comms store: finding template %q: %w", slug, err)
	}
	return id, version, status, nil
}

// bumpTemplate moves a template from version from to the next, and reports
// whether it was still at from.
func bumpTemplate(ctx context.Context, q db.Queryer, id int64, from int, now time.Time) (bool, error) {
	return exec1(ctx, q, "revising a template", `UPDATE comm_templates SET current_version = current_version + 1, updated_at = $1 WHERE id = $2 AND current_version = $3`,
		now, id, from)
}

func setTemplateStatus(ctx context.Context, q db.Queryer, id int64, status string, now time.Time) (bool, error) {
	return exec1(ctx, q, "retiring or reinstating a template", `UPDATE comm_templates SET status = $1, updated_at = $2 WHERE id = $3`, status, now, id)
}
