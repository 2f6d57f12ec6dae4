package directory

import (
	"context"

	"github.com/pocdir/pocdir/internal/app"
)

// DefaultThreshold is the number of States that must have nominated a PoC
// for the directory to count as operational (the cross-regional proposal).
const DefaultThreshold = 50

// Status is how far the directory is from operational.
type Status struct {
	// Nominated counts the States with at least one PoC; ByLevel, those with
	// at least one PoC at each level.
	Nominated int `json:"nominated"`
	// MembersNominated counts the UN Member States among them: observer
	// States are listed, but the directory is operational once 50 Member
	// States have nominated.
	MembersNominated int           `json:"members_nominated"`
	ByLevel          map[Level]int `json:"by_level"`
	States           int           `json:"states"`
	Threshold        int           `json:"threshold"`
	Operational      bool          `json:"operational"`
	// Fresh counts nominated States by freshness of their reconfirmation.
	Fresh map[Freshness]int `json:"freshness"`
}

// Status counts the States that have nominated PoCs, at each level, and
// says whether the threshold is reached. Every signed-in user may see it.
func (s *Service) Status(ctx context.Context) (*Status, error) {
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	snap, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{ByLevel: map[Level]int{}, Fresh: map[Freshness]int{}, States: len(snap.entries), Threshold: s.threshold}
	now := s.Now()
	for _, e := range snap.entries {
		if len(e.PoCs) == 0 {
			continue
		}
		st.Nominated++
		if e.Status == "member" {
			st.MembersNominated++
		}
		st.Fresh[e.FreshnessAt(now)]++
		seen := map[Level]bool{}
		for _, p := range e.PoCs {
			if !seen[p.Level] {
				seen[p.Level] = true
				st.ByLevel[p.Level]++
			}
		}
	}
	st.Operational = st.MembersNominated >= st.Threshold
	return st, nil
}

// Diplomatic counts the States with a diplomatic PoC.
func (s *Status) Diplomatic() int { return s.ByLevel[LevelDiplomatic] }

// Technical counts the States with a technical PoC.
func (s *Status) Technical() int { return s.ByLevel[LevelTechnical] }
