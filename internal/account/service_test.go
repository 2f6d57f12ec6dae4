package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestPasswordHashing(t *testing.T) {
	h, err := account.HashPassword("a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	if !account.CheckPassword(h, "a long enough passphrase") {
		t.Error("right password refused")
	}
	for _, bad := range []string{"", "a long enough passphrasE", "a long enough passphrase "} {
		if account.CheckPassword(h, bad) {
			t.Errorf("wrong password %q accepted", bad)
		}
	}
	h2, _ := account.HashPassword("a long enough passphrase")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, broken := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AAAA$AAAA", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if account.CheckPassword(broken, "a long enough passphrase") {
			t.Errorf("malformed hash %q accepted", broken)
		}
	}
}

func login(t *testing.T, sys *testkit.System, u *testkit.User) *account.Session {
	t.Helper()
	ctx := context.Background()
	sys.Clock.Advance(30 * time.Second)
	partial, err := sys.Accounts.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	full, err := sys.Accounts.VerifyTOTP(ctx, partial.Token, sys.Code(t, u))
	if err != nil {
		t.Fatal(err)
	}
	return full
}

func TestLoginAndSecondFactor(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		ctx := context.Background()
		u := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")

		t.Run("a password alone gives a session that acts as nobody", func(t *testing.T) {
			partial, err := acc.Login(ctx, "FP@fra.example ", testkit.Password, "192.0.2.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			st, err := acc.Authenticate(ctx, partial.Token)
			if err != nil {
				t.Fatal(err)
			}
			if st.Actor != nil || st.Session.MFADone {
				t.Errorf("partial session acts as %+v", st.Actor)
			}
		})
		t.Run("the right code gives a new full session and ends the partial one", func(t *testing.T) {
			sys.Clock.Advance(30 * time.Second)
			partial, _ := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
			full, err := acc.VerifyTOTP(ctx, partial.Token, sys.Code(t, u))
			if err != nil {
				t.Fatal(err)
			}
			if full.Token == partial.Token {
				t.Error("the session token was not rotated")
			}
			st, err := acc.Authenticate(ctx, full.Token)
			if err != nil || st.Actor == nil || st.Actor.Email != "fp@fra.example" || st.Actor.State != "FRA" {
				t.Fatalf("full session: %+v %v", st, err)
			}
			if _, err := acc.Authenticate(ctx, partial.Token); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("partial session still valid: %v", err)
			}
		})
		t.Run("a code cannot be used twice", func(t *testing.T) {
			sys.Clock.Advance(30 * time.Second)
			code := sys.Code(t, u)
			p1, _ := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
			if _, err := acc.VerifyTOTP(ctx, p1.Token, code); err != nil {
				t.Fatal(err)
			}
			p2, _ := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
			_, err := acc.VerifyTOTP(ctx, p2.Token, code)
			if e := app.AsError(err); e == nil || e.Code != app.Invalid || e.Key != "error.totp_used" {
				t.Errorf("replayed code: %v (the person must be told that it was already used)", err)
			}
			if _, err := acc.VerifyTOTP(ctx, p2.Token, "000000"); app.AsError(err) == nil || app.AsError(err).Key != "error.totp" {
				t.Errorf("a wrong code: %v", err)
			}
		})
		t.Run("one code sent at once from several partial sessions opens one session", func(t *testing.T) {
			sys.Clock.Advance(30 * time.Second)
			var partials []*account.Session
			for i := 0; i < 6; i++ {
				p, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
				if err != nil {
					t.Fatal(err)
				}
				partials = append(partials, p)
			}
			code := sys.Code(t, u)
			var wg sync.WaitGroup
			var mu sync.Mutex
			opened := 0
			for _, p := range partials {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := acc.VerifyTOTP(ctx, p.Token, code); err == nil {
						mu.Lock()
						opened++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if opened != 1 {
				t.Errorf("%d sessions opened with one code, want 1", opened)
			}
			// The replays count as failures and may have locked the account:
			// wait for the lock to end, and a good login resets the count.
			sys.Clock.Advance(account.DefaultPolicy.LockFor + time.Second)
			login(t, sys, u)
		})
		t.Run("a wrong password and an unknown address get the same answer", func(t *testing.T) {
			_, err1 := acc.Login(ctx, u.Email, "wrong password!", "192.0.2.2", "test")
			_, err2 := acc.Login(ctx, "nobody@example.org", "wrong password!", "192.0.2.2", "test")
			if app.ErrorCode(err1) != app.Unauthorized || err1.Error() != err2.Error() {
				t.Errorf("got %v and %v", err1, err2)
			}
		})
		t.Run("sessions expire after being idle", func(t *testing.T) {
			s := login(t, sys, u)
			sys.Clock.Advance(account.DefaultPolicy.SessionIdle + time.Minute)
			if _, err := acc.Authenticate(ctx, s.Token); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("idle session: %v", err)
			}
		})
		t.Run("a partial session expires before the second factor is given", func(t *testing.T) {
			sys.Clock.Advance(30 * time.Second)
			p, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			sys.Clock.Advance(account.DefaultPolicy.PartialTTL + time.Second)
			if _, err := acc.VerifyTOTP(ctx, p.Token, sys.Code(t, u)); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("late code: %v", err)
			}
		})
	})
}

