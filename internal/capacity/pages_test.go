package capacity_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCapacityPages: the needs, offers, matches and activities come a page
// at a time, each reader's own rows once in either direction, newest
// first, the rows they may not see left out of every page.
func TestCapacityPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		topics := []string{"forensics", "legal_frameworks", "poc_setup"}
		vis := []capacity.Visibility{capacity.VisibleSecretariat, capacity.VisibleOfferers, capacity.VisibleAll}
		var needs []*capacity.Need
		for i := range 9 {
			if i%2 == 0 {
				w.sys.Clock.Advance(time.Second)
			}
			by := []*testkit.User{w.fpIRN, w.fpKEN}[i%2]
			needs = append(needs, got(w.s.RecordNeed(by.Ctx(), need(topics[i%3], vis[i%3]))).ok(t))
		}
		var offers []*capacity.Offer
		for i := range 5 {
			w.sys.Clock.Advance(time.Second)
			by := []*testkit.User{w.fpFRA, w.fpKEN, w.sec}[i%3]
			in := offer(topics[i%3])
			if by == w.sec {
				in.Partner = fmt.Sprintf("Partner %d", i)
			}
			offers = append(offers, got(w.s.RecordOffer(by.Ctx(), in)).ok(t))
		}
		// Matches of Iran's and Kenya's needs with France's offer, and
		// one of them accepted by both: an activity.
		for _, n := range needs[:4] {
			w.sys.Clock.Advance(time.Second)
			m := got(w.s.Propose(w.sec.Ctx(), n.ID, offers[0].ID)).ok(t)
			if n == needs[0] {
				got(w.s.Answer(w.fpIRN.Ctx(), m.ID, capacity.Accept)).ok(t)
				got(w.s.Answer(w.fpFRA.Ctx(), m.ID, capacity.Accept)).ok(t)
			}
		}
		type lister[T any] func(u *testkit.User) func(k app.Cursor) ([]T, *app.Cursor, *app.Cursor, error)
		check := func(t *testing.T, name string, u *testkit.User, older, newer, one []int64) {
			t.Helper()
			if !slices.Equal(older, one) || !slices.Equal(newer, one) {
				t.Errorf("%s of %s: older %v, newer %v, in one page %v", name, u.Email, older, newer, one)
			}
		}
		idsOf := func(list any) []int64 {
			var out []int64
			switch l := list.(type) {
			case []*capacity.Need:
				for _, x := range l {
					out = append(out, x.ID)
				}
			case []*capacity.Offer:
				for _, x := range l {
					out = append(out, x.ID)
				}
			case []*capacity.Match:
				for _, x := range l {
					out = append(out, x.ID)
				}
			case []*capacity.Activity:
				for _, x := range l {
					out = append(out, x.ID)
				}
			}
			return out
		}
		needPages := lister[*capacity.Need](func(u *testkit.User) func(k app.Cursor) ([]*capacity.Need, *app.Cursor, *app.Cursor, error) {
			return func(k app.Cursor) ([]*capacity.Need, *app.Cursor, *app.Cursor, error) {
				p, err := w.s.Needs(u.Ctx(), k, 2)
				if err != nil {
					return nil, nil, nil, err
				}
				return p.List, p.Older, p.Newer, nil
			}
		})
		offerPages := lister[*capacity.Offer](func(u *testkit.User) func(k app.Cursor) ([]*capacity.Offer, *app.Cursor, *app.Cursor, error) {
			return func(k app.Cursor) ([]*capacity.Offer, *app.Cursor, *app.Cursor, error) {
				p, err := w.s.Offers(u.Ctx(), k, 2)
				if err != nil {
					return nil, nil, nil, err
				}
				return p.List, p.Older, p.Newer, nil
			}
		})
		matchPages := lister[*capacity.Match](func(u *testkit.User) func(k app.Cursor) ([]*capacity.Match, *app.Cursor, *app.Cursor, error) {
			return func(k app.Cursor) ([]*capacity.Match, *app.Cursor, *app.Cursor, error) {
				p, err := w.s.Matches(u.Ctx(), k, 2)
				if err != nil {
					return nil, nil, nil, err
				}
				return p.List, p.Older, p.Newer, nil
			}
		})
		for _, u := range []*testkit.User{w.sec, w.fpIRN, w.offKEN, w.fpFRA} {
			older, newer := testkit.WalkPages(t, 2, needPages(u))
			one := got(w.s.Needs(u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List
			check(t, "needs", u, idsOf(older), idsOf(newer), idsOf(one))
			if len(one) == 0 || (u != w.sec && u != w.fpIRN && len(one) == len(needs)) {
				t.Errorf("%s sees %d of %d needs", u.Email, len(one), len(needs))
			}
			for i := 1; i < len(one); i++ {
				if one[i].CreatedAt.After(one[i-1].CreatedAt) {
					t.Errorf("need %d after %d", one[i].ID, one[i-1].ID)
				}
			}

			older2, newer2 := testkit.WalkPages(t, 2, offerPages(u))
			check(t, "offers", u, idsOf(older2), idsOf(newer2), idsOf(got(w.s.Offers(u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List))

			older3, newer3 := testkit.WalkPages(t, 2, matchPages(u))
			oneM := got(w.s.Matches(u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List
			check(t, "matches", u, idsOf(older3), idsOf(newer3), idsOf(oneM))
			switch u {
			case w.sec:
				if len(oneM) != 4 {
					t.Errorf("the Secretariat sees %d matches", len(oneM))
				}
			case w.fpFRA:
				// France sees the matches of needs it may see: the one
				// accepted by Iran, the ones shown to all or to offerers.
				for _, m := range oneM {
					if m.OfferState != "FRA" {
						t.Errorf("France sees match %d of %s", m.ID, m.OfferState)
					}
				}
			}
			acts := got(w.s.Activities(u.Ctx(), app.Cursor{}, 1)).ok(t)
			want := 0
			if u == w.sec || u == w.fpIRN || u == w.fpFRA {
				want = 1
			}
			if len(acts.List) != want || acts.Older != nil {
				t.Errorf("%s: activities %v", u.Email, idsOf(acts.List))
			}
		}
		for name, err := range map[string]error{
			"needs":      func() error { _, err := w.s.Needs(w.sec.Ctx(), app.Cursor{}, app.MaxPageSize+1); return err }(),
			"offers":     func() error { _, err := w.s.Offers(w.sec.Ctx(), app.Cursor{}, -1); return err }(),
			"matches":    func() error { _, err := w.s.Matches(w.sec.Ctx(), app.Cursor{}, app.MaxPageSize+1); return err }(),
			"activities": func() error { _, err := w.s.Activities(w.sec.Ctx(), app.Cursor{}, app.MaxPageSize+1); return err }(),
		} {
			wantCode(t, "a page of "+name+" too long", err, app.Invalid)
		}
	})
}
