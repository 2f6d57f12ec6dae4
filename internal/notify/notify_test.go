package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

func catcher(t *testing.T) *notify.Catcher {
	c, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func enqueue(t *testing.T, sys *testkit.System, n int) {
	t.Helper()
	err := sys.DB.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := 0; i < n; i++ {
			if err := notify.Enqueue(context.Background(), tx, sys.Clock.Now(), notify.Message{Kind: "test", To: fmt.Sprintf("poc%d@example.org", i),
				Subject: fmt.Sprintf("Message %d", i), Body: "Hello é\nLine two"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sender(sys *testkit.System, port int) *notify.Sender {
	return &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, SMTP: notify.SMTP{Host: "127.0.0.1", Port: port, From: "pocdir@example.org", TLS: "none"}}
}

// closedPort returns a port on which nothing listens.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func TestDeliveryOverSMTP(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		c := catcher(t)
		enqueue(t, sys, 3)
		n, err := sender(sys, c.Port()).RunOnce(context.Background())
		if err != nil || n != 3 {
			t.Fatalf("sent %d: %v", n, err)
		}
		// A round shares its messages among its connections: they arrive
		// in any order.
		got := c.Messages()
		if len(got) != 3 {
			t.Fatalf("received %d messages", len(got))
		}
		for _, m := range got {
			i := strings.TrimPrefix(m.Subject, "Message ")
			if !strings.Contains(m.Body, "Hello é") || len(m.To) != 1 || m.To[0] != "poc"+i+"@example.org" {
				t.Errorf("received %q to %v: %q", m.Subject, m.To, m.Body)
			}
		}
		var bodies int
		sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE body <> ''`).Scan(&bodies)
		if bodies != 0 {
			t.Error("bodies are kept after sending")
		}
		if n, _ := sender(sys, c.Port()).RunOnce(context.Background()); n != 0 {
			t.Errorf("sent %d again", n)
		}
	})
}

func TestTheOutboxWaitsForADownServer(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		enqueue(t, sys, 2)
		down := sender(sys, closedPort(t))
		if n, _ := down.RunOnce(context.Background()); n != 0 {
			t.Fatalf("sent %d to a server that is down", n)
		}
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		st, err := sys.Outbox.Status(sec.Ctx(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Queued != 2 || st.Items[0].Attempts != 1 || st.Items[0].LastError == "" || !st.Items[0].NextAttemptAt.After(sys.Clock.Now()) {
			t.Fatalf("status %+v %+v", st, st.Items[0])
		}
		c := catcher(t)
		up := sender(sys, c.Port())
		if n, _ := up.RunOnce(context.Background()); n != 0 {
			t.Errorf("retried before the backoff: %d", n)
		}
		sys.Clock.Advance(2 * time.Minute)
		if n, err := up.RunOnce(context.Background()); n != 2 || err != nil {
			t.Errorf("after the backoff: sent %d, %v", n, err)
		}
		if len(c.Messages()) != 2 {
			t.Errorf("received %d", len(c.Messages()))
		}
		st, _ = sys.Outbox.Status(sec.Ctx(), 0)
		if st.Sent != 2 || st.Queued != 0 {
			t.Errorf("status %+v", st)
		}
		t.Run("only the Secretariat sees the outbox", func(t *testing.T) {
			fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
			if _, err := sys.Outbox.Status(fp.Ctx(), 0); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("got %v", err)
			}
		})
	})
}

func TestSeveralSendersSendEachMessageOnce(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		c := catcher(t)
		enqueue(t, sys, 60)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			s := sender(sys, c.Port())
			s.Batch = 7
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := s.RunOnce(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, m := range c.Messages() {
			seen[m.Subject]++
		}
		if len(seen) != 60 {
			t.Errorf("%d distinct messages arrived, want 60", len(seen))
		}
		for s, n := range seen {
			if n != 1 {
				t.Errorf("%s arrived %d times", s, n)
			}
		}
	})
}

func TestInvitationByEmail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, _ := testkit.NewServed(t, e)
		c := catcher(t)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		inv, err := sys.Accounts.Invite(sec.Ctx(), account.InviteInput{Email: "fp@ken.example", Role: app.RoleFocalPoint, State: "KEN"})
		if err != nil {
			t.Fatal(err)
		}
		// Kenya has no focal point yet: a second officer approves.
		if _, err := sys.Accounts.ApproveInvitation(sec2.Ctx(), inv.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := sender(sys, c.Port()).RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("sent %d: %v", n, err)
		}
		msgs := c.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "fp@ken.example" {
			t.Fatalf("received %+v", msgs)
		}
		link := regexp.MustCompile(`http://\S+/invite/pdi_[A-Za-z0-9_-]+`).FindString(msgs[0].Body)
		if link == "" {
			t.Fatalf("no link in\n%s", msgs[0].Body)
		}
		client := testkit.Client(t)
		resp, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "fp@ken.example") {
			t.Fatalf("following the emailed link: %d", resp.StatusCode)
		}
		resp = testkit.PostForm(t, client, link, url.Values{"name": {"New FP"}, "password": {"a long passphrase for KEN"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/enrol/totp" {
			t.Errorf("accepting: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestReconfirmationRemindersByEmail(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	if err := sys.Accounts.SetLanguage(fp.Ctx(), "fr"); err != nil {
		t.Fatal(err)
	}
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	// The change was announced to the focal point; it is not what is tested.
	if err := notify.RecordSent(context.Background(), sys.DB, "entry-change"); err != nil {
		t.Fatal(err)
	}
	sys.Clock.Advance((365 - 30) * 24 * time.Hour)
	if _, err := sys.Directory.SendReminders(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The mail server is down at first; the reminder waits and goes later.
	if n, _ := sender(sys, closedPort(t)).RunOnce(context.Background()); n != 0 {
		t.Fatal("sent to a server that is down")
	}
	c := catcher(t)
	sys.Clock.Advance(2 * time.Minute)
	if n, err := sender(sys, c.Port()).RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("sent %d: %v", n, err)
	}
	m := c.Messages()[0]
	if m.To[0] != "fp@fra.example" || !strings.Contains(m.Subject, "France") || !strings.Contains(m.Body, testkit.BaseURL+"/states/FRA") ||
		!strings.Contains(m.Body, "confirmation annuelle") || !strings.Contains(m.Body, "— English —") {
		t.Errorf("reminder:\n%s\n%s", m.Subject, m.Body)
	}
}

// TestClaimOfADeadInstanceExpiresSoon: an instance that stops while
// sending (here: it hangs on a mail server that never greets) keeps its
// messages claimed only as long as it renews the claim; once it stops
// renewing, as a killed instance does, another instance sends them within
// half a minute, not ten, and an urgent notification does not wait.
func TestClaimOfADeadInstanceExpiresSoon(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC()) // queues the announcement of the change
		mute, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var conns []net.Conn
		var mu sync.Mutex
		go func() { // accepts and never greets
			for {
				c, err := mute.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		var waitFor func(t *testing.T, what, query string, args ...any)
		hang := func(t *testing.T, renew time.Duration) (stop func()) {
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			s := sender(sys, mute.Addr().(*net.TCPAddr).Port)
			s.RenewEvery = renew
			go func() {
				defer close(done)
				s.RunOnce(ctx)
			}()
			// It has claimed, and waits for a greeting.
			waitFor(t, "the message claimed", `SELECT COUNT(*) FROM outbox WHERE claimed_until IS NOT NULL AND sent_at IS NULL`)
			return func() {
				cancel()
				mu.Lock()
				for _, c := range conns {
					c.Close()
				}
				mu.Unlock()
				<-done
			}
		}
		c := catcher(t)
		other := sender(sys, c.Port())
		waitFor = func(t *testing.T, what, query string, args ...any) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				var n int
				if err := sys.DB.QueryRow(query, args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("waited 20 s for %s", what)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}

		t.Run("a live instance renews its claim", func(t *testing.T) {
			stop := hang(t, 50*time.Millisecond)
			sys.Clock.Advance(31 * time.Second)
			// A renewal at the new time.
			waitFor(t, "the claim renewed", `SELECT COUNT(*) FROM outbox WHERE claimed_until > $1 AND sent_at IS NULL`, sys.Clock.Now())
			n, err := other.RunOnce(context.Background())
			stop()
			if n != 0 || err != nil {
				t.Errorf("another instance sent %d messages still being sent: %v", n, err)
			}
		})
		// The stopped instance recorded a failed attempt: the retry is due
		// in a minute.
		sys.Clock.Advance(2 * time.Minute)

		t.Run("a dead instance's claim expires in half a minute", func(t *testing.T) {
			stop := hang(t, time.Hour) // never renews, as if killed
			defer stop()
			if n, _ := other.RunOnce(context.Background()); n != 0 {
				t.Fatalf("another instance sent %d messages claimed a moment ago", n)
			}
			sys.Clock.Advance(31 * time.Second)
			if n, err := other.RunOnce(context.Background()); n == 0 || err != nil {
				t.Errorf("half a minute after the instance stopped, %d sent: %v", n, err)
			}
		})
	})
}

// holdingServer is a mail server that holds the message numbered hold (from
// 1) until release is closed.
type holdingServer struct {
	hold     int
	received *int32
	held     chan struct{}
	release  chan struct{}
	mu       *sync.Mutex
}

func (h holdingServer) NewSession(*smtp.Conn) (smtp.Session, error) { return h, nil }
func (holdingServer) Reset()                                        {}
func (holdingServer) Logout() error                                 { return nil }
func (holdingServer) Mail(string, *smtp.MailOptions) error          { return nil }
func (holdingServer) Rcpt(string, *smtp.RcptOptions) error          { return nil }
func (h holdingServer) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	h.mu.Lock()
	*h.received++
	n := int(*h.received)
	h.mu.Unlock()
	if n == h.hold {
		close(h.held)
		<-h.release
	}
	return nil
}

// TestAcceptedMailIsRecordedAsItGoes holds the mail server on the 15th
// message of a round of 30: the fourteen it accepted are recorded as sent
// already, so that an instance killed there would leave almost nothing to
// be sent again, not the whole round.
func TestAcceptedMailIsRecordedAsItGoes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		enqueue(t, sys, 30)
		var received int32
		h := holdingServer{hold: 15, received: &received, held: make(chan struct{}), release: make(chan struct{}), mu: &sync.Mutex{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := smtp.NewServer(h)
		srv.Domain, srv.AllowInsecureAuth = "hold.test", true
		go srv.Serve(ln)
		defer srv.Close()
		s := sender(sys, ln.Addr().(*net.TCPAddr).Port)
		s.SMTP.Connections = 1
		done := make(chan int)
		go func() {
			n, err := s.RunOnce(context.Background())
			if err != nil {
				t.Error(err)
			}
			done <- n
		}()
		<-h.held
		deadline := time.Now().Add(20 * time.Second)
		for {
			var sent int
			if err := sys.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL`).Scan(&sent); err != nil {
				t.Fatal(err)
			}
			if sent == 14 {
				break
			}
			if sent > 14 || time.Now().After(deadline) {
				t.Fatalf("%d messages recorded as sent while the 15th was being received: want the fourteen before it", sent)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(h.release)
		if n := <-done; n != 30 {
			t.Errorf("%d sent, want 30", n)
		}
	})
}

// TestOutboxStatusPages lists the outbox a page at a time, newest first.
func TestOutboxStatusPages(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	enqueue(t, sys, notify.StatusPage+10)
	first, err := sys.Outbox.Status(sec.Ctx(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != notify.StatusPage || first.Older == 0 || first.Queued != notify.StatusPage+10 || first.Items[0].ID < first.Items[1].ID {
		t.Fatalf("first page: %d items, older %d, %d queued", len(first.Items), first.Older, first.Queued)
	}
	second, err := sys.Outbox.Status(sec.Ctx(), first.Older)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Items) != 10 || second.Older != 0 || second.Items[0].ID >= first.Items[len(first.Items)-1].ID {
		t.Errorf("second page: %d items, older %d", len(second.Items), second.Older)
	}
}
