package exercises

import (
	"strconv"
)

// CSV returns the report's lines for a spreadsheet: one per participant
// and inject, then one per PoC, with the times in seconds and whether the
// targets were met. A participant's file holds its own lines only, like
// its report.
func (r *Report) CSV() [][]string {
	rows := [][]string{{"exercise_id", "exercise", "inject", "line", "state", "un_group", "level", "poc_id", "agency", "outcome", "other_level",
		"delivered_seconds", "opened_seconds", "acknowledged_seconds", "answered_seconds", "target_ack_minutes", "target_answer_minutes",
		"acknowledged_in_target", "answered_in_target"}}
	secs := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	add := func(line string, f Figures) {
		poc := ""
		if f.PoCID != 0 {
			poc = strconv.FormatInt(f.PoCID, 10)
		}
		rows = append(rows, []string{strconv.FormatInt(r.Exercise.ID, 10), r.Exercise.Name, strconv.Itoa(f.Inject), line, f.State, f.Group, f.Level,
			poc, f.Agency, f.Outcome, strconv.FormatBool(f.OtherLvl), secs(f.Delivered), secs(f.Opened), secs(f.Acked), secs(f.Answered),
			strconv.Itoa(r.Exercise.TargetAck), strconv.Itoa(r.Exercise.TargetAnswer), strconv.FormatBool(f.AckMet), strconv.FormatBool(f.AnswerMet)})
	}
	for _, f := range r.States {
		add("state", f)
	}
	for _, f := range r.PoCs {
		add("poc", f)
	}
	return rows
}
