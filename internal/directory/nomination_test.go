package directory_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

func wantCode(t *testing.T, what string, err error, code app.Code) {
	t.Helper()
	if app.ErrorCode(err) != code {
		t.Errorf("%s: got %v, want %s", what, err, code)
	}
}

func pocCount(t *testing.T, f *fixture, state string) int {
	t.Helper()
	e, err := f.sys.Directory.Get(f.sec.Ctx(), state)
	if err != nil {
		t.Fatal(err)
	}
	return len(e.PoCs)
}

func TestNominationWorkflow(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		in := testkit.ValidPoC()
		in.Draft = true
		n, err := dir.ProposePoC(f.fpFRA.Ctx(), "FRA", in)
		if err != nil {
			t.Fatal(err)
		}
		if n.Status != directory.NomDraft || n.SubmittedAt != nil || len(n.Diff) == 0 {
			t.Fatalf("draft %+v", n)
		}
		t.Run("a draft is seen by the State's own users only", func(t *testing.T) {
			for _, u := range []*testkit.User{f.fpFRA, f.offFRA} {
				if _, err := dir.Nomination(u.Ctx(), n.ID); err != nil {
					t.Errorf("%s: %v", u.Email, err)
				}
			}
			for _, u := range []*testkit.User{f.fpKEN, f.sec} {
				_, err := dir.Nomination(u.Ctx(), n.ID)
				wantCode(t, u.Email+" reads the draft", err, app.NotFound)
				page, err := dir.Nominations(u.Ctx(), directory.NominationFilter{State: "FRA"}, app.Cursor{}, 0)
				if err != nil || len(page.List) != 0 {
					t.Errorf("%s lists nominations of FRA: %+v %v", u.Email, page, err)
				}
			}
		})
		t.Run("the Secretariat cannot validate a draft", func(t *testing.T) {
			_, err := dir.ValidateNomination(f.sec.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "NV 1"})
			wantCode(t, "validate draft", err, app.NotFound)
		})
		f.sys.Clock.Advance(24 * time.Hour)
		submittedAt := f.sys.Clock.Now()
		n, err = dir.SubmitNomination(f.fpFRA.Ctx(), n.ID, n.Version)
		if err != nil {
			t.Fatal(err)
		}
		if n.Status != directory.NomSubmitted || n.SubmittedAt == nil || !n.SubmittedAt.Equal(submittedAt) {
			t.Fatalf("submitted %+v", n)
		}
		t.Run("until validated, the directory is unchanged for everyone", func(t *testing.T) {
			if c := pocCount(t, f, "FRA"); c != 0 {
				t.Errorf("%d PoCs", c)
			}
		})
		t.Run("another State neither sees nor acts on it", func(t *testing.T) {
			_, err := dir.Nomination(f.fpKEN.Ctx(), n.ID)
			wantCode(t, "read", err, app.NotFound)
			_, err = dir.WithdrawNomination(f.fpKEN.Ctx(), n.ID, n.Version)
			wantCode(t, "withdraw", err, app.NotFound)
			_, err = dir.ValidateNomination(f.fpKEN.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "NV"})
			wantCode(t, "validate", err, app.NotFound)
		})
		t.Run("the State's focal point and officer cannot validate it", func(t *testing.T) {
			for _, u := range []*testkit.User{f.fpFRA, f.offFRA} {
				_, err := dir.ValidateNomination(u.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "NV"})
				wantCode(t, u.Email, err, app.Forbidden)
			}
		})
		t.Run("an officer of the State sees it but cannot withdraw it", func(t *testing.T) {
			_, err := dir.WithdrawNomination(f.offFRA.Ctx(), n.ID, n.Version)
			wantCode(t, "withdraw", err, app.Forbidden)
		})
		t.Run("a read-only token of the Secretariat cannot validate it", func(t *testing.T) {
			ro := f.sec.Actor()
			ro.ReadOnly = true
			_, err := dir.ValidateNomination(app.WithActor(context.Background(), ro), n.ID, directory.Decision{Version: n.Version, Reference: "NV"})
			wantCode(t, "validate", err, app.Forbidden)
		})
		t.Run("validation without the official reference is refused", func(t *testing.T) {
			_, err := dir.ValidateNomination(f.sec.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "   "})
			if e := app.AsError(err); e.Code != app.Invalid || e.Field != "reference" {
				t.Errorf("got %v", err)
			}
		})
		page, err := dir.Nominations(f.sec.Ctx(), directory.NominationFilter{Status: directory.NomSubmitted}, app.Cursor{}, 0)
		if err != nil || len(page.List) != 1 || page.List[0].ID != n.ID {
			t.Fatalf("the Secretariat's queue: %+v %v", page, err)
		}
		f.sys.Clock.Advance(3 * 24 * time.Hour)
		v, err := dir.ValidateNomination(f.sec.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "Note verbale No. 17/2026 of 20 Nov 2026"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != directory.NomValidated || v.DecidedBy != "sec@un.example" || v.ChangeID == 0 || v.PoCID == 0 {
			t.Fatalf("validated %+v", v)
		}
		t.Run("once validated every State sees the PoC", func(t *testing.T) {
			got, _ := dir.Get(f.fpKEN.Ctx(), "FRA")
			if len(got.PoCs) != 1 || got.PoCs[0].ID != v.PoCID {
				t.Errorf("KEN sees %+v", got.PoCs)
			}
		})
		t.Run("the history records who proposed, when it was notified, who validated and the reference", func(t *testing.T) {
			h, _ := dir.History(f.fpKEN.Ctx(), "FRA")
			c := h[0]
			if c.Action != "poc.create" || c.ActorEmail != "fp@fra.example" || c.ValidatedBy != "sec@un.example" || c.NominationID != n.ID ||
				c.OfficialRef != "Note verbale No. 17/2026 of 20 Nov 2026" || c.NotifiedAt == nil || !c.NotifiedAt.Equal(submittedAt) {
				t.Errorf("change %+v", c)
			}
		})
		t.Run("a second validation of the same nomination is refused and changes nothing", func(t *testing.T) {
			_, err := dir.ValidateNomination(f.sec.Ctx(), n.ID, directory.Decision{Version: v.Version, Reference: "NV again"})
			if e := app.AsError(err); e.Code != app.Conflict || e.Key != "error.nomination_decided" {
				t.Errorf("got %v", err)
			}
			if c := pocCount(t, f, "FRA"); c != 1 {
				t.Errorf("%d PoCs", c)
			}
			h, _ := dir.History(f.sec.Ctx(), "FRA")
			if len(h) != 1 {
				t.Errorf("%d changes", len(h))
			}
		})
		t.Run("a validated nomination can no longer be revised or withdrawn", func(t *testing.T) {
			_, err := dir.WithdrawNomination(f.fpFRA.Ctx(), n.ID, v.Version)
			wantCode(t, "withdraw", err, app.Conflict)
		})
	})
}

