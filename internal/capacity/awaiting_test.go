package capacity_test

import (
	"slices"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestAwaitingReadsWhatMatchesShows holds Awaiting, which reads only the
// proposed matches of the actor's side, to what it read before: every
// match the actor sees (Matches), oldest first, kept where it waits for the
// actor. Matches at every stage, on both sides, and a partner's offer.
func TestAwaitingReadsWhatMatchesShows(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		needIRN := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("forensics", capacity.VisibleAll))).ok(t)
		needIRN2 := got(w.s.RecordNeed(w.fpIRN.Ctx(), need("incident_handling", ""))).ok(t)
		needKEN := got(w.s.RecordNeed(w.fpKEN.Ctx(), need("poc_setup", capacity.VisibleAll))).ok(t)
		offKEN := got(w.s.RecordOffer(w.fpKEN.Ctx(), offer("forensics"))).ok(t)
		offFRA := got(w.s.RecordOffer(w.fpFRA.Ctx(), offer("incident_handling", "forensics"))).ok(t)
		offIRN := got(w.s.RecordOffer(w.fpIRN.Ctx(), offer("poc_setup"))).ok(t)
		in := offer("forensics")
		in.Partner = "Forensics Foundation"
		offPartner := got(w.s.RecordOffer(w.sec.Ctx(), in)).ok(t)

		waitsNeed := got(w.s.Propose(w.sec.Ctx(), needIRN.ID, offKEN.ID)).ok(t)   // for Iran
		waitsOffer := got(w.s.Propose(w.sec.Ctx(), needIRN2.ID, offFRA.ID)).ok(t) // Iran accepts: for France
		got(w.s.Answer(w.fpIRN.Ctx(), waitsOffer.ID, capacity.Accept)).ok(t)
		partner := got(w.s.Propose(w.sec.Ctx(), needIRN.ID, offPartner.ID)).ok(t) // for Iran and sec2
		reverse := got(w.s.Propose(w.sec2.Ctx(), needKEN.ID, offIRN.ID)).ok(t)    // for Kenya
		declined := got(w.s.Propose(w.sec.Ctx(), needIRN.ID, offFRA.ID)).ok(t)    // ended
		got(w.s.Answer(w.fpIRN.Ctx(), declined.ID, capacity.Decline)).ok(t)

		want := map[*testkit.User][]int64{
			w.fpIRN: {waitsNeed.ID, partner.ID},
			w.fpFRA: {waitsOffer.ID},
			w.fpKEN: {reverse.ID},
			w.sec:   {},           // proposed the partner's match: another officer answers
			w.sec2:  {partner.ID}, // the partner's side
		}
		for _, u := range []*testkit.User{w.sec, w.sec2, w.fpIRN, w.offIRN, w.fpKEN, w.offKEN, w.fpFRA, w.offFRA} {
			all := got(w.s.Matches(u.Ctx(), app.Cursor{}, app.MaxPageSize)).ok(t).List
			var before []int64
			for i := len(all) - 1; i >= 0; i-- {
				if capacity.WaitsFor(u.Actor(), all[i]) {
					before = append(before, all[i].ID)
				}
			}
			var now []int64 // in Awaiting's order, oldest first
			for _, m := range got(w.s.Awaiting(u.Ctx())).ok(t) {
				now = append(now, m.ID)
			}
			if !slices.Equal(now, before) {
				t.Errorf("%s: Awaiting gives %v, the filter of Matches %v", u.Email, now, before)
			}
			if exp, ok := want[u]; ok && !slices.Equal(now, exp) && len(now)+len(exp) > 0 {
				t.Errorf("%s: waiting %v, want %v", u.Email, now, exp)
			}
		}
	})
}
