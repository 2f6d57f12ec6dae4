package checks_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

type world struct {
	sys                        *testkit.System
	sec, fpFRA, offFRA, fpKEN  *testkit.User
	offKEN, fpDEU              *testkit.User
	fraTech, fraDipl, ken, deu *directory.PoC
}

func newWorld(t *testing.T, e testkit.Engine) *world {
	s := testkit.New(t, e)
	w := &world{sys: s,
		sec:    s.User(t, "sec@un.example", app.RoleSecretariat, ""),
		fpFRA:  s.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		offFRA: s.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
		fpKEN:  s.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		offKEN: s.User(t, "off@ken.example", app.RoleOfficer, "KEN"),
		fpDEU:  s.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU"),
	}
	poc := func(u *testkit.User, level directory.Level, email string) *directory.PoC {
		in := testkit.ValidPoC()
		in.Level, in.Agency = level, "Agency "+email
		in.Channels = []directory.Channel{{Kind: directory.ChannelPhone, Value: "+41 22 917 1234"}, {Kind: directory.ChannelEmail, Value: email, Preferred: true}}
		return s.AddPoC(t, u.Ctx(), u.State, in)
	}
	w.fraTech = poc(w.fpFRA, directory.LevelTechnical, "cert@fra.example")
	w.fraDipl = poc(w.fpFRA, directory.LevelDiplomatic, "mfa@fra.example")
	w.ken = poc(w.fpKEN, directory.LevelTechnical, "cert@ken.example")
	w.deu = poc(w.fpDEU, directory.LevelDiplomatic, "mfa@deu.example")
	return w
}

