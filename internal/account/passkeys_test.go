package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

const origin = "https://pocdir.test"

// sessionCtx signs u in (password and code) and returns the context of the
// session.
func sessionCtx(t *testing.T, sys *testkit.System, u *testkit.User) (context.Context, *account.Session) {
	t.Helper()
	full := login(t, sys, u)
	st, err := sys.Accounts.Authenticate(context.Background(), full.Token)
	if err != nil || st.Actor == nil {
		t.Fatalf("the session does not authenticate: %v", err)
	}
	return app.WithActor(context.Background(), st.Actor), full
}

// addPasskey registers a new authenticator's passkey for the session.
func addPasskey(t *testing.T, sys *testkit.System, ctx context.Context, name string) *testkit.Authenticator {
	t.Helper()
	opts, err := sys.Accounts.BeginPasskey(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	a := testkit.NewAuthenticator(t)
	if _, err := sys.Accounts.AddPasskey(ctx, origin, name, a.Register(t, opts, origin)); err != nil {
		t.Fatal(err)
	}
	return a
}

// passkeyLogin signs u in with the password and the authenticator's
// passkey, answering from origin from.
func passkeyLogin(t *testing.T, sys *testkit.System, u *testkit.User, a *testkit.Authenticator, from string) (*account.Session, error) {
	t.Helper()
	ctx := context.Background()
	partial, err := sys.Accounts.Login(ctx, u.Email, testkit.Password, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := sys.Accounts.BeginPasskeyLogin(ctx, partial.Token, origin)
	if err != nil {
		t.Fatal(err)
	}
	return sys.Accounts.FinishPasskeyLogin(ctx, partial.Token, origin, a.Assert(t, opts, from))
}

func key(err error) string { return app.AsError(err).Key }

func TestPasskeys(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		u := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		ctx, _ := sessionCtx(t, sys, u)

		var auth *testkit.Authenticator
		t.Run("a passkey is registered, named and listed", func(t *testing.T) {
			auth = addPasskey(t, sys, ctx, "Office key")
			keys, err := acc.Passkeys(ctx)
			if err != nil || len(keys) != 1 || keys[0].Name != "Office key" {
				t.Fatalf("%v %+v", err, keys)
			}
			var body string
			err = sys.DB.QueryRowContext(context.Background(), `SELECT body FROM outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1`, u.Email).Scan(&body)
			if err != nil || !strings.Contains(body, `A passkey named "Office key" was added`) {
				t.Errorf("the user is not told: %v %q", err, body)
			}
		})
		t.Run("a registration answer is taken once, from pocdir's origin only", func(t *testing.T) {
			opts, err := acc.BeginPasskey(ctx, origin)
			if err != nil {
				t.Fatal(err)
			}
			a := testkit.NewAuthenticator(t)
			if _, err := acc.AddPasskey(ctx, origin, "Phishing", a.Register(t, opts, "https://pocdir.test.evil.example")); key(err) != "error.passkey_failed" {
				t.Errorf("an answer made for another site: %v", err)
			}
			if _, err := acc.AddPasskey(ctx, origin, "Again", a.Register(t, opts, origin)); key(err) != "error.passkey_ceremony" {
				t.Errorf("an answer to a ceremony already ended: %v", err)
			}
		})
		t.Run("a passkey needs a name of at most 60 characters, in plain text", func(t *testing.T) {
			for name, want := range map[string]string{"": "error.required", strings.Repeat("é", 61): "error.too_long", "Key\x00": "error.text_control"} {
				if _, err := acc.AddPasskey(ctx, origin, name, []byte("{}")); key(err) != want {
					t.Errorf("%q: %v, want %s", name, err, want)
				}
			}
		})
		t.Run("signing in with the passkey after the password gives a full session", func(t *testing.T) {
			full, err := passkeyLogin(t, sys, u, auth, origin)
			if err != nil {
				t.Fatal(err)
			}
			st, err := acc.Authenticate(context.Background(), full.Token)
			if err != nil || st.Actor == nil || st.Actor.UserID != u.ID {
				t.Fatalf("%v %+v", err, st)
			}
			keys, _ := acc.Passkeys(ctx)
			if keys[0].LastUsedAt == nil {
				t.Error("the passkey's use is not recorded")
			}
		})
		t.Run("an answer made for a look-alike site does not sign in, and counts as a failure", func(t *testing.T) {
			if _, err := passkeyLogin(t, sys, u, auth, "https://pocdir-test.example"); key(err) != "error.passkey_failed" {
				t.Errorf("%v", err)
			}
		})
		t.Run("another authenticator's answer does not sign in", func(t *testing.T) {
			if _, err := passkeyLogin(t, sys, u, testkit.NewAuthenticator(t), origin); key(err) != "error.passkey_failed" {
				t.Errorf("%v", err)
			}
		})
		t.Run("a copied authenticator (its counter going back) does not sign in", func(t *testing.T) {
			clone := *auth
			clone.Counter = 0
			if _, err := passkeyLogin(t, sys, u, &clone, origin); key(err) != "error.passkey_failed" {
				t.Errorf("%v", err)
			}
		})
		t.Run("an answer is used once", func(t *testing.T) {
			partial, _ := acc.Login(context.Background(), u.Email, testkit.Password, "192.0.2.1", "test")
			opts, _ := acc.BeginPasskeyLogin(context.Background(), partial.Token, origin)
			ans := auth.Assert(t, opts, origin)
			if _, err := acc.FinishPasskeyLogin(context.Background(), partial.Token, origin, ans); err != nil {
				t.Fatal(err)
			}
			again, _ := acc.Login(context.Background(), u.Email, testkit.Password, "192.0.2.1", "test")
			if _, err := acc.FinishPasskeyLogin(context.Background(), again.Token, origin, ans); key(err) != "error.passkey_ceremony" {
				t.Errorf("a replayed answer: %v", err)
			}
		})
		t.Run("passkeys only: the authenticator's code is refused, the passkey works", func(t *testing.T) {
			if err := acc.SetPasskeysOnly(ctx, true); err != nil {
				t.Fatal(err)
			}
			sys.Clock.Advance(30 * time.Second)
			partial, _ := acc.Login(context.Background(), u.Email, testkit.Password, "192.0.2.1", "test")
			if _, err := acc.VerifyTOTP(context.Background(), partial.Token, sys.Code(t, u)); key(err) != "error.passkeys_only" {
				t.Errorf("a code for a passkeys-only account: %v", err)
			}
			if _, err := passkeyLogin(t, sys, u, auth, origin); err != nil {
				t.Error(err)
			}
		})
		t.Run("the last second factor cannot be removed", func(t *testing.T) {
			keys, _ := acc.Passkeys(ctx)
			if err := acc.RemovePasskey(ctx, keys[0].ID); key(err) != "error.passkey_last" {
				t.Errorf("the only passkey of a passkeys-only account: %v", err)
			}
			if err := acc.SetPasskeysOnly(ctx, false); err != nil {
				t.Fatal(err)
			}
			if err := acc.RemovePasskey(ctx, keys[0].ID); err != nil {
				t.Errorf("a passkey beside the authenticator: %v", err)
			}
			if err := acc.SetPasskeysOnly(ctx, true); key(err) != "error.passkeys_none" {
				t.Errorf("passkeys only without a passkey: %v", err)
			}
		})
		t.Run("nobody else removes or lists a user's passkeys", func(t *testing.T) {
			addPasskey(t, sys, ctx, "Laptop")
			keys, _ := acc.Passkeys(ctx)
			other := sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
			octx, _ := sessionCtx(t, sys, other)
			if err := acc.RemovePasskey(octx, keys[0].ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("another focal point removed the passkey: %v", err)
			}
			if theirs, _ := acc.Passkeys(octx); len(theirs) != 0 {
				t.Errorf("another user sees %d passkeys", len(theirs))
			}
			sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
			sctx, _ := sessionCtx(t, sys, sec)
			if err := acc.RemovePasskey(sctx, keys[0].ID); app.ErrorCode(err) != app.NotFound {
				t.Errorf("the Secretariat removed the passkey: %v", err)
			}
		})
		t.Run("an API token cannot register a passkey", func(t *testing.T) {
			tok := sys.Token(t, u, "write")
			a, err := acc.AuthenticateToken(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := acc.BeginPasskey(app.WithActor(context.Background(), a), origin); app.ErrorCode(err) != app.Forbidden {
				t.Errorf("%v", err)
			}
		})
	})
}

func TestFactorResetNeedsASecondPerson(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		acc := sys.Accounts
		fp1 := sys.User(t, "fp1@fra.example", app.RoleFocalPoint, "FRA")
		fp2 := sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA")
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		kenFP := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		sec1 := sys.User(t, "sec1@un.example", app.RoleSecretariat, "")
		sec2 := sys.User(t, "sec2@un.example", app.RoleSecretariat, "")
		_, offSession := sessionCtx(t, sys, off)
		// Long after the account was made: the enrolment window had closed.
		sys.Clock.Advance(30 * 24 * time.Hour)

		request := func(t *testing.T, u *testkit.User) {
			t.Helper()
			partial, err := acc.Login(context.Background(), u.Email, testkit.Password, "192.0.2.9", "test")
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // a second request while one waits makes none
				if err := acc.RequestFactorReset(context.Background(), partial.Token, "192.0.2.9"); err != nil {
					t.Fatal(err)
				}
			}
		}
		pending := func(t *testing.T, u *testkit.User) []*account.FactorReset {
			t.Helper()
			ctx, _ := sessionCtx(t, sys, u)
			list, err := acc.FactorResets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		request(t, off)
		t.Run("the State's focal points decide, nobody else", func(t *testing.T) {
			for _, u := range []*testkit.User{fp1, fp2} {
				if l := pending(t, u); len(l) != 1 || l[0].Email != off.Email {
					t.Errorf("%s sees %+v", u.Email, l)
				}
			}
			for _, u := range []*testkit.User{kenFP, sec1} {
				if l := pending(t, u); len(l) != 0 {
					t.Errorf("%s sees %+v", u.Email, l)
				}
				ctx, _ := sessionCtx(t, sys, u)
				if err := acc.DecideFactorReset(ctx, pending(t, fp1)[0].ID, true); app.ErrorCode(err) != app.Forbidden {
					t.Errorf("%s approved: %v", u.Email, err)
				}
			}
		})
		t.Run("approved, the factors go, the sessions end, and enrolment opens again", func(t *testing.T) {
			id := pending(t, fp1)[0].ID
			ctx, _ := sessionCtx(t, sys, fp1)
			if err := acc.DecideFactorReset(ctx, id, true); err != nil {
				t.Fatal(err)
			}
			if err := acc.DecideFactorReset(ctx, id, true); app.ErrorCode(err) != app.NotFound {
				t.Errorf("decided twice: %v", err)
			}
			if _, err := acc.Authenticate(context.Background(), offSession.Token); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("the session from before the reset still works: %v", err)
			}
			partial, err := acc.Login(context.Background(), off.Email, testkit.Password, "192.0.2.9", "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := acc.VerifyTOTP(context.Background(), partial.Token, sys.Code(t, off)); err == nil {
				t.Error("the old authenticator still signs in")
			}
			if _, err := acc.BeginTOTPEnrolment(context.Background(), partial.Token); err != nil {
				t.Errorf("enrolment after the reset: %v", err)
			}
		})
		t.Run("a focal point alone in the State is reset by the Secretariat", func(t *testing.T) {
			request(t, kenFP)
			if l := pending(t, sec1); len(l) != 1 || l[0].Email != kenFP.Email {
				t.Fatalf("%+v", l)
			}
			ctx, _ := sessionCtx(t, sys, sec1)
			if err := acc.DecideFactorReset(ctx, pending(t, sec1)[0].ID, false); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("a Secretariat officer is reset by another, not by themselves", func(t *testing.T) {
			request(t, sec1)
			if l := pending(t, sec1); len(l) != 0 {
				t.Errorf("the officer sees their own reset: %+v", l)
			}
			l := pending(t, sec2)
			if len(l) != 1 {
				t.Fatalf("%+v", l)
			}
			ctx, _ := sessionCtx(t, sys, sec2)
			if err := acc.DecideFactorReset(ctx, l[0].ID, true); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("the approvers, the user and the State are told by email", func(t *testing.T) {
			var n int
			err := sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'access' AND subject LIKE '%off@fra.example%'`).Scan(&n)
			if err != nil || n < 3 { // fp1, fp2, and off
				t.Errorf("%d emails about the reset: %v", n, err)
			}
		})
	})
}
