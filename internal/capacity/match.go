package capacity

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
)

// The weights of a suggestion's score (out of 100). A shared topic weighs
// most: help on the wrong subject is no help. A shared language comes
// next: help that cannot be understood is none either.
const (
	pointsTopic     = 40 // at least one shared topic
	pointsTopicMore = 5  // each further shared topic, up to 10
	pointsLanguage  = 20
	pointsKind      = 10
	pointsLevel     = 10
	pointsPeriod    = 10
	pointsRegion    = 5
	// MinScore is the least score shown as a suggestion.
	MinScore = 40
	// MaxSuggestions bounds the list the Secretariat reads.
	MaxSuggestions = 200
)

// Score rates how well an offer fits a need, with the reasons in words
// (for and against) that the Secretariat reads before proposing.
func Score(n *Need, o *Offer) (int, []Reason) {
	var score int
	var rs []Reason
	add := func(points int, key, english string, args map[string]any) {
		score += points
		rs = append(rs, Reason{Key: key, Args: args, English: english, Points: points})
	}
	var shared []string
	for _, t := range n.Topics {
		if slices.Contains(o.Topics, t) {
			shared = append(shared, t)
		}
	}
	if len(shared) > 0 {
		extra := min(pointsTopicMore*(len(shared)-1), 2*pointsTopicMore)
		add(pointsTopic+extra, "capacity.reason_topics", "shared topics: "+strings.Join(shared, ", "), map[string]any{"Topics": shared})
	} else {
		add(0, "capacity.reason_no_topic", "no topic in common", nil)
	}
	var langs []string
	for _, l := range n.Languages {
		if slices.Contains(o.Languages, l) {
			langs = append(langs, l)
		}
	}
	if len(langs) > 0 {
		add(pointsLanguage, "capacity.reason_languages", "help in "+strings.Join(langs, ", "), map[string]any{"Languages": langs})
	} else {
		add(0, "capacity.reason_no_language", "no language in common", nil)
	}
	if n.Kind == o.Kind {
		add(pointsKind, "capacity.reason_kind", "the kind asked for", map[string]any{"Kind": n.Kind})
	}
	switch {
	case o.Level == "":
		add(pointsLevel, "capacity.reason_any_level", "offered at every level", nil)
	case o.Level == n.Level:
		add(pointsLevel, "capacity.reason_level", "the level asked for", map[string]any{"Level": string(n.Level)})
	default:
		add(0, "capacity.reason_other_level", "offered at another level", map[string]any{"Level": string(o.Level)})
	}
	switch {
	case n.NeededBy == "" || (o.PeriodFrom == "" && o.PeriodTo == ""):
		add(pointsPeriod/2, "capacity.reason_period_open", "no dates to compare", nil)
	case o.PeriodFrom != "" && o.PeriodFrom > n.NeededBy:
		add(0, "capacity.reason_period_late", "offered only after the date needed", map[string]any{"Date": o.PeriodFrom})
	default:
		add(pointsPeriod, "capacity.reason_period", "offered in time", nil)
	}
	if o.State != "" {
		ns, _ := directory.ReferenceState(n.State)
		os, _ := directory.ReferenceState(o.State)
		if ns.Group != "" && ns.Group == os.Group {
			add(pointsRegion, "capacity.reason_region", "same regional group", map[string]any{"Group": ns.Group})
		}
	}
	return score, rs
}

// logStates names the States whose users see a match's log entries: the
// needing State; the offering State only once the need is shown to it
// (its visibility reaches that State, or the needing State accepted), so
// that the log does not tell a State of a need it may not see.
func (m *Match) logStates(n *Need, o *Offer) []string {
	if m.NeedAnswer == Accept || n.Visibility == VisibleAll || (n.Visibility == VisibleOfferers && sharesTopic(n, o)) {
		return states(m.NeedState, m.OfferState)
	}
	return states(m.NeedState)
}

func sharesTopic(n *Need, o *Offer) bool {
	for _, t := range n.Topics {
		if slices.Contains(o.Topics, t) {
			return true
		}
	}
	return false
}

