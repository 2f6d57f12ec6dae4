package checks_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/testkit"
)

// listed is the first page of the campaigns u sees.
func listed(t testing.TB, s *checks.Service, u *testkit.User) []*checks.Campaign {
	t.Helper()
	p, err := s.Campaigns(u.Ctx(), app.Cursor{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p.List
}

// walkCampaigns reads every campaign u sees, limit a page, from the newest
// to the oldest page and back, and fails the test when a page is too long,
// out of order, or when the walk back does not show the same pages.
func walkCampaigns(t testing.TB, s *checks.Service, u *testkit.User, limit int) []*checks.Campaign {
	t.Helper()
	var pages [][]int64
	var all []*checks.Campaign
	var last *checks.CampaignPage
	for k, n := (app.Cursor{}), 0; ; n++ {
		p, err := s.Campaigns(u.Ctx(), k, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.List) > limit || (len(p.List) == 0 && n > 0) || n > 100 {
			t.Fatalf("%s: page %d holds %d campaigns (at most %d, and none empty but the first)", u.Email, n, len(p.List), limit)
		}
		if (n == 0) != (p.Newer == nil) {
			t.Errorf("%s: page %d: a link to newer campaigns %v", u.Email, n, p.Newer)
		}
		var ids []int64
		for _, c := range p.List {
			ids = append(ids, c.ID)
		}
		pages, all, last = append(pages, ids), append(all, p.List...), p
		if p.Older == nil {
			break
		}
		k = *p.Older
	}
	for i := 1; i < len(all); i++ {
		x, y := all[i-1], all[i]
		if x.StartAt.Before(y.StartAt) || (x.StartAt.Equal(y.StartAt) && x.ID <= y.ID) {
			t.Errorf("%s: %q (%v, %d) listed before %q (%v, %d)", u.Email, x.Title, x.StartAt, x.ID, y.Title, y.StartAt, y.ID)
		}
	}
	// Back from the oldest page, along the links to newer pages.
	for n := len(pages) - 2; n >= 0; n-- {
		if last.Newer == nil {
			t.Fatalf("%s: no link back to page %d", u.Email, n)
		}
		p, err := s.Campaigns(u.Ctx(), *last.Newer, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range p.List {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, pages[n]) {
			t.Errorf("%s: page %d read back is %v, was %v", u.Email, n, ids, pages[n])
		}
		if (n == 0) != (p.Newer == nil) {
			t.Errorf("%s: page %d read back: a link to newer campaigns %v", u.Email, n, p.Newer)
		}
		last = p
	}
	return all
}

// TestCampaignPages walks the list of campaigns a page at a time as each
// role sees it: the Secretariat its own campaigns, a State the
// Secretariat's and the bilateral checks it runs or is checked by, and no
// State another pair's bilateral check, on any page.
func TestCampaignPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s := w.sys.Checks
		start := w.sys.Clock.Now().Add(24 * time.Hour).UTC()
		create := func(u *testkit.User, title, counterpart string, at time.Time) *checks.Campaign {
			t.Helper()
			c, err := s.Create(u.Ctx(), checks.Input{Title: title, Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24,
				StartAt: at.Format(time.RFC3339), Counterpart: counterpart})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		want := map[string][]string{}
		for i := range 7 {
			// Two campaigns start at each time: the pages break ties by id.
			title := fmt.Sprintf("Q%d", i)
			create(w.sec, title, "", start.Add(time.Duration(i/2)*time.Hour))
			for _, st := range []string{"sec", "FRA", "KEN", "DEU"} {
				want[st] = append(want[st], title)
			}
		}
		for i := range 3 {
			title := fmt.Sprintf("FRA checks KEN %d", i)
			create(w.fpFRA, title, "KEN", start.Add(time.Duration(i)*time.Hour))
			want["FRA"], want["KEN"] = append(want["FRA"], title), append(want["KEN"], title)
		}
		for i := range 2 {
			title := fmt.Sprintf("DEU checks KEN %d", i)
			create(w.fpDEU, title, "KEN", start.Add(time.Duration(i)*time.Hour))
			want["DEU"], want["KEN"] = append(want["DEU"], title), append(want["KEN"], title)
		}
		for _, c := range []struct {
			name string
			u    *testkit.User
		}{{"sec", w.sec}, {"FRA", w.offFRA}, {"KEN", w.fpKEN}, {"DEU", w.fpDEU}} {
			for _, limit := range []int{1, 3, 50} {
				var got []string
				for _, camp := range walkCampaigns(t, s, c.u, limit) {
					got = append(got, camp.Title)
				}
				slices.Sort(got)
				slices.Sort(want[c.name])
				if !slices.Equal(got, want[c.name]) {
					t.Errorf("%s, %d a page: %q, want %q", c.name, limit, got, want[c.name])
				}
			}
		}
	})
}
