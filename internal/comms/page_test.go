package comms_test

import (
	"fmt"
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
