package directory

import (
	"context"
	"sort"
	"time"

	"github.com/pocdir/pocdir/internal/app"
)

// The Secretariat's dashboard: how much of the world the directory covers,
// how it grew, how fresh it is and how well the 30-day rule is kept.

// Coverage counts, for a group of States (a UN regional group or a regional
// body), how many have nominated, and at the two main levels.
type Coverage struct {
	Name       string `json:"name"`
	States     int    `json:"states"`
	Nominated  int    `json:"nominated"`
	Technical  int    `json:"technical"`
	Diplomatic int    `json:"diplomatic"`
}

// Month is the number of States that had nominated by the end of a month.
type Month struct {
	Month  string `json:"month"` // YYYY-MM
	States int    `json:"states"`
}

// StateFigures is one State's line of the dashboard.
type StateFigures struct {
	Code      string     `json:"code"`
	ISO2      string     `json:"iso2"`
	M49       string     `json:"m49"`
	Name      string     `json:"name"`
	Group     string     `json:"un_group"`
	Bodies    []string   `json:"regional_bodies"`
	PoCs      int        `json:"pocs"`
	Freshness Freshness  `json:"freshness"`
	DueAt     *time.Time `json:"due_at,omitempty"`
	Changes   int        `json:"changes"`
	Late      int        `json:"late"`
	Pending   int        `json:"pending"`
}

// Dashboard is every figure of the Secretariat's dashboard.
type Dashboard struct {
	Status     *Status        `json:"status"`
	ByGroup    []Coverage     `json:"by_un_group"`
	ByBody     []Coverage     `json:"by_regional_body"`
	Timeline   []Month        `json:"timeline"`
	Compliance Compliance     `json:"compliance"`
	Pending    int            `json:"pending_nominations"`
	States     []StateFigures `json:"states"`
}

// Dashboard computes the dashboard. Only the Secretariat may see it: it
// compares States with one another.
func (s *Service) Dashboard(ctx context.Context) (*Dashboard, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	st, err := s.Status(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	d := &Dashboard{Status: st}
	byCode := map[string]*StateFigures{}
	groups, bodies := map[string]*Coverage{}, map[string]*Coverage{}
	for _, g := range Groups {
		groups[g] = &Coverage{Name: g}
	}
	for _, b := range Bodies {
		bodies[b] = &Coverage{Name: b}
	}
	var first []time.Time
	for _, e := range snap.entries {
		f := StateFigures{Code: e.Code, ISO2: e.ISO2, M49: e.M49, Name: e.Name, Group: e.Group, Bodies: e.Bodies, PoCs: len(e.PoCs),
			Freshness: e.FreshnessAt(now), DueAt: e.DueAt()}
		d.States = append(d.States, f)
		if e.FirstNominatedAt != nil {
			first = append(first, *e.FirstNominatedAt)
		}
		tech, dipl := false, false
		for _, p := range e.PoCs {
			tech = tech || p.Level == LevelTechnical
			dipl = dipl || p.Level == LevelDiplomatic
		}
		count := func(c *Coverage) {
			if c == nil {
				return
			}
			c.States++
			if len(e.PoCs) > 0 {
				c.Nominated++
			}
			if tech {
				c.Technical++
			}
			if dipl {
				c.Diplomatic++
			}
		}
		count(groups[e.Group])
		for _, b := range e.Bodies {
			count(bodies[b])
		}
	}
	for i := range d.States {
		byCode[d.States[i].Code] = &d.States[i]
	}
	for _, g := range Groups {
		d.ByGroup = append(d.ByGroup, *groups[g])
	}
	for _, b := range Bodies {
		d.ByBody = append(d.ByBody, *bodies[b])
	}
	d.Timeline = timeline(first, now)

	// The 30-day rule, per State, from the figures kept by State.
	kept, err := rule30Tallies(ctx, s.DB, "")
	if err != nil {
		return nil, err
	}
	for code, k := range kept {
		d.Compliance.Changes += k.Changes
		d.Compliance.Late += k.Late
		if f := byCode[code]; f != nil {
			f.Changes += k.Changes
			f.Late += k.Late
		}
	}
	pending, err := pendingByState(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	for code, n := range pending {
		d.Pending += n
		if f := byCode[code]; f != nil {
			f.Pending = n
		}
	}
	return d, nil
}

// timeline counts, for each month from the first nomination (and at least
// the last twelve months) to now, the States that had nominated by its end.
func timeline(first []time.Time, now time.Time) []Month {
	sort.Slice(first, func(i, j int) bool { return first[i].Before(first[j]) })
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -11, 0)
	if len(first) > 0 && first[0].Before(start) {
		start = time.Date(first[0].Year(), first[0].Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	var out []Month
	i := 0
	for m := start; !m.After(now); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, 0)
		for i < len(first) && first[i].Before(end) {
			i++
		}
		out = append(out, Month{Month: m.Format("2006-01"), States: i})
	}
	return out
}
