package comms_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// BenchmarkCrisisBurst is a crisis: every Member State sends one
// notification to five others at once (193 communications to two technical
// PoCs each: 1,930 emails). It reports the time from the first send until
// every recipient's email has reached a real SMTP server on 127.0.0.1, with
// the senders composing on 8 goroutines while pocdir's background jobs run
// as in a running pocdir: its outbox job sends, woken by each commit that
// queues mail, over 8 connections (--smtp-connections 8).
//
//	go test -run '^$' -bench CrisisBurst -benchtime 3x ./internal/comms/
//	POCDIR_TEST_POSTGRES=postgres://… for the PostgreSQL row too
func BenchmarkCrisisBurst(b *testing.B) {
	for _, e := range testkit.Engines() {
		for _, keyed := range []bool{false, true} {
			name := e.Name
			if keyed {
				name += "-openpgp"
			}
			b.Run(name, func(b *testing.B) { crisisBurst(b, e, keyed) })
		}
	}
}

// crisisBurst runs BenchmarkCrisisBurst on one engine; with keyed, every
// PoC has published an OpenPGP key, so that each e-mail is encrypted to its
// PoC and signed.
func crisisBurst(b *testing.B, e testkit.Engine, keyed bool) {
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer catcher.Close()
	catcher.Keep = 1 << 20
	// pocdir's own outbox job sends, woken by each commit that
	// queues mail, on the connections the bare sender of
	// BenchmarkFanOut opens.
	sys := testkit.New(b, e, testkit.WithConfig(func(c *system.Config) {
		c.SMTP = notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none", Connections: 8}
	}))
	refs, err := directory.ReferenceStates()
	if err != nil {
		b.Fatal(err)
	}
	var members []string
	for _, s := range refs {
		if s.Status == "member" {
			members = append(members, s.Code)
		}
	}
	officers := map[string]*app.Actor{}
	for i, code := range members {
		ctx := app.WithActor(context.Background(), &app.Actor{Email: "fp@" + code, Role: app.RoleFocalPoint, State: code})
		for k := range 2 {
			in := testkit.ValidPoC()
			in.Agency = fmt.Sprintf("CERT %s %d", code, k)
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: fmt.Sprintf("cert%d-%d@example.org", i, k), Preferred: true}}
			if keyed {
				in.PGPKey = testkit.NewKeyPair(b, in.Agency, in.Channels[0].Value).Public
			}
			sys.AddPoC(b, ctx, code, in)
		}
		u := sys.User(b, fmt.Sprintf("officer%d@example.org", i), app.RoleOfficer, code)
		officers[code] = u.Actor()
	}
	running, stop := context.WithCancel(context.Background())
	defer stop()
	sys.Run(running)
	waitSent(b, sys) // the announcements of the PoCs are not measured
	want := len(members) * 5 * 2
	var total, composed, cpu time.Duration
	round := 0
	for b.Loop() {
		round++
		before := catcher.Received()
		start, cpu0 := time.Now(), testkit.CPUTime()
		jobs := make(chan int)
		var composing sync.WaitGroup
		for range 8 {
			composing.Add(1)
			go func() {
				defer composing.Done()
				for i := range jobs {
					var to []string
					for k := 1; k <= 5; k++ {
						to = append(to, members[(i+k*7)%len(members)])
					}
					in := comms.CommInput{Template: "notification", ToStates: to, Level: comms.LevelTechnical, Fields: map[string]string{
						"subject": fmt.Sprintf("Burst %d from %s", round, members[i]), "urgency": "critical", "tlp": comms.TLPAmber,
						"description": "Wiper activity against our energy sector from addresses announced in your space.",
						"indicators":  "198.51.100.7\n203.0.113.0/24\nupdate-check.example\nmalware: ExampleWiper"}}
					if _, err := sys.Comms.Compose(app.WithActor(context.Background(), officers[members[i]]), in); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := range members {
			jobs <- i
		}
		close(jobs)
		composing.Wait()
		composed += time.Since(start)
		waitFor(b, "the burst's e-mails at the mail server", time.Millisecond, func() bool { return catcher.Received() >= before+want })
		total += time.Since(start)
		cpu += testkit.CPUTime() - cpu0
	}
	// The row with keys measures encrypted e-mails, not e-mails that went
	// without content for want of a usable key.
	if ms := catcher.Messages(); len(ms) == 0 || strings.Contains(string(ms[len(ms)-1].Raw), "multipart/encrypted") != keyed {
		b.Fatalf("keys %v, yet the last e-mail was not as they say", keyed)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/burst")
	b.ReportMetric(composed.Seconds()/float64(b.N), "s-composing/burst")
	b.ReportMetric(float64(want*b.N)/total.Seconds(), "emails/s")
	// This process's CPU for each e-mail: composing, the outbox, the log,
	// and the mail server's side, which runs here too (as in the bare
	// sender's cpu-µs/message of BenchmarkFanOut); PostgreSQL's own is not
	// in it.
	if cpu > 0 { // 0 where the system does not say
		b.ReportMetric(float64(cpu.Microseconds())/float64(want*b.N), "cpu-µs/email")
	}
}

// waitSent waits until the running system's outbox has sent what it holds.
func waitSent(b *testing.B, sys *testkit.System) {
	waitFor(b, "the outbox to empty", 10*time.Millisecond, func() bool {
		var waiting int
		if err := sys.DB.QueryRow(`SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&waiting); err != nil {
			b.Fatal(err)
		}
		return waiting == 0
	})
}

// waitFor checks done every step until it holds, and fails the benchmark
// after two minutes: a background job that fails only logs its error, and
// the benchmark must not wait for ever on it.
func waitFor(b *testing.B, what string, step time.Duration, done func() bool) {
	limit := time.Now().Add(2 * time.Minute)
	for !done() {
		if time.Now().After(limit) {
			b.Fatalf("waited two minutes for %s", what)
		}
		time.Sleep(step)
	}
}

// BenchmarkVolumes counts the communications of the dashboard's report
// among 100,000 sent over two years by every Member State (copies of one
// communication, written straight to the table, the way a year of a busy
// pocdir leaves them). Here: 0.1 to 0.2 s on SQLite (1.5 s before the
// index comms_sent), 0.3 s on PostgreSQL.
//
//	go test -run '^$' -bench Volumes -benchtime 10x ./internal/comms/
//	POCDIR_TEST_POSTGRES=postgres://… for the PostgreSQL row too
func BenchmarkVolumes(b *testing.B) {
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			w := newWorld(b, e)
			c, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN"))
			if err != nil {
				b.Fatal(err)
			}
			refs, err := directory.ReferenceStates()
			if err != nil {
				b.Fatal(err)
			}
			start := w.sys.Clock.Now().AddDate(-2, 0, 0)
			ctx := context.Background()
			tx, err := w.sys.DB.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			const n = 100_000
			for i := range n {
				at := start.Add(time.Duration(i) * (2 * 365 * 24 * time.Hour / n))
				if _, err := tx.ExecContext(ctx, `INSERT INTO comms (ref, thread_id, template_id, template_version, sender_state, sender_user, sender_email,
					to_states, level, urgency, tlp, status, content, created_at, updated_at, sent_at)
					SELECT $1, thread_id, template_id, template_version, $2, sender_user, sender_email, to_states, level, urgency, tlp, status, content, $3, $3, $3
					FROM comms WHERE id = $4`, fmt.Sprintf("B-%d", i), refs[i%len(refs)].Code, at, c.ID); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				v, err := w.s.Volumes(w.sec.Ctx())
				if err != nil || len(v.Months) != 12 {
					b.Fatalf("%v %v", v, err)
				}
			}
		})
	}
}

// BenchmarkCommsPage reads the first page of a State's communications and
// its inbox over a history of a few thousand: what a page costs, which
// must not grow with the history (issue 19 §4).
//
//	go test -run '^$' -bench CommsPage -cpuprofile cpu.out ./internal/comms/
func BenchmarkCommsPage(b *testing.B) {
	for _, e := range testkit.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			w := newWorld(b, e)
			now := w.sys.Clock.Now()
			in := comms.HistoryInput{Count: 3000, From: now.AddDate(-10, 0, 0), To: now.Add(-24 * time.Hour), Seed: 1}
			if err := w.s.History(app.WithActor(context.Background(), app.System), in, nil); err != nil {
				b.Fatal(err)
			}
			b.Run("list", func(b *testing.B) {
				for b.Loop() {
					if _, err := w.s.CommsPage(w.offFRA.Ctx(), comms.Filter{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("list-stages", func(b *testing.B) { // as the page of the list reads it
				for b.Loop() {
					if _, err := w.s.CommsPage(w.offFRA.Ctx(), comms.Filter{StagesOnly: true}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("awaiting", func(b *testing.B) {
				for b.Loop() {
					if _, err := w.s.AwaitingReceived(w.offFRA.Ctx(), nil, false, app.PageSize+1); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("count", func(b *testing.B) {
				for b.Loop() {
					if _, err := w.s.AwaitingCount(w.offFRA.Ctx()); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
