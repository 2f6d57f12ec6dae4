package checks

import (
	"context"
	"slices"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// The Secretariat's report of answer rates by region (C12): for each of its
// campaigns that has run, the share of the PoCs checked that answered in
// time, overall and by the UN regional group of their State, so that the
// regions that answer less stand out.

// CampaignRates is one campaign with its tally and its tallies by UN
// regional group.
type CampaignRates struct {
	Campaign *Campaign `json:"campaign"`
	// ByGroup has a line for every group of directory.Groups, in its
	// order; a group the campaign did not check has no targets.
	ByGroup []Group `json:"by_un_group"`
}

// Rates are the Secretariat's campaigns that have run, oldest first, and
// their tallies added up: overall and by UN regional group.
type Rates struct {
	Campaigns []CampaignRates `json:"campaigns"`
	ByGroup   []Group         `json:"by_un_group"`
	Tally
}

// AnswerRates counts, for each of the Secretariat's campaigns that has
// started (the newest 500), how many PoCs were checked and how many
// answered in time, late, or bounced, by the UN regional group of their
// State. Only the Secretariat may see it: it compares States with one
// another, and a State sees only its own results.
func (s *Service) AnswerRates(ctx context.Context) (*Rates, error) {
	return s.AnswerRatesNewest(ctx, 0)
}

// AnswerRatesNewest is AnswerRates of the newest n campaigns (all when 0):
// what the dashboard shows, read from the kept tallies, a row per
// campaign and State, however many campaigns ran before.
func (s *Service) AnswerRatesNewest(ctx context.Context, n int) (*Rates, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrForbidden()
	}
	counts, err := answersByState(ctx, s.DB, n)
	if err != nil {
		return nil, err
	}
	// The campaigns that found no PoC to check have no rate, and no row.
	ran, err := listStarted(ctx, s.DB, n)
	if err != nil {
		return nil, err
	}
	index := map[int64]*CampaignRates{}
	r := &Rates{Campaigns: []CampaignRates{}, ByGroup: groupLines()}
	for i := len(ran) - 1; i >= 0; i-- {
		c := ran[i]
		c.Tally = Tally{}
		r.Campaigns = append(r.Campaigns, CampaignRates{Campaign: c, ByGroup: groupLines()})
	}
	for i := range r.Campaigns {
		index[r.Campaigns[i].Campaign.ID] = &r.Campaigns[i]
	}
	for _, n := range counts {
		cr := index[n.campaign]
		if cr == nil {
			continue // older than the newest n
		}
		cr.Campaign.Tally.plus(n.Tally)
		r.Tally.plus(n.Tally)
		if st, ok := directory.ReferenceState(n.state); ok {
			if g := slices.Index(directory.Groups, st.Group); g >= 0 {
				cr.ByGroup[g].plus(n.Tally)
				r.ByGroup[g].plus(n.Tally)
			}
		}
	}
	return r, nil
}

func groupLines() []Group {
	out := make([]Group, len(directory.Groups))
	for i, g := range directory.Groups {
		out[i].Name = g
	}
	return out
}

func (t *Tally) plus(u Tally) {
	t.Targets += u.Targets
	t.Queued += u.Queued
	t.Answered += u.Answered
	t.Late += u.Late
	t.Bounced += u.Bounced
	t.Silent += u.Silent
}
