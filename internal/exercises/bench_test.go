package exercises_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkExerciseInject is an exercise of every Member State: one inject
// released to all 193 at once (two technical PoCs each: 386 emails). It
// reports the time from the release until every email has reached a real
// SMTP server on 127.0.0.1, with the outbox sending round after round (a
// running pocdir starts a round when a commit queues mail), and the rate in emails per second to set beside
// BenchmarkCrisisBurst's (internal/comms); and the time of the release
// itself (the one transaction that writes every line and e-mail), before
// which the outbox has nothing to send.
//
//	go test -run '^$' -bench ExerciseInject -benchtime 3x ./internal/exercises/
//	POCDIR_TEST_POSTGRES=postgres://… for the PostgreSQL row too
func BenchmarkExerciseInject(b *testing.B) {
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			sys := testkit.New(b, e)
			refs, err := directory.ReferenceStates()
			if err != nil {
				b.Fatal(err)
			}
			var participants []exercises.Participant
			for i, s := range refs {
				if s.Status != "member" {
					continue
				}
				participants = append(participants, exercises.Participant{State: s.Code, Level: comms.LevelTechnical})
				ctx := app.WithActor(context.Background(), &app.Actor{Email: "fp@" + s.Code, Role: app.RoleFocalPoint, State: s.Code})
				for k := range 2 {
					in := testkit.ValidPoC()
					in.Agency = fmt.Sprintf("CERT %s %d", s.Code, k)
					in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: fmt.Sprintf("cert%d-%d@example.org", i, k), Preferred: true}}
					sys.AddPoC(b, ctx, s.Code, in)
				}
			}
			sec := sys.User(b, "sec@un.example", app.RoleSecretariat, "")
			catcher, err := notify.StartCatcher("127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer catcher.Close()
			catcher.Keep = 1 << 20
			sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, Batch: 250,
				SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none", Connections: 8}}
			// The announcements of the PoCs are not what is measured.
			for {
				n, err := sender.RunOnce(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			want := len(participants) * 2
			var total, releasing time.Duration
			round := 0
			for b.Loop() {
				round++
				now := sys.Clock.Now()
				x, err := sys.Exercises.Plan(sec.Ctx(), exercises.Input{Name: fmt.Sprintf("Global exercise %d", round), StartsAt: now,
					EndsAt: now.Add(48 * time.Hour), TargetAckMinutes: 30, TargetAnswerMinutes: 120, Participants: participants})
				if err != nil {
					b.Fatal(err)
				}
				inj, err := sys.Exercises.AddInject(sec.Ctx(), x.ID, exercises.InjectInput{Template: "exercise", Fields: map[string]string{
					"subject": "Scenario: wiper against the grid", "urgency": "critical", "tlp": comms.TLPGreen,
					"description": "Scenario text: destructive activity since 02:00 UTC.", "indicators": "198.51.100.7\nmalware: ExampleWiper"}})
				if err != nil {
					b.Fatal(err)
				}
				before := catcher.Received()
				ctx, stop := context.WithCancel(context.Background())
				var sent sync.WaitGroup
				sent.Add(1)
				go func() { // the outbox, as in a running pocdir
					defer sent.Done()
					for catcher.Received() < before+want && ctx.Err() == nil {
						if n, err := sender.RunOnce(ctx); err != nil && ctx.Err() == nil {
							b.Error(err)
							return
						} else if n == 0 {
							time.Sleep(time.Millisecond)
						}
					}
				}()
				start := time.Now()
				if _, err := sys.Exercises.Release(sec.Ctx(), x.ID, inj.ID); err != nil {
					b.Fatal(err)
				}
				releasing += time.Since(start)
				sent.Wait()
				total += time.Since(start)
				stop()
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/inject")
			b.ReportMetric(releasing.Seconds()/float64(b.N), "s-releasing/inject")
			b.ReportMetric(float64(want*b.N)/total.Seconds(), "emails/s")
		})
	}
}
