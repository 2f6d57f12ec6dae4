package capacity_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// The world of these tests: three States (Iran needs help, Kenya and
// France offer it), each with a focal point and an officer, and two
// Secretariat users.
type world struct {
	sys           *testkit.System
	s             *capacity.Service
	sec, sec2     *testkit.User
	fpIRN, offIRN *testkit.User
	fpKEN, offKEN *testkit.User
	fpFRA, offFRA *testkit.User
}

func newWorld(t *testing.T, e testkit.Engine) *world {
	s := testkit.New(t, e)
	return &world{sys: s, s: s.Capacity,
		sec:    s.User(t, "sec@un.example", app.RoleSecretariat, ""),
		sec2:   s.User(t, "sec2@un.example", app.RoleSecretariat, ""),
		fpIRN:  s.User(t, "fp@irn.example", app.RoleFocalPoint, "IRN"),
		offIRN: s.User(t, "off@irn.example", app.RoleOfficer, "IRN"),
		fpKEN:  s.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"),
		offKEN: s.User(t, "off@ken.example", app.RoleOfficer, "KEN"),
		fpFRA:  s.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"),
		offFRA: s.User(t, "off@fra.example", app.RoleOfficer, "FRA"),
	}
}

func need(topic string, vis capacity.Visibility) capacity.NeedInput {
	return capacity.NeedInput{Kind: "training_course", Topics: []string{topic}, Level: directory.LevelTechnical,
		Languages: []string{"fa", "en"}, NeededBy: "2026-09-30", Visibility: vis,
		Details: capacity.Text{Lang: "fr", Text: "Former l'équipe de garde.", English: "Train the duty team."}}
}

func offer(topics ...string) capacity.OfferInput {
	return capacity.OfferInput{Kind: "training_course", Topics: topics, Level: directory.LevelTechnical,
		Languages: []string{"en", "fr"}, Format: "online", Capacity: 20, PeriodFrom: "2026-04-01", PeriodTo: "2026-12-31"}
}

// result is what a service method returned: got(s.X(…)).ok(t) stops
// the test on an error.
type result[T any] struct {
	v   T
	err error
}

