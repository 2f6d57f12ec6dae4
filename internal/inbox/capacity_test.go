package inbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/inbox"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCapacityMatchWaits: a proposed match waits, in the inbox and by
// e-mail for whom chose one per item, for the needing State's focal point,
// then the offering State's; on a partner's offer, for a Secretariat
// officer other than the proposer. The e-mail names the match only.
func TestCapacityMatchWaits(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		fpIRN := sys.User(t, "fp@irn.example", app.RoleFocalPoint, "IRN")
		fp2IRN := sys.User(t, "fp2@irn.example", app.RoleFocalPoint, "IRN")
		offIRN := sys.User(t, "off@irn.example", app.RoleOfficer, "IRN")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		for _, u := range []*testkit.User{sec, sec2, fpIRN, offIRN, fpKEN} {
			must(t, sys.Accounts.SetPrefs(u.Ctx(), account.Prefs{Mode: account.NotifyEach}))
		}
		must(t, sys.Accounts.SetPrefs(fp2IRN.Ctx(), account.Prefs{Mode: account.NotifyDigest}))
		needIn := capacity.NeedInput{Kind: "training_course", Topics: []string{"poc_setup"}, Level: directory.LevelTechnical,
			Languages: []string{"en"}, Details: capacity.Text{Lang: "en", Text: "Our duty roster is empty at night."}}
		n, err := sys.Capacity.RecordNeed(fpIRN.Ctx(), needIn)
		must(t, err)
		offerIn := capacity.OfferInput{Kind: "training_course", Topics: []string{"poc_setup"}, Languages: []string{"en"}, Format: "online"}
		o, err := sys.Capacity.RecordOffer(fpKEN.Ctx(), offerIn)
		must(t, err)
		m, err := sys.Capacity.Propose(sec.Ctx(), n.ID, o.ID)
		must(t, err)

		waiting := func(u *testkit.User) int {
			t.Helper()
			box, err := sys.Inbox.For(u.Ctx())
			must(t, err)
			count, err := sys.Inbox.Count(u.Ctx())
			must(t, err)
			if count != box.Count {
				t.Errorf("%s: the count %d differs from the list's %d", u.Email, count, box.Count)
			}
			k := 0
			for _, it := range box.Items {
				if it.Kind == inbox.KindCapacityMatch && it.ID == m.ID {
					k++
				}
			}
			return k
		}
		t.Run("the needing State's focal points answer first: inbox, and e-mail for whom chose one", func(t *testing.T) {
			cases := []struct {
				u         *testkit.User
				wantItem  int
				wantMails int
			}{{fpIRN, 1, 1}, {fp2IRN, 1, 0}, {offIRN, 0, 0}, {fpKEN, 0, 0}, {sec, 0, 0}, {sec2, 0, 0}}
			for _, c := range cases {
				if got := waiting(c.u); got != c.wantItem {
					t.Errorf("%s: %d items, want %d", c.u.Email, got, c.wantItem)
				}
				if got := mails(t, sys, "capacity", c.u.Email); len(got) != c.wantMails {
					t.Errorf("%s: %d e-mails, want %d", c.u.Email, len(got), c.wantMails)
				}
			}
			got := mails(t, sys, "capacity", fpIRN.Email)
			if len(got) == 1 && (!strings.Contains(got[0], "/capacity#match-") || strings.Contains(got[0], "duty roster") || strings.Contains(got[0], "Kenya")) {
				t.Errorf("the e-mail links no match, or tells what the need is or who offers: %q", got[0])
			}
		})
		t.Run("the daily digest lists the match for whom chose it", func(t *testing.T) {
			if _, err := sys.Inbox.Digests(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := mails(t, sys, "digest", fp2IRN.Email)
			if len(got) != 1 || !strings.Contains(got[0], "Capacity-building match to accept or decline") {
				t.Errorf("the digest: %q", got)
			}
		})
		t.Run("once the need's side accepts, the offering State's focal point is asked", func(t *testing.T) {
			_, err := sys.Capacity.Answer(fpIRN.Ctx(), m.ID, capacity.Accept)
			must(t, err)
			if waiting(fpIRN) != 0 || waiting(fp2IRN) != 0 || waiting(fpKEN) != 1 {
				t.Errorf("after Iran's answer: Iran %d, Kenya %d", waiting(fpIRN), waiting(fpKEN))
			}
			if got := mails(t, sys, "capacity", fpKEN.Email); len(got) != 1 {
				t.Errorf("Kenya's focal point: %d e-mails", len(got))
			}
			_, err = sys.Capacity.Answer(fpKEN.Ctx(), m.ID, capacity.Accept)
			must(t, err)
			if waiting(fpKEN) != 0 {
				t.Error("the accepted match still waits")
			}
		})
		t.Run("on a partner's offer, the other Secretariat officer answers, not the proposer", func(t *testing.T) {
			n2, err := sys.Capacity.RecordNeed(fpIRN.Ctx(), needIn)
			must(t, err)
			partner := offerIn
			partner.Partner = "Global Forum on Cyber Expertise"
			po, err := sys.Capacity.RecordOffer(sec.Ctx(), partner)
			must(t, err)
			m, err = sys.Capacity.Propose(sec.Ctx(), n2.ID, po.ID)
			must(t, err)
			if waiting(sec) != 0 || waiting(sec2) != 1 {
				t.Errorf("proposer %d, second officer %d", waiting(sec), waiting(sec2))
			}
			if len(mails(t, sys, "capacity", sec.Email)) != 0 || len(mails(t, sys, "capacity", sec2.Email)) != 1 {
				t.Error("the proposer was written to, or the second officer was not")
			}
		})
	})
}

