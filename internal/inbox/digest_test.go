package inbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// mails lists the outbox's messages of a kind to an address: subject and
// body.
func mails(t *testing.T, sys *testkit.System, kind, to string) []string {
	t.Helper()
	rows, err := sys.DB.QueryContext(context.Background(), `SELECT subject, body FROM outbox WHERE kind = $1 AND to_addr = $2 ORDER BY id`, kind, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s, b string
		if err := rows.Scan(&s, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, s+"\n"+b)
	}
	return out
}

// TestHowUsersHearOfNewWork: each user chooses an e-mail for each new
// communication, a daily digest or none; while away, a delegate of the same
// State receives in their place. No content travels in these e-mails, and
// no one chooses a delegate from another State.
func TestHowUsersHearOfNewWork(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		dutyKEN := sys.User(t, "duty@ken.example", app.RoleOfficer, "KEN")
		offBRA := sys.User(t, "off@bra.example", app.RoleOfficer, "BRA")
		for _, u := range []*testkit.User{fpFRA, fpKEN} {
			in := testkit.ValidPoC()
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@" + strings.ToLower(u.State) + ".example", Preferred: true}}
			sys.AddPoC(t, u.Ctx(), u.State, in)
		}
		now := sys.Clock.Now()
		away := now.Add(10 * 24 * time.Hour)
		t.Run("a delegate is another user of the same State, and an absence needs one", func(t *testing.T) {
			bad := map[string]account.Prefs{
				"delegate":    {Mode: account.NotifyEach, Delegate: offBRA.Email},
				"delegate ":   {Mode: account.NotifyEach, Delegate: offKEN.Email},
				"notify_new":  {Mode: "always"},
				"delegate  ":  {Mode: account.NotifyEach, AwayUntil: &away},
				"away_until":  {Mode: account.NotifyEach, AwayUntil: &now, Delegate: dutyKEN.Email},
				"away_until ": {Mode: account.NotifyEach, AwayUntil: ptr(now.Add(400 * 24 * time.Hour)), Delegate: dutyKEN.Email},
			}
			for field, p := range bad {
				err := sys.Accounts.SetPrefs(offKEN.Ctx(), p)
				if !fieldError(err, strings.TrimSpace(field)) {
					t.Errorf("%s: %v", field, err)
				}
			}
			if err := sys.Accounts.SetPrefs(context.Background(), account.Prefs{Mode: account.NotifyEach}); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("no one: %v", err)
			}
		})
		// Kenya's focal point: each; its officer: digest, then away with the
		// duty officer standing in; the duty officer: none.
		must(t, sys.Accounts.SetPrefs(fpKEN.Ctx(), account.Prefs{Mode: account.NotifyEach}))
		must(t, sys.Accounts.SetPrefs(offKEN.Ctx(), account.Prefs{Mode: account.NotifyDigest}))
		must(t, sys.Accounts.SetPrefs(offFRA.Ctx(), account.Prefs{Mode: account.NotifyEach}))
		in := comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical, Fields: map[string]string{
			"subject": "Wiper against the grid", "urgency": "high", "tlp": comms.TLPAmber, "description": "Destructive activity."}}
		c, err := sys.Comms.Compose(offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("an e-mail for each new communication, without content, to whom chose it", func(t *testing.T) {
			got := mails(t, sys, "comm-new", fpKEN.Email)
			if len(got) != 1 || !strings.Contains(got[0], c.Ref) || !strings.Contains(got[0], "a new communication from France") ||
				!strings.Contains(got[0], "High urgency") || strings.Contains(got[0], "Wiper") || strings.Contains(got[0], "Destructive") {
				t.Errorf("the focal point's e-mail: %q", got)
			}
			for _, u := range []*testkit.User{offKEN, dutyKEN, offFRA, offBRA} {
				if got := mails(t, sys, "comm-new", u.Email); len(got) != 0 {
					t.Errorf("%s was told: %q", u.Email, got)
				}
			}
		})
		t.Run("the daily digest at 07:00 in the user's zone, once", func(t *testing.T) {
			// The clock is 09:00 UTC, 12:00 in Nairobi: due.
			n, err := sys.Inbox.Digests(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("%d digests: %v", n, err)
			}
			got := mails(t, sys, "digest", offKEN.Email)
			if len(got) != 1 || !strings.Contains(got[0], c.Ref) || !strings.Contains(got[0], "Acknowledge receipt") || strings.Contains(got[0], "Wiper") {
				t.Errorf("the digest: %q", got)
			}
			if n, _ := sys.Inbox.Digests(context.Background()); n != 0 {
				t.Errorf("a second digest the same day: %d", n)
			}
			sys.Clock.Advance(20 * time.Hour) // 08:00 in Nairobi the next day
			if n, _ := sys.Inbox.Digests(context.Background()); n != 1 {
				t.Errorf("the next day's digest: %d", n)
			}
		})
		t.Run("while away, the delegate receives in the user's place", func(t *testing.T) {
			until := sys.Clock.Now().Add(5 * 24 * time.Hour)
			must(t, sys.Accounts.SetPrefs(fpKEN.Ctx(), account.Prefs{Mode: account.NotifyEach, AwayUntil: &until, Delegate: dutyKEN.Email}))
			if _, err := sys.Comms.Compose(offFRA.Ctx(), in); err != nil {
				t.Fatal(err)
			}
			if got := mails(t, sys, "comm-new", fpKEN.Email); len(got) != 1 {
				t.Errorf("the focal point away was told again: %d", len(got))
			}
			got := mails(t, sys, "comm-new", dutyKEN.Email)
			if len(got) != 1 || !strings.Contains(got[0], "in place of Test fp@ken.example, who is away until") {
				t.Errorf("the delegate: %q", got)
			}
			// Kenya acknowledges: the sender, who chose e-mails, hears of it.
			if _, err := sys.Comms.Acknowledge(fpKEN.Ctx(), c.ID); err != nil {
				t.Fatal(err)
			}
			if got := mails(t, sys, "comm-activity", offFRA.Email); len(got) != 1 {
				t.Errorf("the sender: %q", got)
			}
		})
	})
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fieldError(err error, field string) bool {
	e := app.AsError(err)
	if e == nil {
		return false
	}
	if e.Field == field {
		return true
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