func TestLockoutAndThrottle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		ctx := context.Background()
		u := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		for i := 0; i < account.DefaultPolicy.LockAfter; i++ {
			if _, err := acc.Login(ctx, u.Email, "not the password", "192.0.2.10", "test"); app.ErrorCode(err) != app.Unauthorized {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		_, unknownErr := acc.Login(ctx, "nobody@example.org", "not the password", "192.0.2.10", "test")
		t.Run("after repeated failures even the right password is refused, with the answer an unknown address gets", func(t *testing.T) {
			_, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.11", "test")
			if app.ErrorCode(err) != app.Unauthorized || err.Error() != unknownErr.Error() {
				t.Errorf("got %v, want the answer of an unknown address: %v", err, unknownErr)
			}
		})
		t.Run("the lock holds for another instance on the same database", func(t *testing.T) {
			other := sys.Instance(t).Accounts
			if _, err := other.Login(ctx, u.Email, testkit.Password, "192.0.2.12", "test"); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("got %v, want refused", err)
			}
		})
		t.Run("the lock ends after its time", func(t *testing.T) {
			sys.Clock.Advance(account.DefaultPolicy.LockFor + time.Second)
			if _, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.13", "test"); err != nil {
				t.Errorf("after lock: %v", err)
			}
		})
		t.Run("one typo after a lock has ended does not lock again", func(t *testing.T) {
			acc.Login(ctx, u.Email, "a typo in it", "192.0.2.14", "test")
			if _, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.14", "test"); err != nil {
				t.Errorf("locked again by one typo: %v", err)
			}
		})
		t.Run("successful logins from one address do not count against it", func(t *testing.T) {
			for i := 0; i <= account.DefaultPolicy.ClientLimit+5; i++ {
				if _, err := acc.Login(ctx, u.Email, testkit.Password, "203.0.113.9", "test"); err != nil {
					t.Fatalf("login %d through a shared address: %v", i, err)
				}
			}
		})
		t.Run("one address is throttled after many failures on any accounts", func(t *testing.T) {
			var err error
			for i := 0; i <= account.DefaultPolicy.ClientLimit; i++ {
				_, err = acc.Login(ctx, "someone"+string(rune('a'+i%26))+"@example.org", "x", "198.51.100.7", "test")
			}
			if app.ErrorCode(err) != app.TooMany {
				t.Errorf("got %v, want throttled", err)
			}
			if _, err := acc.Login(ctx, u.Email, testkit.Password, "198.51.100.8", "test"); err != nil {
				t.Errorf("another address is throttled too: %v", err)
			}
			sys.Clock.Advance(account.DefaultPolicy.ClientWindow + time.Second)
			if _, err := acc.Login(ctx, u.Email, testkit.Password, "198.51.100.7", "test"); err != nil {
				t.Errorf("the window did not restart: %v", err)
			}
		})
		t.Run("wrong second-factor codes lock the account too", func(t *testing.T) {
			sys.Clock.Advance(time.Minute)
			p, err := acc.Login(ctx, u.Email, testkit.Password, "192.0.2.20", "test")
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < account.DefaultPolicy.LockAfter; i++ {
				acc.VerifyTOTP(ctx, p.Token, "000000")
			}
			if _, err := acc.VerifyTOTP(ctx, p.Token, sys.Code(t, u)); app.ErrorCode(err) != app.TooMany {
				t.Errorf("got %v, want locked", err)
			}
		})
	})
}

