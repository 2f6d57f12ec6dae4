package web

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/i18n"
)

// Lessons feeding capacity needs: from its exercise report, a participant's
// focal point turns a finding into a need of its State in one step. The
// need form comes filled in (topic, level, details naming the exercise,
// in the reader's language with English), is checked as any need, is seen
// by the Secretariat only unless the focal point chooses otherwise, and
// the need names the exercise.

// findingExercise is the exercise a need form was opened from: the query
// of the form's address, then the hidden field of the submitted form.
func findingExercise(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.FormValue("exercise"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

// needFromFinding fills a need in from a finding of the reader's report.
func (s *Server) needFromFinding(w http.ResponseWriter, r *http.Request, id int64) (capacity.NeedInput, bool) {
	rep, err := s.Exercises.Report(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return capacity.NeedInput{}, false
	}
	f, ok := rep.Finding(r.FormValue("finding"))
	if !ok {
		// Without a known finding the form names the exercise only.
		f = exercises.Finding{Level: string(directory.LevelTechnical), Topic: "exercises"}
	}
	p := s.page(r, "", nil)
	en := s.Catalog.For("en")
	e := rep.Exercise
	details := func(l *i18n.Localizer) string {
		what := f.Text
		if f.Key != "" {
			what = l.T(f.Key, "Level", l.T("level."+f.Level))
		}
		if what == "" {
			return l.T("capacity.need_from_exercise", "Name", e.Name, "Date", e.StartsAt.Format("2006-01-02"))
		}
		return l.T("capacity.need_from_finding", "Name", e.Name, "Date", e.StartsAt.Format("2006-01-02"), "Finding", what)
	}
	in := capacity.NeedInput{Kind: "training_course", Topics: []string{f.Topic}, Level: directory.Level(f.Level),
		Visibility: capacity.VisibleSecretariat, Details: directory.Text{Lang: p.Lang(), Text: details(p.Localizer)}}
	if p.Lang() != "en" {
		in.Details.English = details(en)
	}
	return in, true
}
