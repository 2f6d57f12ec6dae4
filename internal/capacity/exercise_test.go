package capacity_test

import (
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestNeedFromExercise turns an exercise's finding into a need: only a
// participating State's focal point may, the need is checked as any, is
// seen by the Secretariat only by default, and names its exercise.
func TestNeedFromExercise(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		starts := w.sys.Clock.Now().Add(time.Hour)
		ex, err := w.sys.Exercises.Plan(w.sec.Ctx(), exercises.Input{Name: "Cyber Drill 2026", StartsAt: starts, EndsAt: starts.Add(24 * time.Hour),
			TargetAckMinutes: 30, TargetAnswerMinutes: 120,
			Participants: []exercises.Participant{{State: "IRN", Level: "technical"}, {State: "KEN", Level: "technical"}}})
		if err != nil {
			t.Fatal(err)
		}
		in := need("poc_setup", "")
		bad := in
		bad.Topics = nil
		cases := []struct {
			name     string
			u        *testkit.User
			exercise int64
			in       capacity.NeedInput
			want     app.Code
		}{
			{"a participant's focal point records a need from the exercise", w.fpIRN, ex.ID, in, ""},
			{"a focal point of a State that did not take part is told there is no such exercise", w.fpFRA, ex.ID, in, app.NotFound},
			{"a participant's officer may not record a need", w.offIRN, ex.ID, in, app.Forbidden},
			{"the Secretariat records no need of its own", w.sec, ex.ID, in, app.Forbidden},
			{"an exercise that does not exist is not found", w.fpKEN, ex.ID + 100, in, app.NotFound},
			{"the need is checked as any need", w.fpKEN, ex.ID, bad, app.Invalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				n, err := w.s.RecordNeedFromExercise(c.u.Ctx(), c.exercise, c.in)
				if c.want != "" {
					wantCode(t, c.name, err, c.want)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if n.ExerciseID != ex.ID || n.State != "IRN" || n.Visibility != capacity.VisibleSecretariat {
					t.Errorf("got exercise %d, State %s, visibility %s; want %d, IRN, secretariat", n.ExerciseID, n.State, n.Visibility, ex.ID)
				}
				read := got(w.s.Need(w.sec.Ctx(), n.ID)).ok(t)
				if read.ExerciseID != ex.ID {
					t.Errorf("the Secretariat reads exercise %d, want %d", read.ExerciseID, ex.ID)
				}
				if _, err := w.s.Need(w.fpKEN.Ctx(), n.ID); app.ErrorCode(err) != app.NotFound {
					t.Errorf("another participant reads the Secretariat-only need: %v", err)
				}
				public := c.in
				public.Visibility = capacity.VisibleAll
				shown := got(w.s.RecordNeedFromExercise(c.u.Ctx(), c.exercise, public)).ok(t)
				if got(w.s.Need(w.fpFRA.Ctx(), shown.ID)).ok(t).ExerciseID != 0 {
					t.Error("another State reading a need shown to all learns which exercise the needing State took part in")
				}
				if got(w.s.Need(w.offIRN.Ctx(), shown.ID)).ok(t).ExerciseID != ex.ID {
					t.Error("the needing State's officer does not read the exercise")
				}
			})
		}
		t.Run("a need recorded the usual way names no exercise", func(t *testing.T) {
			n := got(w.s.RecordNeed(w.fpIRN.Ctx(), in)).ok(t)
			if got(w.s.Need(w.fpIRN.Ctx(), n.ID)).ok(t).ExerciseID != 0 {
				t.Error("a plain need names an exercise")
			}
		})
	})
}