func TestInvitations(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		ctx := context.Background()
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		// approve is the second officer's approval of what sec invited to
		// Kenya, which has no focal point.
		approve := func(inv *account.Invitation, err error) *account.Invitation {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			a, err := acc.ApproveInvitation(sec2.Ctx(), inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}

		rules := []struct {
			name string
			by   *testkit.User
			in   account.InviteInput
			want app.Code
		}{
			{"the Secretariat invites a focal point of any State", sec, account.InviteInput{Email: "fp@ken.example", Role: app.RoleFocalPoint, State: "KEN"}, ""},
			{"the Secretariat invites a colleague", sec, account.InviteInput{Email: "sec3@un.example", Role: app.RoleSecretariat}, ""},
			{"a focal point invites an officer of their State", fpFRA, account.InviteInput{Email: "off2@fra.example", Role: app.RoleOfficer}, ""},
			{"a focal point cannot invite into another State", fpFRA, account.InviteInput{Email: "x@ken.example", Role: app.RoleOfficer, State: "KEN"}, app.Forbidden},
			{"a focal point cannot invite the Secretariat", fpFRA, account.InviteInput{Email: "x@un.example", Role: app.RoleSecretariat, State: ""}, app.Forbidden},
			{"an officer cannot invite", offFRA, account.InviteInput{Email: "x@fra.example", Role: app.RoleOfficer, State: "FRA"}, app.Forbidden},
			{"an existing address is refused", sec, account.InviteInput{Email: "FP@fra.example", Role: app.RoleFocalPoint, State: "FRA"}, app.Invalid},
			{"an unknown State is refused", sec, account.InviteInput{Email: "x@zz.example", Role: app.RoleFocalPoint, State: "ZZZ"}, app.Invalid},
			{"a Secretariat account with a State is refused", sec, account.InviteInput{Email: "x@un.example", Role: app.RoleSecretariat, State: "FRA"}, app.Invalid},
			{"an invalid email is refused", sec, account.InviteInput{Email: "not-an-email", Role: app.RoleFocalPoint, State: "FRA"}, app.Invalid},
		}
		for _, r := range rules {
			t.Run(r.name, func(t *testing.T) {
				inv, err := acc.Invite(r.by.Ctx(), r.in)
				if app.ErrorCode(err) != r.want {
					t.Fatalf("got %v, want %q", err, r.want)
				}
				switch {
				case r.want != "":
				case r.by == sec && (!inv.Pending() || inv.Token != ""):
					t.Errorf("the Secretariat's invitation has a link before a second person approves it: %+v", inv)
				case r.by != sec && (len(inv.Token) < 40 || !strings.HasPrefix(inv.Token, "pdi_")):
					t.Errorf("token %q", inv.Token)
				}
			})
		}
		t.Run("nobody signed in cannot invite", func(t *testing.T) {
			if _, err := acc.Invite(ctx, account.InviteInput{Email: "a@b.example", Role: app.RoleOfficer, State: "FRA"}); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("got %v", err)
			}
		})

		inv, err := acc.Invite(fpFRA.Ctx(), account.InviteInput{Email: "new@fra.example", Name: "New Officer", Role: app.RoleOfficer})
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a short password is refused and the link stays usable", func(t *testing.T) {
			if _, err := acc.AcceptInvitation(ctx, inv.Token, "", "short", "192.0.2.1", "t"); app.ErrorCode(err) != app.Invalid {
				t.Fatalf("got %v", err)
			}
			if _, err := acc.LookupInvitation(ctx, inv.Token); err != nil {
				t.Errorf("link spent by a failed attempt: %v", err)
			}
		})
		sess, err := acc.AcceptInvitation(ctx, inv.Token, "", "a very long passphrase", "192.0.2.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the link works once", func(t *testing.T) {
			if _, err := acc.AcceptInvitation(ctx, inv.Token, "", "another passphrase!", "192.0.2.1", "t"); app.ErrorCode(err) != app.Conflict {
				t.Errorf("second use: %v", err)
			}
		})
		t.Run("the new account must enrol TOTP before it acts", func(t *testing.T) {
			st, err := acc.Authenticate(ctx, sess.Token)
			if err != nil || st.Actor != nil || st.User.TOTPEnabled {
				t.Fatalf("after accepting: %+v %v", st, err)
			}
			if _, err := acc.VerifyTOTP(ctx, sess.Token, "123456"); app.ErrorCode(err) != app.Conflict {
				t.Errorf("verify before enrolment: %v", err)
			}
			en, err := acc.BeginTOTPEnrolment(ctx, sess.Token)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := acc.BeginTOTPEnrolment(ctx, sess.Token)
			if again.Secret != en.Secret {
				t.Error("reloading the enrolment page changed the secret")
			}
			if _, err := acc.ConfirmTOTPEnrolment(ctx, sess.Token, "000000"); app.ErrorCode(err) != app.Invalid {
				t.Errorf("wrong code: %v", err)
			}
			code, _ := account.TOTPCode(en.Secret, sys.Clock.Now())
			full, err := acc.ConfirmTOTPEnrolment(ctx, sess.Token, code)
			if err != nil {
				t.Fatal(err)
			}
			st, err = acc.Authenticate(ctx, full.Token)
			if err != nil || st.Actor == nil || st.Actor.Role != app.RoleOfficer || st.Actor.State != "FRA" || st.Actor.Name != "New Officer" {
				t.Fatalf("after enrolment: %+v %v", st, err)
			}
		})
		t.Run("an expired link says so", func(t *testing.T) {
			old := approve(acc.Invite(sec.Ctx(), account.InviteInput{Email: "late@ken.example", Role: app.RoleFocalPoint, State: "KEN"}))
			sys.Clock.Advance(account.DefaultPolicy.InviteTTL + time.Minute)
			_, err := acc.AcceptInvitation(ctx, old.Token, "", "a very long passphrase", "192.0.2.1", "t")
			if e := app.AsError(err); e.Key != "error.invite_expired" {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a withdrawn link says so", func(t *testing.T) {
			w := approve(acc.Invite(sec.Ctx(), account.InviteInput{Email: "withdrawn@ken.example", Role: app.RoleFocalPoint, State: "KEN"}))
			if err := acc.RevokeInvitation(fpFRA.Ctx(), w.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("another State's focal point withdrew it: %v", err)
			}
			if err := acc.RevokeInvitation(sec.Ctx(), w.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := acc.LookupInvitation(ctx, w.Token); app.AsError(err).Key != "error.invite_revoked" {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a made-up link is unknown", func(t *testing.T) {
			if _, err := acc.LookupInvitation(ctx, "pdi_"+strings.Repeat("A", 43)); app.AsError(err).Key != "error.invite_unknown" {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a focal point sees only their State's invitations", func(t *testing.T) {
			list, err := acc.Invitations(fpFRA.Ctx(), app.Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range list.List {
				if i.State != "FRA" {
					t.Errorf("sees %s of %s", i.Email, i.State)
				}
			}
			if _, err := acc.Invitations(offFRA.Ctx(), app.Cursor{}, 0); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("officer: %v", err)
			}
		})
	})
}

func TestSessionsTokensAndDisabling(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		ctx := context.Background()
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")

		s1 := login(t, sys, offFRA)
		s2 := login(t, sys, offFRA)
		st, _ := acc.Authenticate(ctx, s1.Token)
		// A third session, expired: kept in the table, not listed.
		s3 := login(t, sys, offFRA)
		st3, _ := acc.Authenticate(ctx, s3.Token)
		if _, err := sys.DB.Exec(`UPDATE sessions SET expires_at = $1 WHERE id = $2`, sys.Clock.Now().Add(-time.Minute).UTC(), st3.Session.ID); err != nil {
			t.Fatal(err)
		}
		list, err := acc.Sessions(app.WithActor(ctx, st.Actor))
		if err != nil || len(list) != 2 {
			t.Fatalf("sessions %+v %v", list, err)
		}
		for _, s := range list {
			if s.ID == st3.Session.ID {
				t.Error("the expired session is listed")
			}
		}
		t.Run("a user can end another of their sessions", func(t *testing.T) {
			st2, _ := acc.Authenticate(ctx, s2.Token)
			if err := acc.RevokeSession(app.WithActor(ctx, st.Actor), st2.Session.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := acc.Authenticate(ctx, s2.Token); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("revoked session still valid: %v", err)
			}
		})
		t.Run("a user cannot end someone else's session", func(t *testing.T) {
			sk := login(t, sys, fpKEN)
			stk, _ := acc.Authenticate(ctx, sk.Token)
			if err := acc.RevokeSession(app.WithActor(ctx, st.Actor), stk.Session.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("got %v", err)
			}
		})
		tok := sys.Token(t, offFRA, "read")
		t.Run("a read token acts read-only", func(t *testing.T) {
			a, err := acc.AuthenticateToken(ctx, tok)
			if err != nil || !a.ReadOnly || a.Email != offFRA.Email {
				t.Fatalf("%+v %v", a, err)
			}
		})
		t.Run("a made-up token is refused", func(t *testing.T) {
			if _, err := acc.AuthenticateToken(ctx, "pdt_"+strings.Repeat("x", 43)); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("got %v", err)
			}
		})
		t.Run("tokens expire", func(t *testing.T) {
			tk, err := acc.CreateToken(app.WithActor(ctx, app.System), offFRA.ID, "short", "read", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			sys.Clock.Advance(2 * time.Hour)
			fresh := sys.Instance(t).Accounts // no cache
			if _, err := fresh.AuthenticateToken(ctx, tk.Secret); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("expired token: %v", err)
			}
		})
		t.Run("a focal point cannot disable an account of another State", func(t *testing.T) {
			if err := acc.DisableUser(fpKEN.Ctx(), offFRA.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("got %v", err)
			}
		})
		t.Run("an officer cannot disable anyone", func(t *testing.T) {
			if err := acc.DisableUser(offFRA.Ctx(), fpFRA.ID); app.ErrorCode(err) != app.Forbidden && app.ErrorCode(err) != app.NotFound {
				t.Errorf("got %v", err)
			}
		})
		t.Run("nobody can disable themselves", func(t *testing.T) {
			if err := acc.DisableUser(sec.Ctx(), sec.ID); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("got %v", err)
			}
		})
		t.Run("disabling ends the sessions and tokens of the account", func(t *testing.T) {
			s := login(t, sys, offFRA)
			if err := acc.DisableUser(fpFRA.Ctx(), offFRA.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := acc.Authenticate(ctx, s.Token); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("session: %v", err)
			}
			if _, err := acc.AuthenticateToken(ctx, tok); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("token: %v", err)
			}
			if _, err := acc.Login(ctx, offFRA.Email, testkit.Password, "192.0.2.30", "t"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("login: %v", err)
			}
		})
		t.Run("a focal point lists only their State's accounts", func(t *testing.T) {
			users, err := acc.Users(fpFRA.Ctx(), account.UserFilter{}, app.Cursor{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users.List {
				if u.State != "FRA" {
					t.Errorf("sees %s", u.Email)
				}
			}
			all, _ := acc.Users(sec.Ctx(), account.UserFilter{}, app.Cursor{}, 0)
			if len(all.List) != 4 {
				t.Errorf("Secretariat sees %d accounts, want 4", len(all.List))
			}
		})
	})
}

