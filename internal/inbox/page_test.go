package inbox_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/inbox"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestInboxPages pages through an inbox of communications of every
// urgency, some with a deadline: forward and back, each item once, in the
// inbox's order, each page's communications named, and the count the same
// on every page and in the navigation.
func TestInboxPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		for _, u := range []*testkit.User{sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"), sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")} {
			in := testkit.ValidPoC()
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@" + strings.ToLower(u.State) + ".example", Preferred: true}}
			sys.AddPoC(t, u.Ctx(), u.State, in)
		}
		for i := range 13 {
			f := map[string]string{"subject": fmt.Sprintf("Notification %d", i), "urgency": comms.Urgencies[i%4], "tlp": comms.TLPAmber,
				"description": "Scanning of our mail servers."}
			if i%3 == 0 {
				f["respond_by"] = sys.Clock.Now().Add(time.Duration(72+i) * time.Hour).Format("2006-01-02T15:04")
			}
			if _, err := sys.Comms.Compose(offFRA.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical, Fields: f}); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				sys.Clock.Advance(time.Minute)
			}
		}
		whole, err := sys.Inbox.Page(offKEN.Ctx(), "", app.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(whole.Items) != 13 || whole.Count != 13 || whole.Next != "" || whole.Previous != "" {
			t.Fatalf("the whole inbox: %d items, count %d, next %q, previous %q", len(whole.Items), whole.Count, whole.Next, whole.Previous)
		}
		if n, err := sys.Inbox.Count(offKEN.Ctx()); err != nil || n != 13 {
			t.Fatalf("the navigation counts %d (%v)", n, err)
		}
		key := func(list []*inbox.Item) string {
			var b strings.Builder
			for _, it := range list {
				fmt.Fprintf(&b, "%s:%d ", it.Need, it.ID)
			}
			return b.String()
		}
		var pages []*inbox.Inbox
		var got []*inbox.Item
		for cursor := ""; ; {
			p, err := sys.Inbox.Page(offKEN.Ctx(), cursor, 4)
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != 13 {
				t.Errorf("page %d counts %d", len(pages)+1, p.Count)
			}
			for _, it := range p.Items {
				if it.Ref == "" || !strings.HasPrefix(it.Subject, "Notification ") {
					t.Errorf("an item without its communication: %+v", it)
				}
			}
			if (p.Previous == "") != (len(pages) == 0) {
				t.Errorf("page %d: previous %q", len(pages)+1, p.Previous)
			}
			pages = append(pages, p)
			got = append(got, p.Items...)
			if cursor = p.Next; cursor == "" || len(pages) > 10 {
				break
			}
		}
		if key(got) != key(whole.Items) || len(pages) != 4 {
			t.Errorf("forward in %d pages: %s\nwant %s", len(pages), key(got), key(whole.Items))
		}
		for i := len(pages) - 1; i > 0; i-- {
			back, err := sys.Inbox.Page(offKEN.Ctx(), pages[i].Previous, 4)
			if err != nil {
				t.Fatal(err)
			}
			if key(back.Items) != key(pages[i-1].Items) {
				t.Errorf("back from page %d: %s, want %s", i+1, key(back.Items), key(pages[i-1].Items))
			}
		}
		t.Run("a cursor that is not one is refused", func(t *testing.T) {
			for _, c := range []string{"x", "n!!", "p" + strings.Repeat("A", 900)} {
				if _, err := sys.Inbox.Page(offKEN.Ctx(), c, 4); app.ErrorCode(err) != app.Invalid {
					t.Errorf("%.10q: %v", c, err)
				}
			}
		})
	})
}

