package comms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestDeliveriesRecordedTogether: the lines whose notifications reached
// the mail server are recorded together, several to a statement (two
// here, so that the lines of one round span statements), each with the
// time its own round recorded; each delivery is in the log, and the
// counts by stage follow (checked when the test ends, as in every test).
func TestDeliveriesRecordedTogether(t *testing.T) {
	defer comms.SetLinesPerStatement(2)()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		for _, email := range []string{"cert2@bra.example", "cert3@bra.example"} {
			in := testkit.ValidPoC()
			in.Agency = "Agency " + email
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: email, Preferred: true}}
			w.sys.AddPoC(t, w.fpBRA.Ctx(), "BRA", in)
		}
		catcher, err := notify.StartCatcher("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { catcher.Close() })
		sender := &notify.Sender{DB: w.sys.DB, Now: w.sys.Clock.Now, SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}}
		ctx := context.Background()
		send := func(to ...string) (*comms.Communication, time.Time) {
			c, err := w.s.Compose(w.offFRA.Ctx(), notification(to...))
			if err != nil {
				t.Fatal(err)
			}
			w.sys.Clock.Advance(time.Minute)
			if _, err := sender.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			return c, w.sys.Clock.Now()
		}
		first, firstAt := send("KEN", "BRA", "DEU")
		second, secondAt := send("KEN", "BRA")
		if _, err := w.s.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		entries, err := w.sys.Audit.Entries(w.sec.Ctx(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, sent := range []struct {
			c  *comms.Communication
			at time.Time
		}{{first, firstAt}, {second, secondAt}} {
			got, err := w.s.Communication(w.offFRA.Ctx(), sent.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Recipients) < 3 {
				t.Fatalf("%s: %d lines, too few to span statements", got.Ref, len(got.Recipients))
			}
			for _, r := range got.Recipients {
				if r.Stage() != "delivered" || r.DeliveredAt == nil || !r.DeliveredAt.Equal(sent.at) {
					t.Errorf("%s, %s: %s at %v, want delivered at %v", got.Ref, r.State, r.Stage(), r.DeliveredAt, sent.at)
				}
			}
			// Each line is counted at its stage, or its next move would
			// be counted from the wrong one.
			var miscounted int
			if err := w.sys.DB.QueryRow(`SELECT COUNT(*) FROM comm_recipients WHERE comm_id = $1 AND counted_stage <> 'delivered'`, got.ID).Scan(&miscounted); err != nil {
				t.Fatal(err)
			}
			if miscounted != 0 {
				t.Errorf("%s: %d lines counted at another stage than delivered", got.Ref, miscounted)
			}
			logged := 0
			for _, e := range entries {
				if e.Type == "comms.delivered" && strings.HasPrefix(e.Object, "comm:"+got.Ref+"/") {
					logged++
				}
			}
			if logged != len(got.Recipients) {
				t.Errorf("%s: %d deliveries logged for %d lines", got.Ref, logged, len(got.Recipients))
			}
		}
		// Nothing is recorded twice.
		if n, err := w.s.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("a second run recorded %d: %v", n, err)
		}
	})
}
