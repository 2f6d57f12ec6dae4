package exercises

import (
	"context"
	"database/sql"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
)

// A group of States may plan an exercise with the Secretariat's agreement:
// a State's focal point proposes one for its State and others; it stays a
// draft, seen by the proposing State and the Secretariat only, whose
// injects are not sent, until a Secretariat officer agrees. The proposing
// State's focal points then control it as the Secretariat does: they add
// and release injects, and read the report of every participant (times,
// never what anyone wrote). The injects still go out in the Secretariat's
// name, through the same path.

var _ = auditlog.Register("exercises.proposed", "exercises.agreed")

// seesAll reports whether the actor reads an exercise as its controller
// does: the Secretariat, and the users of the State that proposed it.
func seesAll(a *app.Actor, e *Exercise) bool {
	return a.IsSecretariat() || (a.State != "" && a.State == e.ProposedBy)
}

// canControl reports whether the actor may add and release injects: the
// Secretariat, and the proposing State's focal points.
func canControl(a *app.Actor, e *Exercise) bool {
	if a.ReadOnly {
		return false
	}
	return a.IsSecretariat() || (e.ProposedBy != "" && a.IsFocalPointOf(e.ProposedBy))
}

// controller loads an exercise for one who controls it; not found for
// whoever may not see it.
func (s *Service) controller(ctx context.Context, id int64) (*app.Actor, *Exercise, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !canSee(a, e) {
		return nil, nil, app.ErrNotFound("exercise")
	}
	if !canControl(a, e) {
		return nil, nil, app.ErrForbidden()
	}
	return a, e, nil
}

// sender is who sends an inject through comms: the Secretariat, also when
// a proposing State's focal point releases it (the exercises service has
// checked that it may).
func sender(a *app.Actor) *app.Actor {
	if a.IsSecretariat() {
		return a
	}
	return app.System
}

func errDraft() error {
	return app.Errorf(app.Conflict, "error.exercise_draft", "the Secretariat has not yet agreed to this exercise")
}

// Propose records an exercise that a State's focal point proposes for a
// group of States, its own among them: a draft until the Secretariat
// agrees.
func (s *Service) Propose(ctx context.Context, in Input) (*Exercise, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" || !a.IsFocalPointOf(a.State) {
		return nil, app.ErrForbidden()
	}
	verr := validate(&in)
	own := false
	for _, p := range in.Participants {
		own = own || p.State == a.State
	}
	if !own {
		var v app.Validation
		if verr != nil {
			return nil, verr
		}
		v.Add("participants", "error.exercise_own_state", "your own State takes part in the exercise it proposes", nil)
		return nil, v.Err()
	}
	if verr != nil {
		return nil, verr
	}
	now := s.Now()
	e := &Exercise{Name: in.Name, Objectives: in.Objectives, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		TargetAck: in.TargetAckMinutes, TargetAnswer: in.TargetAnswerMinutes, Participants: in.Participants,
		Status: Draft, ProposedBy: a.State, CreatedBy: a.Email, CreatedAt: now, UpdatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertExercise(ctx, tx, e); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "proposed", e, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise(ctx, e.ID)
}

// Agree is a Secretariat officer's agreement to a proposed exercise: the
// participants see it, its injects may be sent, and the proposing State
// controls it.
func (s *Service) Agree(ctx context.Context, id int64) (*Exercise, error) {
	a, err := requireSecretariat(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := agreeExercise(ctx, tx, id, a.Email, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.exercise_agreed", "this exercise is already agreed")
		}
		e.Status = Agreed
		return logEvent(ctx, tx, a, "agreed", e, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise(ctx, id)
}