func got[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func wantCode(t *testing.T, what string, err error, code app.Code) {
	t.Helper()
	if app.ErrorCode(err) != code {
		t.Errorf("%s: got %v, want %s", what, err, code)
	}
}

func ids[T any](list []T, id func(T) int64) []int64 {
	var out []int64
	for _, x := range list {
		out = append(out, id(x))
	}
	slices.Sort(out)
	return out
}

func TestNeedVisibility(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		secret := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("poc_setup", ""))).ok(t)
		offerers := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("forensics", capacity.VisibleOfferers))).ok(t)
		public := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("legal_frameworks", capacity.VisibleAll))).ok(t)
		if secret.Visibility != capacity.VisibleSecretariat {
			t.Fatalf("the default visibility is %q, want the Secretariat only", secret.Visibility)
		}
		kenOffer := got(w.s.RecordOffer(w.fpKEN.Ctx(), offer("forensics"))).ok(t)
		got(w.s.RecordOffer(w.fpFRA.Ctx(), offer("incident_handling"))).ok(t)

		all := []int64{secret.ID, offerers.ID, public.ID}
		cases := []struct {
			name string
			u    *testkit.User
			want []int64
		}{
			{"the Secretariat sees every need", w.sec, all},
			{"the needing State's focal point sees its needs", w.fpIRN, all},
			{"the needing State's officer reads its State's needs", w.offIRN, all},
			{"a State offering help on a topic sees the need shown to offerers", w.fpKEN, []int64{offerers.ID, public.ID}},
			{"that State's officer sees the same", w.offKEN, []int64{offerers.ID, public.ID}},
			{"a State offering on another topic sees only the need shown to all", w.fpFRA, []int64{public.ID}},
			{"its officer too", w.offFRA, []int64{public.ID}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				list := got(w.s.Needs(c.u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List
				if got := ids(list, func(n *capacity.Need) int64 { return n.ID }); !slices.Equal(got, c.want) {
					t.Errorf("sees %v, want %v", got, c.want)
				}
				for _, id := range all {
					_, err := w.s.Need(c.u.Ctx(), id)
					if slices.Contains(c.want, id) {
						if err != nil {
							t.Errorf("need %d: %v", id, err)
						}
					} else {
						wantCode(t, "reading a need it may not see", err, app.NotFound)
					}
				}
			})
		}

		t.Run("a State that withdraws its offer no longer sees the need shown to offerers", func(t *testing.T) {
			got(w.s.WithdrawOffer(w.fpKEN.Ctx(), kenOffer.ID)).ok(t)
			list := got(w.s.Needs(w.offKEN.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List
			if got := ids(list, func(n *capacity.Need) int64 { return n.ID }); !slices.Equal(got, []int64{public.ID}) {
				t.Errorf("sees %v, want only %d", got, public.ID)
			}
		})
		t.Run("no one but the State's focal point changes or withdraws its need", func(t *testing.T) {
			_, err := w.s.WithdrawNeed(w.fpFRA.Ctx(), public.ID)
			wantCode(t, "another State's focal point", err, app.Forbidden)
			_, err = w.s.WithdrawNeed(w.fpFRA.Ctx(), secret.ID)
			wantCode(t, "another State's focal point, on a need it cannot see", err, app.NotFound)
			_, err = w.s.WithdrawNeed(w.offIRN.Ctx(), public.ID)
			wantCode(t, "the State's officer", err, app.Forbidden)
			_, err = w.s.UpdateNeed(w.sec.Ctx(), public.ID, need("forensics", capacity.VisibleAll))
			wantCode(t, "the Secretariat", err, app.Forbidden)
			n := got(w.s.UpdateNeed(w.fpIRN.Ctx(), public.ID, need("legal_frameworks", capacity.VisibleSecretariat))).ok(t)
			if n.Visibility != capacity.VisibleSecretariat {
				t.Errorf("visibility %q after the change", n.Visibility)
			}
			_, err = w.s.Need(w.fpFRA.Ctx(), public.ID)
			wantCode(t, "a need made secret again", err, app.NotFound)
			n = got(w.s.WithdrawNeed(w.fpIRN.Ctx(), public.ID)).ok(t)
			if n.Status != capacity.NeedWithdrawn {
				t.Errorf("status %q after withdrawing", n.Status)
			}
		})
		t.Run("a withdrawn need shown to all is no longer shown to other States", func(t *testing.T) {
			n := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("norms", capacity.VisibleAll))).ok(t)
			got(w.s.WithdrawNeed(w.fpIRN.Ctx(), n.ID)).ok(t)
			_, err := w.s.Need(w.fpFRA.Ctx(), n.ID)
			wantCode(t, "a withdrawn need", err, app.NotFound)
		})
	})
}

