package web

import (
	"net/http"
	"net/url"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
)

// A State's focal point records, changes and withdraws its needs.

type needFormData struct {
	*capacityChoices
	In capacity.NeedInput
	// ID is the need changed; 0 for a new one.
	ID int64
	// Exercise is the exercise a new need is learnt from; 0 for most.
	Exercise int64
}

// needInput reads the need form.
func needInput(f url.Values) capacity.NeedInput {
	return capacity.NeedInput{Kind: f.Get("kind"), Topics: f["topics"], TopicOther: f.Get("topic_other"),
		Level: directory.Level(f.Get("level")), Languages: formLanguages(f), NeededBy: f.Get("needed_by"),
		Visibility: capacity.Visibility(f.Get("visibility")),
		Details:    directory.Text{Lang: f.Get("details_lang"), Text: f.Get("details"), English: f.Get("details_en")}}
}

func (s *Server) needForm(w http.ResponseWriter, r *http.Request, status int, id int64, in capacity.NeedInput, err error) {
	a := app.ActorFrom(r.Context())
	if !capacity.CanRecordNeed(a) {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	if in.Visibility == "" {
		in.Visibility = capacity.VisibleSecretariat
	}
	if in.Details.Lang == "" {
		in.Details.Lang = "en"
	}
	title := "capacity.need_new_title"
	if id != 0 {
		title = "capacity.need_edit_title"
	}
	d := &needFormData{capacityChoices: newChoices(a, in.Languages), In: in, ID: id}
	if id == 0 {
		d.Exercise = findingExercise(r)
	}
	p := s.page(r, title, d)
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "capacity_need.html", p)
}

func (s *Server) needNewForm(w http.ResponseWriter, r *http.Request) {
	in := capacity.NeedInput{Level: directory.LevelTechnical}
	if ex := findingExercise(r); ex != 0 {
		var ok bool
		if in, ok = s.needFromFinding(w, r, ex); !ok {
			return
		}
	}
	s.needForm(w, r, http.StatusOK, 0, in, nil)
}

func (s *Server) needNewSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	in := needInput(r.PostForm)
	var err error
	if ex := findingExercise(r); ex != 0 {
		_, err = s.Capacity.RecordNeedFromExercise(r.Context(), ex, in)
	} else {
		_, err = s.Capacity.RecordNeed(r.Context(), in)
	}
	if err != nil {
		if c := app.ErrorCode(err); c == app.Invalid {
			s.needForm(w, r, s.errorStatus(r, err), 0, in, err)
		} else {
			s.fail(w, r, err)
		}
		return
	}
	s.done(w, r, "capacity.flash_need", "/capacity")
}

func (s *Server) needEditForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "need")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.Capacity.Need(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !capacity.CanWithdrawNeed(app.ActorFrom(r.Context()), n) {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	s.needForm(w, r, http.StatusOK, id, n.NeedInput, nil)
}

func (s *Server) needEditSubmit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "need")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	in := needInput(r.PostForm)
	if _, err := s.Capacity.UpdateNeed(r.Context(), id, in); err != nil {
		if c := app.ErrorCode(err); c == app.Invalid {
			s.needForm(w, r, s.errorStatus(r, err), id, in, err)
		} else {
			s.fail(w, r, err)
		}
		return
	}
	s.done(w, r, "capacity.flash_need_changed", "/capacity")
}

func (s *Server) needWithdraw(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "need")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Capacity.WithdrawNeed(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "capacity.flash_need_withdrawn", "/capacity")
}
