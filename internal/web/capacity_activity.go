package web

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
)

// An activity: what an accepted match became, its progress and outcome.

type activityData struct {
	A           *capacity.Activity
	Need        *capacity.Need
	Offer       *capacity.Offer
	In          capacity.ActivityInput
	Plan        *capacity.Plan
	Statuses    []string
	UNLanguages []string
	CanUpdate   bool
}

func (s *Server) activityView(w http.ResponseWriter, r *http.Request, status int, in *capacity.ActivityInput, ferr error) {
	ctx := r.Context()
	id, err := pathID(r, "id", "activity")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.Capacity.Activity(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &activityData{A: x, In: x.ActivityInput, Statuses: capacity.ActivityStatuses, UNLanguages: directory.UNLanguages,
		CanUpdate: capacity.CanUpdateActivity(app.ActorFrom(ctx), x)}
	if in != nil {
		d.In = *in
	}
	if d.In.Outcome.Lang == "" {
		d.In.Outcome.Lang = "en"
	}
	if d.Need, err = s.Capacity.Need(ctx, x.NeedID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Offer, err = s.Capacity.Offer(ctx, x.OfferID); err != nil && app.ErrorCode(err) != app.NotFound {
		s.fail(w, r, err)
		return
	}
	if d.Plan, err = s.Capacity.Plan(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "capacity.activity_title", d)
	if ferr != nil {
		p.withError(ferr)
	}
	s.render(w, r, status, "capacity_activity.html", p)
}

func (s *Server) activityPage(w http.ResponseWriter, r *http.Request) {
	s.activityView(w, r, http.StatusOK, nil, nil)
}

func (s *Server) activitySubmit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "activity")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 32<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := capacity.ActivityInput{Status: f.Get("status"), StartsOn: f.Get("starts_on"), EndsOn: f.Get("ends_on"),
		Participants: atoi(f.Get("participants")), MeasureID: atoi64(f.Get("measure_id")),
		Outcome: directory.Text{Lang: f.Get("outcome_lang"), Text: f.Get("outcome"), English: f.Get("outcome_en")}}
	if _, err := s.Capacity.UpdateActivity(r.Context(), id, in); err != nil {
		if app.ErrorCode(err) == app.Invalid {
			s.activityView(w, r, s.errorStatus(r, err), &in, err)
		} else {
			s.fail(w, r, err)
		}
		return
	}
	s.done(w, r, "capacity.flash_activity_changed", "/capacity/activities/"+strconv.FormatInt(id, 10))
}
