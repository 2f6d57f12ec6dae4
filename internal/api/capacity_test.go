package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// The capacity-building routes of the authorization table. A need of
// State A is seen by the Secretariat only, so that State B's callers must
// not even learn that it exists; an activity between State A and a third
// State is not State B's either.

func capNeedInput(vis capacity.Visibility) capacity.NeedInput {
	return capacity.NeedInput{Kind: "training_course", Topics: []string{"incident_handling"}, Level: directory.LevelTechnical,
		Languages: []string{"en"}, Visibility: vis}
}

func capOfferInput() capacity.OfferInput {
	return capacity.OfferInput{Kind: "training_course", Topics: []string{"incident_handling"}, Languages: []string{"en"}, Format: "online"}
}

func (f *fixture) capNeed(t *testing.T, u *testkit.User) int64 {
	t.Helper()
	n, err := f.sys.Capacity.RecordNeed(u.Ctx(), capNeedInput(""))
	if err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func (f *fixture) capOffer(t *testing.T, u *testkit.User) int64 {
	t.Helper()
	o, err := f.sys.Capacity.RecordOffer(u.Ctx(), capOfferInput())
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// capMatch proposes State A's need with an offer of offering's State.
func (f *fixture) capMatch(t *testing.T, offering *testkit.User) *capacity.Match {
	t.Helper()
	m, err := f.sys.Capacity.Propose(f.sec.Ctx(), f.capNeed(t, f.fpA), f.capOffer(t, offering))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// irnUsers holds each fixture's focal point of Iran, made once: an
// account costs a password hash.
var irnUsers sync.Map

func (f *fixture) irn(t *testing.T) *testkit.User {
	t.Helper()
	if u, ok := irnUsers.Load(f); ok {
		return u.(*testkit.User)
	}
	u := f.sys.User(t, "focal@irn.test", app.RoleFocalPoint, "IRN")
	irnUsers.Store(f, u)
	return u
}

// capActivity makes an activity between State A and Iran.
func (f *fixture) capActivity(t *testing.T) int64 {
	t.Helper()
	irn := f.irn(t)
	m := f.capMatch(t, irn)
	if _, err := f.sys.Capacity.Answer(f.fpA.Ctx(), m.ID, capacity.Accept); err != nil {
		t.Fatal(err)
	}
	m, err := f.sys.Capacity.Answer(irn.Ctx(), m.ID, capacity.Accept)
	if err != nil {
		t.Fatal(err)
	}
	return m.ActivityID
}

// capacitySnapshot is the capacity tables' state, for the table's check
// that a refused call changed nothing.
func (f *fixture) capacitySnapshot(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT 'need', id, status || visibility || kind FROM capacity_needs`,
		`SELECT 'offer', id, status FROM capacity_offers`,
		`SELECT 'match', id, status || need_answer || offer_answer FROM capacity_matches`,
		`SELECT 'activity', id, status || starts_on FROM capacity_activities`,
		`SELECT 'plan', id, title FROM capacity_plans`,
	} {
		rows, err := f.sys.DB.QueryContext(context.Background(), q+` ORDER BY 2`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var what, v string
			var id int64
			if err := rows.Scan(&what, &id, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(what, id, v))
		}
		rows.Close()
	}
	return out
}

var capacityRoutes = []authRoute{
	// callers:                                                                  anon bad  sec  fpA  fpB  offA offB roA  obsA
	{"GET /api/v1/capacity/needs", "list the needs they may see", path("/api/v1/capacity/needs"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/capacity/needs", "record a need of their State",
		func(t *testing.T, f *fixture) (string, any) { return "/api/v1/capacity/needs", capNeedInput("") }, [nCallers]int{401, 401, 403, 201, 201, 403, 403, 403, 403}},
	{"GET /api/v1/capacity/needs/{id}", "read a need of " + stateA + " seen by the Secretariat only",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/needs/%d", f.capNeed(t, f.fpA)), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"PUT /api/v1/capacity/needs/{id}", "change a need of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/needs/%d", f.capNeed(t, f.fpA)), capNeedInput(capacity.VisibleAll)
		}, [nCallers]int{401, 401, 403, 200, 404, 403, 404, 403, 403}},
	{"POST /api/v1/capacity/needs/{id}/withdraw", "withdraw a need of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/needs/%d/withdraw", f.capNeed(t, f.fpA)), nil
		}, [nCallers]int{401, 401, 403, 200, 404, 403, 404, 403, 403}},
	{"GET /api/v1/capacity/offers", "list the offers", path("/api/v1/capacity/offers"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	// The Secretariat records only a partner's offer, which the body
	// does not name.
	{"POST /api/v1/capacity/offers", "record an offer of their State",
		func(t *testing.T, f *fixture) (string, any) { return "/api/v1/capacity/offers", capOfferInput() }, [nCallers]int{401, 401, 400, 201, 201, 403, 403, 403, 403}},
	{"GET /api/v1/capacity/offers/{id}", "read an open offer of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/offers/%d", f.capOffer(t, f.fpA)), nil
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 200}},
	{"POST /api/v1/capacity/offers/{id}/withdraw", "withdraw an offer of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/offers/%d/withdraw", f.capOffer(t, f.fpA)), nil
		}, [nCallers]int{401, 401, 403, 200, 403, 403, 403, 403, 403}},
	{"GET /api/v1/capacity/matches", "list the matches they may see", path("/api/v1/capacity/matches"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/capacity/matches", "propose a need of " + stateB + " with an offer of " + stateA,
		func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/capacity/matches", map[string]any{"need_id": f.capNeed(t, f.fpB), "offer_id": f.capOffer(t, f.fpA)}
		}, [nCallers]int{401, 401, 201, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/capacity/matches/suggestions", "read the suggested matches", path("/api/v1/capacity/matches/suggestions"), [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/capacity/matches/{id}", "read a proposed match of " + stateA + "'s need with an offer of " + stateB,
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/matches/%d", f.capMatch(t, f.fpB).ID), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"POST /api/v1/capacity/matches/{id}/answer", "accept a match for " + stateA + "'s need before " + stateA + " has answered",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/matches/%d/answer", f.capMatch(t, f.fpB).ID), map[string]any{"answer": "accepted"}
		}, [nCallers]int{401, 401, 403, 200, 404, 403, 404, 403, 403}},
	{"GET /api/v1/capacity/activities", "list the activities they may see", path("/api/v1/capacity/activities"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"GET /api/v1/capacity/activities/{id}", "read an activity between " + stateA + " and Iran",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/activities/%d", f.capActivity(t)), nil
		}, [nCallers]int{401, 401, 200, 200, 404, 200, 404, 200, 403}},
	{"PUT /api/v1/capacity/activities/{id}", "record the progress of an activity between " + stateA + " and Iran",
		func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/capacity/activities/%d", f.capActivity(t)), capacity.ActivityInput{Status: capacity.ActivityUnderWay, StartsOn: "2026-05-04"}
		}, [nCallers]int{401, 401, 200, 200, 404, 403, 404, 403, 403}},
	{"GET /api/v1/capacity/plan", "read the action plan", path("/api/v1/capacity/plan"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
	{"POST /api/v1/capacity/plan", "make an action plan",
		func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/capacity/plan", map[string]any{"title": fmt.Sprintf("Plan %d", f.next()), "period_from": "2026-01-01", "period_to": "2027-12-31",
				"measures": []any{map[string]any{"title": "Trainings", "kind": "training_course", "target": 5}}}
		}, [nCallers]int{401, 401, 201, 403, 403, 403, 403, 403, 403}},
	{"GET /api/v1/capacity/progress", "read capacity-building progress", path("/api/v1/capacity/progress"), [nCallers]int{401, 401, 200, 403, 403, 403, 403, 403, 403}},
}

func init() { authRoutes = append(authRoutes, capacityRoutes...) }

// TestNeedFromExerciseAPI: a need posted with exercise_id names the
// exercise when the caller's State took part in it; not found otherwise.
func TestNeedFromExerciseAPI(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0])
	e := f.exercise(t) // stateA takes part
	body := struct {
		capacity.NeedInput
		ExerciseID int64 `json:"exercise_id"`
	}{capNeedInput(""), e.ID}
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"a participant's focal point records a need learnt from the exercise", f.fpATok, 201},
		{"a focal point of a State that took no part is told there is no such exercise", f.fpBTok, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(t, "POST", "/api/v1/capacity/needs", c.token, body)
			if r.Status != c.want {
				t.Fatalf("status %d, want %d: %s", r.Status, c.want, r.Body)
			}
			if c.want == 201 && !strings.Contains(string(r.Body), fmt.Sprintf(`"exercise_id":%d`, e.ID)) {
				t.Errorf("the need does not name its exercise: %s", r.Body)
			}
		})
	}
}
