package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
)

// Capacity-building (C9): the overview of needs, offers, matches and
// activities that each reader may see; for the Secretariat, the
// suggested matches too. The forms and actions are in capacity_*.go.

// matchView is a match with the sides the reader answers for.
type matchView struct {
	*capacity.Match
	Sides capacity.Sides
}

// CanAnswer reports whether the reader has a side of the match to answer
// now.
func (m matchView) CanAnswer() bool {
	if m.Status != capacity.MatchProposed {
		return false
	}
	return (m.Sides.Need && m.NeedAnswer == "") || (m.Sides.Offer && m.OfferAnswer == "" && (m.NeedAnswer != "" || m.OfferState == ""))
}

// suggestionView is a suggestion with its reasons in the reader's
// language.
type suggestionView struct {
	*capacity.Suggestion
	Why []string
}

// The prefixes of the parameters of the capacity page's four lists.
const (
	needPrefix     = "need_"
	offerPrefix    = "offer_"
	matchPrefix    = "match_"
	activityPrefix = "activity_"
)

type capacityData struct {
	Needs      []*capacity.Need
	Offers     []*capacity.Offer
	Matches    []matchView
	Activities []*capacity.Activity
	// NeedPages, OfferPages, MatchPages and ActivityPages are the links to
	// the pages around each list's.
	NeedPages, OfferPages, MatchPages, ActivityPages pages
	Suggestions                                      []suggestionView
	Plan                                             *capacity.Plan
	CanNeed                                          bool
	CanOffer                                         bool
	CanManage                                        bool
	// Observer hides all but the offers.
	Observer bool
}

func (s *Server) capacityPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := app.ActorFrom(ctx)
	q := r.URL.Query()
	var ks [4]app.Cursor
	for i, prefix := range []string{needPrefix, offerPrefix, matchPrefix, activityPrefix} {
		var err error
		if ks[i], err = pageCursorOf(q, prefix); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d := &capacityData{CanNeed: capacity.CanRecordNeed(a), CanOffer: capacity.CanRecordOffer(a), CanManage: capacity.CanManage(a)}
	offers, err := s.Capacity.Offers(ctx, ks[1], 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Offers, d.OfferPages = offers.List, pagesOf(q, offerPrefix, offers.Older, offers.Newer)
	if a.IsObserver() {
		// An observer granted the offers reads them, and nothing else.
		d.Observer = true
		s.render(w, r, http.StatusOK, "capacity.html", s.page(r, "capacity.title", d))
		return
	}
	needs, err := s.Capacity.Needs(ctx, ks[0], 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Needs, d.NeedPages = needs.List, pagesOf(q, needPrefix, needs.Older, needs.Newer)
	matches, err := s.Capacity.Matches(ctx, ks[2], 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, m := range matches.List {
		d.Matches = append(d.Matches, matchView{Match: m, Sides: capacity.AnswersFor(a, m)})
	}
	d.MatchPages = pagesOf(q, matchPrefix, matches.Older, matches.Newer)
	acts, err := s.Capacity.Activities(ctx, ks[3], 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Activities, d.ActivityPages = acts.List, pagesOf(q, activityPrefix, acts.Older, acts.Newer)
	if d.Plan, err = s.Capacity.Plan(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "capacity.title", d)
	if a.IsSecretariat() {
		list, err := s.Capacity.Suggestions(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, sg := range list {
			d.Suggestions = append(d.Suggestions, suggestionView{Suggestion: sg, Why: reasonsText(p, sg.Reasons)})
		}
	}
	s.render(w, r, http.StatusOK, "capacity.html", p)
}

// reasonsText says a suggestion's reasons in the reader's language: the
// keys and tags in their arguments become names.
func reasonsText(p *Page, rs []capacity.Reason) []string {
	var out []string
	for _, rs := range rs {
		var args []any
		for k, v := range rs.Args {
			switch k {
			case "Topics":
				var names []string
				for _, t := range v.([]string) {
					names = append(names, p.T("list.capacity_topic."+t))
				}
				v = strings.Join(names, ", ")
			case "Languages":
				var names []string
				for _, l := range v.([]string) {
					names = append(names, p.LangName(l))
				}
				v = strings.Join(names, ", ")
			case "Level":
				v = p.T("level." + v.(string))
			case "Group":
				v = p.T("group." + v.(string))
			case "Kind":
				v = p.T("list.capacity_kind." + v.(string))
			case "Date":
				v = p.DateString(v.(string))
			}
			args = append(args, k, v)
		}
		out = append(out, p.T(rs.Key, args...))
	}
	return out
}

// capacityChoices are what the need and offer forms offer to pick.
type capacityChoices struct {
	Kinds        []string
	Topics       []string
	Levels       []directory.Level
	Visibilities []capacity.Visibility
	Formats      []string
	UNLanguages  []string
	// The languages picker: as on the PoC form.
	LangChoices []string
	Languages   []string
	LangOther   string
	Secretariat bool
}

func newChoices(a *app.Actor, langs []string) *capacityChoices {
	c := &capacityChoices{Kinds: capacity.Kinds, Topics: capacity.Topics, Levels: directory.Levels, Visibilities: capacity.Visibilities,
		Formats: capacity.Formats, UNLanguages: directory.UNLanguages, Secretariat: a.IsSecretariat()}
	c.LangChoices = append([]string{}, directory.PickLanguages...)
	var other []string
	for _, l := range langs {
		switch _, ok := directory.CanonicalLanguage(l); {
		case !ok:
			other = append(other, l)
		case !slices.Contains(c.LangChoices, l):
			c.LangChoices = append(c.LangChoices, l)
		}
	}
	c.Languages, c.LangOther = langs, strings.Join(other, ", ")
	return c
}