// TestInboxOrderAcrossPlaces fills an inbox with communications that share
// deadlines, urgencies and times sent (places), some acknowledged and asked
// for an answer, each reaching two of the recipient State's PoCs, beside a
// check to answer: the inbox lists each once in its order (a deadline, the
// nearest first; the most urgent; the newest; then by kind, need and id),
// and pages of every size, forward and back, cut it at the same places.
// The communications received are read a window at a time along an index,
// in an order that differs from the inbox's within a place only.
func TestInboxOrderAcrossPlaces(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		offBRA := sys.User(t, "off@bra.example", app.RoleOfficer, "BRA")
		offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		for _, u := range []*testkit.User{sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA"), sys.User(t, "fp@bra.example", app.RoleFocalPoint, "BRA"),
			sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN"), sys.User(t, "fp2@ken.example", app.RoleFocalPoint, "KEN")} {
			in := testkit.ValidPoC()
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert-" + strings.Split(u.Email, "@")[0] + "@" + strings.ToLower(u.State) + ".example", Preferred: true}}
			sys.AddPoC(t, u.Ctx(), u.State, in)
		}
		due := []string{"", sys.Clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04"), sys.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04")}
		want := 0
		// Places of up to ten: more than the window the inbox reads at
		// first, which then ends within a place.
		for i := range 36 {
			urgency := "high"
			if i%10 == 9 {
				urgency = "critical"
			}
			f := map[string]string{"subject": fmt.Sprintf("Notification %d", i), "urgency": urgency, "tlp": comms.TLPAmber,
				"description": "Scanning of our mail servers."}
			if d := due[(i/10)%3]; d != "" {
				f["respond_by"] = d
			}
			from := offFRA
			if i%2 == 1 {
				from = offBRA
			}
			c, err := sys.Comms.Compose(from.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical, Fields: f})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Recipients) != 2 {
				t.Fatalf("%d lines for Kenya, want 2", len(c.Recipients))
			}
			want++
			// Some are acknowledged: those asked for an answer wait for
			// it (in the same place as those not acknowledged), the others
			// leave the inbox.
			if i%4 == 1 {
				if _, err := sys.Comms.Acknowledge(offKEN.Ctx(), c.ID); err != nil {
					t.Fatal(err)
				}
				if f["respond_by"] == "" {
					want--
				}
			}
			if i%10 == 9 {
				sys.Clock.Advance(time.Minute)
			}
		}
		if _, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Q4", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 60}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		whole, err := sys.Inbox.Page(offKEN.Ctx(), "", app.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		n, answers, checksToAnswer := 0, 0, 0
		for _, it := range whole.Items {
			switch {
			case it.Kind == inbox.KindCommunication:
				n++
				if it.Need == comms.NeedAnswer {
					answers++
				}
			case it.Kind == inbox.KindCheck:
				checksToAnswer++
			}
		}
		if n != want || answers == 0 || checksToAnswer == 0 || whole.Count != len(whole.Items) || whole.Next != "" {
			t.Fatalf("%d communications (want %d), %d to answer, %d checks, count %d of %d items, next %q", n, want, answers, checksToAnswer, whole.Count, len(whole.Items), whole.Next)
		}
		rank := func(u string) int { return slices.Index(comms.Urgencies, u) }
		before := func(x, y *inbox.Item) bool {
			switch {
			case (x.Due == nil) != (y.Due == nil):
				return x.Due != nil
			case x.Due != nil && !x.Due.Equal(*y.Due):
				return x.Due.Before(*y.Due)
			case rank(x.Urgency) != rank(y.Urgency):
				return rank(x.Urgency) > rank(y.Urgency)
			case !x.Since.Equal(y.Since):
				return x.Since.After(y.Since)
			case x.Kind != y.Kind:
				return x.Kind < y.Kind
			case x.Need != y.Need:
				return x.Need < y.Need
			}
			return x.ID < y.ID
		}
		seen := map[string]bool{}
		for i, it := range whole.Items {
			k := fmt.Sprintf("%s:%s:%d", it.Kind, it.Need, it.ID)
			if seen[k] {
				t.Errorf("%s twice", k)
			}
			seen[k] = true
			if i > 0 && !before(whole.Items[i-1], it) {
				t.Errorf("item %d (%s) is not after item %d (%+v)", i, k, i-1, whole.Items[i-1])
			}
		}
		key := func(list []*inbox.Item) string {
			var b strings.Builder
			for _, it := range list {
				fmt.Fprintf(&b, "%s:%s:%d ", it.Kind, it.Need, it.ID)
			}
			return b.String()
		}
		for _, size := range []int{1, 2, 3, 5, 7, 8, 9, 11} {
			t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
				var pages []*inbox.Inbox
				var got []*inbox.Item
				for cursor := ""; ; {
					p, err := sys.Inbox.Page(offKEN.Ctx(), cursor, size)
					if err != nil {
						t.Fatal(err)
					}
					if p.Count != whole.Count || (p.Previous == "") != (len(pages) == 0) {
						t.Errorf("page %d: count %d, previous %q", len(pages)+1, p.Count, p.Previous)
					}
					pages = append(pages, p)
					got = append(got, p.Items...)
					if cursor = p.Next; cursor == "" || len(pages) > len(whole.Items) {
						break
					}
				}
				if key(got) != key(whole.Items) {
					t.Errorf("forward: %s\nwant %s", key(got), key(whole.Items))
				}
				for i := len(pages) - 1; i > 0; i-- {
					back, err := sys.Inbox.Page(offKEN.Ctx(), pages[i].Previous, size)
					if err != nil {
						t.Fatal(err)
					}
					if key(back.Items) != key(pages[i-1].Items) || (back.Previous == "") != (i == 1) || back.Next == "" {
						t.Errorf("back from page %d: %s (previous %q), want %s", i+1, key(back.Items), back.Previous, key(pages[i-1].Items))
					}
				}
			})
		}
	})
}
