package comms

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/pocdir/pocdir/internal/db"
)

// The fields that every shipped template shares.
func coreFields(extra ...Field) []Field {
	fs := []Field{
		{Key: "subject", Kind: "text", Required: true, Label: Text{"en": "Subject"}},
		{Key: "urgency", Kind: "urgency", Required: true, Label: Text{"en": "Urgency"}},
		{Key: "respond_by", Kind: "datetime", Label: Text{"en": "Response requested by"}, Help: Text{"en": "In UTC; shown to the recipients in their time zone too."}},
	}
	fs = append(fs, extra...)
	return append(fs,
		Field{Key: "tlp", Kind: "tlp", Required: true, Label: Text{"en": "Traffic Light Protocol"}, Help: Text{"en": "TLP 2.0: who may receive the content. TLP:RED content is never sent by email."}},
		Field{Key: "share_freely", Kind: "boolean", Label: Text{"en": "Third States may receive it without our consent"},
			Help: Text{"en": "Only for TLP:GREEN and TLP:CLEAR. Otherwise the communication goes to a third State only if your State consents."}},
	)
}

var (
	description = Field{Key: "description", Kind: "textarea", Required: true, Label: Text{"en": "Description"}}
	systems     = Field{Key: "affected_systems", Kind: "textarea", Label: Text{"en": "Affected systems"}}
	indicators  = Field{Key: "indicators", Kind: "indicators", Label: Text{"en": "Indicators of compromise"},
		Help: Text{"en": "One per line: IP addresses and ranges, domains, URLs, email addresses, file hashes, malware names, AS numbers, times in UTC."}}
)

// Shipped are the templates pocdir starts with (the seeds' message types).
// Their labels are in English; the Secretariat adds the other languages.
var Shipped = []TemplateInput{
	{Slug: "notification", Name: Text{"en": "Notification of malicious activity"},
		Description: Text{"en": "Tells another State of malicious ICT activity from or through its territory. Notifying does not imply that the State is responsible for the activity."},
		Fields:      coreFields(description, systems, indicators)},
	{Slug: "request-assistance", Name: Text{"en": "Request for assistance"},
		Description: Text{"en": "Asks another State for help to stop or mitigate an incident."},
		Fields:      coreFields(description, Field{Key: "assistance_sought", Kind: "textarea", Required: true, Label: Text{"en": "Assistance sought"}}, systems, indicators)},
	{Slug: "request-information", Name: Text{"en": "Request for information"},
		Description: Text{"en": "Asks another State for information about an incident or activity."},
		Fields:      coreFields(Field{Key: "questions", Kind: "textarea", Required: true, Label: Text{"en": "Questions"}}, description, indicators)},
	{Slug: "response", Name: Text{"en": "Response / follow-up"},
		Description: Text{"en": "Answers a communication, or follows it up, in the same thread."},
		Fields:      coreFields(description, indicators)},
	{Slug: "consultation", Name: Text{"en": "Consultation request"},
		Description: Text{"en": "Asks another State for consultations on an incident or a concern."},
		Fields:      coreFields(Field{Key: "topic", Kind: "textarea", Required: true, Label: Text{"en": "Matter to consult on"}}, description)},
	{Slug: "exercise", Name: Text{"en": "Exercise message"},
		Description: Text{"en": "A message of an exercise: it concerns no real incident and is marked as an exercise everywhere."},
		Fields:      coreFields(Field{Key: "exercise_name", Kind: "text", Required: true, Label: Text{"en": "Exercise"}}, description, indicators)},
}

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
