package notify_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
		var total, cpu time.Duration
		for b.Loop() {
			start, cpu0 := time.Now(), testkit.CPUTime()
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
			cpu += testkit.CPUTime() - cpu0
		}
		b.ReportMetric(float64(n*b.N)/total.Seconds(), "messages/s")
		// The client's and the mail server's CPU together: both run here.
		if cpu > 0 { // 0 where the system does not say
			b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/message")
		}
	})
	for _, e := range testkit.Engines() {
		b.Run("outbox/"+e.Name, func(b *testing.B) {
			sys := testkit.New(b, e)
			sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, Batch: 250,
				SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none", Connections: conns}}
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

// BenchmarkReplyTokens records the reply tokens of a crisis burst (1,930,
// in transactions of 80: eight communications to five States' two PoCs
// each) in a table that already holds those of years (10^6, or
// POCDIR_BENCH_TOKENS), with hashes of today's form (the second the token
// was made, then its SHA-256) and of the earlier form (the SHA-256 alone):
// what the order of the index's keys costs once it is larger than the
// database's cache.
//
//	go test -run '^$' -bench ReplyTokens -benchtime 3x ./internal/notify/
func BenchmarkReplyTokens(b *testing.B) {
	held := testkit.BenchCount(b, "POCDIR_BENCH_TOKENS", 1_000_000)
	const burst, perTx = 1930, 80
	random := func() string {
		var r [32]byte
		if _, err := rand.Read(r[:]); err != nil {
			b.Fatal(err)
		}
		return hex.EncodeToString(r[:])
	}
	forms := []struct {
		name string
		// hash is the stored hash of the i-th of n tokens made over ten
		// years until now.
		hash func(i, n int, now time.Time) string
	}{
		{"earlier", func(int, int, time.Time) string { return random() }},
		{"today", func(i, n int, now time.Time) string {
			at := now.Add(-time.Duration(n-i) * 10 * 365 * 24 * time.Hour / time.Duration(max(n, 1)))
			return fmt.Sprintf("%010x", at.Unix()) + random()
		}},
	}
	for _, e := range testkit.Engines() {
		for _, f := range forms {
			b.Run(e.Name+"/"+f.name, func(b *testing.B) {
				sys := testkit.New(b, e)
				ctx := context.Background()
				now := sys.Clock.Now()
				insert := func(hashes []string) error {
					return sys.DB.Tx(ctx, func(tx *sql.Tx) error {
						var tb notify.TokenBatch
						for i, h := range hashes {
							tb.Add(h, notify.ReplyComm, int64(i), now, now.Add(90*24*time.Hour))
						}
						return tb.Insert(ctx, sys.DB, tx)
					})
				}
				for start := 0; start < held; start += 10_000 {
					hashes := make([]string, min(10_000, held-start))
					for i := range hashes {
						hashes[i] = f.hash(start+i, held, now)
					}
					if err := insert(hashes); err != nil {
						b.Fatal(err)
					}
				}
				var total time.Duration
				for b.Loop() {
					now = now.Add(time.Minute)
					hashes := make([]string, burst)
					for i := range hashes {
						hashes[i] = f.hash(held, held, now)
					}
					start := time.Now()
					for k := 0; k < burst; k += perTx {
						if err := insert(hashes[k:min(k+perTx, burst)]); err != nil {
							b.Fatal(err)
						}
					}
					total += time.Since(start)
				}
				b.ReportMetric(float64(burst*b.N)/total.Seconds(), "tokens/s")
			})
		}
	}
}
