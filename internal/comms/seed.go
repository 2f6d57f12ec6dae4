package comms

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// Shipped are the templates pocdir starts with (the seeds' message types),
// in the six languages: data/templates.json, which translators may edit.
var Shipped = func() []TemplateInput {
	var out []TemplateInput
	if err := json.Unmarshal(shippedJSON, &out); err != nil {
		panic("comms: data/templates.json: " + err.Error())
	}
	return out
}()

//go:embed data/templates.json
var shippedJSON []byte

// SeedTemplates adds the shipped templates that are missing, at every
// start, and brings a shipped template that the Secretariat has not revised
// to what this version of pocdir ships, as a new version (communications
// keep the version they used). It never changes a template the Secretariat
// has revised.
func SeedTemplates(ctx context.Context, d *db.DB) error {
	now := time.Now().UTC()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, in := range Shipped {
			in.Fields = append([]Field(nil), in.Fields...)
			if err := in.validate(true); err != nil {
				return err
			}
			id, version, _, err := templateBySlug(ctx, tx, in.Slug)
			if err != nil {
				return err
			}
			if id == 0 {
				if _, err := insertTemplate(ctx, tx, in, "pocdir", now); err != nil {
					return err
				}
				continue
			}
			cur, err := getTemplate(ctx, tx, id, 0)
			if err != nil {
				return err
			}
			if cur.CreatedBy != "pocdir" || sameShipped(cur, in) {
				continue
			}
			if ok, err := bumpTemplate(ctx, tx, id, version, now); err != nil || !ok {
				return err
			}
			if err := insertVersion(ctx, tx, id, version+1, in, "pocdir", now); err != nil {
				return err
			}
		}
		return nil
	})
}

// sameShipped reports whether a template as stored is what is shipped.
func sameShipped(cur *Template, in TemplateInput) bool {
	a, _ := json.Marshal([]any{clean(cur.Name), clean(cur.Description), cur.Fields})
	fields := make([]Field, len(in.Fields))
	for i, f := range in.Fields {
		f.Label, f.Help = clean(f.Label), clean(f.Help)
		fields[i] = f
	}
	b, _ := json.Marshal([]any{clean(in.Name), clean(in.Description), fields})
	return string(a) == string(b)
}
