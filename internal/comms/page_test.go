package comms_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCommsPages pages through a State's communications both ways, by
// keyset: every communication once, newest first, also among those created
// in the same instant, and with a search that keeps one in three.
func TestCommsPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		var want []int64 // newest first
		for i := range 23 {
			in := notification("KEN")
			if i%3 == 0 {
				in.Fields["subject"] = fmt.Sprintf("Phishing wave %d", i)
			}
			c, err := w.s.Compose(w.offFRA.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			want = append([]int64{c.ID}, want...)
			if i%2 == 0 { // pairs created in the same instant
				w.sys.Clock.Advance(time.Minute)
			}
		}
		walk := func(t *testing.T, f comms.Filter) (ids []int64, pages int) {
			t.Helper()
			for {
				p, err := w.s.CommsPage(w.offFRA.Ctx(), f)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.List {
					ids = append(ids, c.ID)
				}
				pages++
				if p.Older == nil || pages > 30 {
					return ids, pages
				}
				if p.Newer == nil && !f.Cursor.IsZero() {
					t.Errorf("page %d has no link to the newer ones", pages)
				}
				f.Cursor = *p.Older
			}
		}
		t.Run("older pages give every communication once, newest first", func(t *testing.T) {
			got, pages := walk(t, comms.Filter{Box: "out", Limit: 5})
			if fmt.Sprint(got) != fmt.Sprint(want) || pages != 5 {
				t.Errorf("got %v in %d pages, want %v in 5", got, pages, want)
			}
		})
		t.Run("a search pages through its matches only", func(t *testing.T) {
			got, _ := walk(t, comms.Filter{Query: "phishing", Limit: 3})
			var matches []int64
			for i, id := range want {
				if (len(want)-1-i)%3 == 0 {
					matches = append(matches, id)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(matches) {
				t.Errorf("got %v, want %v", got, matches)
			}
		})
		t.Run("newer pages lead back to the first", func(t *testing.T) {
			f := comms.Filter{Box: "out", Limit: 5}
			var pages []*comms.CommPage
			for {
				p, err := w.s.CommsPage(w.offFRA.Ctx(), f)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, p)
				if p.Older == nil {
					break
				}
				f.Cursor = *p.Older
			}
			for i := len(pages) - 1; i > 0; i-- {
				back, err := w.s.CommsPage(w.offFRA.Ctx(), comms.Filter{Box: "out", Limit: 5, Cursor: *pages[i].Newer})
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(ids(back.List)) != fmt.Sprint(ids(pages[i-1].List)) {
					t.Errorf("back from page %d: %v, want %v", i+1, ids(back.List), ids(pages[i-1].List))
				}
				if (back.Newer == nil) != (i == 1) {
					t.Errorf("back on page %d: newer %v", i, back.Newer)
				}
			}
		})
		t.Run("a page longer than the most is refused", func(t *testing.T) {
			_, err := w.s.CommsPage(w.offFRA.Ctx(), comms.Filter{Limit: app.MaxPageSize + 1})
			wantCode(t, "a long page", err, app.Invalid)
		})
	})
}

