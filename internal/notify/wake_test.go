package notify_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestQueuedMailWakesTheSender: a transaction that queues mail wakes the
// sender once it commits, whether it queued one message or many, and once
// however many it queued; one that rolls back, or queues nothing, does not.
func TestQueuedMailWakesTheSender(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		woken := sender(sys, closedPort(t)).Queued()
		msg := func(i int) notify.Message {
			return notify.Message{Kind: "test", To: fmt.Sprintf("poc%d@example.org", i), Subject: "Subject", Body: "Body"}
		}
		wakes := func() int {
			n := 0
			for {
				select {
				case <-woken:
					n++
				default:
					return n
				}
			}
		}
		ctx := context.Background()
		rollback := errors.New("rolled back")
		cases := []struct {
			name  string
			fn    func(tx *sql.Tx) error
			wakes int
		}{
			{"one message", func(tx *sql.Tx) error { return notify.Enqueue(ctx, tx, sys.Clock.Now(), msg(1)) }, 1},
			{"several, one by one", func(tx *sql.Tx) error {
				for i := range 3 {
					if err := notify.Enqueue(ctx, tx, sys.Clock.Now(), msg(i)); err != nil {
						return err
					}
				}
				return nil
			}, 1},
			{"several at once", func(tx *sql.Tx) error {
				_, err := notify.EnqueueMany(ctx, sys.DB, tx, sys.Clock.Now(), []notify.Message{msg(1), msg(2)})
				return err
			}, 1},
			{"rolled back", func(tx *sql.Tx) error {
				if err := notify.Enqueue(ctx, tx, sys.Clock.Now(), msg(1)); err != nil {
					return err
				}
				return rollback
			}, 0},
			{"no mail", func(tx *sql.Tx) error {
				_, err := notify.EnqueueMany(ctx, sys.DB, tx, sys.Clock.Now(), nil)
				return err
			}, 0},
		}
		for _, c := range cases {
			if err := sys.DB.Tx(ctx, c.fn); err != nil && !errors.Is(err, rollback) {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := wakes(); got != c.wakes {
				t.Errorf("%s: the sender was woken %d times, want %d", c.name, got, c.wakes)
			}
		}
		// Two commits before the sender looks: one round takes both.
		for i := range 2 {
			if err := sys.DB.Tx(ctx, func(tx *sql.Tx) error { return notify.Enqueue(ctx, tx, sys.Clock.Now(), msg(i)) }); err != nil {
				t.Fatal(err)
			}
		}
		if got := wakes(); got != 1 {
			t.Errorf("two commits: woken %d times, want 1 waiting", got)
		}
	})
}

// countingSession accepts every message and counts the connections.
type countingSession struct{}

func (countingSession) Reset()                               {}
func (countingSession) Logout() error                        { return nil }
func (countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (countingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (countingSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }

// TestARoundUsesEveryConnection: a round of fewer messages than a
// connection's batch (the first ones of a burst) is shared among all the
// connections it may open, not sent over one while the others stay
// closed.
func TestARoundUsesEveryConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		conns.Add(1)
		return countingSession{}, nil
	}))
	srv.Domain = "count.test"
	go srv.Serve(ln)
	defer srv.Close()
	sys := testkit.New(t, testkit.Engines()[0])
	enqueue(t, sys, 10)
	s := sender(sys, ln.Addr().(*net.TCPAddr).Port)
	s.Batch, s.SMTP.Connections = 100, 4
	if n, err := s.RunOnce(context.Background()); n != 10 || err != nil {
		t.Fatalf("sent %d: %v", n, err)
	}
	if got := conns.Load(); got != 4 {
		t.Errorf("10 messages went over %d connections, want 4", got)
	}
	// Past MaxConnections, the round keeps to it.
	enqueue(t, sys, 2*notify.MaxConnections)
	conns.Store(0)
	s.SMTP.Connections = 10 * notify.MaxConnections
	if n, err := s.RunOnce(context.Background()); n != 2*notify.MaxConnections || err != nil {
		t.Fatalf("sent %d: %v", n, err)
	}
	if got := conns.Load(); got != notify.MaxConnections {
		t.Errorf("%d connections, want at most %d", got, notify.MaxConnections)
	}
}
