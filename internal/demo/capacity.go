package demo

import (
	"context"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
)

// SeedCapacity writes capacity-building examples: Kenya's need of help to
// set up its technical PoC, matched with France's training and become an
// activity under way; a need of Kenya's that only the Secretariat sees,
// with a partner's offer that fits it (a suggestion); Brazil's need shown
// to all; and the action plan.
func SeedCapacity(ctx context.Context, svc *capacity.Service) error {
	sec := app.WithActor(ctx, &app.Actor{Email: Accounts[0].Email, Role: app.RoleSecretariat})
	ken := app.WithActor(ctx, &app.Actor{Email: Accounts[4].Email, Role: app.RoleFocalPoint, State: "KEN"})
	fra := app.WithActor(ctx, &app.Actor{Email: Accounts[2].Email, Role: app.RoleFocalPoint, State: "FRA"})
	bra := app.WithActor(ctx, &app.Actor{Email: "demo-data@pocdir.example", Role: app.RoleFocalPoint, State: "BRA"})
	plan, err := svc.CreatePlan(sec, capacity.PlanInput{Title: "Capacity-Building Action Plan on PoCs (fictional)", PeriodFrom: "2026-01-01", PeriodTo: "2027-12-31"},
		[]capacity.MeasureInput{{Title: "Trainings for technical PoCs", Kind: "training_course", Target: 10},
			{Title: "Table-top exercises for new PoCs", Kind: "tabletop_exercise", Target: 4},
			{Title: "Guidelines on setting up a PoC", Kind: "guidelines", Target: 1}})
	if err != nil {
		return err
	}
	n, err := svc.RecordNeed(ken, capacity.NeedInput{Kind: "training_course", Topics: []string{"poc_setup", "incident_handling"}, Level: directory.LevelTechnical,
		Languages: []string{"en", "sw"}, NeededBy: "2026-09-30", Visibility: capacity.VisibleOfferers,
		Details: directory.Text{Lang: "en", Text: "Train the duty officers of the national CERT to answer PoC requests around the clock (fictional)."}})
	if err != nil {
		return err
	}
	o, err := svc.RecordOffer(fra, capacity.OfferInput{Kind: "training_course", Topics: []string{"poc_setup", "incident_handling", "secure_communications"},
		Level: directory.LevelTechnical, Languages: []string{"fr", "en"}, Format: "both", Capacity: 24, PeriodFrom: "2026-03-01", PeriodTo: "2026-12-31",
		Details: directory.Text{Lang: "fr", Text: "Formation de cinq jours au CERT national (fictif).", English: "A five-day training at the national CERT (fictional)."}})
	if err != nil {
		return err
	}
	m, err := svc.Propose(sec, n.ID, o.ID)
	if err != nil {
		return err
	}
	if _, err := svc.Answer(ken, m.ID, capacity.Accept); err != nil {
		return err
	}
	if m, err = svc.Answer(fra, m.ID, capacity.Accept); err != nil {
		return err
	}
	if _, err := svc.UpdateActivity(sec, m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityUnderWay, StartsOn: "2026-06-08", EndsOn: "2026-06-12",
		Participants: 18, MeasureID: plan.Measures[0].ID}); err != nil {
		return err
	}
	if _, err := svc.RecordNeed(ken, capacity.NeedInput{Kind: "technology_transfer", Topics: []string{"forensics"}, TopicOther: "A malware analysis laboratory",
		Level: directory.LevelTechnical, Languages: []string{"en"}}); err != nil {
		return err
	}
	if _, err := svc.RecordOffer(sec, capacity.OfferInput{Partner: "Digital Forensics Foundation (fictional)", Kind: "workshop", Topics: []string{"forensics"},
		Languages: []string{"en", "fr", "ar"}, Format: "in-person", Capacity: 30, PeriodFrom: "2026-05-01"}); err != nil {
		return err
	}
	_, err = svc.RecordNeed(bra, capacity.NeedInput{Kind: "guidelines", Topics: []string{"legal_frameworks", "international_law"}, Level: directory.LevelDiplomatic,
		Languages: []string{"pt", "es", "en"}, Visibility: capacity.VisibleAll,
		Details: directory.Text{Lang: "es", Text: "Orientación sobre el marco jurídico de la cooperación (ficticio).", English: "Guidance on the legal framework of cooperation (fictional)."}})
	return err
}
