package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkFanOut compares the outbox's delivery with a bare SMTP sender
// on the same machine: 8 connections, each sending its share of the
// messages to a real SMTP server on 127.0.0.1.
//
//	go test -run '^$' -bench FanOut -benchtime 3x ./internal/notify/
func BenchmarkFanOut(b *testing.B) {
	const n, conns = 4000, 8
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer catcher.Close()
	msg := func(i int) notify.Message {
		return notify.Message{Kind: "check", To: fmt.Sprintf("poc%d@example.org", i), Subject: "pocdir communication check: Q4",
			Body: "This is a communication check of the directory of Points of Contact.\n\nhttp://pocdir.example/check/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"}
	}
	b.Run("bare", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, conns)
			for c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client, err := mail.NewClient("127.0.0.1", mail.WithPort(catcher.Port()), mail.WithTLSPolicy(mail.NoTLS))
					if err != nil {
						errs <- err
						return
					}
					var msgs []*mail.Msg
					for i := c; i < n; i += conns {
						m := msg(i)
						mm := mail.NewMsg()
						mm.From("pocdir@example.org")
						mm.To(m.To)
						mm.Subject(m.Subject)
						mm.SetDate()
						mm.SetMessageID()
						mm.SetBodyString(mail.TypeTextPlain, m.Body)
						msgs = append(msgs, mm)
					}
					if err := client.DialAndSend(msgs...); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(n*b.N)/total.Seconds(), "messages/s")
	})
	for _, e := range testkit.Engines() {
		b.Run("outbox/"+e.Name, func(b *testing.B) {
			sys := testkit.New(b, e)
			sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, Batch: 250, Connections: conns,
				SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}}
			var total time.Duration
			for b.Loop() {
				err := sys.DB.Tx(context.Background(), func(tx *sql.Tx) error {
					for i := range n {
						if err := notify.Enqueue(context.Background(), tx, sys.Clock.Now(), msg(i)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				sent := 0
				for sent < n {
					k, err := sender.RunOnce(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if k == 0 {
						b.Fatalf("stuck at %d of %d", sent, n)
					}
					sent += k
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "messages/s")
		})
	}
}
