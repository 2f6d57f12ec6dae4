package inbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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

// find returns the items of a kind (and need, for communications).
func find(in *inbox.Inbox, kind, need string) []*inbox.Item {
	var out []*inbox.Item
	for _, it := range in.Items {
		if it.Kind == kind && (need == "" || it.Need == need) {
			out = append(out, it)
		}
	}
	return out
}

func inboxOf(t *testing.T, sys *testkit.System, u *testkit.User) *inbox.Inbox {
	t.Helper()
	in, err := sys.Inbox.For(u.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	if in.Count != len(in.Items) {
		t.Fatalf("count %d for %d items", in.Count, len(in.Items))
	}
	if n, err := sys.Inbox.Count(u.Ctx()); err != nil || n != in.Count {
		t.Fatalf("the navigation counts %d, the inbox lists %d (%v)", n, in.Count, err)
	}
	return in
}

// TestInboxAcrossStatesAndRoles follows a communication from France to
// Kenya, a check, a change to the directory and a reconfirmation falling
// due, and looks at each user's inbox: each sees what waits for them and
// their State, nothing of another State's, nothing twice.
func TestInboxAcrossStatesAndRoles(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		offBRA := sys.User(t, "off@bra.example", app.RoleOfficer, "BRA")
		fpBRA := sys.User(t, "fp@bra.example", app.RoleFocalPoint, "BRA")
		for _, u := range []*testkit.User{fpFRA, fpKEN, fpBRA} {
			in := testkit.ValidPoC()
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@" + strings.ToLower(u.State) + ".example", Preferred: true}}
			sys.AddPoC(t, u.Ctx(), u.State, in)
		}
		for _, u := range []*testkit.User{sec, fpFRA, offFRA, fpKEN, offKEN, offBRA} {
			if in := inboxOf(t, sys, u); in.Count != 0 {
				t.Fatalf("%s has %d items before anything happened: %+v", u.Email, in.Count, in.Items[0])
			}
		}

		// France notifies Kenya, asking for an answer within three days.
		in := comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical, Fields: map[string]string{
			"subject": "Scanning from AS64500", "urgency": "high", "tlp": comms.TLPAmber, "description": "Scanning of our mail servers.",
			"respond_by": sys.Clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04")}}
		c, err := sys.Comms.Compose(offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the recipient State's users are asked to acknowledge, with the sender, urgency and deadline", func(t *testing.T) {
			for _, u := range []*testkit.User{offKEN, fpKEN} {
				got := find(inboxOf(t, sys, u), inbox.KindCommunication, comms.NeedAcknowledge)
				if len(got) != 1 {
					t.Fatalf("%s: %d items to acknowledge, want 1", u.Email, len(got))
				}
				it := got[0]
				if it.Ref != c.Ref || it.State != "FRA" || it.Urgency != "high" || it.Due == nil || it.Subject != "Scanning from AS64500" || it.Path == "" {
					t.Errorf("%s: %+v", u.Email, it)
				}
			}
		})
		t.Run("the sender, other States and the Secretariat have nothing of it", func(t *testing.T) {
			for _, u := range []*testkit.User{offFRA, fpFRA, offBRA, sec} {
				if got := find(inboxOf(t, sys, u), inbox.KindCommunication, ""); len(got) != 0 {
					t.Errorf("%s sees %+v", u.Email, got[0])
				}
			}
		})
		if _, err := sys.Comms.Acknowledge(offKEN.Ctx(), c.ID); err != nil {
			t.Fatal(err)
		}
		t.Run("acknowledged, it waits for the answer asked", func(t *testing.T) {
			got := inboxOf(t, sys, fpKEN)
			if len(find(got, inbox.KindCommunication, comms.NeedAcknowledge)) != 0 || len(find(got, inbox.KindCommunication, comms.NeedAnswer)) != 1 {
				t.Errorf("%+v", got.Items)
			}
		})
		if _, err := sys.Comms.Reply(offKEN.Ctx(), c.ID, comms.OutcomeDisputed, "These addresses are not ours."); err != nil {
			t.Fatal(err)
		}
		t.Run("disputed, it leaves the recipient's inbox and enters the sender's", func(t *testing.T) {
			if got := find(inboxOf(t, sys, offKEN), inbox.KindCommunication, ""); len(got) != 0 {
				t.Errorf("Kenya still has %+v", got[0])
			}
			got := find(inboxOf(t, sys, offFRA), inbox.KindCommunication, comms.NeedFollowUp)
			if len(got) != 1 || got[0].State != "KEN" || got[0].Detail != comms.OutcomeDisputed {
				t.Fatalf("France: %+v", got)
			}
			for _, u := range []*testkit.User{offBRA, sec} {
				if got := find(inboxOf(t, sys, u), inbox.KindCommunication, ""); len(got) != 0 {
					t.Errorf("%s sees the dispute: %+v", u.Email, got[0])
				}
			}
		})

		// France sends Kenya an AMBER notification; Kenya asks to share it
		// with Brazil.
		c2, err := sys.Comms.Compose(offFRA.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
			Fields: map[string]string{"subject": "Phishing", "urgency": "critical", "tlp": comms.TLPAmber, "description": "Phishing of ministries."}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Comms.Share(offKEN.Ctx(), c2.ID, "BRA", "Brazil sees the same."); err != nil {
			t.Fatal(err)
		}
		t.Run("a request to share waits for the sender State only", func(t *testing.T) {
			got := find(inboxOf(t, sys, fpFRA), inbox.KindCommunication, comms.NeedConsent)
			if len(got) != 1 || got[0].ID != c2.ID || got[0].State != "KEN" || got[0].Detail != "BRA" {
				t.Fatalf("France: %+v", got)
			}
			for _, u := range []*testkit.User{offKEN, offBRA, sec} {
				if got := find(inboxOf(t, sys, u), inbox.KindCommunication, comms.NeedConsent); len(got) != 0 {
					t.Errorf("%s sees the request: %+v", u.Email, got[0])
				}
			}
		})
		t.Run("the migration that keeps the open requests finds this one, not one refused", func(t *testing.T) {
			if _, err := sys.Comms.Share(offKEN.Ctx(), c2.ID, "DEU", "Germany too."); err != nil {
				t.Fatal(err)
			}
			th, err := sys.Comms.Thread(fpFRA.Ctx(), c2.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range th.Events {
				if e.Kind == comms.EvConsentRequested && e.Target == "DEU" {
					if _, err := sys.Comms.Consent(fpFRA.Ctx(), c2.ID, e.ID, false); err != nil {
						t.Fatal(err)
					}
				}
			}
			ctx := context.Background()
			if err := sys.DB.MigrateDownTo(ctx, 36); err != nil {
				t.Fatal(err)
			}
			if err := sys.DB.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			testkit.WantCounted(t, sys.DB)
			got := find(inboxOf(t, sys, fpFRA), inbox.KindCommunication, comms.NeedConsent)
			if len(got) != 1 || got[0].ID != c2.ID || got[0].Detail != "BRA" {
				t.Fatalf("France after the migration: %+v", got)
			}
		})
		t.Run("the critical communication comes before the high one without a deadline", func(t *testing.T) {
			items := find(inboxOf(t, sys, offKEN), inbox.KindCommunication, "")
			if len(items) != 1 || items[0].Urgency != "critical" {
				t.Fatalf("%+v", items)
			}
		})

		// A check of every PoC.
		if _, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Reachability", Scope: "all", Channel: checks.ChannelEmail, WindowHours: 24}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := sys.Checks.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("each State's users have their own PoC's check, with the campaign's name and end", func(t *testing.T) {
			for _, u := range []*testkit.User{offFRA, offKEN} {
				got := find(inboxOf(t, sys, u), inbox.KindCheck, "")
				if len(got) != 1 || got[0].State != u.State || got[0].Detail != "Reachability" || got[0].Due == nil {
					t.Errorf("%s: %+v", u.Email, got)
				}
			}
			if got := find(inboxOf(t, sys, sec), inbox.KindCheck, ""); len(got) != 0 {
				t.Errorf("the Secretariat answers no check: %+v", got)
			}
		})

		// Kenya's focal point proposes a change: the Secretariat decides it.
		n, err := sys.Directory.ProposePoC(fpKEN.Ctx(), "KEN", testkit.ValidPoC())
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a change waits for the Secretariat, not for who proposed it nor another State", func(t *testing.T) {
			got := find(inboxOf(t, sys, sec), inbox.KindNomination, "")
			if len(got) != 1 || got[0].ID != n.ID || got[0].State != "KEN" {
				t.Fatalf("Secretariat: %+v", got)
			}
			for _, u := range []*testkit.User{fpKEN, offKEN, fpFRA} {
				if got := find(inboxOf(t, sys, u), inbox.KindNomination, ""); len(got) != 0 {
					t.Errorf("%s may not decide it: %+v", u.Email, got[0])
				}
			}
		})
		if _, err := sys.Directory.ReturnNomination(sec.Ctx(), n.ID, directory.Decision{Version: n.Version, Reason: "Give the agency's full name."}); err != nil {
			t.Fatal(err)
		}
		t.Run("a change returned waits for the State's focal point", func(t *testing.T) {
			if got := find(inboxOf(t, sys, fpKEN), inbox.KindReturned, ""); len(got) != 1 || got[0].ID != n.ID {
				t.Errorf("Kenya's focal point: %+v", got)
			}
			for _, u := range []*testkit.User{offKEN, fpFRA, sec} {
				if got := find(inboxOf(t, sys, u), inbox.KindReturned, ""); len(got) != 0 {
					t.Errorf("%s: %+v", u.Email, got[0])
				}
			}
		})

		// Eleven and a half months later, reconfirmations fall due.
		sys.Clock.Advance(350 * 24 * time.Hour)
		t.Run("the reconfirmation falls due for the State's focal point", func(t *testing.T) {
			got := find(inboxOf(t, sys, fpFRA), inbox.KindReconfirmation, "")
			if len(got) != 1 || got[0].State != "FRA" || got[0].Due == nil {
				t.Fatalf("France's focal point: %+v", got)
			}
			for _, u := range []*testkit.User{offFRA, sec} {
				if got := find(inboxOf(t, sys, u), inbox.KindReconfirmation, ""); len(got) != 0 {
					t.Errorf("%s reconfirms nothing: %+v", u.Email, got[0])
				}
			}
		})
		t.Run("a read-only token lists what waits for its user", func(t *testing.T) {
			a := fpFRA.Actor()
			a.ReadOnly = true
			got, err := sys.Inbox.For(app.WithActor(context.Background(), a))
			if err != nil {
				t.Fatal(err)
			}
			if want := inboxOf(t, sys, fpFRA); got.Count != want.Count || len(find(got, inbox.KindReconfirmation, "")) != 1 {
				t.Errorf("read-only: %d items, the user: %d", got.Count, want.Count)
			}
		})
	})
}

// TestInboxAPI gives the same list to national systems, only with a token.
func TestInboxAPI(t *testing.T) {
	sys, srv := testkit.NewServed(t, testkit.Engines()[0])
	fp := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	sys.AddPoC(t, fp.Ctx(), "KEN", testkit.ValidPoC())
	sys.Clock.Advance(350 * 24 * time.Hour)
	get := func(token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/inbox", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	code, body := get(sys.Token(t, fp, "read"))
	var in inbox.Inbox
	if err := json.Unmarshal(body, &in); code != http.StatusOK || err != nil || in.Count != 1 || in.Items[0].Kind != inbox.KindReconfirmation {
		t.Errorf("%d %s", code, body)
	}
}
