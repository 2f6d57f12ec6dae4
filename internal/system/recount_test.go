package system_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestRecountWhileWriting: `pocdir audit check` counts the counters again
// while pocdir sends communications; each count reads its counters and
// its rows in one snapshot, so that a send between the two reads is not
// taken for a counter a write forgot.
func TestRecountWhileWriting(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		sys.AddPoC(t, sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU").Ctx(), "DEU", testkit.ValidPoC())
		ctx, stop := context.WithCancel(context.Background())
		var sent atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				if _, err := sys.Comms.Compose(off.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"DEU"}, Level: comms.LevelTechnical,
					Fields: map[string]string{"subject": "Scanning", "urgency": "high", "tlp": comms.TLPAmber, "description": "Scanning of our networks."}}); err != nil {
					t.Error(err)
					return
				}
				sent.Add(1)
			}
		}()
		counts := 0
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) || sent.Load() < 20; counts++ {
			problems, err := system.Recount(context.Background(), sys.DB)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("count %d, after %d sends: %s", counts, sent.Load(), p)
			}
			if t.Failed() {
				break
			}
		}
		stop()
		<-done
		t.Logf("%d counts beside %d sends", counts, sent.Load())
	})
}