// Suggestions ranks the open offers that fit each open need, best first,
// leaving out pairs already proposed (or declined) and a State's own
// offers. For the Secretariat.
func (s *Service) Suggestions(ctx context.Context) ([]*Suggestion, error) {
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
	offers, err := listOffers(ctx, s.DB, app.Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	matches, err := listMatches(ctx, s.DB, "", app.Cursor{}, 0)
	if err != nil {
		return nil, err
	}
	type pair struct{ n, o int64 }
	taken := map[pair]bool{}
	for _, m := range matches {
		taken[pair{m.NeedID, m.OfferID}] = true
	}
	var out []*Suggestion
	for _, n := range needs {
		if n.Status != NeedOpen {
			continue
		}
		for _, o := range offers {
			if o.Status != OfferOpen || o.State == n.State || taken[pair{n.ID, o.ID}] {
				continue
			}
			// Help on another subject is no help: a suggestion shares a
			// topic, or (for a need told in words only) the kind.
			if !sharesTopic(n, o) && !(len(n.Topics) == 0 && n.Kind == o.Kind) {
				continue
			}
			score, rs := Score(n, o)
			if score >= MinScore {
				out = append(out, &Suggestion{Need: n, Offer: o, Score: score, Reasons: rs})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Need.CreatedAt.Before(out[j].Need.CreatedAt)
	})
	if len(out) > MaxSuggestions {
		out = out[:MaxSuggestions]
	}
	return out, nil
}

// Propose puts a need and an offer together (the Secretariat); both sides
// then accept or decline.
func (s *Service) Propose(ctx context.Context, needID, offerID int64) (*Match, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !CanManage(a) {
		return nil, app.ErrForbidden()
	}
	now := s.Now()
	var m *Match
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		n, err := getNeed(ctx, tx, needID)
		if err != nil {
			return err
		}
		if n == nil {
			return app.ErrNotFound("need")
		}
		o, err := getOffer(ctx, tx, offerID)
		if err != nil {
			return err
		}
		if o == nil {
			return app.ErrNotFound("offer")
		}
		if n.Status != NeedOpen {
			return app.Errorf(app.Conflict, "error.capacity_need_closed", "this need is no longer open")
		}
		if o.Status != OfferOpen {
			return app.Errorf(app.Conflict, "error.capacity_offer_closed", "this offer is no longer open")
		}
		if o.State == n.State {
			return app.Errorf(app.Invalid, "error.capacity_same_state", "a State's need cannot be matched with its own offer")
		}
		existing, err := listMatches(ctx, tx, "", app.Cursor{}, 0)
		if err != nil {
			return err
		}
		for _, x := range existing {
			if x.NeedID == needID && x.OfferID == offerID {
				return app.Errorf(app.Conflict, "error.capacity_match_exists", "this need and this offer were already put together")
			}
		}
		score, _ := Score(n, o)
		m = &Match{NeedID: needID, OfferID: offerID, NeedState: n.State, OfferState: o.State, Partner: o.Partner,
			Status: MatchProposed, Score: score, ProposedBy: a.Email, ProposedByID: a.UserID, ProposedAt: now}
		if err := insertMatch(ctx, tx, m); err != nil {
			return err
		}
		if err := s.tellAwaiting(ctx, tx, m, m.NeedState, a.UserID, now); err != nil {
			return err
		}
		if m.OfferState == "" {
			if err := s.tellAwaiting(ctx, tx, m, "", a.UserID, now); err != nil {
				return err
			}
		}
		return logEvent(ctx, tx, a, "match_proposed", matchObject(m.ID), m.logStates(n, o), now)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Sides names which sides of a match the actor answers for.
type Sides struct{ Need, Offer bool }

// AnswersFor says for which sides of the match the actor may answer: the
// needing State's focal point for the need; the offering State's focal
// point for its offer, and for a partner's offer a Secretariat user other
// than the one who proposed the match, so that no one person both
// proposes and accepts.
func AnswersFor(a *app.Actor, m *Match) Sides {
	if a == nil || a.ReadOnly {
		return Sides{}
	}
	s := Sides{Need: canRecord(a, m.NeedState)}
	if m.OfferState != "" {
		s.Offer = canRecord(a, m.OfferState)
	} else {
		s.Offer = a.IsSecretariat() && a.UserID != m.ProposedByID
	}
	return s
}

// Answer records the actor's side accepting or declining a proposed
// match. When both sides have accepted, the match becomes a planned
// activity and the need is matched; when either declines, the match is
// declined and the need stays open.
func (s *Service) Answer(ctx context.Context, id int64, answer string) (*Match, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if answer != Accept && answer != Decline {
		return nil, app.FieldError("answer", "error.capacity_answer", "accept or decline", nil)
	}
	now := s.Now()
	var m *Match
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var n *Need
		m, n, err = s.match(ctx, tx, a, id)
		if err != nil {
			return err
		}
		side := AnswersFor(a, m)
		switch {
		case side.Need && m.NeedAnswer == "":
			m.NeedAnswer, m.NeedAnsweredBy, m.NeedAnsweredAt = answer, a.Email, &now
		case side.Offer && m.OfferAnswer == "" && (m.NeedAnswer != "" || m.OfferState == ""):
			m.OfferAnswer, m.OfferAnsweredBy, m.OfferAnsweredAt = answer, a.Email, &now
		case side.Offer && m.OfferAnswer == "":
			// The offering State learns of a need that it may not see
			// only once the needing State has accepted.
			return app.Errorf(app.Conflict, "error.capacity_wait_need", "the needing State answers first")
		case side.Need || side.Offer:
			return app.Errorf(app.Conflict, "error.capacity_answered", "your side has already answered")
		default:
			return app.ErrForbidden()
		}
		if m.Status != MatchProposed {
			return app.Errorf(app.Conflict, "error.capacity_answered", "your side has already answered")
		}
		o, err := getOffer(ctx, tx, m.OfferID)
		if err != nil {
			return err
		}
		st := m.logStates(n, o)
		if err := logEvent(ctx, tx, a, "match_answered", matchObject(m.ID), st, now); err != nil {
			return err
		}
		switch {
		case answer == Decline:
			m.Status, m.DecidedAt = MatchDeclined, &now
			if err := updateMatch(ctx, tx, m); err != nil {
				return err
			}
			return logEvent(ctx, tx, a, "match_declined", matchObject(m.ID), st, now)
		case m.NeedAnswer == Accept && m.OfferAnswer == Accept:
			if n.Status != NeedOpen {
				return app.Errorf(app.Conflict, "error.capacity_need_closed", "this need is no longer open")
			}
			m.Status, m.DecidedAt = MatchAccepted, &now
			if err := updateMatch(ctx, tx, m); err != nil {
				return err
			}
			n.Status, n.MatchedAt, n.UpdatedAt = NeedMatched, &now, now
			if err := updateNeed(ctx, tx, n); err != nil {
				return err
			}
			act := &Activity{MatchID: m.ID, ActivityInput: ActivityInput{Status: ActivityPlanned}, CreatedAt: now, UpdatedAt: now}
			if err := insertActivity(ctx, tx, act); err != nil {
				return err
			}
			m.ActivityID = act.ID
			return logEvent(ctx, tx, a, "match_accepted", matchObject(m.ID), st, now)
		}
		if m.OfferState != "" && m.NeedAnswer == Accept && m.OfferAnswer == "" {
			// The offering State may answer now.
			if err := s.tellAwaiting(ctx, tx, m, m.OfferState, a.UserID, now); err != nil {
				return err
			}
		}
		return updateMatch(ctx, tx, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) match(ctx context.Context, q db.Queryer, a *app.Actor, id int64) (*Match, *Need, error) {
	m, err := getMatch(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, app.ErrNotFound("match")
	}
	n, err := getNeed(ctx, q, m.NeedID)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.view(ctx, q, a)
	if err != nil {
		return nil, nil, err
	}
	if n == nil || !v.seesMatch(m, n) {
		return nil, nil, app.ErrNotFound("match")
	}
	return m, n, nil
}

// Match returns a match the actor may see.
func (s *Service) Match(ctx context.Context, id int64) (*Match, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	m, _, err := s.match(ctx, s.DB, a, id)
	return m, err
}

// Matches lists a page of the matches the actor may see, newest first
// from the cursor k, limit of them (app.PageSize when 0).
func (s *Service) Matches(ctx context.Context, k app.Cursor, limit int) (*MatchPage, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if limit, err = app.Limit(limit); err != nil {
		return nil, err
	}
	p := &MatchPage{}
	if !a.IsSecretariat() && a.State == "" {
		return p, nil
	}
	// The Secretariat sees every match; a State's readers, some of their
	// State's needs' and offers': those are read, with their needs.
	state := a.State
	if a.IsSecretariat() {
		state = ""
	}
	v, err := s.view(ctx, s.DB, a)
	if err != nil {
		return nil, err
	}
	list, err := app.Collect(k, limit, func(k app.Cursor, n int) ([]*Match, error) {
		batch, err := listMatches(ctx, s.DB, state, k, n)
		if err != nil || a.IsSecretariat() {
			return batch, err
		}
		ids := make([]int64, 0, len(batch))
		for _, m := range batch {
			ids = append(ids, m.NeedID)
		}
		needs, err := needsByID(ctx, s.DB, ids)
		if err != nil {
			return nil, err
		}
		for _, m := range batch {
			m.need = needs[m.NeedID]
		}
		return batch, nil
	}, matchCursor, func(m *Match) bool { return a.IsSecretariat() || (m.need != nil && v.seesMatch(m, m.need)) })
	if err != nil {
		return nil, err
	}
	p.List, p.Older, p.Newer = app.Paginate(k, list, limit, matchCursor)
	return p, nil
}

func matchCursor(m *Match) app.Cursor { return app.CursorAt(m.ProposedAt, m.ID) }
