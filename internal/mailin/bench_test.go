package mailin_test

import (
	"fmt"
	"io"
	"net"
	"net/smtp"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkInboundReplies sends 1,000 replies (each acknowledging its own
// communication) to pocdir's SMTP listener over 8 connections, and the same
// messages to a bare go-smtp server that accepts and discards them, in the
// same run. It reports both rates and their ratio (the budget: at least
// 0.5): what receiving, parsing, recording the act, its thread event and
// its log entry cost over the SMTP exchange itself.
//
//	go test -run '^$' -bench InboundReplies -benchtime 3x ./internal/mailin/
//	POCDIR_TEST_POSTGRES=postgres://… for the PostgreSQL row too
func BenchmarkInboundReplies(b *testing.B) {
	const replies = 1000
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			w := newWorld(b, e)
			bare := startBare(b)
			var pocdir, bareTime time.Duration
			for b.Loop() {
				// Setup, not measured: a thousand communications to answer.
				msgs, rcpts := make([][]byte, replies), make([]string, replies)
				for i := range replies {
					c, err := w.sys.Comms.Compose(w.off.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"DEU"}, Level: comms.LevelTechnical,
						Fields: map[string]string{"subject": fmt.Sprintf("Notice %d", i), "urgency": "high", "tlp": comms.TLPAmber, "description": "Scanning from your space."}})
					if err != nil {
						b.Fatal(err)
					}
					var to string
					if err := w.sys.DB.QueryRow(`SELECT o.reply_to FROM outbox o JOIN comm_recipients r ON r.outbox_id = o.id WHERE r.comm_id = $1`, c.ID).Scan(&to); err != nil {
						b.Fatal(err)
					}
					rcpts[i] = to
					msgs[i] = plain("cert@deu.example", to, "Re: "+c.Ref, "ACKNOWLEDGE\n\nOn Monday, pocdir wrote:\n> A communication from FRA awaits your State.")
				}
				pocdir += deliverAll(b, w.inbound, msgs, rcpts, 8)
				bareTime += deliverAll(b, bare, msgs, rcpts, 8)
			}
			var recorded int
			if err := w.sys.DB.QueryRow(`SELECT COUNT(*) FROM inbound_mail WHERE result = 'recorded'`).Scan(&recorded); err != nil {
				b.Fatal(err)
			}
			if recorded != replies*b.N {
				b.Fatalf("%d of %d replies recorded", recorded, replies*b.N)
			}
			b.ReportMetric(float64(replies*b.N)/pocdir.Seconds(), "replies/s")
			b.ReportMetric(float64(replies*b.N)/bareTime.Seconds(), "bare-smtp/s")
			b.ReportMetric(bareTime.Seconds()/pocdir.Seconds(), "ratio")
		})
	}
}

// bareSession is a go-smtp session that accepts every message and
// discards it.
type bareSession struct{}

func (bareSession) Reset()                                 {}
func (bareSession) Logout() error                          { return nil }
func (bareSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (bareSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (bareSession) Data(r io.Reader) error                 { _, err := io.Copy(io.Discard, r); return err }

func startBare(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return bareSession{}, nil }))
	srv.Domain, srv.MaxMessageBytes, srv.MaxRecipients = "bare.test", 30<<20, 10
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// deliverAll sends each message to its recipient over conns connections,
// one SMTP transaction after another on each, and returns how long it took.
func deliverAll(b testing.TB, addr string, msgs [][]byte, rcpts []string, conns int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for k := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := smtp.Dial(addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for i := k; i < len(msgs); i += conns {
				if err := c.Mail("cert@deu.example"); err != nil {
					b.Error(err)
					return
				}
				if err := c.Rcpt(rcpts[i]); err != nil {
					b.Error(err)
					return
				}
				wc, err := c.Data()
				if err != nil {
					b.Error(err)
					return
				}
				wc.Write(msgs[i])
				if err := wc.Close(); err != nil {
					b.Error(err)
					return
				}
			}
			c.Quit()
		}()
	}
	wg.Wait()
	return time.Since(start)
}
