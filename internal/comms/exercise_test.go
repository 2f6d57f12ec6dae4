package comms_test

import (
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestExerciseMessagesStayExercises sends a message of the exercise
// template between two States: it is neither shared onward nor escalated,
// its STIX export is labelled, and the answer to it is an exercise too.
func TestExerciseMessagesStayExercises(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		c, err := w.s.Compose(w.offFRA.Ctx(), comms.CommInput{Template: comms.ExerciseSlug, ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
			Fields: map[string]string{"subject": "Drill", "urgency": "high", "tlp": comms.TLPGreen, "exercise_name": "Blue Harbour",
				"description": "Scenario.", "indicators": "203.0.113.9"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			act  func() error
		}{
			{"a recipient cannot share it with a third State", func() error { _, err := w.s.Share(w.offKEN.Ctx(), c.ID, "DEU", ""); return err }},
			{"the sender cannot escalate it", func() error { _, err := w.s.Escalate(w.offFRA.Ctx(), c.ID); return err }},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.act(), app.Forbidden) })
		}
		t.Run("its STIX export is labelled exercise", func(t *testing.T) {
			b, _, err := w.s.STIX(w.offKEN.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"labels": [`) || !strings.Contains(string(b), `"EXERCISE: pocdir communication`) {
				t.Errorf("%s", b)
			}
		})
		t.Run("the answer to it is an exercise answer", func(t *testing.T) {
			r, err := w.s.Compose(w.offKEN.Ctx(), comms.CommInput{ParentID: c.ID, Fields: map[string]string{"subject": "Answer", "urgency": "medium",
				"tlp": comms.TLPGreen, "description": "Received."}})
			if err != nil {
				t.Fatal(err)
			}
			if !r.IsExercise() {
				t.Errorf("%+v", r)
			}
			wantCode(t, "escalating the answer", func() error { _, err := w.s.Escalate(w.offKEN.Ctx(), r.ID); return err }(), app.Forbidden)
		})
		t.Run("a real communication is still shared", func(t *testing.T) {
			in := notification("KEN")
			in.Fields["tlp"] = comms.TLPGreen
			in.Fields["share_freely"] = "true"
			real, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.Share(w.offKEN.Ctx(), real.ID, "DEU", ""); err != nil {
				t.Error(err)
			}
		})
	})
}