func ids(list []*comms.Communication) []int64 {
	out := []int64{}
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

// TestCommsPagesSentAndReceived pages through a State's communications
// sent and received, interleaved and some created in the same instant,
// each received one reaching several of its PoCs: the list of all, of
// those received and of those sent, with and without dates, gives each
// once, newest first, forward and back. (The received ones are read along
// the State's lines, the sent ones along the communications.)
func TestCommsPagesSentAndReceived(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		type made struct {
			id       int64
			at       time.Time
			sent, in bool // by Kenya, to Kenya
		}
		var all []made
		start := w.sys.Clock.Now()
		for i := range 21 {
			var c *comms.Communication
			var err error
			switch i % 3 {
			case 0:
				c, err = w.s.Compose(w.offFRA.Ctx(), notification("KEN", "BRA"))
			case 1:
				c, err = w.s.Compose(w.offKEN.Ctx(), notification("FRA"))
			default:
				c, err = w.s.Compose(w.offBRA.Ctx(), notification("FRA")) // not Kenya's
			}
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, made{c.ID, c.CreatedAt, i%3 == 1, i%3 == 0})
			if i%2 == 0 {
				w.sys.Clock.Advance(time.Minute)
			}
		}
		draft := notification("FRA")
		draft.Draft = true
		if _, err := w.s.Compose(w.offKEN.Ctx(), draft); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(all, func(x, y made) int { return cmp.Or(y.at.Compare(x.at), cmp.Compare(y.id, x.id)) })
		from, to := start.Add(2*time.Minute), start.Add(8*time.Minute)
		for _, c := range []struct {
			name     string
			f        comms.Filter
			keep     func(m made) bool
			min, max int
		}{
			{"all", comms.Filter{}, func(m made) bool { return m.sent || m.in }, 14, 14},
			{"received", comms.Filter{Box: "in"}, func(m made) bool { return m.in }, 7, 7},
			{"sent", comms.Filter{Box: "out"}, func(m made) bool { return m.sent }, 7, 7},
			{"all between two dates", comms.Filter{From: from, To: to}, func(m made) bool {
				return (m.sent || m.in) && !m.at.Before(from) && m.at.Before(to)
			}, 4, 13},
			{"received between two dates", comms.Filter{Box: "in", From: from, To: to}, func(m made) bool {
				return m.in && !m.at.Before(from) && m.at.Before(to)
			}, 2, 6},
		} {
			t.Run(c.name, func(t *testing.T) {
				var want []int64
				for _, m := range all {
					if c.keep(m) {
						want = append(want, m.id)
					}
				}
				if len(want) < c.min || len(want) > c.max {
					t.Fatalf("the test expects %d to %d, has %d", c.min, c.max, len(want))
				}
				for _, size := range []int{1, 3, 4} {
					f := c.f
					f.Limit = size
					var pages []*comms.CommPage
					var got []int64
					for len(pages) <= len(want)+1 {
						p, err := w.s.CommsPage(w.offKEN.Ctx(), f)
						if err != nil {
							t.Fatal(err)
						}
						pages = append(pages, p)
						got = append(got, ids(p.List)...)
						if p.Older == nil {
							break
						}
						f.Cursor = *p.Older
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("pages of %d: %v, want %v", size, got, want)
					}
					for i := len(pages) - 1; i > 0; i-- {
						f := c.f
						f.Limit, f.Cursor = size, *pages[i].Newer
						back, err := w.s.CommsPage(w.offKEN.Ctx(), f)
						if err != nil {
							t.Fatal(err)
						}
						if fmt.Sprint(ids(back.List)) != fmt.Sprint(ids(pages[i-1].List)) {
							t.Errorf("pages of %d, back from page %d: %v, want %v", size, i+1, ids(back.List), ids(pages[i-1].List))
						}
					}
				}
			})
		}
	})
}

// TestListStagesOnly: a list read with its lines' stages only gives, for
// every viewer, each line's State and stage as the whole lines say them, in
// the same order, for every stage a line can be at; a recipient State sees
// its own lines' stages only; the filter by stage keeps the same
// communications.
func TestListStagesOnly(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		// One communication per change of a line, and one left as sent.
		sets := []string{"", "notified_at = NULL", "delivered_at = notified_at", "bounced_at = notified_at, bounce_error = 'no such user'",
			"delivered_at = notified_at, opened_at = notified_at", "acked_at = notified_at", "acked_at = notified_at, outcome = 'responded', outcome_at = notified_at",
			"outcome = 'disputed', outcome_at = notified_at", "outcome = 'more-info', outcome_at = notified_at", "outcome = 'declined', outcome_at = notified_at",
			"moved_at = notified_at"}
		for _, set := range sets {
			c, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN", "BRA"))
			if err != nil {
				t.Fatal(err)
			}
			w.sys.Clock.Advance(time.Minute)
			if set == "" {
				continue
			}
			for _, r := range c.Recipients {
				if r.State == "KEN" {
					if err := comms.SetLine(w.s, r.ID, set); err != nil {
						t.Fatalf("%s: %v", set, err)
					}
				}
			}
		}
		seen := map[string]bool{}
		for _, who := range []*testkit.User{w.offFRA, w.offKEN, w.offBRA, w.sec} {
			for _, stage := range append([]string{""}, comms.Stages...) {
				whole, err := w.s.CommsPage(who.Ctx(), comms.Filter{Stage: stage})
				if err != nil {
					t.Fatal(err)
				}
				light, err := w.s.CommsPage(who.Ctx(), comms.Filter{Stage: stage, StagesOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(light.List) != len(whole.List) {
					t.Fatalf("%s, stage %q: %d communications with the stages only, %d with the lines", who.Email, stage, len(light.List), len(whole.List))
				}
				for i, c := range whole.List {
					var want []comms.LineStage
					for _, r := range c.Recipients {
						want = append(want, comms.LineStage{State: r.State, Stage: r.Stage()})
						seen[r.Stage()] = true
					}
					l := light.List[i]
					if l.ID != c.ID || fmt.Sprint(l.Stages) != fmt.Sprint(want) || len(l.Recipients) != 0 {
						t.Errorf("%s, stage %q, %s: %v and %d lines with the stages only, %v with the lines", who.Email, stage, c.Ref, l.Stages, len(l.Recipients), want)
					}
					for _, s := range l.Stages {
						if who.State != "" && c.SenderState != who.State && s.State != who.State {
							t.Errorf("%s sees the stage of %s's line in %s", who.Email, s.State, c.Ref)
						}
					}
				}
			}
		}
		for _, stage := range comms.Stages {
			if !seen[stage] {
				t.Errorf("no line was at stage %q", stage)
			}
		}
	})
}