func TestRecordingRules(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		t.Run("who may record", func(t *testing.T) {
			_, err := w.s.RecordNeed(w.offIRN.Ctx(), need("poc_setup", ""))
			wantCode(t, "an officer records a need", err, app.Forbidden)
			_, err = w.s.RecordNeed(w.sec.Ctx(), need("poc_setup", ""))
			wantCode(t, "the Secretariat records a need", err, app.Forbidden)
			_, err = w.s.RecordNeed(context.Background(), need("poc_setup", ""))
			wantCode(t, "nobody records a need", err, app.Unauthorized)
			_, err = w.s.RecordOffer(w.offFRA.Ctx(), offer("poc_setup"))
			wantCode(t, "an officer records an offer", err, app.Forbidden)
			ro := w.fpIRN.Actor()
			ro.ReadOnly = true
			_, err = w.s.RecordNeed(app.WithActor(context.Background(), ro), need("poc_setup", ""))
			wantCode(t, "a read-only token records a need", err, app.Forbidden)
		})
		long := strings.Repeat("x", capacity.MaxText+1)
		needCases := []struct {
			name  string
			edit  func(*capacity.NeedInput)
			field string
		}{
			{"a need without a kind is refused", func(in *capacity.NeedInput) { in.Kind = "" }, "kind"},
			{"an unknown topic is refused", func(in *capacity.NeedInput) { in.Topics = []string{"hacking"} }, "topics"},
			{"a need with no topic and no words is refused", func(in *capacity.NeedInput) { in.Topics = nil }, "topics"},
			{"a need without a level is refused", func(in *capacity.NeedInput) { in.Level = "" }, "level"},
			{"a need without a language is refused", func(in *capacity.NeedInput) { in.Languages = nil }, "languages"},
			{"a bad date is refused", func(in *capacity.NeedInput) { in.NeededBy = "30/09/2026" }, "needed_by"},
			{"an unknown visibility is refused", func(in *capacity.NeedInput) { in.Visibility = "friends" }, "visibility"},
			{"details too long are refused", func(in *capacity.NeedInput) { in.Details.Text = long }, "details"},
			{"details in French without English are refused", func(in *capacity.NeedInput) { in.Details.English = "" }, "details_en"},
			{"a free-text topic too long is refused", func(in *capacity.NeedInput) { in.TopicOther = strings.Repeat("y", 201) }, "topic_other"},
		}
		for _, c := range needCases {
			t.Run(c.name, func(t *testing.T) {
				in := need("poc_setup", "")
				c.edit(&in)
				_, err := w.s.RecordNeed(w.fpIRN.Ctx(), in)
				if e := app.AsError(err); e.Code != app.Invalid || !slices.ContainsFunc(e.Fields, func(f *app.Error) bool { return f.Field == c.field }) {
					t.Errorf("got %v, want an error on %s", err, c.field)
				}
			})
		}
		t.Run("a need in words only is taken", func(t *testing.T) {
			in := need("poc_setup", "")
			in.Topics, in.TopicOther = nil, "Setting up a 24/7 duty roster"
			got(w.s.RecordNeed(w.fpIRN.Ctx(), in)).ok(t)
		})
		t.Run("a State cannot record an offer for a partner; the Secretariat must name one", func(t *testing.T) {
			in := offer("poc_setup")
			in.Partner = "Some NGO"
			_, err := w.s.RecordOffer(w.fpFRA.Ctx(), in)
			wantCode(t, "a State naming a partner", err, app.Invalid)
			_, err = w.s.RecordOffer(w.sec.Ctx(), offer("poc_setup"))
			wantCode(t, "the Secretariat without a partner", err, app.Invalid)
			in.PeriodFrom, in.PeriodTo = "2026-12-01", "2026-01-01"
			_, err = w.s.RecordOffer(w.sec.Ctx(), in)
			wantCode(t, "a period that ends before it starts", err, app.Invalid)
		})
	})
}

// capacityEvents lists the capacity events of the log that the user sees.
func capacityEvents(t *testing.T, w *world, u *testkit.User) []string {
	t.Helper()
	entries := got(w.sys.Audit.Entries(u.Ctx(), 0, 1000)).ok(t)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Type, "capacity.") {
			out = append(out, e.Type)
		}
	}
	return out
}

