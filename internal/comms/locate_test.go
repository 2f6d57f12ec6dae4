package comms_test

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestLocateFollowsWhoMaySeeACommunication checks the lookup that the
// accountability log uses to link communications by reference: the same
// rule as Communication, without reading content or recording an opening.
func TestLocateFollowsWhoMaySeeACommunication(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, e)
		toKEN, err := w.s.Compose(w.offFRA.Ctx(), notification("KEN"))
		if err != nil {
			t.Fatal(err)
		}
		in := notification("KEN")
		in.Draft = true
		draft, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		toBRA, err := w.s.Compose(w.offKEN.Ctx(), notification("BRA"))
		if err != nil {
			t.Fatal(err)
		}
		refs := []string{toKEN.Ref, draft.Ref, toBRA.Ref, "PC-1999-000001"}
		for _, c := range []struct {
			who  *testkit.User
			want map[string]int64
		}{
			{w.offFRA, map[string]int64{toKEN.Ref: toKEN.ID, draft.Ref: draft.ID}},
			{w.fpFRA, map[string]int64{toKEN.Ref: toKEN.ID, draft.Ref: draft.ID}},
			{w.offKEN, map[string]int64{toKEN.Ref: toKEN.ID, toBRA.Ref: toBRA.ID}},
			{w.offBRA, map[string]int64{toBRA.Ref: toBRA.ID}},
			{w.offDEU, map[string]int64{}},
			// The Secretariat sees the metadata of what was sent, never a
			// State's draft.
			{w.sec, map[string]int64{toKEN.Ref: toKEN.ID, toBRA.Ref: toBRA.ID}},
		} {
			got, err := w.s.Locate(c.who.Ctx(), refs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Errorf("%s: got %v, want %v", c.who.Email, got, c.want)
			}
			for ref, id := range c.want {
				if got[ref] != id {
					t.Errorf("%s: %s is %d, want %d", c.who.Email, ref, got[ref], id)
				}
			}
		}
		t.Run("locating records no opening", func(t *testing.T) {
			got, err := w.s.Communication(w.offFRA.Ctx(), toKEN.ID)
			if err != nil {
				t.Fatal(err)
			}
			for addr, stage := range stages(got) {
				if stage == "opened" {
					t.Errorf("%s: opened by a lookup", addr)
				}
			}
		})
		t.Run("without a user, nothing", func(t *testing.T) {
			_, err := w.s.Locate(context.Background(), refs)
			wantCode(t, "no user", err, app.Unauthorized)
		})
	})
}