// links returns the answer links queued in the outbox, by address.
func (w *world) links(t *testing.T) map[string][]string {
	t.Helper()
	rows, err := w.sys.DB.QueryContext(context.Background(), `SELECT to_addr, body FROM outbox WHERE kind = 'check' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	re := regexp.MustCompile(`http://pocdir\.test/check/([A-Za-z0-9_-]{43})`)
	for rows.Next() {
		var to, body string
		if err := rows.Scan(&to, &body); err != nil {
			t.Fatal(err)
		}
		if m := re.FindStringSubmatch(body); m != nil {
			out[to] = append(out[to], m[1])
		}
	}
	return out
}

func (w *world) outbox(t *testing.T, kind, to string) int {
	t.Helper()
	var n int
	if err := w.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = $1 AND to_addr = $2`, kind, to).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func run(t *testing.T, s *checks.Service) int {
	t.Helper()
	n, err := s.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func outcomes(t *testing.T, s *checks.Service, ctx context.Context, id int64) map[string]string {
	t.Helper()
	r, err := s.Results(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tg := range r.Targets {
		out[tg.Address] = tg.Outcome
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code app.Code) {
	t.Helper()
	if app.ErrorCode(err) != code {
		t.Errorf("%s: got %v, want %s", what, err, code)
	}
}

func TestCampaignLifecycle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s, clock := w.sys.Checks, w.sys.Clock
		c, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Q4 check", Message: "Please answer.", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 48})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != checks.StatusRunning || c.Targets != 4 || c.Queued != 0 {
			t.Fatalf("created %+v", c)
		}
		if n := run(t, s); n != 4 {
			t.Fatalf("queued %d, want 4", n)
		}
		if n := run(t, s); n != 0 {
			t.Errorf("a second run queued %d more", n)
		}
		links := w.links(t)
		if len(links) != 4 || len(links["cert@fra.example"]) != 1 {
			t.Fatalf("links %v", links)
		}
		ip := "192.0.2.1"
		clock.Advance(2 * time.Hour)
		t.Run("a link answers once, without a login, and shows nothing of the directory", func(t *testing.T) {
			lc, err := s.LookupLink(context.Background(), links["cert@fra.example"][0], ip)
			if err != nil || lc.Title != "Q4 check" || lc.AnsweredAt != nil {
				t.Fatalf("%+v %v", lc, err)
			}
			if _, err := s.AnswerLink(context.Background(), links["cert@fra.example"][0], ip); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			_, err = s.AnswerLink(context.Background(), links["cert@fra.example"][0], ip)
			wantCode(t, "a second use", err, app.Conflict)
			r, _ := s.Results(w.sec.Ctx(), c.ID)
			for _, tg := range r.Targets {
				if tg.Address == "cert@fra.example" && (tg.Via != "link" || tg.Seconds != 7200) {
					t.Errorf("answer recorded %+v", tg)
				}
			}
			_, err = s.AnswerLink(context.Background(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ip)
			wantCode(t, "an unknown link", err, app.NotFound)
		})
		t.Run("a signed-in user answers for a PoC of their own State only", func(t *testing.T) {
			p, _ := s.Pending(w.offKEN.Ctx())
			if len(p) != 1 || p[0].Address != "cert@ken.example" {
				t.Fatalf("KEN's pending %+v", p)
			}
			wantCode(t, "FRA's officer", s.AnswerInPortal(w.offFRA.Ctx(), p[0].ID), app.NotFound)
			ro := w.offKEN.Actor()
			ro.ReadOnly = true
			wantCode(t, "a read-only token", s.AnswerInPortal(app.WithActor(context.Background(), ro), p[0].ID), app.Forbidden)
			if err := s.AnswerInPortal(w.offKEN.Ctx(), p[0].ID); err != nil {
				t.Fatal(err)
			}
			if p, _ := s.Pending(w.offKEN.Ctx()); len(p) != 0 {
				t.Errorf("still pending %+v", p)
			}
		})
		// Half the window: one reminder to the silent, with a new link.
		clock.Advance(23 * time.Hour)
		if n := run(t, s); n != 2 {
			t.Errorf("reminders queued: %d, want 2", n)
		}
		if n := run(t, s); n != 0 {
			t.Errorf("a second reminder run queued %d", n)
		}
		links = w.links(t)
		if len(links["mfa@fra.example"]) != 2 || len(links["cert@fra.example"]) != 1 {
			t.Errorf("links after the reminder %v", links)
		}
		// The first link still works.
		if _, err := s.AnswerLink(context.Background(), links["mfa@fra.example"][0], ip); err != nil {
			t.Errorf("the first link after a reminder: %v", err)
		}
		// After the window: closed, and who did not answer is reported.
		clock.Advance(24 * time.Hour)
		run(t, s)
		got, _ := s.Campaign(w.sec.Ctx(), c.ID)
		if got.Status != checks.StatusClosed || got.Answered != 3 || got.Silent != 1 {
			t.Errorf("closed %+v", got)
		}
		if w.outbox(t, "check-report", "fp@deu.example") != 1 || w.outbox(t, "check-report", "sec@un.example") != 1 || w.outbox(t, "check-report", "fp@fra.example") != 0 {
			t.Error("the reports of silent PoCs went to the wrong people")
		}
		run(t, s)
		if w.outbox(t, "check-report", "sec@un.example") != 1 {
			t.Error("a second run reported again")
		}
		// Within the grace, a late answer; after it, the link has expired.
		if _, err := s.AnswerLink(context.Background(), links["mfa@deu.example"][0], ip); err != nil {
			t.Fatal(err)
		}
		if o := outcomes(t, s, w.sec.Ctx(), c.ID); o["mfa@deu.example"] != checks.OutcomeLate || o["cert@ken.example"] != checks.OutcomeAnswered {
			t.Errorf("outcomes %v", o)
		}
		clock.Advance(checks.Grace)
		_, err = s.AnswerLink(context.Background(), links["mfa@deu.example"][1], ip)
		wantCode(t, "an expired link", err, app.Conflict)
		t.Run("a State sees its own PoCs' results of the Secretariat's campaign", func(t *testing.T) {
			r, err := s.Results(w.offFRA.Ctx(), c.ID)
			if err != nil || len(r.Targets) != 2 || r.Campaign.Targets != 2 {
				t.Errorf("%+v %v", r, err)
			}
			for _, tg := range r.Targets {
				if tg.State != "FRA" {
					t.Errorf("FRA sees %s", tg.State)
				}
			}
		})
		t.Run("exporting the results is logged, for the States whose PoCs the file holds", func(t *testing.T) {
			r, err := s.Export(w.offFRA.Ctx(), c.ID)
			if err != nil || len(r.Targets) != 2 {
				t.Fatalf("%+v %v", r, err)
			}
			list, err := w.sys.Audit.Entries(w.sec.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			last := list[len(list)-1]
			if last.Type != "checks.exported" || last.Object != "check:"+strconv.FormatInt(c.ID, 10) || strings.Join(last.States, ",") != "FRA" || last.ActorEmail != w.offFRA.Email {
				t.Errorf("last entry %+v", last.Event)
			}
			_, err = s.Export(w.fpDEU.Ctx(), 99999)
			wantCode(t, "exporting a campaign that does not exist", err, app.NotFound)
			if again, _ := w.sys.Audit.Entries(w.sec.Ctx(), 0, 1000); len(again) != len(list) {
				t.Errorf("a refused export was logged: %d entries, then %d", len(list), len(again))
			}
		})
		t.Run("removing a PoC keeps its past results", func(t *testing.T) {
			w.sys.RemovePoC(t, w.fpDEU.Ctx(), w.deu.ID, "")
			if o := outcomes(t, s, w.sec.Ctx(), c.ID); o["mfa@deu.example"] != checks.OutcomeLate {
				t.Errorf("outcomes %v", o)
			}
			r, _ := s.Results(w.sec.Ctx(), c.ID)
			if len(r.ByState) != 3 || len(r.ByGroup) != 2 {
				t.Errorf("by State %+v, by group %+v", r.ByState, r.ByGroup)
			}
		})
		t.Run("a campaign of those that failed last time", func(t *testing.T) {
			f, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Again", Scope: "failed", Channel: checks.ChannelEmail, WindowHours: 24})
			if err != nil {
				t.Fatal(err)
			}
			// DEU's PoC answered late and was then removed: nobody is left.
			if f.Targets != 0 {
				t.Errorf("%d targets", f.Targets)
			}
		})
	})
}

func TestCampaignInputAndAuthorization(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	s := w.sys.Checks
	valid := checks.Input{Title: "Check", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24}
	cases := []struct {
		name  string
		edit  func(in *checks.Input)
		field string
	}{
		{"no title", func(in *checks.Input) { in.Title = " " }, "title"},
		{"an unknown scope", func(in *checks.Input) { in.Scope = "friends" }, "scope"},
		{"a group that does not exist", func(in *checks.Input) { in.Scope, in.Value = "group", "Nordic" }, "value"},
		{"an unknown channel", func(in *checks.Input) { in.Channel = "pigeon" }, "channel"},
		{"a window that ends before it starts", func(in *checks.Input) { in.WindowHours = 0 }, "window_hours"},
		{"a negative window", func(in *checks.Input) { in.WindowHours = -5 }, "window_hours"},
		{"a window over 30 days", func(in *checks.Input) { in.WindowHours = 24*30 + 1 }, "window_hours"},
		{"a start in the past", func(in *checks.Input) { in.StartAt = "2020-01-01T10:00" }, "start_at"},
		{"a start that is not a date", func(in *checks.Input) { in.StartAt = "soon" }, "start_at"},
		{"a counterpart for the Secretariat", func(in *checks.Input) { in.Counterpart = "KEN" }, "counterpart"},
	}
	for _, c := range cases {
		t.Run(c.name+" is refused", func(t *testing.T) {
			in := valid
			c.edit(&in)
			_, err := s.Create(w.sec.Ctx(), in)
			e := app.AsError(err)
			found := e.Field == c.field
			for _, f := range e.Fields {
				found = found || f.Field == c.field
			}
			if e.Code != app.Invalid || !found {
				t.Errorf("got %v, want invalid %s", err, c.field)
			}
		})
	}
	t.Run("officers and anonymous callers cannot create campaigns", func(t *testing.T) {
		_, err := s.Create(w.offFRA.Ctx(), valid)
		wantCode(t, "officer", err, app.Forbidden)
		_, err = s.Create(context.Background(), valid)
		wantCode(t, "anonymous", err, app.Unauthorized)
		list := listed(t, s, w.sec)
		if len(list) != 0 {
			t.Errorf("%d campaigns", len(list))
		}
	})
	t.Run("a focal point runs a bilateral check only with a counterpart", func(t *testing.T) {
		_, err := s.Create(w.fpFRA.Ctx(), valid)
		wantCode(t, "no counterpart", err, app.Invalid)
		in := valid
		in.Counterpart = "FRA"
		_, err = s.Create(w.fpFRA.Ctx(), in)
		wantCode(t, "itself", err, app.Invalid)
	})
}

func TestBilateralCheckIsSeenByTheTwoStatesOnly(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s := w.sys.Checks
		c, err := s.Create(w.fpFRA.Ctx(), checks.Input{Title: "FRA–KEN", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24, Counterpart: "ken"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != checks.KindBilateral || c.Targets != 1 {
			t.Fatalf("%+v", c)
		}
		run(t, s)
		for _, u := range []*testkit.User{w.fpFRA, w.offFRA, w.fpKEN, w.offKEN} {
			r, err := s.Results(u.Ctx(), c.ID)
			if err != nil || len(r.Targets) != 1 || r.Targets[0].State != "KEN" {
				t.Errorf("%s: %+v %v", u.Email, r, err)
			}
		}
		target, err := s.Results(w.fpFRA.Ctx(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		tid := target.Targets[0].ID
		// What names the campaign elsewhere (the accountability log)
		// follows the same rule.
		for _, u := range []*testkit.User{w.fpFRA, w.offFRA, w.fpKEN, w.offKEN} {
			if h, err := s.Heading(u.Ctx(), c.ID); err != nil || h.Title != "FRA–KEN" {
				t.Errorf("%s naming the campaign: %+v %v", u.Email, h, err)
			}
			if h, err := s.TargetCampaign(u.Ctx(), tid); err != nil || h.ID != c.ID {
				t.Errorf("%s naming the target's campaign: %+v %v", u.Email, h, err)
			}
		}
		for _, u := range []*testkit.User{w.sec, w.fpDEU} {
			_, err := s.Heading(u.Ctx(), c.ID)
			wantCode(t, u.Email+" naming the campaign", err, app.NotFound)
			_, err = s.TargetCampaign(u.Ctx(), tid)
			wantCode(t, u.Email+" naming the target's campaign", err, app.NotFound)
			_, err = s.Results(u.Ctx(), c.ID)
			wantCode(t, u.Email, err, app.NotFound)
			_, err = s.Export(u.Ctx(), c.ID)
			wantCode(t, u.Email+" exporting", err, app.NotFound)
			list := listed(t, s, u)
			if len(list) != 0 {
				t.Errorf("%s lists %d campaigns", u.Email, len(list))
			}
		}
		_, err = s.Cancel(w.fpKEN.Ctx(), c.ID)
		wantCode(t, "the counterpart cancelling", err, app.Forbidden)
		// The counterpart's PoC answers the same way.
		if _, err := s.AnswerLink(context.Background(), w.links(t)["cert@ken.example"][0], ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestScheduledCampaignRunsOnceOnSeveralInstances(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		start := w.sys.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		c, err := w.sys.Checks.Create(w.sec.Ctx(), checks.Input{Title: "Quarterly", Scope: "level", Value: "technical", Channel: checks.ChannelEmail,
			WindowHours: 72, StartAt: start, RepeatMonths: 3})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != checks.StatusScheduled || c.Targets != 0 {
			t.Fatalf("%+v", c)
		}
		if n := run(t, w.sys.Checks); n != 0 {
			t.Errorf("queued %d before the start", n)
		}
		w.sys.Clock.Advance(time.Hour)
		// Four instances run the job at once.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			inst := w.sys.Instance(t, testkit.WithConfig(func(c *system.Config) { c.CheckBatch = 1 })).Checks
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					if _, err := inst.RunOnce(context.Background()); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		run(t, w.sys.Checks)
		links := w.links(t)
		if len(links) != 2 || len(links["cert@fra.example"]) != 1 || len(links["cert@ken.example"]) != 1 {
			t.Errorf("each technical PoC gets one message: %v", links)
		}
		list := listed(t, w.sys.Checks, w.sec)
		if len(list) != 2 || list[0].Status != checks.StatusScheduled || !list[0].StartAt.Equal(c.StartAt.AddDate(0, 3, 0)) {
			t.Errorf("the next quarter is not scheduled once: %+v", list)
		}
	})
}

func TestCancelStopsTheDispatch(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	s := w.sys.Checks.WithClock(w.sys.Clock.Now, 1)
	c, err := s.Create(w.sec.Ctx(), checks.Input{Title: "All", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	got, _ := s.Campaign(w.sec.Ctx(), c.ID)
	if got.Queued != 1 || got.Progress() != 25 {
		t.Fatalf("progress %+v", got.Tally)
	}
	_, err = s.Cancel(w.fpFRA.Ctx(), c.ID)
	wantCode(t, "a focal point cancelling", err, app.Forbidden)
	if _, err := s.Cancel(w.sec.Ctx(), c.ID); err != nil {
		t.Fatal(err)
	}
	if n := run(t, s); n != 0 {
		t.Errorf("queued %d after cancelling", n)
	}
	_, err = s.Cancel(w.sec.Ctx(), c.ID)
	wantCode(t, "cancelling twice", err, app.Conflict)
}

func TestBouncesAndTheManualChannel(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	s := w.sys.Checks
	c, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Mail", Scope: "states", Value: "fra", Channel: checks.ChannelEmail, WindowHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	// The mail server refuses one address for good.
	testkit.MailFailed(t, w.sys.DB, "mfa@fra.example", w.sys.Clock.Now())
	run(t, s)
	if o := outcomes(t, s, w.sec.Ctx(), c.ID); o["mfa@fra.example"] != checks.OutcomeBounced || o["cert@fra.example"] != checks.OutcomeWaiting {
		t.Errorf("outcomes %v", o)
	}
	m, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Calls", Scope: "states", Value: "KEN,DEU", Channel: checks.ChannelManual, WindowHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	r, _ := s.Results(w.sec.Ctx(), m.ID)
	if len(r.Targets) != 2 {
		t.Fatalf("%+v", r.Targets)
	}
	wantCode(t, "a State recording a call", s.RecordManual(w.fpKEN.Ctx(), r.Targets[0].ID, true), app.NotFound)
	if err := s.RecordManual(w.sec.Ctx(), r.Targets[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordManual(w.sec.Ctx(), r.Targets[1].ID, true); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Campaign(w.sec.Ctx(), m.ID)
	if got.Answered != 1 || got.Silent != 1 {
		t.Errorf("%+v", got.Tally)
	}
}

func TestAnswerLinksAreRateLimited(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	s := checks.New(checks.Config{DB: w.sys.DB, Now: w.sys.Clock.Now, Directory: w.sys.Directory, Mail: w.sys.Mail, AnswerLimit: 3})
	if _, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Mail", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	for range 3 {
		_, err := s.AnswerLink(context.Background(), "guessguessguessguessguessguessguessguessgue", "198.51.100.7")
		wantCode(t, "a guess", err, app.NotFound)
	}
	good := w.links(t)["cert@ken.example"][0]
	_, err := s.AnswerLink(context.Background(), good, "198.51.100.7")
	wantCode(t, "after three guesses", err, app.TooMany)
	if _, err := s.AnswerLink(context.Background(), good, "198.51.100.8"); err != nil {
		t.Errorf("another address: %v", err)
	}
	w.sys.Clock.Advance(16 * time.Minute)
	_, err = s.AnswerLink(context.Background(), good, "198.51.100.7")
	wantCode(t, "the used link later", err, app.Conflict)
}

func TestReviewFindings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		s := w.sys.Checks
		t.Run("a State's failed-last-time check never uses another State's bilateral results", func(t *testing.T) {
			c, err := s.Create(w.fpFRA.Ctx(), checks.Input{Title: "FRA checks KEN", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24, Counterpart: "KEN"})
			if err != nil {
				t.Fatal(err)
			}
			run(t, s)
			w.sys.Clock.Advance(25 * time.Hour)
			run(t, s)
			if got, _ := s.Campaign(w.fpFRA.Ctx(), c.ID); got.Status != checks.StatusClosed || got.Silent != 1 {
				t.Fatalf("%+v", got)
			}
			deu, err := s.Create(w.fpDEU.Ctx(), checks.Input{Title: "DEU checks KEN's failures", Scope: "failed", Channel: checks.ChannelEmail, WindowHours: 24, Counterpart: "KEN"})
			if err != nil {
				t.Fatal(err)
			}
			if deu.Targets != 0 {
				t.Errorf("DEU's check took %d targets from FRA's results", deu.Targets)
			}
			again, err := s.Create(w.fpFRA.Ctx(), checks.Input{Title: "FRA again", Scope: "failed", Channel: checks.ChannelEmail, WindowHours: 24, Counterpart: "KEN"})
			if err != nil || again.Targets != 1 {
				t.Errorf("FRA's own failed check: %+v %v", again, err)
			}
		})
		t.Run("no reminder or close before every message is queued", func(t *testing.T) {
			slow := s.WithClock(w.sys.Clock.Now, 1)
			c, err := slow.Create(w.sec.Ctx(), checks.Input{Title: "Slow", Scope: "states", Value: "FRA,DEU", Channel: checks.ChannelEmail, WindowHours: 24})
			if err != nil {
				t.Fatal(err)
			}
			w.sys.Clock.Advance(13 * time.Hour)
			for i := 1; i <= 3; i++ {
				run(t, slow)
				got, _ := slow.Campaign(w.sec.Ctx(), c.ID)
				if got.Queued != i || got.RemindedAt != nil {
					t.Errorf("round %d: %d queued, reminded %v; want %d and no reminder before the last is queued", i, got.Queued, got.RemindedAt, i)
				}
			}
			run(t, slow)
			if got, _ := slow.Campaign(w.sec.Ctx(), c.ID); got.RemindedAt == nil {
				t.Error("no reminder once every message is queued")
			}
		})
		t.Run("the portal answers only what it offers", func(t *testing.T) {
			m, err := s.Create(w.sec.Ctx(), checks.Input{Title: "Calls", Scope: "states", Value: "KEN", Channel: checks.ChannelManual, WindowHours: 24})
			if err != nil {
				t.Fatal(err)
			}
			run(t, s)
			r, _ := s.Results(w.sec.Ctx(), m.ID)
			wantCode(t, "a manual target answered in the portal", s.AnswerInPortal(w.offKEN.Ctx(), r.Targets[0].ID), app.Conflict)
		})
	})
}

// TestCheckEmailsInThePoCsLanguage: a check goes to a PoC in the first of
// its working languages that pocdir writes, the campaign's own message as
// typed above, and English below.
func TestCheckEmailsInThePoCsLanguage(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	fpMEX := w.sys.User(t, "fp@mex.example", app.RoleFocalPoint, "MEX")
	in := testkit.ValidPoC()
	in.Languages = []string{"es", "en"}
	in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@mex.example", Preferred: true}}
	w.sys.AddPoC(t, fpMEX.Ctx(), "MEX", in)
	if _, err := w.sys.Checks.Create(w.sec.Ctx(), checks.Input{Title: "Q1", Message: "Please answer today.", Scope: "states", Value: "MEX",
		Channel: checks.ChannelEmail, WindowHours: 24}); err != nil {
		t.Fatal(err)
	}
	run(t, w.sys.Checks)
	var subject, body string
	if err := w.sys.DB.QueryRowContext(context.Background(), `SELECT subject, body FROM outbox WHERE kind = 'check' AND to_addr = 'cert@mex.example'`).Scan(&subject, &body); err != nil {
		t.Fatal(err)
	}
	es, _, _ := strings.Cut(body, "— English —")
	if !strings.HasPrefix(body, "Please answer today.\n\n") || !strings.Contains(es, "enviada por la Secretaría") ||
		!strings.Contains(body, "— English —\n\nThis is a communication check") || !strings.Contains(body, testkit.BaseURL+"/check/") {
		t.Errorf("subject %q, body:\n%s", subject, body)
	}
}

// TestAListOfStatesIsChecked: a campaign's list of States names only known
// States, within a limit; an unknown code is named in the refusal.
func TestAListOfStatesIsChecked(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	in := checks.Input{Title: "Some States", Scope: "states", Channel: checks.ChannelEmail, WindowHours: 24}
	in.Value = "FRA, XXA, KEN, QQQ"
	_, err := w.sys.Checks.Create(w.sec.Ctx(), in)
	if e := app.AsError(err); e.Code != app.Invalid || e.Field != "value" || !strings.Contains(fmt.Sprint(e.Args["Codes"]), "XXA, QQQ") {
		t.Errorf("unknown codes: %v %v", err, e.Args)
	}
	in.Value = strings.Repeat("FRA,", 20000)
	if _, err := w.sys.Checks.Create(w.sec.Ctx(), in); app.AsError(err).Key != "error.too_long" {
		t.Errorf("an 80 KB list: %v", err)
	}
	in.Value = "FRA KEN"
	if c, err := w.sys.Checks.Create(w.sec.Ctx(), in); err != nil || c.Value != "FRA KEN" {
		t.Errorf("known codes: %+v %v", c, err)
	}
}
