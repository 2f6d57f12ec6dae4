package comms_test

import (
	"sync"
	"testing"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestVolumesStayExactWithConcurrentWriters(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		other := w.sys.Instance(t).Comms
		first, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN", "BRA"))
		if err != nil {
			t.Fatal(err)
		}
		// Three States write at once on two instances: notifications of
		// one another, answers to the first, acknowledgements of it, an
		// exercise message; and the drafts they keep are not counted.
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for _, u := range []*testkit.User{w.offFRA, w.offKEN, w.offBRA} {
			for i, s := range []*comms.Service{w.s, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					to := map[string]string{"FRA": "KEN", "KEN": "BRA", "BRA": "FRA"}[u.State]
					for j := range 4 {
						in := notification(to)
						switch {
						case j == 1 && u.State != "FRA":
							in = ofKind("response")
							in.ParentID = first.ID
						case j == 2:
							in = ofKind("exercise", to)
						case j == 3 && i == 1:
							in.Draft = true
						}
						if _, err := s.Compose(u.Ctx(), in); err != nil {
							errs <- err
						}
					}
					if u.State != "FRA" {
						s.Acknowledge(u.Ctx(), first.ID) // once of two counts; the other is refused
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		testkit.WantCounted(t, w.sys.DB)
		v, err := w.s.Volumes(w.sec.Ctx())
		if err != nil {
			t.Fatal(err)
		}
		total, exercise := 0, 0
		for _, c := range v.Counts {
			total += c.Count
			if c.Exercise {
				exercise += c.Count
			}
		}
		sum, err := w.s.Overview(w.sec.Ctx())
		if err != nil {
			t.Fatal(err)
		}
		// 1 + 3 States × 2 instances × 4, less the 3 drafts.
		if total != 22 || exercise != 6 || sum.Sent != 22 {
			t.Errorf("counted %d sent, %d of an exercise, %d in the overview; want 22, 6, 22", total, exercise, sum.Sent)
		}
	})
}
