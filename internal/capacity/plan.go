package capacity

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// The Secretariat's action plan and what it reads of progress.

// CreatePlan makes a new action plan with its measures (the Secretariat):
// the plan made last is the one progress is read against.
func (s *Service) CreatePlan(ctx context.Context, in PlanInput, measures []MeasureInput) (*Plan, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !CanManage(a) {
		return nil, app.ErrForbidden()
	}
	var v app.Validation
	in.Title = strings.TrimSpace(in.Title)
	directory.CheckLen(&v, "title", in.Title, MaxShort, true)
	in.PeriodFrom = checkDate(&v, "period_from", in.PeriodFrom)
	in.PeriodTo = checkDate(&v, "period_to", in.PeriodTo)
	if !v.HasField("period_from") && in.PeriodFrom == "" {
		v.Add("period_from", "error.required", "this field is required", nil)
	}
	if !v.HasField("period_to") && in.PeriodTo == "" {
		v.Add("period_to", "error.required", "this field is required", nil)
	}
	if in.PeriodFrom != "" && in.PeriodTo != "" && in.PeriodTo < in.PeriodFrom {
		v.Add("period_to", "error.capacity_period", "the period ends before it starts", nil)
	}
	if len(measures) > MaxMeasures {
		v.Add("measures", "error.too_many", "too many entries", map[string]any{"Max": MaxMeasures})
		measures = nil
	}
	for i := range measures {
		checkMeasure(&v, &measures[i])
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	p := &Plan{PlanInput: in, CreatedBy: a.Email, CreatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := insertPlan(ctx, tx, p); err != nil {
			return err
		}
		for _, mi := range measures {
			m := &Measure{PlanID: p.ID, MeasureInput: mi}
			if err := insertMeasure(ctx, tx, m, now); err != nil {
				return err
			}
			p.Measures = append(p.Measures, m)
		}
		return logEvent(ctx, tx, a, "plan_created", planObject(p.ID), nil, now)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func checkMeasure(v *app.Validation, m *MeasureInput) {
	m.Title = strings.TrimSpace(m.Title)
	directory.CheckLen(v, "measure_title", m.Title, MaxShort, true)
	if m.Kind != "" && !validKind(m.Kind) {
		v.Add("measure_kind", "error.capacity_kind", "choose a kind of help", nil)
	}
	if m.Target < 0 || m.Target > MaxTarget {
		v.Add("measure_target", "error.capacity_number", "a number from 0 to {{.Max}}", map[string]any{"Max": MaxTarget})
	}
}

// AddMeasure adds a measure to the current action plan (the Secretariat).
func (s *Service) AddMeasure(ctx context.Context, in MeasureInput) (*Measure, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !CanManage(a) {
		return nil, app.ErrForbidden()
	}
	var v app.Validation
	checkMeasure(&v, &in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	m := &Measure{MeasureInput: in}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		p, err := latestPlan(ctx, tx)
		if err != nil {
			return err
		}
		if p == nil {
			return app.Errorf(app.Conflict, "error.capacity_no_plan", "there is no action plan yet")
		}
		if len(p.Measures) >= MaxMeasures {
			return app.FieldError("measure_title", "error.too_many", "too many entries", map[string]any{"Max": MaxMeasures})
		}
		m.PlanID = p.ID
		if err := insertMeasure(ctx, tx, m, now); err != nil {
			return err
		}
		return logEvent(ctx, tx, a, "measure_added", planObject(p.ID), nil, now)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Plan returns the current action plan with each measure's activities
// counted, or nil when there is none. Every signed-in user reads it: the
// plan is the States' common work.
func (s *Service) Plan(ctx context.Context) (*Plan, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	p, err := latestPlan(ctx, s.DB)
	if err != nil || p == nil {
		return nil, err
	}
	// The plan's measures' activities counted in SQL, through the index
	// of a measure's activities: every reader of the capacity page read
	// every activity of ten years here.
	counts, err := measureCounts(ctx, s.DB, p.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range p.Measures {
		c := counts[m.ID]
		m.Planned, m.Done = c[ActivityPlanned]+c[ActivityUnderWay], c[ActivityDone]
	}
	return p, nil
}

func countMeasures(p *Plan, acts []*Activity) {
	for _, m := range p.Measures {
		for _, x := range acts {
			if x.MeasureID != m.ID {
				continue
			}
			switch x.Status {
			case ActivityDone:
				m.Done++
			case ActivityPlanned, ActivityUnderWay:
				m.Planned++
			}
		}
	}
}

// Progress is what the Secretariat reads of capacity-building: needs open,
// matched and met by UN regional group, the median time from a need to
// its match and from the match to the activity done, and the current
// plan's measures with their activities. For the Secretariat.
func (s *Service) Progress(ctx context.Context) (*Progress, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	needs, err := listNeeds(ctx, s.DB, app.Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	matches, err := listMatches(ctx, s.DB, "", app.Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	acts, err := listActivities(ctx, s.DB, "", app.Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	p, err := latestPlan(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	return progress(needs, matches, acts, p), nil
}

// progress computes the figures from the rows, so that tests can give
// known timestamps.
func progress(needs []*Need, matches []*Match, acts []*Activity, plan *Plan) *Progress {
	pr := &Progress{Plan: plan}
	byGroup := map[string]*RegionCount{}
	for _, g := range directory.Groups {
		pr.Regions = append(pr.Regions, RegionCount{Group: g})
	}
	for i := range pr.Regions {
		byGroup[pr.Regions[i].Group] = &pr.Regions[i]
	}
	created := map[int64]time.Time{}
	var toMatch []float64
	for _, n := range needs {
		created[n.ID] = n.CreatedAt
		st, _ := directory.ReferenceState(n.State)
		rc := byGroup[st.Group]
		if rc == nil {
			continue
		}
		switch n.Status {
		case NeedOpen:
			rc.Open++
		case NeedMatched:
			rc.Matched++
		case NeedMet:
			rc.Met++
		}
	}
	decided := map[int64]time.Time{}
	for _, m := range matches {
		if m.Status == MatchAccepted && m.DecidedAt != nil {
			decided[m.ID] = *m.DecidedAt
			if c, ok := created[m.NeedID]; ok {
				toMatch = append(toMatch, m.DecidedAt.Sub(c).Hours()/24)
			}
		}
	}
	var toDone []float64
	for _, x := range acts {
		if x.Status == ActivityDone && x.DoneAt != nil {
			pr.Done++
			if d, ok := decided[x.MatchID]; ok {
				toDone = append(toDone, x.DoneAt.Sub(d).Hours()/24)
			}
		}
	}
	pr.Matched = len(toMatch)
	pr.DaysToMatch, pr.DaysToDone = median(toMatch), median(toDone)
	if plan != nil {
		countMeasures(plan, acts)
	}
	return pr
}

// median returns the median in whole days (rounded), or -1 for none.
func median(v []float64) int {
	if len(v) == 0 {
		return -1
	}
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return int(m + 0.5)
}

// Exported records in the log that the actor took capacity-building
// figures away (a CSV file for the annual report). For the Secretariat.
func (s *Service) Exported(ctx context.Context, what string) error {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return err
	}
	if !a.IsSecretariat() {
		return app.ErrForbidden()
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		return logEvent(ctx, tx, a, "exported", "capacity:"+what, nil, s.Now())
	})
}
