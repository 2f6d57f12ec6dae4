package exercises

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Finding is a lesson a participant draws from its report, which its focal
// point may turn into a capacity need in one step: what went wrong at a
// level (no PoC reached, every notification refused, a target missed), or
// a line of the after-action note. ID names it in a link; Key is the
// sentence in the catalog (a note line is its own words, in Text).
type Finding struct {
	ID    string `json:"id"`
	Key   string `json:"key,omitempty"`
	Text  string `json:"text,omitempty"`
	Level string `json:"level"`
	// Topic is the capacity topic the finding suggests (a key of
	// capacity.Topics).
	Topic string `json:"topic"`
}

// MaxFindingRunes is the longest note line offered as a finding: the
// need's details hold it with the exercise's name.
const MaxFindingRunes = 1000

// Findings are the lessons of the participant's own lines, once each per
// level, then the after-action note's lines: none in the Secretariat's
// report, for the Secretariat records no need.
func (r *Report) Findings() []Finding {
	if r.State == "" {
		return nil
	}
	var out []Finding
	seen := map[string]bool{}
	add := func(f Finding) {
		if !seen[f.ID] {
			seen[f.ID] = true
			out = append(out, f)
		}
	}
	for _, f := range r.States {
		if f.State != r.State {
			continue // the controlling State reads every participant's lines
		}
		switch f.Outcome {
		case NoPoC:
			add(Finding{ID: "no-poc-" + f.Level, Key: "exercise.finding_no_poc", Level: f.Level, Topic: "poc_setup"})
			continue
		case Bounced:
			add(Finding{ID: "bounced-" + f.Level, Key: "exercise.finding_bounced", Level: f.Level, Topic: "secure_communications"})
			continue
		case Pending:
			continue
		}
		if !f.AckMet {
			add(Finding{ID: "ack-" + f.Level, Key: "exercise.finding_ack", Level: f.Level, Topic: "incident_handling"})
		}
		if !f.AnswerMet {
			add(Finding{ID: "answer-" + f.Level, Key: "exercise.finding_answer", Level: f.Level, Topic: "incident_handling"})
		}
	}
	level := "technical"
	if len(r.Exercise.Participants) > 0 {
		level = r.Exercise.Participants[0].Level
	}
	for i, line := range strings.Split(r.Exercise.Note, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*•"))
		if line == "" || utf8.RuneCountInString(line) > MaxFindingRunes {
			continue
		}
		add(Finding{ID: "note-" + strconv.Itoa(i+1), Text: line, Level: level, Topic: "exercises"})
	}
	return out
}

// Finding returns the finding with an id, or false.
func (r *Report) Finding(id string) (Finding, bool) {
	for _, f := range r.Findings() {
		if f.ID == id {
			return f, true
		}
	}
	return Finding{}, false
}