func TestAccountManagementNeedsASession(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	acc := sys.Accounts
	ctx := context.Background()
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	tokenActor, err := acc.AuthenticateToken(ctx, sys.Token(t, sec, "write"))
	if err != nil {
		t.Fatal(err)
	}
	tctx := app.WithActor(ctx, tokenActor)
	t.Run("a write token cannot invite, disable or make tokens", func(t *testing.T) {
		if _, err := acc.Invite(tctx, account.InviteInput{Email: "x@un.example", Role: app.RoleSecretariat}); app.ErrorCode(err) != app.Forbidden {
			t.Errorf("invite: %v", err)
		}
		if err := acc.DisableUser(tctx, fp.ID); app.ErrorCode(err) != app.Forbidden {
			t.Errorf("disable: %v", err)
		}
		if _, err := acc.CreateToken(tctx, 0, "more", "write", time.Hour); app.ErrorCode(err) != app.Forbidden {
			t.Errorf("token: %v", err)
		}
		if err := acc.ChangePassword(tctx, testkit.Password, "another long passphrase"); app.ErrorCode(err) != app.Forbidden {
			t.Errorf("password: %v", err)
		}
	})
	t.Run("disabling an account withdraws the invitations it sent", func(t *testing.T) {
		inv, err := acc.Invite(fp.Ctx(), account.InviteInput{Email: "new@fra.example", Role: app.RoleOfficer})
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.DisableUser(sec.Ctx(), fp.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := acc.LookupInvitation(ctx, inv.Token); app.AsError(err).Key != "error.invite_revoked" {
			t.Errorf("got %v", err)
		}
	})
}

func TestPasswordChange(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	acc := sys.Accounts
	ctx := context.Background()
	u := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	tok := sys.Token(t, u, "read")
	s := login(t, sys, u)
	st, _ := acc.Authenticate(ctx, s.Token)
	actx := app.WithActor(ctx, st.Actor)
	for i := 0; i < account.DefaultPolicy.LockAfter; i++ {
		if err := acc.ChangePassword(actx, "not my password", "a brand new passphrase"); app.ErrorCode(err) != app.Invalid {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if err := acc.ChangePassword(actx, testkit.Password, "a brand new passphrase"); app.ErrorCode(err) != app.TooMany {
		t.Errorf("guessing the current password is not limited: %v", err)
	}
	sys.Clock.Advance(account.DefaultPolicy.LockFor + time.Second)
	if err := acc.ChangePassword(actx, testkit.Password, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Instance(t).Accounts.AuthenticateToken(ctx, tok); app.ErrorCode(err) != app.Unauthorized {
		t.Errorf("an API token survived the password change: %v", err)
	}
}

func TestEnrolmentWindow(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	acc := sys.Accounts
	ctx := context.Background()
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
	pending, err := acc.Invite(sec.Ctx(), account.InviteInput{Email: "late@ken.example", Role: app.RoleFocalPoint, State: "KEN"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := acc.ApproveInvitation(sec2.Ctx(), pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.AcceptInvitation(ctx, inv.Token, "", "a very long passphrase", "192.0.2.1", "t"); err != nil {
		t.Fatal(err)
	}
	// The invitee leaves before setting up the second factor.
	sys.Clock.Advance(account.DefaultPolicy.InviteTTL + time.Hour)
	p, err := acc.Login(ctx, "late@ken.example", "a very long passphrase", "192.0.2.1", "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.BeginTOTPEnrolment(ctx, p.Token); app.AsError(err).Key != "error.enrolment_expired" {
		t.Errorf("enrolment long after the invitation: %v", err)
	}
}

// TestFourEyesOnInvitations: the Secretariat does not decide alone who acts
// for a State, nor who is of the Secretariat. Its invitation has no link
// until a focal point of the State approves it (or, for the Secretariat
// and for a State with no focal point, a second officer); nobody approves
// their own; every new link, account and token is told to the State's
// focal points.
func TestFourEyesOnInvitations(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		ctx := context.Background()
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fp2FRA := sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		mails := func(kind, to string) int {
			t.Helper()
			var n int
			if err := sys.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE kind = $1 AND to_addr = $2`, kind, to).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// The accounts made above were told to France's focal points.
		fpBefore, fp2Before := mails("access", fpFRA.Email), mails("access", fp2FRA.Email)
		inv, err := acc.Invite(sec.Ctx(), account.InviteInput{Email: "new@fra.example", Role: app.RoleFocalPoint, State: "FRA"})
		if err != nil {
			t.Fatal(err)
		}
		if !inv.Pending() || inv.Token != "" || inv.Awaiting != account.AwaitingFocalPoint || mails("invitation", "new@fra.example") != 0 {
			t.Fatalf("the Secretariat's invitation to France: %+v", inv)
		}
		refusals := []struct {
			name string
			by   *testkit.User
			want app.Code
		}{
			{"who made it does not approve it", sec, app.Forbidden},
			{"a second officer does not approve for a State that has a focal point", sec2, app.Forbidden},
			{"an officer of the State does not approve it", offFRA, app.Forbidden},
			{"another State's focal point does not see it", fpKEN, app.NotFound},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				if _, err := acc.ApproveInvitation(r.by.Ctx(), inv.ID); app.ErrorCode(err) != r.want {
					t.Errorf("got %v, want %s", err, r.want)
				}
			})
		}
		t.Run("an API token does not approve", func(t *testing.T) {
			a := fpFRA.Actor()
			a.TokenID = 1
			if _, err := acc.ApproveInvitation(app.WithActor(ctx, a), inv.ID); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a pending invitation has no working link", func(t *testing.T) {
			page, _ := acc.Invitations(fpFRA.Ctx(), app.Cursor{}, 0)
			if list := page.List; len(list) != 1 || !list[0].Pending() || list[0].Awaiting != account.AwaitingFocalPoint {
				t.Errorf("France's focal point sees %+v", list)
			}
		})
		approved, err := acc.ApproveInvitation(fpFRA.Ctx(), inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if approved.Pending() || !strings.HasPrefix(approved.Token, "pdi_") || approved.ApprovedBy != fpFRA.Email {
			t.Fatalf("approved %+v", approved)
		}
		t.Run("the approved invitation goes to the invitee, and the other focal points are told", func(t *testing.T) {
			if mails("invitation", "new@fra.example") != 1 || mails("access", fp2FRA.Email) != fp2Before+1 || mails("access", fpFRA.Email) != fpBefore {
				t.Errorf("invitation %d, access to fp2 %d, to the approver %d", mails("invitation", "new@fra.example"), mails("access", fp2FRA.Email), mails("access", fpFRA.Email))
			}
		})
		t.Run("approving twice is refused", func(t *testing.T) {
			if _, err := acc.ApproveInvitation(fp2FRA.Ctx(), inv.ID); app.ErrorCode(err) != app.Conflict {
				t.Errorf("got %v", err)
			}
		})
		if _, err := acc.AcceptInvitation(ctx, approved.Token, "", "a very long passphrase", "192.0.2.1", "t"); err != nil {
			t.Fatal(err)
		}
		t.Run("the new account is told to the State's focal points", func(t *testing.T) {
			if mails("access", fp2FRA.Email) != fp2Before+2 || mails("access", fpFRA.Email) != fpBefore+1 {
				t.Errorf("access to fp2 %d, to fp %d", mails("access", fp2FRA.Email), mails("access", fpFRA.Email))
			}
		})
		t.Run("an API token of the State's user is told to its focal points", func(t *testing.T) {
			if _, err := acc.CreateToken(offFRA.Ctx(), 0, "national CERT system", "write", time.Hour); err != nil {
				t.Fatal(err)
			}
			if mails("access", fp2FRA.Email) != fp2Before+3 || mails("access", offFRA.Email) != 0 {
				t.Errorf("access to fp2 %d", mails("access", fp2FRA.Email))
			}
		})
		t.Run("a Secretariat colleague needs a second officer", func(t *testing.T) {
			c, err := acc.Invite(sec.Ctx(), account.InviteInput{Email: "sec3@un.example", Role: app.RoleSecretariat})
			if err != nil || !c.Pending() || c.Awaiting != account.AwaitingSecondOfficer {
				t.Fatalf("%+v %v", c, err)
			}
			if _, err := acc.ApproveInvitation(sec.Ctx(), c.ID); app.AsError(err).Key != "error.invite_own" {
				t.Errorf("self-approval: %v", err)
			}
			if _, err := acc.ApproveInvitation(fpFRA.Ctx(), c.ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("a focal point approving a Secretariat account: %v", err)
			}
			if _, err := acc.ApproveInvitation(sec2.Ctx(), c.ID); err != nil {
				t.Errorf("the second officer: %v", err)
			}
		})
		t.Run("the steps are in the accountability log", func(t *testing.T) {
			entries, err := sys.Audit.Entries(app.WithActor(ctx, app.System), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			approvals := 0
			for _, en := range entries {
				if en.Type == "account.invitation.approve" {
					approvals++
				}
			}
			if approvals != 2 {
				t.Errorf("%d approvals logged", approvals)
			}
		})
		t.Run("who can act for the State is shown to its users and the Secretariat only", func(t *testing.T) {
			a, err := acc.StateAccess(offFRA.Ctx(), "FRA")
			if err != nil || len(a.Users) != 4 || len(a.Changes) < 5 {
				t.Fatalf("%+v %v", a, err)
			}
			kinds := map[string]bool{}
			for _, c := range a.Changes {
				kinds[c.Kind] = true
			}
			for _, k := range []string{"account", "invited", "approved", "token"} {
				if !kinds[k] {
					t.Errorf("no %s change in %+v", k, a.Changes)
				}
			}
			if _, err := acc.StateAccess(sec.Ctx(), "FRA"); err != nil {
				t.Errorf("the Secretariat: %v", err)
			}
			if _, err := acc.StateAccess(fpKEN.Ctx(), "FRA"); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("another State: %v", err)
			}
		})
	})
}