func reasonKeys(rs []capacity.Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func TestMatchLifecycle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		n := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("poc_setup", ""))).ok(t)
		fra := got(w.s.RecordOffer(w.fpFRA.Ctx(), offer("poc_setup", "incident_handling"))).ok(t)
		ken := got(w.s.RecordOffer(w.fpKEN.Ctx(), offer("forensics"))).ok(t)
		own := got(w.s.RecordOffer(w.fpIRN.Ctx(), offer("poc_setup"))).ok(t)

		t.Run("the Secretariat sees the fitting offer suggested with its reasons", func(t *testing.T) {
			list := got(w.s.Suggestions(w.sec.Ctx())).ok(t)
			if len(list) != 1 || list[0].Offer.ID != fra.ID || list[0].Need.ID != n.ID {
				t.Fatalf("suggestions %+v, want France's offer for Iran's need only", list)
			}
			keys := reasonKeys(list[0].Reasons)
			for _, k := range []string{"capacity.reason_topics", "capacity.reason_languages", "capacity.reason_kind", "capacity.reason_level", "capacity.reason_period"} {
				if !slices.Contains(keys, k) {
					t.Errorf("reasons %v lack %s", keys, k)
				}
			}
			if list[0].Score != 40+20+10+10+10 {
				t.Errorf("score %d", list[0].Score)
			}
			_ = ken
		})
		t.Run("only the Secretariat reads suggestions and proposes", func(t *testing.T) {
			_, err := w.s.Suggestions(w.fpFRA.Ctx())
			wantCode(t, "a focal point reading suggestions", err, app.Forbidden)
			_, err = w.s.Propose(w.fpFRA.Ctx(), n.ID, fra.ID)
			wantCode(t, "a focal point proposing", err, app.Forbidden)
			_, err = w.s.Propose(w.sec.Ctx(), n.ID, own.ID)
			wantCode(t, "a State's need with its own offer", err, app.Invalid)
		})
		m := got(w.s.Propose(w.sec.Ctx(), n.ID, fra.ID)).ok(t)
		t.Run("a pair is proposed once", func(t *testing.T) {
			_, err := w.s.Propose(w.sec.Ctx(), n.ID, fra.ID)
			wantCode(t, "proposing again", err, app.Conflict)
			if list := got(w.s.Suggestions(w.sec.Ctx())).ok(t); len(list) != 0 {
				t.Errorf("the proposed pair is still suggested: %d", len(list))
			}
		})
		t.Run("the offering State learns of a need seen by the Secretariat only when the needing State accepts", func(t *testing.T) {
			_, err := w.s.Match(w.fpFRA.Ctx(), m.ID)
			wantCode(t, "France reads the match", err, app.NotFound)
			_, err = w.s.Answer(w.fpFRA.Ctx(), m.ID, capacity.Accept)
			wantCode(t, "France accepts first", err, app.NotFound)
			_, err = w.s.Match(w.fpKEN.Ctx(), m.ID)
			wantCode(t, "Kenya reads the match", err, app.NotFound)
			if list := got(w.s.Matches(w.offFRA.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List; len(list) != 0 {
				t.Errorf("France lists %d matches", len(list))
			}
			got(w.s.Match(w.offIRN.Ctx(), m.ID)).ok(t)
			_, err = w.s.Answer(w.offIRN.Ctx(), m.ID, capacity.Accept)
			wantCode(t, "Iran's officer answers for Iran", err, app.Forbidden)
			_, err = w.s.Answer(w.sec.Ctx(), m.ID, capacity.Accept)
			wantCode(t, "the Secretariat answers for a State", err, app.Forbidden)
		})
		t.Run("the log does not tell the offering State of the match before the needing State accepts", func(t *testing.T) {
			if got := capacityEvents(t, w, w.offFRA); len(got) != 1 || got[0] != "capacity.offer_recorded" {
				t.Errorf("France's log shows %v", got)
			}
			if got := capacityEvents(t, w, w.fpIRN); !slices.Contains(got, "capacity.match_proposed") {
				t.Errorf("Iran's log shows %v", got)
			}
		})
		m = got(w.s.Answer(w.fpIRN.Ctx(), m.ID, capacity.Accept)).ok(t)
		t.Run("once Iran accepted, France sees the match and the need, and answers", func(t *testing.T) {
			_, err := w.s.Answer(w.fpIRN.Ctx(), m.ID, capacity.Accept)
			wantCode(t, "Iran answers twice", err, app.Conflict)
			got(w.s.Need(w.offFRA.Ctx(), n.ID)).ok(t)
			_, err = w.s.Need(w.fpKEN.Ctx(), n.ID)
			wantCode(t, "Kenya reads the need", err, app.NotFound)
			if m.Status != capacity.MatchProposed {
				t.Errorf("status %q with one side accepted", m.Status)
			}
		})
		m = got(w.s.Answer(w.fpFRA.Ctx(), m.ID, capacity.Accept)).ok(t)
		if m.Status != capacity.MatchAccepted || m.ActivityID == 0 {
			t.Fatalf("after both accepted: %+v", m)
		}
		if got := got(w.s.Need(w.fpIRN.Ctx(), n.ID)).ok(t); got.Status != capacity.NeedMatched || got.MatchedAt == nil {
			t.Errorf("need after the match: %+v", got)
		}
		t.Run("the activity is seen by the two States and the Secretariat only", func(t *testing.T) {
			for _, u := range []*testkit.User{w.sec, w.fpIRN, w.offIRN, w.fpFRA, w.offFRA} {
				if list := got(w.s.Activities(u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List; len(list) != 1 {
					t.Errorf("%s lists %d activities", u.Email, len(list))
				}
			}
			for _, u := range []*testkit.User{w.fpKEN, w.offKEN} {
				if list := got(w.s.Activities(u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List; len(list) != 0 {
					t.Errorf("%s lists %d activities", u.Email, len(list))
				}
				_, err := w.s.Activity(u.Ctx(), m.ActivityID)
				wantCode(t, "Kenya reads the activity", err, app.NotFound)
			}
		})
		t.Run("the activity moves forward and meets the need", func(t *testing.T) {
			_, err := w.s.UpdateActivity(w.offIRN.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityUnderWay})
			wantCode(t, "an officer updates the activity", err, app.Forbidden)
			_, err = w.s.UpdateActivity(w.fpKEN.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityUnderWay})
			wantCode(t, "Kenya updates the activity", err, app.NotFound)
			got(w.s.UpdateActivity(w.fpFRA.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityUnderWay, StartsOn: "2026-05-04", EndsOn: "2026-05-08", Participants: 12})).ok(t)
			_, err = w.s.UpdateActivity(w.sec.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityPlanned})
			wantCode(t, "going back to planned", err, app.Invalid)
			_, err = w.s.UpdateActivity(w.sec.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityDone, MeasureID: 999})
			wantCode(t, "an unknown measure", err, app.Invalid)
			x := got(w.s.UpdateActivity(w.sec.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityDone, StartsOn: "2026-05-04", EndsOn: "2026-05-08", Participants: 12,
				Outcome: capacity.Text{Lang: "en", Text: "Duty roster in place."}})).ok(t)
			if x.DoneAt == nil {
				t.Error("no done time")
			}
			if got := got(w.s.Need(w.fpIRN.Ctx(), n.ID)).ok(t); got.Status != capacity.NeedMet {
				t.Errorf("need status %q after the activity is done", got.Status)
			}
			_, err = w.s.UpdateActivity(w.sec.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityCancelled})
			wantCode(t, "cancelling a done activity", err, app.Invalid)
		})
	})
}

