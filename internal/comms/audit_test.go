package comms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestCommitmentsCheck checks that the full verification of the log
// recomputes the commitment of every sent communication, and finds each
// kind of change to a communication's row.
func TestCommitmentsCheck(t *testing.T) {
	ctx := context.Background()
	// sent makes a notification to Kenya and Germany, escalated to the
	// diplomatic level, a TLP:RED one, and a copy shared with Brazil by
	// consent; it returns the first.
	sent := func(t *testing.T, w *world) *comms.Communication {
		in := notification("KEN", "DEU")
		in.Fields["respond_by"] = w.sys.Clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04")
		c, err := w.s.Compose(w.offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Escalate(w.offFRA.Ctx(), c.ID); err != nil {
			t.Fatal(err)
		}
		red := notification("KEN")
		red.Fields["tlp"] = comms.TLPRed
		if _, err := w.s.Compose(w.offFRA.Ctx(), red); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Share(w.offKEN.Ctx(), c.ID, "BRA", "for the region"); err != nil {
			t.Fatal(err)
		}
		th, err := w.s.Thread(w.offFRA.Ctx(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range th.Events {
			if ev.Kind == comms.EvConsentRequested {
				if _, err := w.s.Consent(w.offFRA.Ctx(), c.ID, ev.ID, true); err != nil {
					t.Fatal(err)
				}
			}
		}
		return c
	}
	check := func(t *testing.T, w *world) *auditlog.Report {
		t.Helper()
		r, err := auditlog.Check(ctx, w.sys.DB, w.sys.Audit.Verifier, directory.CheckCommitments, comms.CheckCommitments(w.sys.DataKeys))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		name, sql, want string
	}{
		{"its urgency", `UPDATE comms SET urgency = 'low' WHERE id = $1`, "does not match the commitment"},
		{"its level, escalated back", `UPDATE comms SET level = 'technical' WHERE id = $1`, "escalated, yet not at the diplomatic level"},
		{"its escalation, undone", `UPDATE comms SET escalated_at = NULL WHERE id = $1`, "does not match the commitment"},
		{"its recipient States", `UPDATE comms SET to_states = 'KEN' WHERE id = $1`, "does not match the commitment"},
		{"its salt", `UPDATE comms SET commit_salt = 'x' WHERE id = $1`, "does not match the commitment"},
		{"its log entry", `UPDATE comms SET log_index = 0 WHERE id = $1`, "holds no commitment"},
		{"its content, taken from another", `UPDATE comms SET content = (SELECT content FROM comms WHERE id = $1 + 1) WHERE id = $1`, "does not open"},
	}
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		t.Run("a log of sent, answered and shared communications verifies", func(t *testing.T) {
			w := newWorld(t, e)
			sent(t, w)
			r := check(t, w)
			var n int
			if err := w.sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM comms WHERE log_index IS NOT NULL`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if !r.OK() || n < 3 || r.Commitments < n {
				t.Errorf("%d communications logged; %d commitments checked, problems %q", n, r.Commitments, r.Problems)
			}
		})
		for _, c := range cases {
			t.Run("a change to a communication's "+strings.TrimPrefix(c.name, "its ")+" is found", func(t *testing.T) {
				w := newWorld(t, e)
				first := sent(t, w)
				res, err := w.sys.DB.ExecContext(ctx, c.sql, first.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("the change touched %d rows", n)
				}
				r := check(t, w)
				if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), first.Ref+": ") || !strings.Contains(strings.Join(r.Problems, "\n"), c.want) {
					t.Errorf("problems %q, want one naming %s that says %q", r.Problems, first.Ref, c.want)
				}
			})
		}
		t.Run("content sealed again with other words, by someone who holds the data key, is found", func(t *testing.T) {
			w := newWorld(t, e)
			first := sent(t, w)
			var sealed string
			if err := w.sys.DB.QueryRowContext(ctx, `SELECT content FROM comms WHERE id = $1`, first.ID).Scan(&sealed); err != nil {
				t.Fatal(err)
			}
			aad := "comms/content/" + first.Ref
			plain, err := w.sys.DataKeys.Open(aad, sealed)
			if err != nil {
				t.Fatal(err)
			}
			forged, err := w.sys.DataKeys.Seal(aad, []byte(strings.Replace(string(plain), "203.0.113.7", "203.0.113.8", 1)))
			if err != nil || string(plain) == strings.Replace(string(plain), "203.0.113.7", "203.0.113.8", 1) {
				t.Fatalf("forging: %v", err)
			}
			if _, err := w.sys.DB.ExecContext(ctx, `UPDATE comms SET content = $1 WHERE id = $2`, forged, first.ID); err != nil {
				t.Fatal(err)
			}
			r := check(t, w)
			if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), first.Ref+": it does not match the commitment") {
				t.Errorf("problems %q", r.Problems)
			}
		})
	})
}
