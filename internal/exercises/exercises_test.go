package exercises_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// world is an exercise's cast: the Secretariat; France and Kenya taking
// part at the technical level, Germany at the diplomatic level, Brazil
// with no PoC; Japan, which does not take part. Mail goes to a real SMTP
// server.
type world struct {
	sys                                *testkit.System
	ex                                 *exercises.Service
	sec, offFRA, offKEN, offDEU, fpJPN *testkit.User
	offBRA                             *testkit.User
	catcher                            *notify.Catcher
	sender                             *notify.Sender
}

func newWorld(t testing.TB, e testkit.Engine) *world {
	sys := testkit.New(t, e)
	w := &world{sys: sys, ex: sys.Exercises,
		sec:    sys.User(t, "sec@un.example", app.RoleSecretariat, ""),
		offFRA: sys.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		offKEN: sys.User(t, "off@ken.example", app.RoleOfficer, "KEN"),
		offDEU: sys.User(t, "off@deu.example", app.RoleOfficer, "DEU"),
		offBRA: sys.User(t, "off@bra.example", app.RoleOfficer, "BRA"),
		fpJPN:  sys.User(t, "fp@jpn.example", app.RoleFocalPoint, "JPN"),
	}
	for _, p := range []struct {
		state, email string
		level        directory.Level
	}{{"FRA", "cert@fra.example", directory.LevelTechnical}, {"KEN", "cert@ken.example", directory.LevelTechnical},
		{"DEU", "mfa@deu.example", directory.LevelDiplomatic}, {"JPN", "cert@jpn.example", directory.LevelTechnical}} {
		fp := sys.User(t, "fp2@"+strings.ToLower(p.state)+".example", app.RoleFocalPoint, p.state)
		in := testkit.ValidPoC()
		in.Level, in.Agency = p.level, "Agency of "+p.state
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: p.email, Preferred: true}}
		sys.AddPoC(t, fp.Ctx(), p.state, in)
	}
	c, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w.catcher = c
	w.sender = &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, SMTP: notify.SMTP{Host: "127.0.0.1", Port: c.Port(), From: "pocdir@example.org", TLS: "none"}}
	return w
}

