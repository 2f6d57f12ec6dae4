package checks_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkCampaign runs a campaign to 1,000 PoCs (193 States) through the
// outbox to a real SMTP server on 127.0.0.1, and then answers every link:
// it reports the time to hand every message to the SMTP server, and the
// answers recorded per second.
//
//	go test -run '^$' -bench Campaign -benchtime 1x ./internal/checks/
//	POCDIR_TEST_POSTGRES=postgres://… for the PostgreSQL row too
func BenchmarkCampaign(b *testing.B) {
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			sys := testkit.New(b, e, testkit.WithConfig(func(c *system.Config) { c.CheckBatch = 250 }))
			states, err := directory.ReferenceStates()
			if err != nil {
				b.Fatal(err)
			}
			total := benchPoCs()
			n := 0
			for i := 0; n < total; i++ {
				s := states[i%len(states)]
				if s.Status != "member" {
					continue
				}
				ctx := app.WithActor(context.Background(), &app.Actor{Email: "bench@example.org", Role: app.RoleFocalPoint, State: s.Code})
				in := testkit.ValidPoC()
				in.Agency = fmt.Sprintf("Agency %d", n)
				in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: fmt.Sprintf("poc%d@example.org", n), Preferred: true}}
				sys.AddPoC(b, ctx, s.Code, in)
				n++
			}
			sec := sys.Validator(b)
			catcher, err := notify.StartCatcher("127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer catcher.Close()
			catcher.Keep = 1 << 20
			sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, Batch: 250,
				SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}}
			var dispatch, answering time.Duration
			answers := 0
			for b.Loop() {
				before := len(catcher.Messages())
				start := time.Now()
				c, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Bench", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24})
				if err != nil {
					b.Fatal(err)
				}
				if c.Targets != total {
					b.Fatalf("%d targets", c.Targets)
				}
				for len(catcher.Messages()) < before+total {
					if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
						b.Fatal(err)
					}
					if _, err := sender.RunOnce(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				dispatch += time.Since(start)
				re := regexp.MustCompile(`/check/([A-Za-z0-9_-]{43})`)
				var tokens []string
				for _, m := range catcher.Messages()[before:] {
					tokens = append(tokens, re.FindStringSubmatch(m.Body)[1])
				}
				start = time.Now()
				for _, tok := range tokens {
					if _, err := sys.Checks.AnswerLink(context.Background(), tok, ""); err != nil {
						b.Fatal(err)
					}
				}
				answering += time.Since(start)
				answers += len(tokens)
				if _, err := sys.Checks.Cancel(sec.Ctx(), c.ID); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(dispatch.Seconds()/float64(b.N), "s/campaign")
			b.ReportMetric(float64(total*b.N)/dispatch.Seconds(), "messages/s")
			b.ReportMetric(float64(answers)/answering.Seconds(), "answers/s")
		})
	}
}

// benchPoCs is the directory's size for BenchmarkCampaign: 1,000 PoCs, or
// POCDIR_BENCH_POCS.
func benchPoCs() int {
	if n, err := strconv.Atoi(os.Getenv("POCDIR_BENCH_POCS")); err == nil && n > 0 {
		return n
	}
	return 1000
}
