package exercises

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
)

// Report returns an exercise's report as the actor may see it. The
// Secretariat sees every participant and PoC by name, and the regions; a
// participant's user sees its own State's figures, the distribution of
// every participant's times without names, and its previous exercises.
// Nobody else sees it. It is made of times: comms is asked for the times
// of the injects' recipient lines, never for what anyone wrote.
func (s *Service) Report(ctx context.Context, id int64) (*Report, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(a, e) {
		return nil, app.ErrNotFound("exercise")
	}
	states, pocs, err := s.figures(ctx, e)
	if err != nil {
		return nil, err
	}
	r := &Report{Exercise: view(a, e), Distribution: distribution(states)}
	if seesAll(a, e) {
		// The controller: every participant's times, never what they wrote.
		r.Controller = true
		r.States, r.PoCs, r.Regions = states, pocs, regions(states)
		if a.IsSecretariat() {
			return r, nil
		}
		r.State = a.State
	} else {
		r.State = a.State
		r.States, r.PoCs = only(states, a.State), only(pocs, a.State)
	}
	if r.Previous, err = s.previous(ctx, a.State, e); err != nil {
		return nil, err
	}
	return r, nil
}

// only keeps a State's lines.
func only(list []Figures, state string) []Figures {
	out := []Figures{}
	for _, f := range list {
		if f.State == state {
			out = append(out, f)
		}
	}
	return out
}

// figures works out, for every released inject, each participant's
// figures and each of its PoCs', from the times comms keeps.
func (s *Service) figures(ctx context.Context, e *Exercise) (states, pocs []Figures, err error) {
	timings, err := s.comms.ExerciseTimings(app.WithActor(ctx, app.System), e.ID)
	if err != nil {
		return nil, nil, err
	}
	byComm := map[int64][]comms.Timing{}
	for _, t := range timings {
		byComm[t.CommID] = append(byComm[t.CommID], t)
	}
	states, pocs = []Figures{}, []Figures{}
	for n, inj := range e.Injects {
		if inj.Status != InjectReleased {
			continue
		}
		lines := map[string][]comms.Timing{}
		for _, c := range inj.Comms {
			for _, t := range byComm[c.CommID] {
				lines[t.State] = append(lines[t.State], t)
			}
		}
		for _, p := range e.Participants {
			ref, _ := directory.ReferenceState(p.State)
			st := Figures{Inject: n + 1, State: p.State, Group: ref.Group, Level: p.Level, Outcome: NoPoC}
			ls := lines[p.State]
			for _, t := range ls {
				f := Figures{Inject: n + 1, State: p.State, Group: ref.Group, Level: t.Level, PoCID: t.PoCID, Agency: t.Agency,
					OtherLvl: t.Route == comms.RouteOtherLevel, Outcome: outcomeOf(t)}
				f.Delivered, f.Opened = since(t.SentAt, t.DeliveredAt), since(t.SentAt, t.OpenedAt)
				f.Acked, f.Answered = since(t.SentAt, t.AckedAt), since(t.SentAt, t.AnsweredAt)
				f.meet(e)
				pocs = append(pocs, f)
				st.OtherLvl = st.OtherLvl || f.OtherLvl
				st.Delivered, st.Opened = earliest(st.Delivered, f.Delivered), earliest(st.Opened, f.Opened)
				st.Acked, st.Answered = earliest(st.Acked, f.Acked), earliest(st.Answered, f.Answered)
				st.Outcome = better(st.Outcome, f.Outcome)
			}
			st.meet(e)
			states = append(states, st)
		}
	}
	return states, pocs, nil
}

// outcomeOf says whether a recipient line was reached.
func outcomeOf(t comms.Timing) string {
	switch {
	case t.DeliveredAt != nil:
		return Reached
	case t.BouncedAt != nil:
		return Bounced
	}
	return Pending
}

// better is the State's outcome from its lines': reached by any PoC
// beats pending, which beats bounced by all.
func better(a, b string) string {
	rank := map[string]int{NoPoC: 0, Bounced: 1, Pending: 2, Reached: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func (f *Figures) meet(e *Exercise) {
	f.AckMet = f.Acked != nil && *f.Acked <= int64(e.TargetAck)*60
	f.AnswerMet = f.Answered != nil && *f.Answered <= int64(e.TargetAnswer)*60
}

// since is the seconds from sent to t, nil when t is.
func since(sent time.Time, t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	d := int64(t.Sub(sent) / time.Second)
	return &d
}

func earliest(a, b *int64) *int64 {
	if a == nil || (b != nil && *b < *a) {
		return b
	}
	return a
}

// median is the median of the values, nil when there are none (the lower
// of the middle two for an even count, so it is one of the times).
func median(v []int64) *int64 {
	if len(v) == 0 {
		return nil
	}
	v = slices.Clone(v)
	slices.Sort(v)
	m := v[(len(v)-1)/2]
	return &m
}

// distribution is every participant's times for every inject, sorted and
// unnamed.
func distribution(states []Figures) Distribution {
	d := Distribution{Acked: []int64{}, Answered: []int64{}}
	for _, f := range states {
		if f.Acked != nil {
			d.Acked = append(d.Acked, *f.Acked)
		}
		if f.Answered != nil {
			d.Answered = append(d.Answered, *f.Answered)
		} else {
			d.Silent++
		}
	}
	slices.Sort(d.Acked)
	slices.Sort(d.Answered)
	return d
}

// regions sums the participants' figures by UN regional group.
func regions(states []Figures) []Region {
	by := map[string]*Region{}
	acks, answers := map[string][]int64{}, map[string][]int64{}
	for _, f := range states {
		r := by[f.Group]
		if r == nil {
			r = &Region{Group: f.Group}
			by[f.Group] = r
		}
		r.Participants++
		if f.Outcome == Reached {
			r.Reached++
		}
		if f.Acked != nil {
			r.Acked++
			acks[f.Group] = append(acks[f.Group], *f.Acked)
		}
		if f.Answered != nil {
			r.Answered++
			answers[f.Group] = append(answers[f.Group], *f.Answered)
		}
		if f.AckMet {
			r.AckMet++
		}
		if f.AnswerMet {
			r.AnswerMet++
		}
	}
	out := make([]Region, 0, len(by))
	for g, r := range by {
		r.MedianAck, r.MedianAnswer = median(acks[g]), median(answers[g])
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Region) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// previous is a State's figures in the exercises it took part in before
// this one.
func (s *Service) previous(ctx context.Context, state string, e *Exercise) ([]Previous, error) {
	list, err := previousOf(ctx, s.DB, state, e.StartsAt, MaxPrevious)
	if err != nil {
		return nil, err
	}
	out := []Previous{}
	for _, p := range list {
		if err := fillExercise(ctx, s.DB, p); err != nil {
			return nil, err
		}
		states, _, err := s.figures(ctx, p)
		if err != nil {
			return nil, err
		}
		prev := Previous{ID: p.ID, Name: p.Name, StartsAt: p.StartsAt}
		var acks, answers []int64
		for _, f := range only(states, state) {
			prev.Lines++
			if f.Acked != nil {
				acks = append(acks, *f.Acked)
			}
			if f.Answered != nil {
				prev.Answered++
				answers = append(answers, *f.Answered)
			}
		}
		prev.MedianAck, prev.MedianAnswer = median(acks), median(answers)
		out = append(out, prev)
	}
	return out, nil
}
