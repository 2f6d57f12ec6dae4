package system_test

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// slowSession takes half a second to accept a message.
type slowSession struct{ started, accepted *atomic.Int32 }

func (slowSession) Reset()                               {}
func (slowSession) Logout() error                        { return nil }
func (slowSession) Mail(string, *smtp.MailOptions) error { return nil }
func (slowSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s slowSession) Data(r io.Reader) error {
	s.started.Add(1)
	io.Copy(io.Discard, r)
	time.Sleep(500 * time.Millisecond)
	s.accepted.Add(1)
	return nil
}

// TestStoppingFinishesTheStepUnderWay stops pocdir while the outbox is
// handing an email to a slow mail server: the round finishes, the email is
// recorded as sent (and will not go twice), and only then does the
// database close.
func TestStoppingFinishesTheStepUnderWay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var started, accepted atomic.Int32
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return slowSession{&started, &accepted}, nil }))
	srv.Domain = "slow.test"
	go srv.Serve(ln)
	defer srv.Close()
	sys := testkit.New(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) {
		c.SMTP = notify.SMTP{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "pocdir@example.org", TLS: "none"}
	}))
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC()) // queues the announcement of the change
	ctx, stop := context.WithCancel(context.Background())
	sys.Run(ctx)
	for started.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	path := sys.Config.DB
	if err := sys.Close(); err != nil {
		t.Fatal(err)
	}
	if accepted.Load() == 0 {
		t.Fatal("the database closed before the mail server accepted the message")
	}
	d, err := system.OpenDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var sent, queued int
	if err := d.QueryRow(`SELECT COUNT(sent_at), COUNT(*) - COUNT(sent_at) FROM outbox`).Scan(&sent, &queued); err != nil {
		t.Fatal(err)
	}
	if sent == 0 || queued != 0 {
		t.Errorf("%d sent, %d still queued: the round was cut short", sent, queued)
	}
}

// TestQueuedMailLeavesAtOnce: mail queued while pocdir runs goes out when
// its transaction commits, not at the outbox's next round (every ten
// seconds): an urgent notification does not wait for it.
func TestQueuedMailLeavesAtOnce(t *testing.T) {
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	sys := testkit.New(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) {
		c.SMTP = notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}
	}))
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sys.Run(ctx) // its first round finds nothing
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC()) // queues the announcement of the change
	// Well within the round's ten seconds, on however slow a machine.
	for catcher.Received() == 0 {
		if time.Since(began) > 5*time.Second {
			t.Fatal("the mail waited for the outbox's next round")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
