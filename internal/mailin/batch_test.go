package mailin_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/mailin"
	"github.com/pocdir/pocdir/internal/testkit"
)

// replyTos composes n communications to Germany and returns the reply
// address of each one's notification.
func (w *world) replyTos(t testing.TB, n int) ([]*comms.Communication, []string) {
	t.Helper()
	cs, tos := make([]*comms.Communication, n), make([]string, n)
	for i := range n {
		c, err := w.sys.Comms.Compose(w.off.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"DEU"}, Level: comms.LevelTechnical,
			Fields: map[string]string{"subject": fmt.Sprintf("Notice %d", i), "urgency": "high", "tlp": comms.TLPAmber, "description": "Scanning from your space."}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.sys.DB.QueryRow(`SELECT o.reply_to FROM outbox o JOIN comm_recipients r ON r.outbox_id = o.id WHERE r.comm_id = $1`, c.ID).Scan(&tos[i]); err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	return cs, tos
}

// events counts the events of a kind in a communication's thread.
func (w *world) events(t testing.TB, id int64, kind string) int {
	t.Helper()
	n := 0
	for _, e := range w.comm(t, w.off, id).Thread.Events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func results(t testing.TB, w *world) map[string]int {
	t.Helper()
	rs, err := mailin.Recent(context.Background(), w.sys.DB, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rs {
		got[r.Result]++
	}
	return got
}

// TestRepliesCommitTogether sends replies that arrive at once: their acts
// commit in one transaction, each in its own savepoint, and each sender's
// 250 comes after that commit.
func TestRepliesCommitTogether(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		t.Run("a reply that fails in a batch loses none of the others", func(t *testing.T) {
			w := newWorld(t, e)
			cs, tos := w.replyTos(t, 4)
			ack := func(i int) []byte {
				return plain("cert@deu.example", tos[i], "Re: "+cs[i].Ref, "ACKNOWLEDGE")
			}
			// The same dispute twice (a sender's retry, or the copies that
			// two instances receive): the second records its act, then
			// fails on its message's record, after its writes.
			again := plain("cert@deu.example", tos[1], "Re: "+cs[1].Ref, "DISPUTE\nNot from our space.")
			msgs := [][]byte{ack(0), again, ack(2), ack(3),
				ack(0), // a second acknowledgement, another message: a conflict in its act's transaction
				again}
			rcpts := []string{tos[0], tos[1], tos[2], tos[3], tos[0], tos[1]}

			// Every lane of the group is held until all the replies wait
			// for the next batch: they form one.
			g := mailin.GroupOf(w.sys.Inbound)
			release := make(chan struct{})
			var held sync.WaitGroup
			for range g.Lanes() {
				started := make(chan struct{})
				held.Add(1)
				go func() {
					defer held.Done()
					w.sys.DB.Tx(db.WithGroup(context.Background(), g), func(*sql.Tx) error { close(started); <-release; return nil })
				}()
				<-started
			}
			errs := make([]error, len(msgs))
			var sent sync.WaitGroup
			for i := range msgs {
				sent.Add(1)
				go func() { defer sent.Done(); errs[i] = w.reply("cert@deu.example", rcpts[i], msgs[i]) }()
			}
			for g.Queued() < len(msgs) {
				time.Sleep(time.Millisecond)
			}
			close(release)
			held.Wait()
			sent.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("reply %d was refused: %v", i, err)
				}
			}
			for i, c := range cs {
				want := map[bool]int{true: 1}[i != 1]
				if n := w.events(t, c.ID, comms.EvAcknowledged); n != want {
					t.Errorf("communication %d: %d acknowledgements", i, n)
				}
			}
			if n := w.events(t, cs[1].ID, comms.EvDisputed); n != 1 {
				t.Errorf("%d disputes recorded", n)
			}
			var entries int
			if err := w.sys.DB.QueryRow(`SELECT COUNT(*) FROM comm_events WHERE comm_id = $1 AND kind = $2 AND log_index IS NOT NULL`, cs[1].ID, comms.EvDisputed).Scan(&entries); err != nil || entries != 1 {
				t.Errorf("%d disputes logged (%v)", entries, err)
			}
			got := results(t, w)
			if got[mailin.ResultRecorded] != 4 || got[mailin.ResultUnclear] != 1 || len(got) != 2 {
				t.Errorf("results %v: want 4 recorded and 1 unclear (the second acknowledgement), the copy of the dispute not recorded again", got)
			}
		})

		t.Run("replies sent at once on several connections, each twice, are all recorded once", func(t *testing.T) {
			w := newWorld(t, e)
			const n = 40
			cs, tos := w.replyTos(t, n)
			msgs := make([][]byte, n)
			for i := range n {
				msgs[i] = plain("cert@deu.example", tos[i], "Re: "+cs[i].Ref, "ACKNOWLEDGE")
			}
			twice := append(append([][]byte{}, msgs...), msgs...)
			rcpts := append(append([]string{}, tos...), tos...)
			deliverAll(t, w.inbound, twice, rcpts, 8)
			for i, c := range cs {
				if k := w.events(t, c.ID, comms.EvAcknowledged); k != 1 {
					t.Errorf("communication %d: %d acknowledgements", i, k)
				}
			}
			if got := results(t, w); got[mailin.ResultRecorded] != n || len(got) != 1 {
				t.Errorf("results %v, want %d recorded", got, n)
			}
			var logged int
			if err := w.sys.DB.QueryRow(`SELECT COUNT(*) FROM comm_events WHERE kind = $1 AND log_index IS NOT NULL`, comms.EvAcknowledged).Scan(&logged); err != nil {
				t.Fatal(err)
			}
			if logged != n {
				t.Errorf("%d of %d acknowledgements have their entry in the log", logged, n)
			}
		})
	})
}
