package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/export"
)

// Exercises. The service decides who sees and runs what: the Secretariat
// plans and runs them; a participant's users see its own figures.

func (a *API) listExercises(w http.ResponseWriter, r *http.Request) {
	list, err := a.Exercises.Exercises(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"exercises": list})
}

func (a *API) planExercise(w http.ResponseWriter, r *http.Request) {
	var in exercises.Input
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	// The Secretariat plans; a State's focal point proposes, for the
	// Secretariat's agreement.
	plan := a.Exercises.Plan
	if act := app.ActorFrom(r.Context()); act != nil && !act.IsSecretariat() {
		plan = a.Exercises.Propose
	}
	e, err := plan(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/exercises/"+strconv.FormatInt(e.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, e)
}

// The Secretariat's agreement to a group's proposal, under four eyes: a
// first officer agrees, a second confirms; until then the proposing
// State's focal point may withdraw it, and any Secretariat officer may
// decline it, with a reason.

func (a *API) agreeExercise(w http.ResponseWriter, r *http.Request) {
	a.exerciseStep(w, r, a.Exercises.Agree)
}

func (a *API) confirmExercise(w http.ResponseWriter, r *http.Request) {
	a.exerciseStep(w, r, a.Exercises.Confirm)
}

func (a *API) withdrawExercise(w http.ResponseWriter, r *http.Request) {
	a.exerciseStep(w, r, a.Exercises.Withdraw)
}

// declineBody is the body of a decline: why, for the proposing State.
type declineBody struct {
	Reason string `json:"reason"`
}

func (a *API) declineExercise(w http.ResponseWriter, r *http.Request) {
	a.exerciseStep(w, r, func(ctx context.Context, id int64) (*exercises.Exercise, error) {
		var in declineBody
		if err := decode(w, r, &in); err != nil {
			return nil, err
		}
		return a.Exercises.Decline(ctx, id, in.Reason)
	})
}

func (a *API) exerciseStep(w http.ResponseWriter, r *http.Request, step func(context.Context, int64) (*exercises.Exercise, error)) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	e, err := step(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, e)
}

func (a *API) getExercise(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	e, err := a.Exercises.Exercise(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, e)
}

func (a *API) addInject(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in exercises.InjectInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	inj, err := a.Exercises.AddInject(r.Context(), id, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusCreated, inj)
}

func (a *API) releaseInject(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	inject, err := pathInt(r, "inject", "inject")
	if err != nil || inject <= 0 {
		a.fail(w, r, app.ErrNotFound("inject"))
		return
	}
	inj, err := a.Exercises.Release(r.Context(), id, inject)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, inj)
}

// noteBody is an exercise's after-action note.
type noteBody struct {
	Note string `json:"note"`
}

func (a *API) setExerciseNote(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in noteBody
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	e, err := a.Exercises.SetNote(r.Context(), id, in.Note)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, e)
}

// exerciseReport serves the report as JSON, or its lines as CSV with
// ?format=csv.
func (a *API) exerciseReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		a.fail(w, r, app.FieldError("format", "error.exercise_format", "ask for json or csv", nil))
		return
	}
	rep, err := a.Exercises.Report(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if format != "csv" {
		a.writeJSON(w, r, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", export.CSVType)
	_ = export.NewCSV(w).WriteAll(rep.CSV())
}