func TestNominationReturnedRevisedByASecondFocalPoint(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		fp2 := f.sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
		p := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		in := testkit.ValidPoC()
		in.Agency, in.Version = "ANSSI", p.Version
		n, err := dir.ProposePoCUpdate(f.fpFRA.Ctx(), p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = dir.ReturnNomination(f.sec.Ctx(), n.ID, directory.Decision{Version: n.Version})
		if e := app.AsError(err); e.Code != app.Invalid || e.Field != "reason" {
			t.Errorf("a return without a reason: %v", err)
		}
		n, err = dir.ReturnNomination(f.sec.Ctx(), n.ID, directory.Decision{Version: n.Version, Reason: "Please send the note verbale"})
		if err != nil || n.Status != directory.NomReturned || n.ReturnReason != "Please send the note verbale" {
			t.Fatalf("%+v %v", n, err)
		}
		// The first focal point is away: the second one takes over.
		in.Agency = "ANSSI (Agence nationale de la sécurité des systèmes d'information)"
		n, err = dir.ReviseNomination(fp2.Ctx(), n.ID, directory.Revision{Version: n.Version, PoC: &in, Submit: true})
		if err != nil {
			t.Fatal(err)
		}
		if n.Status != directory.NomSubmitted || n.SubmittedBy != "fp2@fra.example" || n.ReturnReason != "" {
			t.Fatalf("resubmitted %+v", n)
		}
		if _, err := dir.ReviseNomination(f.fpFRA.Ctx(), n.ID, directory.Revision{Version: n.Version - 1, PoC: &in}); app.ErrorCode(err) != app.Conflict {
			t.Errorf("a revision from a stale version: %v", err)
		}
		f.sys.Validate(t, n, nil)
		got, _ := dir.GetPoC(f.fpKEN.Ctx(), p.ID)
		if got.Agency != in.Agency {
			t.Errorf("agency %q", got.Agency)
		}
		h, _ := dir.History(f.sec.Ctx(), "FRA")
		if h[0].ActorEmail != "fp2@fra.example" {
			t.Errorf("change by %s", h[0].ActorEmail)
		}
	})
}