func TestPartnerOfferAndDecline(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		n := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("forensics", capacity.VisibleAll))).ok(t)
		in := offer("forensics")
		in.Partner = "Forensics Foundation"
		p := got(w.s.RecordOffer(w.sec.Ctx(), in)).ok(t)
		if p.State != "" || p.Giver() != "Forensics Foundation" {
			t.Fatalf("partner offer %+v", p)
		}
		t.Run("a State's users see a partner's open offer", func(t *testing.T) {
			got(w.s.Offer(w.offKEN.Ctx(), p.ID)).ok(t)
			_, err := w.s.WithdrawOffer(w.fpKEN.Ctx(), p.ID)
			wantCode(t, "a State withdraws a partner's offer", err, app.Forbidden)
		})
		m := got(w.s.Propose(w.sec.Ctx(), n.ID, p.ID)).ok(t)
		t.Run("the Secretariat user who proposed does not also accept for the partner", func(t *testing.T) {
			_, err := w.s.Answer(w.sec.Ctx(), m.ID, capacity.Accept)
			wantCode(t, "the proposer accepts", err, app.Forbidden)
		})
		got(w.s.Answer(w.sec2.Ctx(), m.ID, capacity.Accept)).ok(t)
		m = got(w.s.Answer(w.fpIRN.Ctx(), m.ID, capacity.Accept)).ok(t)
		if m.Status != capacity.MatchAccepted {
			t.Fatalf("status %q", m.Status)
		}

		n2 := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("incident_handling", ""))).ok(t)
		fra := got(w.s.RecordOffer(w.fpFRA.Ctx(), offer("incident_handling"))).ok(t)
		m2 := got(w.s.Propose(w.sec.Ctx(), n2.ID, fra.ID)).ok(t)
		t.Run("a State that declines ends the match, and the need stays open", func(t *testing.T) {
			m2 = got(w.s.Answer(w.fpIRN.Ctx(), m2.ID, capacity.Decline)).ok(t)
			if m2.Status != capacity.MatchDeclined {
				t.Errorf("status %q", m2.Status)
			}
			if got := got(w.s.Need(w.fpIRN.Ctx(), n2.ID)).ok(t); got.Status != capacity.NeedOpen {
				t.Errorf("need status %q", got.Status)
			}
			_, err := w.s.Match(w.fpFRA.Ctx(), m2.ID)
			wantCode(t, "France reads a match Iran declined on a secret need", err, app.NotFound)
			for _, s := range got(w.s.Suggestions(w.sec.Ctx())).ok(t) {
				if s.Need.ID == n2.ID && s.Offer.ID == fra.ID {
					t.Error("a declined pair is suggested again")
				}
			}
		})
	})
}

