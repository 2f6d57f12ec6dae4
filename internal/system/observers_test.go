package system_test

import (
	"context"
	"slices"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// observerWorld is a system with two States (France, granted to the
// observer, and Kenya, not granted), each with a PoC, a list of critical
// infrastructure and a capacity-building need and offer, and an observer
// of the OSCE Secretariat granted France and the offers.
type observerWorld struct {
	sys               *testkit.System
	sec, fpFRA, fpKEN *testkit.User
	offKEN            *testkit.User
	obs               *testkit.User
	pocFRA, pocKEN    int64
	needKEN, offerKEN int64
}

func newObserverWorld(t *testing.T, e testkit.Engine) *observerWorld {
	t.Helper()
	sys := testkit.New(t, e)
	w := &observerWorld{sys: sys}
	w.sec = sys.User(t, "sec@un.test", app.RoleSecretariat, "")
	w.fpFRA = sys.User(t, "fp@fra.test", app.RoleFocalPoint, "FRA")
	w.fpKEN = sys.User(t, "fp@ken.test", app.RoleFocalPoint, "KEN")
	w.offKEN = sys.User(t, "officer@ken.test", app.RoleOfficer, "KEN")
	w.pocFRA = sys.AddPoC(t, w.fpFRA.Ctx(), "FRA", testkit.ValidPoC()).ID
	w.pocKEN = sys.AddPoC(t, w.fpKEN.Ctx(), "KEN", testkit.ValidPoC()).ID
	for _, fp := range []*testkit.User{w.fpFRA, w.fpKEN} {
		if _, err := sys.CII.Publish(fp.Ctx(), fp.State, cii.Input{Sectors: []cii.Sector{{Key: "energy"}}}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := sys.Capacity.RecordNeed(w.fpKEN.Ctx(), capacity.NeedInput{Kind: "training_course", Topics: []string{"forensics"},
		Level: directory.LevelTechnical, Languages: []string{"en"}, Visibility: capacity.VisibleAll})
	if err != nil {
		t.Fatal(err)
	}
	o, err := sys.Capacity.RecordOffer(w.fpKEN.Ctx(), capacity.OfferInput{Kind: "training_course", Topics: []string{"forensics"},
		Level: directory.LevelTechnical, Languages: []string{"en"}, Format: "online"})
	if err != nil {
		t.Fatal(err)
	}
	w.needKEN, w.offerKEN = n.ID, o.ID
	w.obs = sys.Observer(t, "osce@osce.test", "OSCE Secretariat", w.sec, account.GrantInput{States: []string{"FRA"}, Offers: true})
	return w
}

// TestObserversAreDeniedByDefault calls every read (and a few writes) of
// every service as an observer granted France and the offers: each is
// refused, except the entries of France and the offers. The same calls as
// a member show that the refusal is the observer's, not the call's.
func TestObserversAreDeniedByDefault(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newObserverWorld(t, e)
		s := w.sys
		refused := []struct {
			what string
			call func(ctx context.Context) error
			// member is true where a member of Kenya may make the call
			// (so that its refusal to the observer is the observer's).
			member bool
		}{
			{"the directory's figures", func(c context.Context) error { _, err := s.Directory.Status(c); return err }, true},
			{"the dashboard", func(c context.Context) error { _, err := s.Directory.Dashboard(c); return err }, false},
			{"the 30-day rule of France", func(c context.Context) error { _, err := s.Directory.Compliance(c, "FRA"); return err }, true},
			{"the history of France's entry", func(c context.Context) error { _, err := s.Directory.History(c, "FRA"); return err }, true},
			{"the nominations", func(c context.Context) error {
				_, err := s.Directory.Nominations(c, directory.NominationFilter{State: "FRA"}, app.Cursor{}, 0)
				return err
			}, true},
			{"the directory's waiting changes", func(c context.Context) error { _, err := s.Directory.Awaiting(c); return err }, true},
			{"who can act for France", func(c context.Context) error { _, err := s.Accounts.StateAccess(c, "FRA"); return err }, false},
			{"the users", func(c context.Context) error {
				_, err := s.Accounts.Users(c, account.UserFilter{}, app.Cursor{}, 0)
				return err
			}, false},
			{"the invitations", func(c context.Context) error { _, err := s.Accounts.Invitations(c, app.Cursor{}, 0); return err }, false},
			{"the second-factor resets", func(c context.Context) error { _, err := s.Accounts.FactorResets(c); return err }, true},
			{"the notification preferences", func(c context.Context) error { _, err := s.Accounts.Prefs(c); return err }, true},
			{"the delegates", func(c context.Context) error { _, err := s.Accounts.Delegates(c); return err }, true},
			{"the observers", func(c context.Context) error { _, err := s.Accounts.Observers(c); return err }, false},
			{"the inbox", func(c context.Context) error { _, err := s.Inbox.For(c); return err }, true},
			{"the inbox's count", func(c context.Context) error { _, err := s.Inbox.Count(c); return err }, true},
			{"the communications", func(c context.Context) error { _, err := s.Comms.Comms(c, comms.Filter{}); return err }, true},
			{"a communication", func(c context.Context) error { _, err := s.Comms.Communication(c, 1); return err }, false},
			{"a thread", func(c context.Context) error { _, err := s.Comms.Thread(c, 1); return err }, false},
			{"a communication's STIX bundle", func(c context.Context) error { _, _, err := s.Comms.STIX(c, 1); return err }, false},
			{"an attachment", func(c context.Context) error { _, err := s.Comms.AttachmentFile(c, 1, 1); return err }, false},
			{"the communications' overview", func(c context.Context) error { _, err := s.Comms.Overview(c); return err }, false},
			{"the communications' volumes", func(c context.Context) error { _, err := s.Comms.Volumes(c); return err }, false},
			{"what waits for an answer", func(c context.Context) error { _, err := s.Comms.AwaitingOnSent(c); return err }, true},
			{"what waits to be acknowledged", func(c context.Context) error { _, err := s.Comms.AwaitingReceived(c, nil, false, 10); return err }, true},
			{"the templates", func(c context.Context) error { _, err := s.Comms.Templates(c, false); return err }, true},
			{"a template", func(c context.Context) error { _, err := s.Comms.TemplateBySlug(c, "notification"); return err }, false},
			{"the tensions", func(c context.Context) error { _, err := s.Comms.Tensions(c); return err }, true},
			{"the references of communications", func(c context.Context) error { _, err := s.Comms.Locate(c, []string{"X"}); return err }, true},
			{"the exercise timings", func(c context.Context) error { _, err := s.Comms.ExerciseTimings(c, 1); return err }, false},
			{"the checks", func(c context.Context) error { _, err := s.Checks.Campaigns(c, app.Cursor{}, 0); return err }, true},
			{"a check", func(c context.Context) error { _, err := s.Checks.Campaign(c, 1); return err }, false},
			{"a check's results", func(c context.Context) error { _, err := s.Checks.Results(c, 1); return err }, false},
			{"the checks' trend", func(c context.Context) error { _, err := s.Checks.Trend(c); return err }, true},
			{"the checks to answer", func(c context.Context) error { _, err := s.Checks.Pending(c); return err }, true},
			{"the answer rates", func(c context.Context) error { _, err := s.Checks.AnswerRates(c); return err }, false},
			{"the exercises", func(c context.Context) error { _, err := s.Exercises.Exercises(c); return err }, true},
			{"an exercise", func(c context.Context) error { _, err := s.Exercises.Exercise(c, 1); return err }, false},
			{"an exercise's report", func(c context.Context) error { _, err := s.Exercises.Report(c, 1); return err }, false},
			{"the needs", func(c context.Context) error { _, err := s.Capacity.Needs(c, app.Cursor{}, 0); return err }, true},
			{"Kenya's need", func(c context.Context) error { _, err := s.Capacity.Need(c, w.needKEN); return err }, true},
			{"the matches", func(c context.Context) error { _, err := s.Capacity.Matches(c, app.Cursor{}, 0); return err }, true},
			{"the suggested matches", func(c context.Context) error { _, err := s.Capacity.Suggestions(c); return err }, false},
			{"the activities", func(c context.Context) error { _, err := s.Capacity.Activities(c, app.Cursor{}, 0); return err }, true},
			{"the capacity-building plan", func(c context.Context) error { _, err := s.Capacity.Plan(c); return err }, true},
			{"the capacity-building progress", func(c context.Context) error { _, err := s.Capacity.Progress(c); return err }, false},
			{"France's list of critical infrastructure", func(c context.Context) error { _, err := s.CII.Current(c, "FRA"); return err }, true},
			{"France's lists' history", func(c context.Context) error { _, err := s.CII.History(c, "FRA"); return err }, true},
			{"every list of critical infrastructure", func(c context.Context) error { _, err := s.CII.All(c); return err }, true},
			{"the regional bodies", func(c context.Context) error { _, err := s.Regional.Bodies(c); return err }, true},
			{"the regional contacts of France", func(c context.Context) error { _, err := s.Regional.Contacts(c, "", "FRA"); return err }, false},
			{"the regional contacts of France's PoCs", func(c context.Context) error { _, err := s.Regional.ForPoCs(c, "FRA"); return err }, false},
			{"the OSCE's regional export", func(c context.Context) error { _, err := s.Regional.Export(c, "OSCE"); return err }, false},
			{"the log's entries", func(c context.Context) error { _, err := s.Audit.Entries(c, 0, 100); return err }, true},
			{"a log entry", func(c context.Context) error { _, err := s.Audit.Entry(c, 0); return err }, false},
			{"a log receipt", func(c context.Context) error { _, err := s.Audit.Receipt(c, 0); return err }, false},
			{"a consistency proof", func(c context.Context) error { _, err := s.Audit.ProveConsistency(c, 1, 2); return err }, true},
			{"an export of the directory", func(c context.Context) error {
				_, err := s.Offline.Export.Directory(c, directory.Filter{}, "json")
				return err
			}, true},
			{"an export of France's entry", func(c context.Context) error { _, err := s.Offline.Export.State(c, "FRA", "json"); return err }, true},
			{"a vCard of France's PoC", func(c context.Context) error { _, err := s.Offline.Export.PoC(c, w.pocFRA); return err }, true},
			{"the offline copy", func(c context.Context) error { _, err := s.Offline.Archive(c); return err }, true},
			{"an encrypted offline copy", func(c context.Context) error {
				_, err := s.Offline.Copy(c, offline.Recipient{PoC: w.pocFRA})
				return err
			}, false},
			// Writes: an observer reads, and never acts.
			{"to propose a PoC for France", func(c context.Context) error {
				_, err := s.Directory.ProposePoC(c, "FRA", testkit.ValidPoC())
				return err
			}, false},
			{"to reconfirm France's entry", func(c context.Context) error { _, err := s.Directory.Reconfirm(c, "FRA"); return err }, false},
			{"to record an offer", func(c context.Context) error { _, err := s.Capacity.RecordOffer(c, capacity.OfferInput{}); return err }, false},
			{"to write a communication", func(c context.Context) error { _, err := s.Comms.Compose(c, comms.CommInput{}); return err }, false},
			{"to publish a list of critical infrastructure", func(c context.Context) error { _, err := s.CII.Publish(c, "FRA", cii.Input{}); return err }, false},
			{"to run a check", func(c context.Context) error { _, err := s.Checks.Create(c, checks.Input{}); return err }, false},
			{"to plan an exercise", func(c context.Context) error { _, err := s.Exercises.Plan(c, exercises.Input{}); return err }, false},
			{"to invite someone", func(c context.Context) error {
				_, err := s.Accounts.Invite(c, account.InviteInput{Email: "x@osce.test", Role: app.RoleObserver, Organisation: "OSCE"})
				return err
			}, false},
			{"to widen its own grant", func(c context.Context) error {
				_, err := s.Accounts.ProposeGrant(c, w.obs.ID, account.GrantInput{States: []string{"KEN"}})
				return err
			}, false},
		}
		obs := s.ObserverCtx(t, w.obs)
		for _, r := range refused {
			t.Run("an observer cannot read "+r.what, func(t *testing.T) {
				if err := r.call(obs); app.ErrorCode(err) != app.Forbidden {
					t.Fatalf("got %v, want forbidden", err)
				}
			})
			if r.member {
				t.Run("a PoC officer of Kenya can read "+r.what, func(t *testing.T) {
					if err := r.call(w.offKEN.Ctx()); err != nil {
						t.Fatalf("got %v", err)
					}
				})
			}
		}
	})
}

// TestObserversReadWhatIsGranted checks the grant itself: the entries of
// the States granted (and no other), the open offers when granted, and
// nothing once the grant is taken away.
func TestObserversReadWhatIsGranted(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newObserverWorld(t, e)
		s := w.sys
		obs := s.ObserverCtx(t, w.obs)
		t.Run("an observer lists only the States granted", func(t *testing.T) {
			list, err := s.Directory.List(obs, directory.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, x := range list {
				codes = append(codes, x.Code)
			}
			if !slices.Equal(codes, []string{"FRA"}) {
				t.Fatalf("listed %v, want FRA", codes)
			}
		})
		t.Run("an observer reads the entry and PoCs of a State granted", func(t *testing.T) {
			if e, err := s.Directory.Get(obs, "fra"); err != nil || len(e.PoCs) != 1 {
				t.Fatalf("entry %v, %v", e, err)
			}
			if _, err := s.Directory.GetJSON(obs, "FRA"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Directory.GetPoC(obs, w.pocFRA); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("an observer cannot read the entry of a State not granted", func(t *testing.T) {
			if _, err := s.Directory.Get(obs, "KEN"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("Get: %v, want forbidden", err)
			}
			if _, err := s.Directory.GetJSON(obs, "ken"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("GetJSON: %v, want forbidden", err)
			}
			if _, err := s.Directory.GetPoC(obs, w.pocKEN); app.ErrorCode(err) != app.NotFound {
				t.Errorf("GetPoC: %v, want not found", err)
			}
		})
		t.Run("an observer granted the offers reads the open ones, without who recorded them", func(t *testing.T) {
			page, err := s.Capacity.Offers(obs, app.Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if list := page.List; len(list) != 1 || list[0].ID != w.offerKEN || list[0].CreatedBy != "" {
				t.Fatalf("offers %+v: want Kenya's, anonymous", list)
			}
			if o, err := s.Capacity.Offer(obs, w.offerKEN); err != nil || o.CreatedBy != "" {
				t.Fatalf("offer %+v, %v", o, err)
			}
		})
		s.Grant(t, w.obs.ID, w.sec, account.GrantInput{States: []string{"KEN"}})
		obs = s.ObserverCtx(t, w.obs)
		t.Run("a new grant replaces the former one", func(t *testing.T) {
			if _, err := s.Directory.Get(obs, "FRA"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("France: %v, want forbidden", err)
			}
			if _, err := s.Directory.Get(obs, "KEN"); err != nil {
				t.Errorf("Kenya: %v", err)
			}
		})
		t.Run("an observer not granted the offers reads none", func(t *testing.T) {
			if page, err := s.Capacity.Offers(obs, app.Cursor{}, 0); err != nil || len(page.List) != 0 {
				t.Fatalf("offers %v, %v: want none", page.List, err)
			}
			if _, err := s.Capacity.Offer(obs, w.offerKEN); app.ErrorCode(err) != app.NotFound {
				t.Fatalf("offer: %v, want not found", err)
			}
		})
		s.Grant(t, w.obs.ID, w.sec, account.GrantInput{})
		obs = s.ObserverCtx(t, w.obs)
		t.Run("an observer whose grant was taken away reads nothing", func(t *testing.T) {
			if list, err := s.Directory.List(obs, directory.Filter{}); err != nil || len(list) != 0 {
				t.Fatalf("listed %v, %v: want nothing", list, err)
			}
			if _, err := s.Directory.Get(obs, "KEN"); app.ErrorCode(err) != app.Forbidden {
				t.Fatalf("Kenya: %v, want forbidden", err)
			}
		})
		t.Run("an observer still manages its own account", func(t *testing.T) {
			if me, err := s.Accounts.Me(obs); err != nil || me.Organisation != "OSCE Secretariat" {
				t.Fatalf("me %+v, %v", me, err)
			}
			if _, err := s.Accounts.Tokens(obs); err != nil {
				t.Fatal(err)
			}
		})
	})
}
