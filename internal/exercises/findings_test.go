package exercises_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/exercises"
)

// TestFindings reads the lessons a participant may turn into needs off
// its own lines and the after-action note's lines.
func TestFindings(t *testing.T) {
	ex := &exercises.Exercise{Name: "Drill", Participants: []exercises.Participant{{State: "KEN", Level: "diplomatic"}},
		Note: "- Escalation list was out of date\n\n* Nobody on duty at night\n"}
	cases := []struct {
		name  string
		state string
		lines []exercises.Figures
		want  []string
	}{
		{"the Secretariat's report offers no finding", "", []exercises.Figures{{Outcome: exercises.NoPoC, Level: "technical", State: "KEN"}}, nil},
		{"no PoC reached is a finding about setting up a PoC, once per level", "KEN",
			[]exercises.Figures{{Outcome: exercises.NoPoC, Level: "technical", State: "KEN"}, {Outcome: exercises.NoPoC, Level: "technical", State: "KEN"}},
			[]string{"no-poc-technical:poc_setup", "note-1:exercises", "note-3:exercises"}},
		{"refused mail is a finding about secure communications", "KEN", []exercises.Figures{{Outcome: exercises.Bounced, Level: "diplomatic", State: "KEN"}},
			[]string{"bounced-diplomatic:secure_communications", "note-1:exercises", "note-3:exercises"}},
		{"missed targets are findings; met ones and pending lines are not", "KEN",
			[]exercises.Figures{{Outcome: exercises.Reached, Level: "technical", State: "KEN", AckMet: true}, {Outcome: exercises.Reached, Level: "technical", State: "KEN", AckMet: true, AnswerMet: true},
				{Outcome: exercises.Pending, Level: "diplomatic", State: "KEN"}},
			[]string{"answer-technical:incident_handling", "note-1:exercises", "note-3:exercises"}},
		{"another State's lines, in a controlling State's report, are not its findings", "KEN",
			[]exercises.Figures{{Outcome: exercises.NoPoC, Level: "technical", State: "FRA"}},
			[]string{"note-1:exercises", "note-3:exercises"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &exercises.Report{Exercise: ex, State: c.state, States: c.lines}
			var got []string
			for _, f := range r.Findings() {
				got = append(got, f.ID+":"+f.Topic)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			if c.state != "" {
				f, ok := r.Finding("note-3")
				if !ok || f.Text != "Nobody on duty at night" || f.Level != "diplomatic" {
					t.Errorf("note-3: got %+v, %v", f, ok)
				}
			}
		})
	}
}

// FuzzFindings reads findings off any after-action note: each has an id of
// its own, and a note line offered is neither empty nor over the limit.
func FuzzFindings(f *testing.F) {
	f.Add("- Escalation list was out of date\n\n* Nobody on duty at night\n")
	f.Add("\r\n•\n" + strings.Repeat("x", exercises.MaxFindingRunes+1))
	f.Fuzz(func(t *testing.T, note string) {
		r := &exercises.Report{State: "KEN", Exercise: &exercises.Exercise{Note: note}}
		seen := map[string]bool{}
		for _, x := range r.Findings() {
			if seen[x.ID] {
				t.Fatalf("id %s twice", x.ID)
			}
			seen[x.ID] = true
			if n := utf8.RuneCountInString(x.Text); x.Text == "" || n > exercises.MaxFindingRunes {
				t.Fatalf("finding %s of %d runes", x.ID, n)
			}
			if got, ok := r.Finding(x.ID); !ok || got != x {
				t.Fatalf("finding %s not found again", x.ID)
			}
		}
	})
}
