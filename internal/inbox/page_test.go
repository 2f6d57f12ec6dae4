package inbox_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
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
