package capacity

import (
	"context"
	"database/sql"
	"slices"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// seesActivity: the Secretariat and the two sides' users see an activity.
func seesActivity(a *app.Actor, x *Activity) bool {
	if a == nil {
		return false
	}
	return a.IsSecretariat() || (a.State != "" && (a.State == x.NeedState || a.State == x.OfferState))
}

// CanUpdateActivity reports whether the actor records an activity's
// progress: the Secretariat, or a focal point of either side.
func CanUpdateActivity(a *app.Actor, x *Activity) bool {
	return CanManage(a) || canRecord(a, x.NeedState) || canRecord(a, x.OfferState)
}

// next says which statuses an activity may move to: forward, or cancelled
// before it is done. Done and cancelled are final.
func next(from, to string) bool {
	if from == to {
		return from != ActivityDone && from != ActivityCancelled
	}
	switch from {
	case ActivityPlanned:
		return to == ActivityUnderWay || to == ActivityDone || to == ActivityCancelled
	case ActivityUnderWay:
		return to == ActivityDone || to == ActivityCancelled
	}
	return false
}

func (in *ActivityInput) normalize() *app.Validation {
	var v app.Validation
	if !slices.Contains(ActivityStatuses, in.Status) {
		v.Add("status", "error.capacity_status", "choose a status", nil)
	}
	in.StartsOn = checkDate(&v, "starts_on", in.StartsOn)
	in.EndsOn = checkDate(&v, "ends_on", in.EndsOn)
	if in.StartsOn != "" && in.EndsOn != "" && in.EndsOn < in.StartsOn {
		v.Add("ends_on", "error.capacity_period", "the period ends before it starts", nil)
	}
	if in.Participants < 0 || in.Participants > MaxCapacity {
		v.Add("participants", "error.capacity_number", "a number from 0 to {{.Max}}", map[string]any{"Max": MaxCapacity})
	}
	directory.CheckText(&v, "outcome", &in.Outcome, MaxText)
	return &v
}

// UpdateActivity records an activity's status, dates, participants, the
// measure of the action plan it serves and its outcome. Done meets the
// need; cancelled opens it again.
func (s *Service) UpdateActivity(ctx context.Context, id int64, in ActivityInput) (*Activity, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	v := in.normalize()
	now := s.Now()
	var x *Activity
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		x, err = getActivity(ctx, tx, id)
		if err != nil {
			return err
		}
		if x == nil || !seesActivity(a, x) {
			return app.ErrNotFound("activity")
		}
		if !CanUpdateActivity(a, x) {
			return app.ErrForbidden()
		}
		if in.MeasureID != 0 {
			ok, err := measureExists(ctx, tx, in.MeasureID)
			if err != nil {
				return err
			}
			if !ok {
				v.Add("measure_id", "error.capacity_measure", "choose a measure of the action plan", nil)
			}
		}
		if in.Status != "" && !v.HasField("status") && !next(x.Status, in.Status) {
			v.Add("status", "error.capacity_status_move", "an activity cannot go back, nor change once done or cancelled", nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		was := x.Status
		x.ActivityInput, x.UpdatedAt = in, now
		if in.Status == ActivityDone && was != ActivityDone {
			x.DoneAt = &now
		}
		if err := updateActivity(ctx, tx, x); err != nil {
			return err
		}
		if in.Status != was && (in.Status == ActivityDone || in.Status == ActivityCancelled) {
			n, err := getNeed(ctx, tx, x.NeedID)
			if err != nil {
				return err
			}
			if in.Status == ActivityDone {
				n.Status, n.MetAt = NeedMet, &now
			} else {
				n.Status, n.MatchedAt = NeedOpen, nil
			}
			n.UpdatedAt = now
			if err := updateNeed(ctx, tx, n); err != nil {
				return err
			}
		}
		return logEvent(ctx, tx, a, "activity_changed", activityObject(x.ID), states(x.NeedState, x.OfferState), now)
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// Activity returns an activity the actor may see.
func (s *Service) Activity(ctx context.Context, id int64) (*Activity, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	x, err := getActivity(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if x == nil || !seesActivity(a, x) {
		return nil, app.ErrNotFound("activity")
	}
	return x, nil
}

// Activities lists a page of the activities the actor may see, newest
// first from the cursor k, limit of them (app.PageSize when 0): every one
// for the Secretariat, those of their State's matches for a State's
// readers.
func (s *Service) Activities(ctx context.Context, k app.Cursor, limit int) (*ActivityPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit, err = app.Limit(limit); err != nil {
		return nil, err
	}
	p := &ActivityPage{}
	if !a.IsSecretariat() && a.State == "" {
		return p, nil
	}
	state := a.State
	if a.IsSecretariat() {
		state = ""
	}
	list, err := app.Collect(k, limit, func(k app.Cursor, n int) ([]*Activity, error) { return listActivities(ctx, s.DB, state, k, n) }, activityCursor,
		func(x *Activity) bool { return seesActivity(a, x) })
	if err != nil {
		return nil, err
	}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, activityCursor)
	return p, nil
}

func activityCursor(x *Activity) app.Cursor { return app.CursorAt(x.CreatedAt, x.ID) }