func TestProgress(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		day := 24 * time.Hour
		plan := got(w.s.CreatePlan(w.sec.Ctx(), capacity.PlanInput{Title: "Action Plan on PoCs 2026–2027", PeriodFrom: "2026-01-01", PeriodTo: "2027-12-31"},
			[]capacity.MeasureInput{{Title: "Trainings for technical PoCs", Kind: "training_course", Target: 10}})).ok(t)
		_, err := w.s.CreatePlan(w.fpIRN.Ctx(), capacity.PlanInput{Title: "x", PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31"}, nil)
		wantCode(t, "a focal point makes a plan", err, app.Forbidden)

		n := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("poc_setup", ""))).ok(t)
		got(w.s.RecordNeed(w.fpKEN.Ctx(), need("forensics", ""))).ok(t)
		o := got(w.s.RecordOffer(w.fpFRA.Ctx(), offer("poc_setup"))).ok(t)
		// A second need matched at the same pace, whose activity is
		// still under way.
		n2 := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("forensics", ""))).ok(t)
		o2 := got(w.s.RecordOffer(w.fpFRA.Ctx(), offer("forensics"))).ok(t)
		w.sys.Clock.Advance(4 * day)
		m := got(w.s.Propose(w.sec.Ctx(), n.ID, o.ID)).ok(t)
		m2 := got(w.s.Propose(w.sec.Ctx(), n2.ID, o2.ID)).ok(t)
		got(w.s.Answer(w.fpIRN.Ctx(), m.ID, capacity.Accept)).ok(t)
		got(w.s.Answer(w.fpIRN.Ctx(), m2.ID, capacity.Accept)).ok(t)
		w.sys.Clock.Advance(6 * day)
		m = got(w.s.Answer(w.fpFRA.Ctx(), m.ID, capacity.Accept)).ok(t)
		m2 = got(w.s.Answer(w.fpFRA.Ctx(), m2.ID, capacity.Accept)).ok(t)
		w.sys.Clock.Advance(30 * day)
		got(w.s.UpdateActivity(w.sec.Ctx(), m.ActivityID, capacity.ActivityInput{Status: capacity.ActivityDone, MeasureID: plan.Measures[0].ID})).ok(t)
		got(w.s.UpdateActivity(w.sec.Ctx(), m2.ActivityID, capacity.ActivityInput{Status: capacity.ActivityUnderWay, MeasureID: plan.Measures[0].ID})).ok(t)

		_, err = w.s.Progress(w.fpIRN.Ctx())
		wantCode(t, "a focal point reads the progress", err, app.Forbidden)
		pr := got(w.s.Progress(w.sec.Ctx())).ok(t)
		t.Run("the times are the medians in days", func(t *testing.T) {
			if pr.DaysToMatch != 10 || pr.DaysToDone != 30 || pr.Matched != 2 || pr.Done != 1 {
				t.Errorf("got %d days to match, %d to done, %d matched, %d done", pr.DaysToMatch, pr.DaysToDone, pr.Matched, pr.Done)
			}
		})
		t.Run("needs are counted by regional group", func(t *testing.T) {
			got := map[string]capacity.RegionCount{}
			for _, r := range pr.Regions {
				got[r.Group] = r
			}
			if r := got["Asia-Pacific"]; r.Met != 1 || r.Open != 0 {
				t.Errorf("Asia-Pacific %+v", r)
			}
			if r := got["African"]; r.Open != 1 {
				t.Errorf("African %+v", r)
			}
		})
		t.Run("the measure counts its activity done and the one under way", func(t *testing.T) {
			if pr.Plan == nil || len(pr.Plan.Measures) != 1 || pr.Plan.Measures[0].Done != 1 || pr.Plan.Measures[0].Planned != 1 || pr.Plan.Measures[0].Target != 10 {
				t.Errorf("plan %+v", pr.Plan)
			}
			p := got(w.s.Plan(w.offKEN.Ctx())).ok(t)
			if p == nil || p.Measures[0].Done != 1 || p.Measures[0].Planned != 1 {
				t.Errorf("the plan as a State reads it: %+v", p.Measures[0])
			}
		})
	})
}
