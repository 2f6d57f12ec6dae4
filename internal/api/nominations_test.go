package api_test

import (
	"net/http"
	"testing"

	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestNominationPages walks the list of nominations a page at a time, as
// the State and as the Secretariat, which does not see the State's drafts
// (its pages must still be whole), and refuses a cursor or a page size
// that is not one.
func TestNominationPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		submitted := map[int64]bool{}
		for i := range 3 {
			submitted[f.nomination(t, false).ID] = true
			if i < 2 {
				f.nomination(t, true)
			}
		}
		type nominationPage struct {
			Nominations []*directory.Nomination
			Next        string
		}
		for tok, want := range map[string]int{f.secTok: 3, f.fpATok: 5} {
			seen, pages := map[int64]bool{}, 0
			for path := "/api/v1/nominations?limit=2"; ; {
				r := f.do(t, "GET", path, tok, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("%s: %d %s", path, r.Status, r.Body)
				}
				p := decode[nominationPage](t, r)
				pages++
				if p.Next != "" && len(p.Nominations) != 2 {
					t.Errorf("page %d holds %d nominations, and more follow", pages, len(p.Nominations))
				}
				for _, n := range p.Nominations {
					if seen[n.ID] || (tok == f.secTok && !submitted[n.ID]) {
						t.Errorf("page %d lists %d again, or a draft to the Secretariat", pages, n.ID)
					}
					seen[n.ID] = true
				}
				if p.Next == "" || pages > 5 {
					break
				}
				path = "/api/v1/nominations?limit=2&cursor=" + p.Next
			}
			if wantPages := (want + 1) / 2; len(seen) != want || pages != wantPages {
				t.Errorf("%d nominations in %d pages, want %d in %d", len(seen), pages, want, wantPages)
			}
		}
		for _, path := range []string{"/api/v1/nominations?cursor=yesterday", "/api/v1/nominations?limit=0", "/api/v1/nominations?limit=201"} {
			if r := f.do(t, "GET", path, f.secTok, nil); r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", path, r.Status)
			}
		}
	})
}