// TestCapacityMatchDelegates: the e-mails about a match follow the rule of
// every e-mail about new work: while a user who answers is away, their
// delegate receives it in their place (whatever the user chose), saying
// so; the user away receives none; and the officer who proposed the match
// receives none, also as another's delegate.
func TestCapacityMatchDelegates(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		sec3 := sys.User(t, "sec3@un.example", app.RoleSecretariat, "")
		sec4 := sys.User(t, "sec4@un.example", app.RoleSecretariat, "")
		fpIRN := sys.User(t, "fp@irn.example", app.RoleFocalPoint, "IRN")
		offIRN := sys.User(t, "off@irn.example", app.RoleOfficer, "IRN")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		away := sys.Clock.Now().Add(7 * 24 * time.Hour)
		// Iran's focal point, away, chose no e-mail: its officer receives
		// in its place all the same.
		must(t, sys.Accounts.SetPrefs(fpIRN.Ctx(), account.Prefs{Mode: account.NotifyNone, AwayUntil: &away, Delegate: offIRN.Email}))
		must(t, sys.Accounts.SetPrefs(offIRN.Ctx(), account.Prefs{Mode: account.NotifyDigest}))
		// Of the Secretariat: the second officer is away with the third as
		// delegate; the fourth with the proposer as delegate.
		must(t, sys.Accounts.SetPrefs(sec2.Ctx(), account.Prefs{Mode: account.NotifyEach, AwayUntil: &away, Delegate: sec3.Email}))
		must(t, sys.Accounts.SetPrefs(sec4.Ctx(), account.Prefs{Mode: account.NotifyEach, AwayUntil: &away, Delegate: sec.Email}))
		needIn := capacity.NeedInput{Kind: "training_course", Topics: []string{"poc_setup"}, Level: directory.LevelTechnical,
			Languages: []string{"en"}, Details: capacity.Text{Lang: "en", Text: "Our duty roster is empty at night."}}
		n, err := sys.Capacity.RecordNeed(fpIRN.Ctx(), needIn)
		must(t, err)
		o, err := sys.Capacity.RecordOffer(fpKEN.Ctx(), capacity.OfferInput{Kind: "training_course", Topics: []string{"poc_setup"}, Languages: []string{"en"}, Format: "online"})
		must(t, err)
		_, err = sys.Capacity.Propose(sec.Ctx(), n.ID, o.ID)
		must(t, err)
		t.Run("a State's focal point away: the delegate receives, saying in whose place", func(t *testing.T) {
			if got := mails(t, sys, "capacity", fpIRN.Email); len(got) != 0 {
				t.Errorf("the focal point away: %d e-mails", len(got))
			}
			got := mails(t, sys, "capacity", offIRN.Email)
			if len(got) != 1 || !strings.Contains(got[0], "in place of Test fp@irn.example, who is away until "+away.Format("2006-01-02")) ||
				strings.Contains(got[0], "because you chose") {
				t.Errorf("the delegate: %q", got)
			}
		})
		t.Run("a Secretariat officer away: the delegate receives, never the proposer", func(t *testing.T) {
			n2, err := sys.Capacity.RecordNeed(fpIRN.Ctx(), needIn)
			must(t, err)
			po, err := sys.Capacity.RecordOffer(sec.Ctx(), capacity.OfferInput{Kind: "training_course", Topics: []string{"poc_setup"},
				Languages: []string{"en"}, Format: "online", Partner: "Global Forum on Cyber Expertise"})
			must(t, err)
			_, err = sys.Capacity.Propose(sec.Ctx(), n2.ID, po.ID)
			must(t, err)
			if got := mails(t, sys, "capacity", sec3.Email); len(got) != 1 || !strings.Contains(got[0], "in place of Test sec2@un.example") {
				t.Errorf("the second officer's delegate: %q", got)
			}
			if got := mails(t, sys, "capacity", sec.Email); len(got) != 0 {
				t.Errorf("the proposer, as the fourth officer's delegate: %q", got)
			}
			if n := len(mails(t, sys, "capacity", sec2.Email)) + len(mails(t, sys, "capacity", sec4.Email)); n != 0 {
				t.Errorf("%d e-mails to the officers away", n)
			}
		})
	})
}