// deliver sends the outbox to the SMTP server and copies the outcomes to
// the recipients' lines.
func (w *world) deliver(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.sender.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sys.Comms.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *world) plan(t testing.TB, name string, starts time.Time) *exercises.Exercise {
	t.Helper()
	e, err := w.ex.Plan(w.sec.Ctx(), exercises.Input{Name: name, Objectives: "Reach every PoC within the hour.",
		StartsAt: starts, EndsAt: starts.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120,
		Participants: []exercises.Participant{{State: "FRA", Level: "technical"}, {State: "KEN", Level: "technical"},
			{State: "DEU", Level: "diplomatic"}, {State: "BRA", Level: "technical"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func injectInput(sendAt *time.Time) exercises.InjectInput {
	return exercises.InjectInput{Template: "notification", SendAt: sendAt, Fields: map[string]string{
		"subject": "Scenario: ransomware at the port authority", "urgency": "high", "tlp": comms.TLPGreen,
		"description": "Scenario text: the port's cranes stopped at 06:00.", "indicators": "203.0.113.9\nevil-port.example"}}
}

func sec(d int64) *int64 { return &d }

func eq(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestExerciseLifecycle plans an exercise, lets the job send its first
// inject at its time through the real path (routing, outbox, SMTP,
// tracking), has the participants act at known times, and checks the
// report's figures to the second, who sees what, the marking and the
// refusals.
func TestExerciseLifecycle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, eng testkit.Engine) {
		w := newWorld(t, eng)
		clock := w.sys.Clock
		start := clock.Now().Add(time.Hour)
		e := w.plan(t, "Exercise Blue Harbour", start)
		at := start
		first, err := w.ex.AddInject(w.sec.Ctx(), e.ID, injectInput(&at))
		if err != nil {
			t.Fatal(err)
		}
		byHand, err := w.ex.AddInject(w.sec.Ctx(), e.ID, injectInput(nil))
		if err != nil {
			t.Fatal(err)
		}

		t.Run("the job sends nothing before the inject's time, and the inject at its time", func(t *testing.T) {
			clock.Advance(59 * time.Minute)
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 0 {
				t.Fatalf("before its time: %d, %v", n, err)
			}
			clock.Advance(time.Minute)
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 1 {
				t.Fatalf("at its time: %d, %v", n, err)
			}
			if n, err := w.ex.RunOnce(context.Background()); err != nil || n != 0 {
				t.Fatalf("once released: %d, %v", n, err)
			}
		})
		got, err := w.ex.Exercise(w.sec.Ctx(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		inj := got.Injects[0]
		if inj.ID != first.ID || inj.Status != exercises.InjectReleased || len(inj.Comms) != 2 {
			t.Fatalf("inject %+v", inj)
		}
		commOf := map[string]int64{}
		for _, c := range inj.Comms {
			commOf[c.Level] = c.CommID
		}
		tech := commOf["technical"]

		clock.Advance(time.Minute)
		w.deliver(t) // delivered at +60 s

		t.Run("the emails are marked EXERCISE in subject and body", func(t *testing.T) {
			var msgs []notify.Caught
			for _, m := range w.catcher.Messages() {
				if strings.Contains(m.Subject, "PC-") {
					msgs = append(msgs, m)
				} else {
					t.Logf("%v %s", m.To, m.Subject)
				}
			}
			if len(msgs) != 3 {
				t.Fatalf("%d emails, want 3 (France, Kenya, Germany)", len(msgs))
			}
			for _, m := range msgs {
				if !strings.HasPrefix(m.Subject, "[EXERCISE] ") || !strings.Contains(m.Body, "EXERCISE: this message belongs to an exercise") {
					t.Errorf("to %v: subject %q, body %q", m.To, m.Subject, m.Body)
				}
				if !strings.Contains(m.Body, "the Secretariat") {
					t.Errorf("to %v: the body does not say the Secretariat sent it: %q", m.To, m.Body)
				}
			}
		})

		// Kenya opens at +10 min, acknowledges at +20 and answers at +90;
		// France opens at +40 and acknowledges at +45; Germany is silent.
		clock.Advance(9 * time.Minute)
		c, err := w.sys.Comms.Communication(w.offKEN.Ctx(), tech)
		if err != nil {
			t.Fatal(err)
		}
		if !c.IsExercise() || c.ExerciseID != e.ID || c.Content == nil || c.Content.Subject != "Scenario: ransomware at the port authority" {
			t.Fatalf("Kenya reads %+v", c)
		}
		clock.Advance(10 * time.Minute)
		if _, err := w.sys.Comms.Acknowledge(w.offKEN.Ctx(), tech); err != nil {
			t.Fatal(err)
		}
		clock.Advance(20 * time.Minute)
		if _, err := w.sys.Comms.Communication(w.offFRA.Ctx(), tech); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Minute)
		if _, err := w.sys.Comms.Acknowledge(w.offFRA.Ctx(), tech); err != nil {
			t.Fatal(err)
		}
		clock.Advance(45 * time.Minute)
		reply, err := w.sys.Comms.Compose(w.offKEN.Ctx(), comms.CommInput{ParentID: tech, Template: "response", Fields: map[string]string{
			"subject": "Kenya's answer", "urgency": "medium", "tlp": comms.TLPGreen, "description": "Our secret finding: the cranes ran old firmware."}})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("an answer to an inject is an exercise answer, and stays with its State", func(t *testing.T) {
			if !reply.IsExercise() || reply.ExerciseID != e.ID || len(reply.ToStates) != 0 || len(reply.Recipients) != 0 {
				t.Errorf("reply %+v", reply)
			}
			c, err := w.sys.Comms.Communication(w.sec.Ctx(), reply.ID)
			if err != nil || c.Content != nil {
				t.Errorf("the Secretariat reads the answer: %+v, %v", c, err)
			}
		})
		t.Run("an exercise message is neither shared onward nor escalated", func(t *testing.T) {
			if _, err := w.sys.Comms.Share(w.offKEN.Ctx(), tech, "JPN", ""); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("share: %v", err)
			}
			if _, err := w.sys.Comms.Escalate(w.offKEN.Ctx(), reply.ID); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("escalate: %v", err)
			}
		})
		t.Run("the STIX export of an inject is labelled exercise", func(t *testing.T) {
			b, _, err := w.sys.Comms.STIX(w.offKEN.Ctx(), tech)
			if err != nil {
				t.Fatal(err)
			}
			var bundle struct {
				Objects []struct {
					Type   string   `json:"type"`
					Name   string   `json:"name"`
					Labels []string `json:"labels"`
				} `json:"objects"`
			}
			if err := json.Unmarshal(b, &bundle); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, o := range bundle.Objects {
				if o.Type == "report" && !strings.HasPrefix(o.Name, "EXERCISE: ") {
					t.Errorf("report named %q", o.Name)
				}
				if o.Type == "indicator" || o.Type == "report" {
					n++
					if len(o.Labels) != 1 || o.Labels[0] != comms.STIXExerciseLabel {
						t.Errorf("%s labelled %v", o.Type, o.Labels)
					}
				}
			}
			if n != 3 {
				t.Errorf("%d indicators and reports", n)
			}
		})
		t.Run("the log says the inject and the answer were an exercise", func(t *testing.T) {
			var n int
			entries, err := w.sys.Audit.Entries(w.sec.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				if en.Type == "comms.exercise_sent" {
					n++
				}
			}
			if n != 3 { // the inject at two levels, and Kenya's answer
				t.Errorf("%d entries of exercise messages, want 3", n)
			}
		})

		t.Run("the Secretariat's report holds every participant's times to the second", func(t *testing.T) {
			r, err := w.ex.Report(w.sec.Ctx(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]exercises.Figures{
				"FRA": {Outcome: exercises.Reached, Delivered: sec(60), Opened: sec(40 * 60), Acked: sec(45 * 60)},
				"KEN": {Outcome: exercises.Reached, Delivered: sec(60), Opened: sec(10 * 60), Acked: sec(20 * 60), Answered: sec(90 * 60), AckMet: true, AnswerMet: true},
				"DEU": {Outcome: exercises.Reached, Delivered: sec(60)},
				"BRA": {Outcome: exercises.NoPoC},
			}
			if len(r.States) != 4 {
				t.Fatalf("%d lines: %+v", len(r.States), r.States)
			}
			for _, f := range r.States {
				w := want[f.State]
				if f.Inject != 1 || f.Outcome != w.Outcome || !eq(f.Delivered, w.Delivered) || !eq(f.Opened, w.Opened) || !eq(f.Acked, w.Acked) ||
					!eq(f.Answered, w.Answered) || f.AckMet != w.AckMet || f.AnswerMet != w.AnswerMet {
					t.Errorf("%s: got %s delivered %v opened %v acked %v answered %v met %v/%v", f.State, f.Outcome, show(f.Delivered), show(f.Opened),
						show(f.Acked), show(f.Answered), f.AckMet, f.AnswerMet)
				}
			}
			if len(r.PoCs) != 3 {
				t.Errorf("%d PoC lines, want 3", len(r.PoCs))
			}
			total := 0
			for _, g := range r.Regions {
				total += g.Participants
			}
			if total != 4 || len(r.Regions) < 2 {
				t.Errorf("regions %+v", r.Regions)
			}
			if d := r.Distribution; len(d.Acked) != 2 || d.Acked[0] != 1200 || d.Acked[1] != 2700 || len(d.Answered) != 1 || d.Silent != 3 {
				t.Errorf("distribution %+v", d)
			}
			b, _ := json.Marshal(r)
			if strings.Contains(string(b), "secret finding") || strings.Contains(string(b), "Kenya's answer") {
				t.Errorf("the report holds an answer's content")
			}
		})

		t.Run("a participant sees its own figures and the distribution, no other State by name", func(t *testing.T) {
			r, err := w.ex.Report(w.offKEN.Ctx(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.States) != 1 || r.States[0].State != "KEN" || len(r.PoCs) != 1 || r.Regions != nil || len(r.Distribution.Acked) != 2 {
				t.Errorf("Kenya's report %+v", r)
			}
			b, _ := json.Marshal(r)
			for _, other := range []string{"FRA", "DEU", "BRA", "sec@un.example"} {
				if strings.Contains(string(b), other) {
					t.Errorf("Kenya's report names %s: %s", other, b)
				}
			}
			if len(r.Exercise.Participants) != 1 {
				t.Errorf("Kenya sees the participants %v", r.Exercise.Participants)
			}
		})
		t.Run("a State that does not take part sees nothing", func(t *testing.T) {
			if _, err := w.ex.Report(w.fpJPN.Ctx(), e.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("report: %v", err)
			}
			if _, err := w.ex.Exercise(w.fpJPN.Ctx(), e.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("exercise: %v", err)
			}
			if list, err := w.ex.Exercises(w.fpJPN.Ctx()); err != nil || len(list) != 0 {
				t.Errorf("list: %v, %v", list, err)
			}
		})
		t.Run("a participant does not see what a planned inject will say", func(t *testing.T) {
			x, err := w.ex.Exercise(w.offFRA.Ctx(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if x.Injects[1].Template != "" || x.Injects[1].Fields != nil || x.Injects[0].Fields != nil {
				t.Errorf("France sees %+v", x.Injects[1])
			}
		})

		t.Run("only the Secretariat plans, adds and releases; an inject is released once", func(t *testing.T) {
			if _, err := w.ex.Release(w.offFRA.Ctx(), e.ID, byHand.ID); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("France releases: %v", err)
			}
			if _, err := w.ex.AddInject(w.offFRA.Ctx(), e.ID, injectInput(nil)); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("France adds: %v", err)
			}
			if _, err := w.ex.Plan(w.offFRA.Ctx(), exercises.Input{}); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("France plans: %v", err)
			}
			i, err := w.ex.Release(w.sec.Ctx(), e.ID, byHand.ID)
			if err != nil || i.Status != exercises.InjectReleased || len(i.Comms) != 2 {
				t.Fatalf("%+v, %v", i, err)
			}
			if _, err := w.ex.Release(w.sec.Ctx(), e.ID, byHand.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("released twice: %v", err)
			}
		})

		t.Run("the Secretariat writes the after-action note, the participants read it", func(t *testing.T) {
			if _, err := w.ex.SetNote(w.offKEN.Ctx(), e.ID, "Kenya's note"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("Kenya writes: %v", err)
			}
			if _, err := w.ex.SetNote(w.sec.Ctx(), e.ID, "Germany's diplomatic PoC did not acknowledge."); err != nil {
				t.Fatal(err)
			}
			x, err := w.ex.Exercise(w.offKEN.Ctx(), e.ID)
			if err != nil || x.Note != "Germany's diplomatic PoC did not acknowledge." {
				t.Errorf("%v, %v", x, err)
			}
		})

		t.Run("a participant's report compares it with its previous exercises", func(t *testing.T) {
			next := w.plan(t, "Exercise Green Harbour", clock.Now().Add(time.Hour))
			r, err := w.ex.Report(w.offKEN.Ctx(), next.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Previous) != 1 {
				t.Fatalf("previous %+v", r.Previous)
			}
			p := r.Previous[0]
			if p.ID != e.ID || p.Lines != 2 || p.Answered != 1 || !eq(p.MedianAck, sec(1200)) || !eq(p.MedianAnswer, sec(5400)) {
				t.Errorf("previous %+v", p)
			}
		})
	})
}

// TestPlanValidation refuses a plan that lacks what an exercise needs.
func TestPlanValidation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, eng testkit.Engine) {
		w := newWorld(t, eng)
		now := w.sys.Clock.Now()
		for _, tc := range []struct {
			name  string
			in    exercises.Input
			field string
		}{
			{"a plan without a name is refused", exercises.Input{StartsAt: now, EndsAt: now.Add(time.Hour), TargetAckMinutes: 1, TargetAnswerMinutes: 1,
				Participants: []exercises.Participant{{State: "FRA"}}}, "name"},
			{"a plan that ends before it starts is refused", exercises.Input{Name: "X", StartsAt: now, EndsAt: now.Add(-time.Hour), TargetAckMinutes: 1,
				TargetAnswerMinutes: 1, Participants: []exercises.Participant{{State: "FRA"}}}, "ends_at"},
			{"a plan without a participant is refused", exercises.Input{Name: "X", StartsAt: now, EndsAt: now.Add(time.Hour), TargetAckMinutes: 1,
				TargetAnswerMinutes: 1}, "participants"},
			{"an unknown State is refused", exercises.Input{Name: "X", StartsAt: now, EndsAt: now.Add(time.Hour), TargetAckMinutes: 1,
				TargetAnswerMinutes: 1, Participants: []exercises.Participant{{State: "XXX"}}}, "participants"},
			{"a target of no time is refused", exercises.Input{Name: "X", StartsAt: now, EndsAt: now.Add(time.Hour), TargetAnswerMinutes: 1,
				Participants: []exercises.Participant{{State: "FRA"}}}, "target_ack_minutes"},
			{"a name too long is refused", exercises.Input{Name: strings.Repeat("n", exercises.MaxNameRunes+1), StartsAt: now, EndsAt: now.Add(time.Hour),
				TargetAckMinutes: 1, TargetAnswerMinutes: 1, Participants: []exercises.Participant{{State: "FRA"}}}, "name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := w.ex.Plan(w.sec.Ctx(), tc.in)
				if !hasField(err, tc.field) {
					t.Errorf("got %v, want a problem with %s", err, tc.field)
				}
			})
		}
	})
}

func hasField(err error, field string) bool {
	e, ok := err.(*app.Error)
	if !ok {
		return false
	}
	if e.Field == field {
		return true
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
