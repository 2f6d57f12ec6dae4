package api

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/capacity"
)

// Capacity-building: needs, offers, matches, activities and the action
// plan. The service decides who sees and does what.

func (a *API) listNeeds(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Capacity.Needs(r.Context(), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "needs", nonNil(page.List), page.Older)
}

func (a *API) createNeed(w http.ResponseWriter, r *http.Request) {
	// exercise_id names the exercise whose finding the need was learnt
	// from.
	var in struct {
		capacity.NeedInput
		ExerciseID int64 `json:"exercise_id"`
	}
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	var n *capacity.Need
	var err error
	if in.ExerciseID != 0 {
		n, err = a.Capacity.RecordNeedFromExercise(r.Context(), in.ExerciseID, in.NeedInput)
	} else {
		n, err = a.Capacity.RecordNeed(r.Context(), in.NeedInput)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/capacity/needs/"+strconv.FormatInt(n.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, n)
}

func (a *API) getNeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Capacity.Need(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, n)
}

func (a *API) updateNeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in capacity.NeedInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Capacity.UpdateNeed(r.Context(), id, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, n)
}

func (a *API) withdrawNeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.Capacity.WithdrawNeed(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, n)
}

func (a *API) listOffers(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Capacity.Offers(r.Context(), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "offers", nonNil(page.List), page.Older)
}

func (a *API) createOffer(w http.ResponseWriter, r *http.Request) {
	var in capacity.OfferInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	o, err := a.Capacity.RecordOffer(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/capacity/offers/"+strconv.FormatInt(o.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, o)
}

func (a *API) getOffer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	o, err := a.Capacity.Offer(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, o)
}

func (a *API) withdrawOffer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	o, err := a.Capacity.WithdrawOffer(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, o)
}

func (a *API) listMatches(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Capacity.Matches(r.Context(), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "matches", nonNil(page.List), page.Older)
}

func (a *API) suggestMatches(w http.ResponseWriter, r *http.Request) {
	list, err := a.Capacity.Suggestions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"suggestions": nonNil(list)})
}

func (a *API) proposeMatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		NeedID  int64 `json:"need_id"`
		OfferID int64 `json:"offer_id"`
	}
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.Capacity.Propose(r.Context(), in.NeedID, in.OfferID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/capacity/matches/"+strconv.FormatInt(m.ID, 10))
	a.writeJSON(w, r, http.StatusCreated, m)
}

func (a *API) getMatch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.Capacity.Match(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, m)
}

func (a *API) answerMatch(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in struct {
		Answer string `json:"answer"`
	}
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.Capacity.Answer(r.Context(), id, in.Answer)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, m)
}

func (a *API) listActivities(w http.ResponseWriter, r *http.Request) {
	k, limit, err := pageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.Capacity.Activities(r.Context(), k, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writePage(w, r, "activities", nonNil(page.List), page.Older)
}

func (a *API) getActivity(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	x, err := a.Capacity.Activity(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, x)
}

func (a *API) updateActivity(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in capacity.ActivityInput
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	x, err := a.Capacity.UpdateActivity(r.Context(), id, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, x)
}

func (a *API) getPlan(w http.ResponseWriter, r *http.Request) {
	p, err := a.Capacity.Plan(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"plan": p})
}

func (a *API) createPlan(w http.ResponseWriter, r *http.Request) {
	var in struct {
		capacity.PlanInput
		Measures []capacity.MeasureInput `json:"measures"`
	}
	if err := decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	p, err := a.Capacity.CreatePlan(r.Context(), in.PlanInput, in.Measures)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/capacity/plan")
	a.writeJSON(w, r, http.StatusCreated, p)
}

func (a *API) capacityProgress(w http.ResponseWriter, r *http.Request) {
	p, err := a.Capacity.Progress(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, p)
}

// nonNil makes an empty list read as [] rather than null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
