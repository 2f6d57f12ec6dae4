package comms

import (
	"context"
	"database/sql"
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
		Field{Key: "onward_consent", Kind: "boolean", Label: Text{"en": "Onward sharing needs my consent"}},
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
// start; it never changes a template the Secretariat has revised or retired.
func SeedTemplates(ctx context.Context, d *db.DB) error {
	now := time.Now().UTC()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, in := range Shipped {
			id, _, _, err := templateBySlug(ctx, tx, in.Slug)
			if err != nil {
				return err
			}
			if id != 0 {
				continue
			}
			in.Fields = append([]Field(nil), in.Fields...)
			if err := in.validate(true); err != nil {
				return err
			}
			if _, err := insertTemplate(ctx, tx, in, "pocdir", now); err != nil {
				return err
			}
		}
		return nil
	})
}
