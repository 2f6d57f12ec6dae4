package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/export"
)

// An exercise's report: how fast each participant was reached and
// answered, as a timeline picture, tables and a CSV file. The service
// decides what the reader sees: the Secretariat every participant, a
// participant its own figures and the others' unnamed.

type exerciseReportData struct {
	R        *exercises.Report
	Timeline template.HTML
	// Findings are what the reader's focal point may turn into a need;
	// Needs, the needs already learnt from the exercise that the reader
	// may see.
	Findings []exercises.Finding
	Needs    []*capacity.Need
}

func (s *Server) exerciseReport(w http.ResponseWriter, r *http.Request, id int64) (*exercises.Report, bool) {
	rep, err := s.Exercises.Report(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return rep, true
}

func (s *Server) exerciseReportPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, ok := s.exerciseReport(w, r, id)
	if !ok {
		return
	}
	p := s.page(r, "exercise.report_title", nil)
	d := &exerciseReportData{R: rep, Timeline: exerciseChart(p, rep)}
	if capacity.CanRecordNeed(p.Actor) {
		d.Findings = rep.Findings()
	}
	if d.Needs, err = s.Capacity.ExerciseNeeds(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "exercise_report.html", p)
}

// exerciseCSV serves the report's lines as CSV.
func (s *Server) exerciseCSV(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "exercise")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, ok := s.exerciseReport(w, r, id)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", export.CSVType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="pocdir-exercise-%d.csv"`, id))
	_ = export.NewCSV(w).WriteAll(rep.CSV())
}

// exerciseChart draws, for each participant and inject, the time from the
// inject to its delivery, opening, acknowledgement and answer, with the
// targets as vertical lines. The same figures are in the table below it.
func exerciseChart(p *Page, r *exercises.Report) template.HTML {
	if len(r.States) == 0 {
		return ""
	}
	ex := r.Exercise
	limit := int64(ex.TargetAnswer) * 60
	for _, f := range r.States {
		for _, v := range []*int64{f.Delivered, f.Opened, f.Acked, f.Answered} {
			if v != nil && *v > limit {
				limit = *v
			}
		}
	}
	limit += limit / 20
	const w, rowH, left, right, top = 640, 22, 150, 10, 24
	h := top + rowH*len(r.States) + 20
	x := func(sec int64) float64 { return left + float64(w-left-right)*float64(sec)/float64(limit) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="timeline-title" xmlns="http://www.w3.org/2000/svg">`, w, h)
	fmt.Fprintf(&b, `<title id="timeline-title">%s</title>`, template.HTMLEscapeString(p.T("exercise.timeline_title")))
	for _, t := range []struct {
		min int
		key string
	}{{ex.TargetAck, "exercise.target_ack_short"}, {ex.TargetAnswer, "exercise.target_answer_short"}} {
		// A label keeps within the picture: it ends at its line in the
		// right half, starts there in the left.
		tx, anchor := x(int64(t.min)*60), "start"
		if tx > w/2 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#8a1c1c" stroke-dasharray="4 3"/><text x="%.1f" y="12" text-anchor="%s">%s</text>`,
			tx, tx, top-4, h-20, tx, anchor, template.HTMLEscapeString(p.T(t.key, "Minutes", t.min)))
	}
	for i, f := range r.States {
		y := top + i*rowH + rowH/2
		name := p.NameOf(f.State)
		// A long name is cut to fit left of the lines; the table below
		// names it in full.
		if r := []rune(name); len(r) > 14 {
			name = string(r[:13]) + "…"
		}
		label := p.T("exercise.timeline_row", "State", name, "Inject", f.Inject)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+4, template.HTMLEscapeString(label))
		end := f.Answered
		if end == nil {
			end = f.Acked
		}
		if end == nil {
			end = f.Opened
		}
		if end == nil {
			end = f.Delivered
		}
		if end != nil {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#6b6b6b"/>`, x(0), x(*end), y, y)
		} else {
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left+4, y+4, template.HTMLEscapeString(p.T("exercise.outcome_"+f.Outcome)))
		}
		for _, m := range []struct {
			v     *int64
			shape string
			key   string
		}{{f.Delivered, "#2c5d8f", "exercise.delivered"}, {f.Opened, "#5b8c3a", "exercise.opened"}, {f.Acked, "#b36b00", "exercise.acknowledged"}, {f.Answered, "#1f1f1f", "exercise.answered"}} {
			if m.v == nil {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="5" fill="%s"><title>%s: %s</title></circle>`, x(*m.v), y, m.shape,
				template.HTMLEscapeString(p.T(m.key)), template.HTMLEscapeString(p.Duration(m.v)))
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">0</text><text x="%d" y="%d" text-anchor="end">%s</text>`, left, h-4, w-right, h-4,
		template.HTMLEscapeString(p.Duration(&limit)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Duration writes seconds as h:mm:ss (as the checks' results do, the
// same in every language); a dash when there is none.
func (p *Page) Duration(sec *int64) string {
	if sec == nil {
		return "—"
	}
	return funcs["duration"].(func(int64) string)(*sec)
}
