package comms_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// ofKind is a communication of a template with what the template requires.
func ofKind(slug string, to ...string) comms.CommInput {
	f := map[string]string{"subject": "Kind " + slug, "urgency": "low", "tlp": comms.TLPGreen, "description": "A description."}
	switch slug {
	case "request-assistance":
		f["assistance_sought"] = "Help."
	case "request-information":
		f["questions"] = "Which?"
	case "consultation":
		f["topic"] = "A matter."
	case "exercise":
		f["exercise_name"] = "Cyber Drill"
	}
	return comms.CommInput{Template: slug, ToStates: to, Level: comms.LevelTechnical, Fields: f}
}

// volumeLines writes counts as "month group kind [exercise] count", sorted
// as Volumes sorts them.
func volumeLines(v *comms.Volumes) string {
	var b strings.Builder
	for _, c := range v.Counts {
		ex := ""
		if c.Exercise {
			ex = " exercise"
		}
		fmt.Fprintf(&b, "%s %s %s%s %d\n", c.Month, c.Group, c.Kind, ex, c.Count)
	}
	return b.String()
}

func TestVolumesByMonthGroupAndKind(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		clock := w.sys.Clock // 2 March 2026, 09:00 UTC
		compose := func(u *testkit.User, in comms.CommInput) *comms.Communication {
			t.Helper()
			c, err := w.s.Compose(u.Ctx(), in)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// March: France notifies Kenya, Kenya asks France for help; Brazil
		// keeps a draft, which is not counted.
		note := compose(w.offFRA, ofKind("notification", "KEN"))
		compose(w.offKEN, ofKind("request-assistance", "FRA"))
		draft := ofKind("request-information", "FRA")
		draft.Draft = true
		compose(w.offBRA, draft)
		// April: Kenya answers France; France runs an exercise with Kenya
		// and Brazil, which Kenya answers; Germany asks for consultations.
		clock.Advance(40 * 24 * time.Hour)
		answer := ofKind("response")
		answer.ParentID = note.ID
		compose(w.offKEN, answer)
		drill := compose(w.fpFRA, ofKind("exercise", "KEN", "BRA"))
		answer.ParentID = drill.ID
		compose(w.offKEN, answer)
		compose(w.offDEU, ofKind("consultation", "FRA"))
		// 30 April, 23:30 UTC: already May in Nairobi, still April in UTC.
		now := clock.Now()
		clock.Advance(time.Date(2026, 4, 30, 23, 30, 0, 0, time.UTC).Sub(now))
		compose(w.offKEN, ofKind("request-information", "BRA"))
		clock.Advance(time.Hour)
		compose(w.offBRA, ofKind("request-information", "KEN"))

		t.Run("counts by month, the sender's UN regional group and kind, since the first communication", func(t *testing.T) {
			v, err := w.s.Volumes(w.sec.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(v.Months, " "); got != "2026-03 2026-04 2026-05" {
				t.Errorf("months %s", got)
			}
			want := `2026-03 African request-assistance 1
2026-03 Western European and Others notification 1
2026-04 African request-information 1
2026-04 African response 1
2026-04 African response exercise 1
2026-04 Western European and Others consultation 1
2026-04 Western European and Others exercise exercise 1
2026-05 Latin American and Caribbean request-information 1
`
			if got := volumeLines(v); got != want {
				t.Errorf("counts\n%s\nwant\n%s", got, want)
			}
			var kinds []string
			for _, k := range v.Kinds {
				kinds = append(kinds, k.Slug)
			}
			if got := strings.Join(kinds, " "); got != "notification request-assistance request-information response consultation exercise" {
				t.Errorf("kinds %s", got)
			}
			if v.Kinds[5].Name.In("fr") != "Message d'exercice" {
				t.Errorf("the exercise's name %v", v.Kinds[5].Name)
			}
		})
		t.Run("the States of a group add up", func(t *testing.T) {
			compose(w.offFRA, ofKind("notification", "KEN"))
			compose(w.offDEU, ofKind("notification", "KEN"))
			v, err := w.s.Volumes(w.sec.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			if got := volumeLines(v); !strings.Contains(got, "2026-05 Western European and Others notification 2\n") {
				t.Errorf("counts\n%s", got)
			}
		})
		t.Run("a year later, the last twelve months", func(t *testing.T) {
			clock.Advance(320 * 24 * time.Hour) // 17 March 2027
			compose(w.offBRA, ofKind("notification", "KEN"))
			v, err := w.s.Volumes(w.sec.Ctx())
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Months) != 12 || v.Months[0] != "2026-04" || v.Months[11] != "2027-03" {
				t.Errorf("months %v", v.Months)
			}
			got := volumeLines(v)
			if strings.Contains(got, "2026-03") || !strings.HasPrefix(got, "2026-04 African request-information 1\n") ||
				!strings.HasSuffix(got, "2027-03 Latin American and Caribbean notification 1\n") {
				t.Errorf("counts\n%s", got)
			}
		})
		t.Run("only the Secretariat sees the volumes", func(t *testing.T) {
			for _, u := range []*testkit.User{w.fpFRA, w.offFRA, w.fpKEN, w.offKEN, w.offDEU, w.fpBRA} {
				_, err := w.s.Volumes(u.Ctx())
				wantCode(t, u.Email, err, app.Forbidden)
			}
			_, err := w.s.Volumes(context.Background())
			wantCode(t, "nobody signed in", err, app.Unauthorized)
		})
	})
}

func TestVolumesBeforeAnyCommunication(t *testing.T) {
	w := newWorld(t, testkit.Engines()[0])
	v, err := w.s.Volumes(w.sec.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Months) != 0 || len(v.Counts) != 0 || len(v.Kinds) != 6 {
		t.Errorf("%+v", v)
	}
}
