package checks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/testkit"
)

// rateLine is a tally as the tests write it: targets, answered in time,
// late, bounced, silent.
func rateLine(t checks.Tally) string {
	return fmt.Sprintf("%d/%d/%d/%d/%d", t.Targets, t.Answered, t.Late, t.Bounced, t.Silent)
}

func TestAnswerRatesByRegion(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s, clock := w.sys.Checks, w.sys.Clock
		ip := "192.0.2.1"
		// The first campaign checks the four PoCs by email: France's
		// technical PoC answers in time, its diplomatic PoC's mail bounces,
		// Kenya's answers late and Germany's not at all.
		first, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Q1", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 48})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		links := w.links(t)
		if _, err := s.AnswerLink(context.Background(), links["cert@fra.example"][0], ip); err != nil {
			t.Fatal(err)
		}
		testkit.MailFailed(t, w.sys.DB, "mfa@fra.example", clock.Now())
		run(t, s)
		clock.Advance(49 * time.Hour)
		run(t, s)
		if _, err := s.AnswerLink(context.Background(), links["cert@ken.example"][0], ip); err != nil {
			t.Fatal(err)
		}
		// The second calls Kenya, which answers, and Germany, which does not.
		second, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Calls", Scope: "states", Value: "KEN,DEU", Channel: checks.ChannelManual, WindowHours: 24})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		r, err := s.Results(w.sec.Ctx(), second.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range r.Targets {
			if err := s.RecordManual(w.sec.Ctx(), tg.ID, tg.State == "KEN"); err != nil {
				t.Fatal(err)
			}
		}
		// Neither a campaign still to come, nor a bilateral check, nor one
		// that found no PoC has a rate.
		if _, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Later", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24,
			StartAt: clock.Now().Add(24 * time.Hour).Format(time.RFC3339)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(w.fpFRA.Ctx(), checks.Input{Title: "Bilateral", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24, Counterpart: "KEN"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Nobody", Scope: "group", Value: "Eastern European", Channel: checks.ChannelEmail, WindowHours: 24}); err != nil {
			t.Fatal(err)
		}
		run(t, s)

		got, err := s.AnswerRates(w.sec.Ctx())
		if err != nil {
			t.Fatal(err)
		}
		t.Run("each campaign that ran has its rate, overall and by UN regional group, oldest first", func(t *testing.T) {
			if len(got.Campaigns) != 2 || got.Campaigns[0].Campaign.ID != first.ID || got.Campaigns[1].Campaign.ID != second.ID {
				t.Fatalf("campaigns %+v", got.Campaigns)
			}
			want := []map[string]string{
				{"": "4/1/1/1/1", "Western European and Others": "3/1/0/1/1", "African": "1/0/1/0/0", "Asia-Pacific": "0/0/0/0/0"},
				{"": "2/1/0/0/1", "Western European and Others": "1/0/0/0/1", "African": "1/1/0/0/0", "Eastern European": "0/0/0/0/0"},
			}
			for i, cr := range got.Campaigns {
				if g := rateLine(cr.Campaign.Tally); g != want[i][""] {
					t.Errorf("%s overall: %s, want %s", cr.Campaign.Title, g, want[i][""])
				}
				if len(cr.ByGroup) != 5 || cr.ByGroup[0].Name != "African" {
					t.Errorf("%s: groups %+v", cr.Campaign.Title, cr.ByGroup)
				}
				for _, g := range cr.ByGroup {
					if w, ok := want[i][g.Name]; ok && rateLine(g.Tally) != w {
						t.Errorf("%s, %s: %s, want %s", cr.Campaign.Title, g.Name, rateLine(g.Tally), w)
					}
				}
			}
			if r := got.Campaigns[0].Campaign.Rate(); r != 25 {
				t.Errorf("the first campaign's rate: %d%%", r)
			}
		})
		t.Run("the counts agree with each campaign's results", func(t *testing.T) {
			for _, cr := range got.Campaigns {
				res, err := s.Results(w.sec.Ctx(), cr.Campaign.ID)
				if err != nil {
					t.Fatal(err)
				}
				if res.Campaign.Tally != cr.Campaign.Tally {
					t.Errorf("%s: results %+v, rates %+v", cr.Campaign.Title, res.Campaign.Tally, cr.Campaign.Tally)
				}
				for _, g := range res.ByGroup {
					for _, h := range cr.ByGroup {
						if g.Name == h.Name && g.Tally != h.Tally {
							t.Errorf("%s, %s: results %+v, rates %+v", cr.Campaign.Title, g.Name, g.Tally, h.Tally)
						}
					}
				}
			}
		})
		t.Run("the campaigns add up, overall and by group", func(t *testing.T) {
			if g := rateLine(got.Tally); g != "6/2/1/1/2" {
				t.Errorf("overall %s", g)
			}
			for _, g := range got.ByGroup {
				want := map[string]string{"African": "2/1/1/0/0", "Western European and Others": "4/1/0/1/2"}[g.Name]
				if want == "" {
					want = "0/0/0/0/0"
				}
				if rateLine(g.Tally) != want {
					t.Errorf("%s: %s, want %s", g.Name, rateLine(g.Tally), want)
				}
			}
		})
		t.Run("only the Secretariat sees the rates", func(t *testing.T) {
			for _, u := range []*testkit.User{w.fpFRA, w.offFRA, w.fpKEN, w.offKEN, w.fpDEU} {
				_, err := s.AnswerRates(u.Ctx())
				wantCode(t, u.Email, err, app.Forbidden)
			}
			_, err := s.AnswerRates(context.Background())
			wantCode(t, "nobody signed in", err, app.Unauthorized)
			ro := w.sec.Actor()
			ro.ReadOnly = true
			if _, err := s.AnswerRates(app.WithActor(context.Background(), ro)); err != nil {
				t.Errorf("a read-only token of the Secretariat: %v", err)
			}
		})
	})
}
