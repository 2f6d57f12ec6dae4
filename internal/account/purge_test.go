package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestEndedSessionsArePurged: a session ended (expired or signed out) more
// than EndedSessionsKept ago is deleted; an open one, or one ended since,
// stays, and the open one still signs its user in.
func TestEndedSessionsArePurged(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		ctx := context.Background()
		u := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		open, expiredLong, expiredLately, revokedLong := login(t, sys, u), login(t, sys, u), login(t, sys, u), login(t, sys, u)
		now := sys.Clock.Now()
		long, lately := now.Add(-account.EndedSessionsKept-time.Hour).UTC(), now.Add(-time.Hour).UTC()
		for _, set := range []struct {
			s      *account.Session
			column string
			at     time.Time
		}{{expiredLong, "expires_at", long}, {expiredLately, "expires_at", lately}, {revokedLong, "revoked_at", long}} {
			st, err := sys.Accounts.Authenticate(ctx, set.s.Token)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.DB.Exec(`UPDATE sessions SET `+set.column+` = $1 WHERE id = $2`, set.at, st.Session.ID); err != nil {
				t.Fatal(err)
			}
		}
		n, err := sys.Accounts.PurgeSessions(ctx)
		if err != nil || n != 2 {
			t.Fatalf("purged %d, %v; want the two ended long ago", n, err)
		}
		var left int
		if err := sys.DB.QueryRow(`SELECT COUNT(*) FROM sessions WHERE mfa_done`).Scan(&left); err != nil || left != 2 {
			t.Errorf("%d sessions left, %v; want the open one and the one expired lately (the partial sessions of the sign-ins aside)", left, err)
		}
		if _, err := sys.Accounts.Authenticate(ctx, open.Token); err != nil {
			t.Errorf("the open session: %v", err)
		}
		if n, err := sys.Accounts.PurgeSessions(ctx); err != nil || n != 0 {
			t.Errorf("a second step purged %d, %v", n, err)
		}
	})
}