func TestNominationOnWrittenRequest(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		in := testkit.ValidPoC()
		_, err := dir.ProposePoC(f.sec.Ctx(), "KEN", in)
		if e := app.AsError(err); e.Code != app.Invalid || e.Field != "request_ref" {
			t.Fatalf("without the written request: %v", err)
		}
		in.RequestRef = "Letter of the Permanent Mission of Kenya, ref. KE/2026/044"
		in.Draft = true
		n, err := dir.ProposePoC(f.sec.Ctx(), "KEN", in)
		if err != nil {
			t.Fatal(err)
		}
		if n.RequestRef != in.RequestRef || n.CreatedBy != "sec@un.example" {
			t.Fatalf("%+v", n)
		}
		// The State's focal point sees what was done for the State.
		if _, err := dir.Nomination(f.fpKEN.Ctx(), n.ID); err != nil {
			t.Errorf("KEN's focal point: %v", err)
		}
		n, err = dir.SubmitNomination(f.sec.Ctx(), n.ID, n.Version)
		if err != nil {
			t.Fatal(err)
		}
		if n.Awaiting != directory.AwaitingFocalPoint {
			t.Errorf("awaiting %q", n.Awaiting)
		}
		// Four eyes: what the Secretariat proposed for Kenya, Kenya's
		// focal point confirms; nobody else applies it.
		sec2 := f.sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		offKEN := f.sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		refusals := []struct {
			name string
			by   *testkit.User
			want app.Code
		}{
			{"who proposed it does not validate it", f.sec, app.Forbidden},
			{"a second officer does not validate it while the State has a focal point", sec2, app.Forbidden},
			{"an officer of the State does not confirm it", offKEN, app.Forbidden},
			{"another State's focal point does not see it", f.fpFRA, app.NotFound},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				_, err := dir.ValidateNomination(r.by.Ctx(), n.ID, directory.Decision{Version: n.Version, Reference: "NV 1"})
				wantCode(t, "validate", err, r.want)
				_, err = dir.ReturnNomination(r.by.Ctx(), n.ID, directory.Decision{Version: n.Version, Reason: "no"})
				wantCode(t, "return", err, r.want)
			})
		}
		if p, _ := dir.Get(f.fpKEN.Ctx(), "KEN"); len(p.PoCs) != 0 {
			t.Fatalf("applied before confirmation: %+v", p.PoCs)
		}
		t.Run("the State's focal point may refuse it, which changes nothing", func(t *testing.T) {
			r, err := dir.ReturnNomination(f.fpKEN.Ctx(), n.ID, directory.Decision{Version: n.Version, Reason: "We did not ask for this agency."})
			if err != nil || r.Status != directory.NomReturned || r.DecidedBy != f.fpKEN.Email {
				t.Fatalf("%+v %v", r, err)
			}
			if p, _ := dir.Get(f.fpKEN.Ctx(), "KEN"); len(p.PoCs) != 0 {
				t.Errorf("applied after a refusal: %+v", p.PoCs)
			}
			if n, err = dir.SubmitNomination(f.sec.Ctx(), n.ID, r.Version); err != nil {
				t.Fatal(err)
			}
		})
		v, err := dir.ValidateNomination(f.fpKEN.Ctx(), n.ID, directory.Decision{Version: n.Version})
		if err != nil {
			t.Fatalf("the State's focal point confirming: %v", err)
		}
		if v.Status != directory.NomValidated || v.OfficialRef != in.RequestRef || v.DecidedBy != f.fpKEN.Email {
			t.Errorf("confirmed %+v", v)
		}
		h, _ := dir.History(f.fpKEN.Ctx(), "KEN")
		if h[0].RequestRef != in.RequestRef || h[0].PoCID != v.PoCID || h[0].ValidatedBy != f.fpKEN.Email {
			t.Errorf("change %+v", h[0])
		}
		t.Run("the State's focal points are told of the change", func(t *testing.T) {
			var n int
			f.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'entry-change' AND to_addr = $1`, f.fpKEN.Email).Scan(&n)
			if n != 1 {
				t.Errorf("%d announcements", n)
			}
		})
		t.Run("for a State without a focal point, a second officer approves, never the first", func(t *testing.T) {
			gin := testkit.ValidPoC()
			gin.RequestRef = "Note verbale of Ghana No. 12/2026"
			g, err := dir.ProposePoC(f.sec.Ctx(), "GHA", gin)
			if err != nil || g.Awaiting != directory.AwaitingSecondOfficer {
				t.Fatalf("%+v %v", g, err)
			}
			_, err = dir.ValidateNomination(f.sec.Ctx(), g.ID, directory.Decision{Version: g.Version, Reference: "NV 12/2026"})
			if app.AsError(err).Key != "error.nomination_own" {
				t.Errorf("self-validation: %v", err)
			}
			_, err = dir.ValidateNomination(sec2.Ctx(), g.ID, directory.Decision{Version: g.Version})
			wantCode(t, "without the official reference", err, app.Invalid)
			if _, err := dir.ValidateNomination(sec2.Ctx(), g.ID, directory.Decision{Version: g.Version, Reference: "NV 12/2026"}); err != nil {
				t.Errorf("the second officer: %v", err)
			}
		})
		t.Run("the Secretariat cannot touch a State's own draft", func(t *testing.T) {
			d := testkit.ValidPoC()
			d.Draft = true
			own, err := dir.ProposePoC(f.fpFRA.Ctx(), "FRA", d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = dir.SubmitNomination(f.sec.Ctx(), own.ID, own.Version)
			wantCode(t, "submit", err, app.NotFound)
			own, _ = dir.SubmitNomination(f.fpFRA.Ctx(), own.ID, own.Version)
			_, err = dir.WithdrawNomination(f.sec.Ctx(), own.ID, own.Version)
			wantCode(t, "withdraw", err, app.Forbidden)
		})
	})
}

func TestConcurrentEditsOfOnePoC(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		fp2 := f.sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
		p := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		// Both open the form at the same version.
		a, b := testkit.ValidPoC(), testkit.ValidPoC()
		a.Agency, a.Version = "First edit", p.Version
		b.Agency, b.Version = "Second edit", p.Version
		first, err := dir.ProposePoCUpdate(f.fpFRA.Ctx(), p.ID, a)
		if err != nil {
			t.Fatal(err)
		}
		_, err = dir.ProposePoCUpdate(fp2.Ctx(), p.ID, b)
		if e := app.AsError(err); e.Code != app.Conflict || e.Key != "error.nomination_open" {
			t.Fatalf("the second edit: %v", err)
		}
		_, err = dir.ProposePoCRemoval(fp2.Ctx(), p.ID, directory.RemovalInput{Version: p.Version})
		wantCode(t, "a removal while an edit is open", err, app.Conflict)
		got, _ := dir.Nomination(f.fpFRA.Ctx(), first.ID)
		if got.PoC.Agency != "First edit" {
			t.Errorf("the first edit was changed: %q", got.PoC.Agency)
		}
		f.sys.Validate(t, first, nil)
		// After validation, an edit from the old version is refused.
		_, err = dir.ProposePoCUpdate(fp2.Ctx(), p.ID, b)
		wantCode(t, "an edit from the old version", err, app.Conflict)
		b.Version = p.Version + 1
		if _, err := dir.ProposePoCUpdate(fp2.Ctx(), p.ID, b); err != nil {
			t.Errorf("an edit from the current version: %v", err)
		}
		t.Run("an unchanged PoC is not a nomination", func(t *testing.T) {
			same := testkit.ValidPoC()
			same.Agency, same.Version = "First edit", p.Version+1
			p2 := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", same)
			same.Version = p2.Version
			_, err := dir.ProposePoCUpdate(f.fpFRA.Ctx(), p2.ID, same)
			wantCode(t, "no change", err, app.Invalid)
		})
	})
}

func TestLeavingOnADate(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		p := f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		_, err := dir.ProposePoCRemoval(f.fpFRA.Ctx(), p.ID, directory.RemovalInput{Version: p.Version,
			EffectiveDate: f.sys.Clock.Now().AddDate(0, 0, 120).Format(time.DateOnly)})
		if e := app.AsError(err); e.Code != app.Invalid || e.Field != "effective_date" {
			t.Errorf("a date beyond the horizon: %v", err)
		}
		leaving := f.sys.Clock.Now().AddDate(0, 0, 10).Format(time.DateOnly)
		f.sys.RemovePoC(t, f.fpFRA.Ctx(), p.ID, leaving)
		got, _ := dir.Get(f.fpKEN.Ctx(), "FRA")
		if len(got.PoCs) != 1 || got.PoCs[0].LeavingOn != leaving {
			t.Fatalf("before the date: %+v", got.PoCs)
		}
		f.sys.Clock.Advance(9 * 24 * time.Hour)
		if c := pocCount(t, f, "FRA"); c != 1 {
			t.Errorf("the day before: %d PoCs", c)
		}
		f.sys.Clock.Advance(24 * time.Hour)
		if c := pocCount(t, f, "FRA"); c != 0 {
			t.Errorf("on the day: %d PoCs", c)
		}
		if _, err := dir.GetPoC(f.fpFRA.Ctx(), p.ID); app.ErrorCode(err) != app.NotFound {
			t.Errorf("get after leaving: %v", err)
		}
		h, _ := dir.History(f.fpFRA.Ctx(), "FRA")
		if h[0].Action != "poc.remove" || h[0].EffectiveDate != leaving {
			t.Errorf("history %+v", h[0])
		}
	})
}

func TestLatenessCountsFromTheNotification(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		in := testkit.ValidPoC()
		in.EffectiveDate = f.sys.Clock.Now().AddDate(0, 0, -20).Format(time.DateOnly)
		n, err := dir.ProposePoC(f.fpFRA.Ctx(), "FRA", in)
		if err != nil {
			t.Fatal(err)
		}
		// The Secretariat takes 25 days: the State notified within 30.
		f.sys.Clock.Advance(25 * 24 * time.Hour)
		f.sys.Validate(t, n, nil)
		late := testkit.ValidPoC()
		late.Agency = "Late"
		late.EffectiveDate = f.sys.Clock.Now().AddDate(0, 0, -40).Format(time.DateOnly)
		f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", late)
		h, _ := dir.History(f.fpFRA.Ctx(), "FRA")
		if h[1].Late() || h[1].LateDays() != 20 {
			t.Errorf("notified in time, validated later: late %v (%d days)", h[1].Late(), h[1].LateDays())
		}
		if !h[0].Late() || h[0].LateDays() != 40 {
			t.Errorf("notified 40 days after: late %v (%d days)", h[0].Late(), h[0].LateDays())
		}
		// On the rule's edge: 30 days is in time, 31 late.
		for i, days := range []int{30, 31} {
			in := testkit.ValidPoC()
			in.Agency = fmt.Sprintf("Edge %d", i)
			in.EffectiveDate = f.sys.Clock.Now().AddDate(0, 0, -days).Format(time.DateOnly)
			f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
		}
		compliance := func() directory.Compliance {
			t.Helper()
			c, err := dir.Compliance(f.fpFRA.Ctx(), "FRA")
			if err != nil {
				t.Fatal(err)
			}
			all, err := dir.Compliance(f.fpFRA.Ctx(), "")
			if err != nil || all.Changes < c.Changes || all.Late < c.Late {
				t.Fatalf("the directory's %+v, France's %+v, %v", all, c, err)
			}
			return *c
		}
		want := directory.Compliance{Changes: 4, Late: 2}
		if got := compliance(); got != want {
			t.Errorf("France's figures %+v, want %+v", got, want)
		}
		t.Run("the migration counts the changes already there", func(t *testing.T) {
			ctx := context.Background()
			if err := f.sys.DB.MigrateDownTo(ctx, 41); err != nil {
				t.Fatal(err)
			}
			if err := f.sys.DB.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got := compliance(); got != want {
				t.Errorf("after the migration %+v, want %+v", got, want)
			}
			if m, err := directory.RecountRule30(ctx, f.sys.DB); err != nil || len(m) > 0 {
				t.Errorf("the kept figures differ from the changes: %+v %v", m, err)
			}
		})
	})
}

// TestNominationsListCarriesEachDiff: the list reads the applied changes
// of the validated together; each nomination in it carries the diff that
// reading it alone gives.
func TestNominationsListCarriesEachDiff(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		for i := range 3 {
			in := testkit.ValidPoC()
			in.FunctionTitle = fmt.Sprintf("Duty officer %d", i)
			f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
		}
		for _, u := range []*testkit.User{f.sec, f.fpFRA} {
			page, err := dir.Nominations(u.Ctx(), directory.NominationFilter{State: "FRA", Status: directory.NomValidated}, app.Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			list := page.List
			if len(list) < 3 {
				t.Fatalf("%s: %d validated nominations", u.Email, len(list))
			}
			for _, n := range list {
				one, err := dir.Nomination(u.Ctx(), n.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n.ChangeID == 0 || len(n.Diff) == 0 || !reflect.DeepEqual(n.Diff, one.Diff) {
					t.Errorf("%s: nomination %d lists diff %+v, reads %+v", u.Email, n.ID, n.Diff, one.Diff)
				}
			}
		}
	})
}

func TestNominationsArePaged(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		dir := f.sys.Directory
		for i := range 5 {
			in := testkit.ValidPoC()
			in.FunctionTitle = fmt.Sprintf("Duty officer %d", i)
			f.sys.AddPoC(t, f.fpFRA.Ctx(), "FRA", in)
			if i%2 == 0 {
				// A draft between them, which the Secretariat does not see:
				// its pages must still be whole.
				d := testkit.ValidPoC()
				d.FunctionTitle, d.Draft = fmt.Sprintf("Draft %d", i), true
				if _, err := dir.ProposePoC(f.fpKEN.Ctx(), "KEN", d); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, u := range []*testkit.User{f.sec, f.fpFRA, f.fpKEN} {
			all, err := dir.Nominations(u.Ctx(), directory.NominationFilter{}, app.Cursor{}, app.MaxPageSize)
			if err != nil || all.Older != nil || all.Newer != nil {
				t.Fatalf("%s: %+v %v", u.Email, all, err)
			}
			for _, n := range all.List {
				if u == f.sec && n.Status == directory.NomDraft {
					t.Errorf("the Secretariat lists the draft %d", n.ID)
				}
			}
			// Two at a time, back to the oldest, then forward again.
			var pages [][]int64
			k := app.Cursor{}
			for {
				p, err := dir.Nominations(u.Ctx(), directory.NominationFilter{}, k, 2)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, n := range p.List {
					ids = append(ids, n.ID)
				}
				pages = append(pages, ids)
				if p.Older == nil {
					break
				}
				if len(p.List) != 2 {
					t.Errorf("%s: a page of %d before the last", u.Email, len(p.List))
				}
				k = *p.Older
				if len(pages) > len(all.List) {
					t.Fatalf("%s: the walk does not end", u.Email)
				}
			}
			var walked []int64
			for _, p := range pages {
				walked = append(walked, p...)
			}
			var want []int64
			for _, n := range all.List {
				want = append(want, n.ID)
			}
			if !reflect.DeepEqual(walked, want) {
				t.Errorf("%s: pages %v, the whole list %v", u.Email, pages, want)
			}
			last, err := dir.Nominations(u.Ctx(), directory.NominationFilter{}, k, 2)
			if err != nil {
				t.Fatal(err)
			}
			i := len(pages) - 2
			for ; i >= 0 && last.Newer != nil; i-- {
				back, err := dir.Nominations(u.Ctx(), directory.NominationFilter{}, *last.Newer, 2)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, n := range back.List {
					ids = append(ids, n.ID)
				}
				if !reflect.DeepEqual(ids, pages[i]) {
					t.Errorf("%s: back to page %d gives %v, want %v", u.Email, i, ids, pages[i])
				}
				last = back
			}
			if i != -1 || last.Newer != nil {
				t.Errorf("%s: the walk back stopped at page %d, or went past the first (%v)", u.Email, i+1, last.Newer)
			}
		}
	})
}
