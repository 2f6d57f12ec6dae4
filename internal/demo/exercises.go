package demo

import (
	"context"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
)

// SeedExercises writes two exercises: one that ends a few minutes after
// the demo starts, whose inject was released and acknowledged by Kenya
// (France stays silent), with its after-action note and a need Kenya
// learnt from it; and one planned for next week with a timed inject and
// one the controller releases by hand. The demo runs on the real clock:
// the first exercise's times are those of the seeding.
func SeedExercises(ctx context.Context, ex *exercises.Service, cs *comms.Service, capa *capacity.Service) error {
	sec := app.WithActor(ctx, &app.Actor{Email: Accounts[0].Email, Role: app.RoleSecretariat})
	ken := app.WithActor(ctx, &app.Actor{Email: Accounts[4].Email, Role: app.RoleFocalPoint, State: "KEN"})
	now := ex.Now().UTC().Truncate(time.Minute)
	scenario := func(subject, text string, at *time.Time) exercises.InjectInput {
		return exercises.InjectInput{Template: "exercise", SendAt: at, Fields: map[string]string{"subject": subject, "urgency": "high",
			"tlp": comms.TLPGreen, "description": text}}
	}
	past, err := ex.Plan(sec, exercises.Input{Name: "Blue Harbour 2026 (fictional)", Objectives: "Reach every technical PoC and have each acknowledge within 30 minutes.",
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(5 * time.Minute), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
		Participants: []exercises.Participant{{State: "FRA", Level: "technical"}, {State: "KEN", Level: "technical"}}})
	if err != nil {
		return err
	}
	inj, err := ex.AddInject(sec, past.ID, scenario("Scenario: ransomware at the port authority (fictional)",
		"Scenario text: the port's cranes stopped at 06:00. Acknowledge, then tell the Secretariat what you would do.", nil))
	if err != nil {
		return err
	}
	if inj, err = ex.Release(sec, past.ID, inj.ID); err != nil {
		return err
	}
	for _, c := range inj.Comms {
		if _, err := cs.Acknowledge(ken, c.CommID); err != nil && app.ErrorCode(err) != app.NotFound {
			return err
		}
	}
	if _, err := ex.SetNote(sec, past.ID, "Kenya acknowledged within the target.\nThe duty roster of the national CERT had no one on call at night.\nFrance did not acknowledge: its PoC's mailbox was not watched."); err != nil {
		return err
	}
	if _, err := capa.RecordNeedFromExercise(ken, past.ID, capacity.NeedInput{Kind: "training_course", Topics: []string{"exercises", "incident_handling"},
		Level: directory.LevelTechnical, Languages: []string{"en"},
		Details: directory.Text{Lang: "en", Text: "Learnt from the exercise “Blue Harbour 2026 (fictional)”: the duty roster of the national CERT had no one on call at night."}}); err != nil {
		return err
	}
	next := now.Add(7 * 24 * time.Hour)
	planned, err := ex.Plan(sec, exercises.Input{Name: "Silent Lighthouse 2026 (fictional)", Objectives: "Test the diplomatic level's answer to an escalation.",
		StartsAt: next, EndsAt: next.Add(48 * time.Hour), TargetAckMinutes: 60, TargetAnswerMinutes: 240,
		Participants: []exercises.Participant{{State: "BRA", Level: "technical"}, {State: "FRA", Level: "diplomatic"}, {State: "KEN", Level: "technical"}}})
	if err != nil {
		return err
	}
	at := next.Add(30 * time.Minute)
	if _, err := ex.AddInject(sec, planned.ID, scenario("Scenario: wiper against the grid (fictional)", "Scenario text: substations report destroyed disks.", &at)); err != nil {
		return err
	}
	_, err = ex.AddInject(sec, planned.ID, scenario("Scenario: the attack spreads (fictional)", "Scenario text: a neighbouring State's grid reports the same wiper.", nil))
	return err
}
